"""A staff requester resubmits a sent-back credit from the finance page, in a real browser."""

import pytest

from credits import services
from credits.models import Credit
from tests.support import downgrade, sign_in


@pytest.mark.django_db(transaction=True)
def test_a_staff_requester_resubmits_a_sent_back_credit(browser_page, live_server, manager,
                                                        analyst, seat_contract):  # fmt: skip
    credit = downgrade(manager, seat_contract, 20).credit
    services.credit_send_back(actor=analyst, credit_id=credit.pk, reason="Use a credit note")
    page = browser_page
    sign_in(page, username=manager.username)

    page.goto(f"/finance/credits/{credit.pk}/")
    page.fill("#id_resubmit_reason", "Credit note chosen, as asked")
    page.click("text=Resubmit for approval")

    page.wait_for_selector("text=approval starts again from step 1")
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING

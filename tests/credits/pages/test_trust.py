"""Pages people trust: names instead of internals, confirmations that state the consequence,
errors where the eye is, a favicon, a way back from the API docs, an admin that only reads."""

import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from credits import services
from credits.models import Credit, CreditPolicyVersion, Dispute
from licensing import services as licensing_services
from tests.factories import PlanFactory, ProductFactory, admin_actor
from tests.support import downgrade, paid_contract

pytestmark = pytest.mark.django_db

# What a page must never show: policy codes, object references, raw state or role codes.
INTERNALS = re.compile(
    r"credit/v\d|credits\.(change|credit):\d|quantity_before|quantity_after|"
    r">(pending|sent_back|finance_analyst|finance_approver|financial_controller)<"
)


@pytest.fixture
def bundle_credit(customer_a, manager, analyst):
    """A bundle of Atlas (ATL) and Beacon (BCN) seats, downgraded and issued."""
    atlas = ProductFactory(sku="ATL", name="Atlas Analytics")
    beacon = ProductFactory(sku="BCN", name="Beacon Alerts")
    bundle = licensing_services.bundle_create(
        actor=admin_actor(), code="SUITE", name="Atlas + Beacon Suite",
        items=[(atlas, 1, Decimal("30")), (beacon, 1, Decimal("20"))],
    )  # fmt: skip
    plan = PlanFactory(bundle=bundle, product=None, name="Atlas + Beacon Suite (monthly)",
                       unit_price=Decimal("42.00"))  # fmt: skip
    contract = paid_contract(customer_a, plan=plan, seats=25, unit_price="42.00")
    credit = downgrade(manager, contract, 15).credit
    return services.credit_approve(actor=analyst, credit_id=credit.pk)


def test_a_bundle_credit_names_its_products_and_policy_on_every_page(
    client, analyst, customer_user, bundle_credit
):
    pages = []
    client.force_login(analyst)
    pages.append(client.get(reverse("credits:credit", args=[bundle_credit.pk])))
    client.force_login(customer_user)
    pages.append(client.get(reverse("credits_portal:credit", args=[bundle_credit.pk])))

    for response in pages:
        body = response.content.decode()
        assert "Atlas Analytics" in body and "Beacon Alerts" in body
        assert not re.search(r"\bATL\b|\bBCN\b", body)
        assert not INTERNALS.search(body), INTERNALS.search(body)
    assert "Credit policy v1" in pages[0].content.decode()


@pytest.mark.parametrize(
    "url",
    ["credits:queue", "credits:disputes", "credits:policies", "credits:exchange-rates"],
)
def test_finance_lists_show_no_internal_codes(client, analyst, customer_user, bundle_credit, url):
    services.dispute_open(actor=customer_user, credit_id=bundle_credit.pk, reason="Seats wrong",
                          on=timezone.localdate())  # fmt: skip
    client.force_login(analyst)

    body = client.get(reverse(url)).content.decode()

    assert not INTERNALS.search(body), INTERNALS.search(body)


def test_approve_and_issue_states_the_credit_note_number_amount_and_customer(
    client, manager, analyst, customer_a
):
    credit = downgrade(manager, paid_contract(customer_a), 20).credit  # one analyst step
    client.force_login(analyst)

    body = client.get(credit.get_absolute_url()).content.decode()

    year = timezone.localtime().year
    assert (
        f'data-confirm="Approve and issue: this issues CN-{year}-000001 for '
        f"USD {credit.amount:,} to Northwind Traders" in body
    )


def test_the_confirmation_names_the_number_the_credit_then_takes(client, manager, analyst,
                                                                   customer_a):  # fmt: skip
    first = downgrade(manager, paid_contract(customer_a), 20).credit
    second = downgrade(manager, paid_contract(customer_a), 20).credit
    services.credit_approve(actor=analyst, credit_id=first.pk)
    client.force_login(analyst)
    promised = re.search(r"this issues (CN-\d{4}-\d{6})",
                         client.get(second.get_absolute_url()).content.decode())[1]  # fmt: skip

    issued = services.credit_approve(actor=analyst, credit_id=second.pk)

    assert issued.number == promised


def test_reject_revoke_and_terminate_state_their_consequences(client, manager, analyst, customer_a):
    contract = paid_contract(customer_a)
    credit = downgrade(manager, contract, 20).credit
    client.force_login(analyst)
    credit_page = client.get(credit.get_absolute_url()).content.decode()
    client.force_login(manager)
    contract_page = client.get(contract.get_absolute_url()).content.decode()
    terminate_page = client.get(
        reverse("deprovisioning:terminate"), {"contract": contract.pk}
    ).content.decode()

    assert (f"Reject: Northwind Traders gets no credit of USD {credit.amount:,} for this "
            "request") in credit_page  # fmt: skip
    assert 'data-confirm="Revoke ' in contract_page and "access ends now" in contract_page
    assert f'data-confirm="Terminate {contract.number} of Northwind Traders?' in terminate_page


def test_a_refused_dispute_is_announced_at_the_top_of_the_page_and_focused(
    client, customer_user, manager, analyst, customer_a
):
    credit = downgrade(manager, paid_contract(customer_a), 20).credit
    credit = services.credit_approve(actor=analyst, credit_id=credit.pk)
    client.force_login(customer_user)

    response = client.post(reverse("credits_portal:dispute", args=[credit.pk]), {"reason": " "})

    body = response.content.decode()
    assert response.status_code == 400
    top = body.index('id="dispute-errors"')
    assert top < body.index('class="status-line') < body.index('id="dispute-form"')
    assert "Tell us why" in body[top : body.index('class="status-line')]
    assert re.search(r'<textarea[^>]*name="reason"[^>]*autofocus', body)
    assert not Dispute.objects.exists()


def test_every_page_links_the_favicon_and_the_file_is_served(client, analyst):
    client.force_login(analyst)

    body = client.get(reverse("credits:queue")).content.decode()

    assert '<link rel="icon" href="/static/favicon.svg"' in body
    assert finders.find("favicon.svg")


def test_the_api_docs_link_back_to_the_app(client, analyst):
    client.force_login(analyst)

    body = client.get(reverse("api-docs")).content.decode()

    assert f'href="{reverse("home")}">← Back to LicenseDesk</a>' in body


@pytest.mark.parametrize("model", [Credit, CreditPolicyVersion, Dispute])
def test_the_admin_reads_credits_but_never_writes_them(
    client, admin_user, customer_user, bundle_credit, model
):
    services.dispute_open(actor=customer_user, credit_id=bundle_credit.pk, reason="Seats wrong",
                          on=timezone.localdate())  # fmt: skip
    obj = model.objects.first()
    meta = model._meta
    client.force_login(admin_user)
    change_url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])

    page = client.get(change_url)
    posted = client.post(change_url, {})
    added = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403 and added.status_code == 403

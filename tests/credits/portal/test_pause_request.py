"""A customer pauses a line from the portal: the resume date is asked for and priced."""

from datetime import timedelta
from decimal import Decimal

import pytest

from credits.models import ChangeRequest

from .test_change_request import URL, form_data

pytestmark = pytest.mark.django_db


def test_a_pause_without_a_resume_date_is_refused_beside_the_field(
    client, customer_user, seat_contract, today
):
    client.force_login(customer_user)

    response = client.post(
        URL, {**form_data(seat_contract, intent="pause", effective=today), "action": "preview"}
    )

    assert response.status_code == 400
    assert "resume_date" in response.context["form"].errors
    assert not ChangeRequest.objects.exists()


def test_a_pause_is_priced_for_its_days_and_recorded_with_its_resume_date(
    client, customer_user, seat_contract, today, period
):
    client.force_login(customer_user)
    resume = today + timedelta(days=5)
    data = {**form_data(seat_contract, intent="pause", effective=today),
            "resume_date": resume.isoformat()}  # fmt: skip
    preview = client.post(URL, {**data, "action": "preview"}).context["preview"]
    days = (period[1] - period[0]).days

    assert preview.total == (Decimal("1500.00") * 5 / days).quantize(Decimal("0.01"))
    client.post(URL, {**data, "action": "request", "expected_total": str(preview.total)})

    change = ChangeRequest.objects.get()
    assert (change.intent, change.effective_date, change.resume_date) == ("pause", today, resume)
    assert change.total == preview.total

"""Credit policies: the controller drafts a version through the form and publishes it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits.models import CreditPolicyVersion


def _draft_data(**overrides) -> dict:
    data = {
        "title": "Credit policy",
        "effective_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "introduction": "How we give back the unused part of what you paid.",
        "change_summary": "A minimum credit of 50.",
        "eligible_intents": ["downgrade", "pause", "terminate"],
        "eligible_bases": ["seat", "usage", "bundle"],
        "minimum_credit": "50",
        "termination": "prorate",
        "prepaid_refundable_share": "1",
        "allowed_forms": ["credit_note", "future_discount"],
        "payout_mode": "declining",
        "payout_periods": "3",
        "step_1_role": "finance_analyst",
        "step_1_threshold": "0",
        "step_2_role": "finance_approver",
        "step_2_threshold": "1000",
        "step_deadline_hours": "48",
        "reminder_after_hours": "24",
        "escalate_to": "financial_controller",
        "dispute_days": "10",
    }
    return {**data, **overrides}


def _draft(client, **overrides):
    return client.post(reverse("credits:policy-draft"), _draft_data(**overrides))


@pytest.mark.django_db
def test_the_controller_drafts_a_version_from_the_form(client, controller):
    client.force_login(controller)

    response = _draft(client)

    assert response.status_code == 302
    draft = CreditPolicyVersion.objects.get(number=2)
    assert draft.status == CreditPolicyVersion.Status.DRAFT
    assert draft.rules["minimum_credit"] == "50"
    assert draft.rules["downgrade_payout"] == {"mode": "declining", "periods": 3}
    assert draft.rules["approval_steps"] == [
        {"role": "finance_analyst", "threshold": "0"},
        {"role": "finance_approver", "threshold": "1000"},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"step_deadline_hours": "0"}, "A whole number of 1 or more."),
        ({"prepaid_refundable_share": "1.5"}, "Must be between 0 and 1."),
        ({"allowed_forms": []}, "Name one or more of"),
        ({"step_2_threshold": "-5"}, "Must be between 0 and any amount."),
        ({"step_1_threshold": "5000"}, "Thresholds must rise from step to step."),
    ],
)
def test_rule_errors_show_beside_their_fields(client, controller, overrides, message):
    client.force_login(controller)

    response = _draft(client, **overrides)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CreditPolicyVersion.objects.filter(number=2).exists()


@pytest.mark.django_db
def test_a_rule_error_is_attached_to_its_own_field(client, controller):
    client.force_login(controller)

    response = _draft(client, step_deadline_hours="0", step_2_threshold="-1")

    form = response.context["form"]
    assert form.errors["step_deadline_hours"] == ["A whole number of 1 or more."]
    assert form.errors["step_2_threshold"] == ["Must be between 0 and any amount."]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["analyst", "approver", "auditor"], indirect=True)
def test_only_the_controller_drafts(client, persona):
    client.force_login(persona)

    response = _draft(client)
    page = client.get(reverse("credits:policies")).content.decode()

    assert response.status_code == 403
    assert not CreditPolicyVersion.objects.filter(number=2).exists()
    assert reverse("credits:policy-draft") not in page
    assert "Credit policy v1" in page and "credit/v1" not in page


@pytest.mark.django_db
def test_the_controller_publishes_a_draft(client, controller, mailoutbox):
    client.force_login(controller)
    _draft(client)
    draft = CreditPolicyVersion.objects.get(number=2)

    response = client.post(reverse("credits:policy-publish", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == CreditPolicyVersion.Status.PUBLISHED
    assert draft.examples  # written by the engine at publication
    assert "Credit policy v2 is published" in response.content.decode()


@pytest.mark.django_db
def test_a_draft_that_takes_effect_today_cannot_be_published(client, controller):
    client.force_login(controller)
    _draft(client, effective_from=timezone.localdate().isoformat())
    draft = CreditPolicyVersion.objects.get(number=2)

    response = client.post(
        reverse("credits:policy-publish", args=[draft.pk]),
        headers={"referer": reverse("credits:policies")},
        follow=True,
    )

    draft.refresh_from_db()
    assert draft.status == CreditPolicyVersion.Status.DRAFT
    assert "must take effect after today" in response.content.decode()


@pytest.mark.django_db
def test_an_analyst_cannot_publish(client, controller, analyst):
    client.force_login(controller)
    _draft(client)
    draft = CreditPolicyVersion.objects.get(number=2)
    client.force_login(analyst)

    client.post(reverse("credits:policy-publish", args=[draft.pk]))

    draft.refresh_from_db()
    assert draft.status == CreditPolicyVersion.Status.DRAFT


@pytest.mark.django_db
def test_rule_errors_show_with_the_other_field_errors_in_one_pass(client, controller):
    client.force_login(controller)

    response = _draft(client, change_summary="", step_deadline_hours="0")

    form = response.context["form"]
    assert set(form.errors) == {"change_summary", "step_deadline_hours"}

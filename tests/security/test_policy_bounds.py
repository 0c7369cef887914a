"""Credit policy rules are bounded: a rule past its bound is refused at draft and at publish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credits import services
from credits.models import CreditPolicyVersion
from credits.rules import DEFAULT_RULES, RulesError, parse_rules
from licensing.errors import DomainError

pytestmark = pytest.mark.django_db

STEPS = DEFAULT_RULES["approval_steps"]

BAD_RULES = {
    "first threshold above zero": (
        {"approval_steps": [{**STEPS[0], "threshold": "50"}, *STEPS[1:]]},
        "approval_steps.0.threshold",
    ),
    "thresholds falling": (
        {"approval_steps": [STEPS[0], {**STEPS[1], "threshold": "20000"}, STEPS[2]]},
        "approval_steps",
    ),
    "huge threshold": (
        {"approval_steps": [STEPS[0], {**STEPS[1], "threshold": "1e30"}]},
        "approval_steps.1.threshold",
    ),
    "steps not a list": ({"approval_steps": "analyst"}, "approval_steps"),
    "huge deadline": ({"step_deadline_hours": 10**12}, "step_deadline_hours"),
    "zero deadline": ({"step_deadline_hours": 0}, "step_deadline_hours"),
    "deadline as a boolean": ({"step_deadline_hours": True}, "step_deadline_hours"),
    "huge reminder": ({"reminder_after_hours": 10**9}, "reminder_after_hours"),
    "huge dispute window": ({"dispute_days": 100_000}, "dispute_days"),
    "million payout periods": (
        {"downgrade_payout": {"mode": "declining", "periods": 1_000_000}},
        "downgrade_payout",
    ),
    "payout periods as text": (
        {"downgrade_payout": {"mode": "declining", "periods": "12"}},
        "downgrade_payout",
    ),
}


@pytest.mark.parametrize(("change", "field"), BAD_RULES.values(), ids=BAD_RULES.keys())
def test_a_rule_past_its_bound_is_named(change, field):
    with pytest.raises(RulesError) as raised:
        parse_rules({**DEFAULT_RULES, **change})

    assert field in raised.value.errors


def test_the_default_rules_are_within_every_bound():
    assert parse_rules(DEFAULT_RULES).payout_periods == 1


@pytest.mark.parametrize(("change", "field"), BAD_RULES.values(), ids=BAD_RULES.keys())
def test_a_draft_past_a_bound_is_refused_and_not_stored(controller, change, field):
    with pytest.raises(RulesError):
        services.policy_create_draft(
            actor=controller, rules={**DEFAULT_RULES, **change}, title="Bad",
            introduction="", effective_from=timezone.localdate() + timedelta(days=30),
            change_summary="",
        )  # fmt: skip

    assert not CreditPolicyVersion.objects.filter(title="Bad").exists()


def test_a_stored_draft_past_a_bound_does_not_publish(controller):
    draft = services.policy_create_draft(
        actor=controller, rules=DEFAULT_RULES, title="Later", introduction="",
        effective_from=timezone.localdate() + timedelta(days=30), change_summary="",
    )  # fmt: skip
    # Rules edited behind the service's back (a restore, a console) are checked again.
    CreditPolicyVersion.objects.filter(pk=draft.pk).update(
        rules={**DEFAULT_RULES, "dispute_days": 10**6}
    )

    with pytest.raises(DomainError, match="dispute_days"):
        services.policy_publish(actor=controller, policy_id=draft.pk, on=timezone.localdate())

    assert CreditPolicyVersion.objects.get(pk=draft.pk).status == CreditPolicyVersion.Status.DRAFT

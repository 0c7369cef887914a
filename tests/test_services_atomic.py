"""Every write service runs in one transaction. SQLite lets select_for_update run outside one,
so only PostgreSQL would notice a missing @transaction.atomic: this test notices everywhere."""

import inspect

import pytest

from breaches import services as breach_services
from credits import services as credit_services
from licensing import services as licensing_services

# Services that are not one transaction on purpose, with the reason.
NOT_ONE_TRANSACTION = {
    "system_actor": "get-or-create of the automatic actor, idempotent",
    "expire_ended_entitlements": "one transaction per entitlement, so one failure stops none",
    "apply_due_changes": "one transaction per scheduled change, so one failure stops none",
    "scheduled_change_apply": "applies in one transaction; a refusal is recorded in a second",
    "process_approval_deadlines": "one transaction per reminder and per escalation",
    "calculator_quote": "reads only",
    "credit_decision_refusal": "reads only",
    "credit_resubmit_refusal": "reads only",
    "change_request_refusal": "reads only",
    "change_date_refusal": "reads only",
    "may_backdate": "reads only",
    "dispute_open_refusal": "reads only",
    "dispute_resolve_refusal": "reads only",
    "true_up_calculator": "reads nothing: pure arithmetic",
    "usage_report_refusal": "reads only",
    "register_invoice_hook": "wiring at start-up, no database",
    "credit_remaining": "reads only",
    "credit_withdraw_refusal": "reads only",
    "credit_reject_refusal": "reads only",
    "dispute_uphold_refusal": "reads only",
    "dispute_reject_refusal": "reads only",
    "exchange_rate_add_refusal": "reads only",
    "convert": "reads only",
    "process_dispute_deadlines": "one transaction per reminder and per escalation",
    "api_tokens_renew_due": "one transaction per token renewed, so one failure stops none",
    "milestones_process": "one transaction per reminder and per escalation",
    "api_token_refusal": "reads only",
    "api_token_renewal_refusal": "reads only",
    "scheduled_change_cancel_refusal": "reads only",
    "register_cancel_guard": "wiring at start-up, no database",
    "reversal_refusal": "reads only",
    "allowed_transitions": "reads only",
    "breach_case_transition_refusal": "reads only",
    "breach_case_offer_refusal": "reads only",
    "breach_case_resolve_refusal": "reads only",
    "breach_deprovision_refusal": "reads only",
    "breach_detect_refusal": "reads only",
}


def _services():
    for module in (licensing_services, credit_services, breach_services):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) and name not in NOT_ONE_TRANSACTION:
                yield pytest.param(value, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("service", list(_services()))
def test_every_write_service_is_atomic(service):
    # getsource follows functools.wraps back to the definition, decorators included.
    assert "@transaction.atomic" in inspect.getsource(service)

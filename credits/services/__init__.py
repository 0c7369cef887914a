"""Every write in credits: policies, change requests, the approval chain, issue and disputes.

One module per room; callers use the names below, so a module can move without them noticing.
"""

from .approvals import (
    credit_approve,
    credit_decision_refusal,
    credit_reject,
    credit_resubmit,
    credit_resubmit_refusal,
    credit_send_back,
    process_approval_deadlines,
)
from .calculator import calculator_quote
from .changes import (
    CHANGEABLE_STATUSES,
    change_date_refusal,
    change_request_create,
    change_request_refusal,
    may_backdate,
)
from .disputes import (
    dispute_open,
    dispute_open_refusal,
    dispute_resolve,
    dispute_resolve_refusal,
)
from .invoices import credit_remaining, invoice_adjustments_apply
from .policies import policy_create_draft, policy_publish

__all__ = [
    "CHANGEABLE_STATUSES",
    "calculator_quote",
    "change_date_refusal",
    "change_request_create",
    "change_request_refusal",
    "credit_approve",
    "credit_decision_refusal",
    "credit_reject",
    "credit_remaining",
    "invoice_adjustments_apply",
    "credit_resubmit",
    "credit_resubmit_refusal",
    "credit_send_back",
    "dispute_open",
    "dispute_open_refusal",
    "dispute_resolve",
    "dispute_resolve_refusal",
    "may_backdate",
    "policy_create_draft",
    "policy_publish",
    "process_approval_deadlines",
]

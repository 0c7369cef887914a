"""Every write in credits: policies, change requests, the approval chain, issue and disputes.

One module per room; callers use the names below, so a module can move without them noticing.
"""

from .approvals import (
    credit_approve,
    credit_decision_refusal,
    credit_reject,
    credit_reject_refusal,
    credit_resubmit,
    credit_resubmit_refusal,
    credit_send_back,
    credit_withdraw,
    credit_withdraw_refusal,
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
    dispute_reject,
    dispute_reject_refusal,
    dispute_resolve_refusal,
    dispute_uphold,
    dispute_uphold_refusal,
    process_dispute_deadlines,
)
from .exchange import convert, exchange_rate_add, exchange_rate_add_refusal
from .invoices import credit_remaining, invoice_adjustments_apply
from .policies import policy_create_draft, policy_publish
from .scheduled import reversal_refusal

__all__ = [
    "CHANGEABLE_STATUSES",
    "calculator_quote",
    "change_date_refusal",
    "change_request_create",
    "change_request_refusal",
    "convert",
    "credit_approve",
    "credit_decision_refusal",
    "credit_reject",
    "credit_remaining",
    "invoice_adjustments_apply",
    "credit_reject_refusal",
    "credit_resubmit",
    "credit_resubmit_refusal",
    "credit_send_back",
    "credit_withdraw",
    "credit_withdraw_refusal",
    "dispute_open",
    "dispute_open_refusal",
    "dispute_reject",
    "dispute_reject_refusal",
    "dispute_resolve_refusal",
    "dispute_uphold",
    "dispute_uphold_refusal",
    "exchange_rate_add",
    "exchange_rate_add_refusal",
    "may_backdate",
    "policy_create_draft",
    "policy_publish",
    "process_approval_deadlines",
    "process_dispute_deadlines",
    "reversal_refusal",
]

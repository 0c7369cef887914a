"""Every write in credits: policies, change requests, the approval chain, issue and disputes.

One module per room; callers use the names below, so a module can move without them noticing.
"""

from .approvals import (
    credit_approve,
    credit_decision_refusal,
    credit_reject,
    credit_resubmit,
    credit_send_back,
    process_approval_deadlines,
)
from .calculator import calculator_quote
from .changes import change_request_create
from .disputes import dispute_open, dispute_resolve
from .policies import policy_create_draft, policy_publish

__all__ = [
    "calculator_quote",
    "change_request_create",
    "credit_approve",
    "credit_decision_refusal",
    "credit_reject",
    "credit_resubmit",
    "credit_send_back",
    "dispute_open",
    "dispute_resolve",
    "policy_create_draft",
    "policy_publish",
    "process_approval_deadlines",
]

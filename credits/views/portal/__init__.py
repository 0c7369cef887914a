"""The customer portal's credit pages: the policy, the customer's credits, requests, disputes.

Every page is for customer users and shows only their own customer's objects: anything else
is a 404, so nobody learns what exists elsewhere.
"""

from .calculator import calculator
from .change_requests import change_request, change_request_done
from .credit_pages import (
    credit_detail,
    credit_list,
    credit_note_pdf,
    credit_resubmit,
    credit_withdraw,
    dispute_attachment,
    dispute_open,
)
from .policy import policy, policy_html, policy_version, policy_versions

__all__ = [
    "calculator",
    "change_request",
    "change_request_done",
    "credit_detail",
    "credit_list",
    "credit_note_pdf",
    "credit_resubmit",
    "credit_withdraw",
    "dispute_attachment",
    "dispute_open",
    "policy",
    "policy_html",
    "policy_version",
    "policy_versions",
]

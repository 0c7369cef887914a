"""What every portal credit page shares: who may see it, and the words it uses."""

from django.core.exceptions import PermissionDenied

from licensing import access
from licensing.roles import Role

from ... import access as credit_access
from ... import selectors, services
from ...models import ApprovalStep, Credit

PAGE_SIZE = 25
AWAITING = [Credit.Status.PENDING, Credit.Status.SENT_BACK, Credit.Status.APPROVED]
EXAMPLES_HEADING = "Worked examples"

# The approval chain in customers' words: which kind of person looks at it, never who.
STEP_WORDS = {
    Role.FINANCE_ANALYST: "Review by our finance team",
    Role.FINANCE_APPROVER: "Approval by a finance manager",
    Role.FINANCIAL_CONTROLLER: "Approval by our financial controller",
}
STEP_STATE_WORDS = {
    ApprovalStep.Status.WAITING: "Not started yet",
    ApprovalStep.Status.PENDING: "In progress",
    ApprovalStep.Status.APPROVED: "Done",
    ApprovalStep.Status.REJECTED: "Declined",
    ApprovalStep.Status.SENT_BACK: "Sent back to you",
}


def _customer_only(user):
    customer = access.customer_of(user)
    if customer is None:
        raise PermissionDenied("The portal is for customer users.")
    return customer


def _may_request_changes(user) -> None:
    refusal = services.change_request_refusal(actor=user)
    if refusal:
        raise PermissionDenied(refusal)


def _own_credit(user, pk) -> Credit:
    """The credit with everything its page shows; another customer's is a 404."""
    credit = credit_access.credit_for_user(user=user, pk=pk)
    return selectors.credit_detail(pk=credit.pk)

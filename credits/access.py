"""Getters that hand a user only the credits rows they may see. Another customer's is a 404.

The rule is licensing's, applied to credits: staff see every customer, a customer's users see
their own customer's rows, anyone else sees nothing.
"""

from django.db.models import QuerySet

from licensing.access import _get, _scope

from .models import ChangeRequest, Credit, Dispute


def change_requests_for_user(user) -> QuerySet[ChangeRequest]:
    return _scope(user, ChangeRequest.objects.all(), "customer")


def credits_for_user(user) -> QuerySet[Credit]:
    return _scope(user, Credit.objects.all(), "customer")


def change_request_for_user(*, user, pk) -> ChangeRequest:
    return _get(change_requests_for_user(user), pk, "change request")


def credit_for_user(*, user, pk) -> Credit:
    """Deciding is not checked here: the approval services know each step's role and its SoD."""
    return _get(credits_for_user(user), pk, "credit")


def disputes_for_user(user) -> QuerySet[Dispute]:
    return _scope(user, Dispute.objects.all(), "credit__customer")


def dispute_for_user(*, user, pk) -> Dispute:
    return _get(disputes_for_user(user), pk, "dispute")

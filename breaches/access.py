"""Getters that hand a user only the cases they may see. Another customer's case is a 404."""

from django.db.models import QuerySet
from django.http import Http404

from licensing.access import customer_of
from licensing.roles import is_staff_role

from .models import BreachCase, CommunicationAttachment, UsageWarning


def _scope(user, qs: QuerySet, customer_path: str) -> QuerySet:
    if not user.is_authenticated:
        return qs.none()
    if is_staff_role(user):
        return qs
    customer = customer_of(user)
    if customer is None:
        return qs.none()
    return qs.filter(**{customer_path: customer.pk})


def cases_for_user(user) -> QuerySet[BreachCase]:
    return _scope(user, BreachCase.objects.all(), "entitlement__contract__customer")


def case_for_user(*, user, pk) -> BreachCase:
    try:
        return cases_for_user(user).get(pk=pk)
    except (BreachCase.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No breach case with id {pk}.") from None


def warnings_for_user(user) -> QuerySet[UsageWarning]:
    return _scope(user, UsageWarning.objects.all(), "entitlement__contract__customer")


def attachment_for_user(*, user, pk) -> CommunicationAttachment:
    qs = _scope(
        user, CommunicationAttachment.objects.all(),
        "communication__case__entitlement__contract__customer",
    )  # fmt: skip
    try:
        return qs.select_related("communication").get(pk=pk)
    except (CommunicationAttachment.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No attachment with id {pk}.") from None


def is_customer(user) -> bool:
    return customer_of(user) is not None

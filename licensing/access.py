"""Getters that hand a user only what they may see. Another customer's object is a 404."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import Contract, Customer, Entitlement
from .roles import Role, is_staff_role, role_of


def customer_of(user) -> Customer | None:
    if role_of(user) != Role.CUSTOMER:
        return None
    membership = getattr(user, "customer_membership", None)
    return membership.customer if membership else None


def _scope(user, qs: QuerySet, customer_path: str) -> QuerySet:
    if not user.is_authenticated:
        return qs.none()
    if is_staff_role(user):
        return qs
    customer = customer_of(user)
    if customer is None:
        return qs.none()
    return qs.filter(**{customer_path: customer.pk})


def customers_for_user(user) -> QuerySet[Customer]:
    return _scope(user, Customer.objects.all(), "pk")


def contracts_for_user(user) -> QuerySet[Contract]:
    return _scope(user, Contract.objects.all(), "customer")


def entitlements_for_user(user) -> QuerySet[Entitlement]:
    return _scope(user, Entitlement.objects.all(), "contract__customer")


def _get(qs: QuerySet, pk, label: str):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {label} with id {pk}.") from None


def contract_for_user(*, user, pk, write: bool = False) -> Contract:
    contract = _get(contracts_for_user(user), pk, "contract")
    if write and not user.has_perm("licensing.transition_contract"):
        raise PermissionDenied("Your role may not change contracts.")
    return contract


def entitlement_for_user(*, user, pk, write: bool = False) -> Entitlement:
    entitlement = _get(entitlements_for_user(user), pk, "entitlement")
    if write and not user.has_perm("licensing.transition_entitlement"):
        raise PermissionDenied("Your role may not change entitlements.")
    return entitlement

"""Filters shared by the pages and the API, so both answer a question the same way."""

import django_filters as filters
from django.db.models import Q

from .access import contracts_for_user, customers_for_user
from .models import Contract, Customer, Entitlement, Plan


# Choices of related objects come from what the user may see: another customer's id is then
# refused exactly like an id that does not exist, and no option names another customer.
def visible_customers(request):
    return customers_for_user(request.user) if request else Customer.objects.none()


def visible_contracts(request):
    return contracts_for_user(request.user) if request else Contract.objects.none()


class ContractFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Search")
    status = filters.ChoiceFilter(choices=Contract.Status.choices, empty_label="Any status")
    customer = filters.ModelChoiceFilter(queryset=visible_customers, empty_label="Any customer")
    ordering = filters.OrderingFilter(
        fields=(
            ("number", "number"),
            ("customer__name", "customer"),
            ("term_start", "term_start"),
            ("term_end", "term_end"),
            ("status", "status"),
        )
    )

    class Meta:
        model = Contract
        fields = ["q", "status", "customer"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(customer__name__icontains=value)
            | Q(customer__code__icontains=value)
        )


class EntitlementFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Search")
    state = filters.ChoiceFilter(choices=Entitlement.State.choices, empty_label="Any state")
    kind = filters.ChoiceFilter(choices=Entitlement.Kind.choices, empty_label="Any kind")
    contract = filters.ModelChoiceFilter(queryset=visible_contracts)
    ordering = filters.OrderingFilter(
        fields=(("name", "name"), ("ends_on", "ends_on"), ("state", "state"), ("id", "id"))
    )

    class Meta:
        model = Entitlement
        fields = ["q", "contract", "state", "kind"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(scope__icontains=value) | Q(key__icontains=value)
        )


class CustomerFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Customer
        fields = ["q", "country"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class PlanFilter(filters.FilterSet):
    class Meta:
        model = Plan
        fields = ["tier", "currency", "billing_cycle", "pricing_model", "product", "bundle"]

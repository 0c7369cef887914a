"""Filters for the finance pages (and any API that lists the same things)."""

import django_filters as filters
from django import forms

from licensing.filters import visible_contracts, visible_customers

from .models import ChangeRequest, Credit, CreditForm, Dispute, Intent
from .selectors import credits_mine_to_decide


class CreditQueueFilter(filters.FilterSet):
    """The approval queue. `mine` needs the request: it compares the step's role with the user's."""

    status = filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in (Credit.Status.PENDING, Credit.Status.SENT_BACK)],
        empty_label="Awaiting a decision",
    )
    customer = filters.ModelChoiceFilter(queryset=visible_customers, empty_label="Any customer")
    form = filters.ChoiceFilter(choices=CreditForm.choices, empty_label="Any form")
    mine = filters.BooleanFilter(
        method="mine_to_decide", label="Mine to decide", widget=forms.CheckboxInput
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("step_due_at", "due"),
            ("amount", "amount"),
            ("customer__name", "customer"),
            ("contract__number", "contract"),
            ("created_at", "requested"),
        )
    )

    class Meta:
        model = Credit
        fields = ["status", "customer", "form", "mine"]

    def mine_to_decide(self, queryset, name, value):
        if not value:
            return queryset
        return credits_mine_to_decide(queryset, user=self.request.user)


class DisputeFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Dispute.Status.choices, empty_label="Any status")
    customer = filters.ModelChoiceFilter(
        field_name="credit__customer",
        queryset=visible_customers,
        empty_label="Any customer",
    )

    class Meta:
        model = Dispute
        fields = ["status", "customer"]


class ChangeRequestApiFilter(filters.FilterSet):
    contract = filters.ModelChoiceFilter(queryset=visible_contracts)
    customer = filters.ModelChoiceFilter(queryset=visible_customers)
    intent = filters.ChoiceFilter(choices=Intent.choices)

    class Meta:
        model = ChangeRequest
        fields = ["contract", "customer", "intent"]


class CreditApiFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Credit.Status.choices)
    customer = filters.ModelChoiceFilter(queryset=visible_customers)
    form = filters.ChoiceFilter(choices=CreditForm.choices)
    contract = filters.ModelChoiceFilter(queryset=visible_contracts)

    class Meta:
        model = Credit
        fields = ["status", "customer", "form", "contract"]


def visible_credits(request):
    from .access import credits_for_user

    return credits_for_user(request.user) if request else Credit.objects.none()


class DisputeApiFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Dispute.Status.choices)
    credit = filters.ModelChoiceFilter(queryset=visible_credits)

    class Meta:
        model = Dispute
        fields = ["status", "credit"]

"""The case queue's filters: state, age, severity, owner, a search, and the sort."""

from datetime import date, timedelta

import django_filters as filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from licensing.roles import Role

from .models import BreachCase, Severity

AGES = [
    ("week", "Detected in the last 7 days"),
    ("month", "7 to 30 days ago"),
    ("older", "More than 30 days ago"),
]
OPEN = "open"


def account_managers(request):
    return (
        get_user_model()
        .objects.filter(groups__name=Role.ACCOUNT_MANAGER, is_active=True)
        .order_by("first_name", "last_name", "username")
    )


class CaseQueueFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Search")
    state = filters.ChoiceFilter(
        choices=[(OPEN, "Any open state"), *BreachCase.State.choices],
        method="by_state", empty_label="Any state",
    )  # fmt: skip
    age = filters.ChoiceFilter(choices=AGES, method="by_age", empty_label="Any age")
    severity = filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity")
    owner = filters.ModelChoiceFilter(
        queryset=account_managers, empty_label="Anyone", label="Owner"
    )
    ordering = filters.OrderingFilter(
        fields=(
            ("detected_on", "detected"),
            ("severity_rank", "severity"),
            ("state", "state"),
            ("entitlement__contract__customer__name", "customer"),
            ("peak", "peak"),
            ("next_due_on", "due"),
            ("owner__first_name", "owner"),
        )
    )

    class Meta:
        model = BreachCase
        fields = ["q", "state", "age", "severity", "owner"]

    def __init__(self, *args, on: date, **kwargs):
        self.on = on
        super().__init__(*args, **kwargs)
        self.filters["owner"].field.label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(entitlement__name__icontains=value)
            | Q(entitlement__contract__number__icontains=value)
            | Q(entitlement__contract__customer__name__icontains=value)
        )

    def by_state(self, queryset, name, value):
        if value == OPEN:
            return queryset.exclude(state__in=BreachCase.CLOSED_STATES)
        return queryset.filter(state=value)

    def by_age(self, queryset, name, value):
        week, month = self.on - timedelta(days=7), self.on - timedelta(days=30)
        if value == "week":  # 0 to 6 days ago
            return queryset.filter(detected_on__gt=week)
        if value == "month":
            return queryset.filter(detected_on__lte=week, detected_on__gte=month)
        return queryset.filter(detected_on__lt=month)

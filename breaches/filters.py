"""Filters shared by the case queue page and the API."""

from datetime import timedelta

import django_filters as filters
from django.contrib.auth import get_user_model
from django.utils import timezone

from licensing.access import entitlements_for_user
from licensing.models import Entitlement

from .models import BreachCase, Severity


def visible_entitlements(request):
    return entitlements_for_user(request.user) if request else Entitlement.objects.none()


def managers(request):
    return (
        get_user_model()
        .objects.filter(groups__name="account_manager", is_active=True)
        .order_by("username")
    )


class BreachCaseFilter(filters.FilterSet):
    entitlement = filters.ModelChoiceFilter(queryset=visible_entitlements)
    state = filters.ChoiceFilter(choices=BreachCase.State.choices, empty_label="Any state")
    severity = filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity")
    owner = filters.ModelChoiceFilter(queryset=managers, empty_label="Any owner")
    open = filters.BooleanFilter(method="by_open", label="Open cases only")
    older_than_days = filters.NumberFilter(method="by_age", label="Open longer than (days)",
                                           min_value=0)  # fmt: skip
    ordering = filters.OrderingFilter(
        fields=(
            ("detected_on", "detected_on"),
            ("opened_at", "opened_at"),
            ("severity", "severity"),
            ("state", "state"),
            ("entitlement__contract__customer__name", "customer"),
        )
    )

    class Meta:
        model = BreachCase
        fields = ["entitlement", "state", "severity", "owner"]

    def by_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(state__in=BreachCase.OPEN_STATES)
        return queryset.filter(state__in=BreachCase.CLOSED_STATES)

    def by_age(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        return queryset.filter(detected_on__lte=timezone.localdate() - timedelta(days=int(value)))

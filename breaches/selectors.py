"""Every read a breaches page, API or task needs; QuerySets with their joins prefetched."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from licensing.models import Customer

from .models import UsageWarning


def usage_warning_banners(*, customer: Customer, on: date) -> QuerySet[UsageWarning]:
    """The portal's banners: warnings of the customer's entitlements current on `on` that
    nobody put away, the highest threshold first. Empty means no banner."""
    return (
        UsageWarning.objects.filter(
            entitlement__contract__customer=customer,
            entitlement__starts_on__lte=on,
            entitlement__ends_on__gt=on,
            dismissed_at__isnull=True,
        )
        .select_related("entitlement")
        .order_by("-threshold", "-day", "pk")
    )


def has_usage_warning(*, customer: Customer, on: date) -> bool:
    """Whether the portal shows a usage banner to this customer today."""
    return usage_warning_banners(customer=customer, on=on).exists()

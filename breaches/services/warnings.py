"""Usage warnings: a day's figure first reaching a threshold tells people once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from licensing.errors import ActionForbidden, DomainError

from .. import mail
from ..models import UsageFigure, UsageWarning
from ..policy import breach_policy, breach_rules
from ._common import audit, require_reason, stamp, system


@transaction.atomic
def usage_warnings_raise(
    *, on: date, entitlement_ids: Iterable[int] | None = None, actor=None,
    reason: str = "Usage reached a warning threshold",
) -> list[UsageWarning]:  # fmt: skip
    """Warn once per entitlement, metric and threshold, on the first day whose current figure
    reaches `threshold`% of the entitled quantity (within the entitlement's period).

    The customer's contacts and the account manager get an e-mail (outbox); the portal shows a
    banner (`selectors.usage_warning_banners`). Safe to run again: a threshold already warned
    of is never warned of twice. One audit event per warning.
    """
    actor = actor or system()
    policy = breach_policy(on)
    rules = breach_rules(policy)
    figures = UsageFigure.objects.filter(
        replaced_at__isnull=True,
        day__gte=F("entitlement__starts_on"),
        day__lt=F("entitlement__ends_on"),
    )
    if entitlement_ids is not None:
        figures = figures.filter(entitlement_id__in=list(entitlement_ids))
    warned = set(
        UsageWarning.objects.filter(
            entitlement_id__in=figures.values("entitlement_id")
        ).values_list("entitlement_id", "metric", "threshold")
    )
    created = []
    for threshold in rules.warning_thresholds:
        # Whole numbers: figure x 100 >= quantity x threshold.
        reached = (
            figures.alias(scaled=F("quantity") * 100, limit=F("entitlement__quantity") * threshold)
            .filter(scaled__gte=F("limit"))
            .values("entitlement_id", "metric")
            .annotate(first_day=Min("day"))
            .order_by("entitlement_id", "metric")
        )
        for row in reached:
            key = (row["entitlement_id"], row["metric"], threshold)
            if key in warned:
                continue
            figure = figures.select_related("entitlement__contract__customer").get(
                entitlement_id=row["entitlement_id"], metric=row["metric"], day=row["first_day"]
            )
            warning = UsageWarning(
                entitlement=figure.entitlement, metric=row["metric"], threshold=threshold,
                day=row["first_day"], figure=figure.quantity,
                quantity=figure.entitlement.quantity, policy=policy,
            )  # fmt: skip
            stamp(warning, actor=actor, reason=reason)
            try:
                with transaction.atomic():
                    warning.save()
            except IntegrityError:  # another job warned of it a moment ago: once is enough
                continue
            warning.mail = mail.tell_usage_warning(warning)
            if warning.mail is not None:
                stamp(warning, actor=actor, reason=reason)
                warning.save(update_fields=["mail"])
            audit(actor, "usage_warning.raise", warning, reason=reason, policy=policy, data={
                "entitlement": warning.entitlement_id, "metric": warning.metric,
                "threshold": threshold, "day": warning.day, "figure": warning.figure,
                "quantity": warning.quantity,
                "recipients": warning.mail.recipients if warning.mail else [],
            })  # fmt: skip
            warned.add(key)
            created.append(warning)
    return created


@transaction.atomic
def usage_warning_dismiss(*, actor, warning_id: int, reason: str = "Banner dismissed"):
    """A customer user puts the portal banner away; the warning stays on record."""
    from licensing.access import customer_of

    reason = require_reason(reason)
    try:
        warning = (
            UsageWarning.objects.select_for_update(of=("self",))
            .select_related("entitlement__contract")
            .get(pk=warning_id)
        )
    except (UsageWarning.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No usage warning with id {warning_id}.") from None
    customer = customer_of(actor)
    if customer is None or customer.pk != warning.entitlement.contract.customer_id:
        raise ActionForbidden("Only the customer's own users put its banners away.")
    if warning.dismissed_at is None:
        warning.dismissed_at, warning.dismissed_by = timezone.now(), actor
        stamp(warning, actor=actor, reason=reason)
        warning.save(update_fields=["dismissed_at", "dismissed_by"])
        audit(actor, "usage_warning.dismiss", warning, reason=reason)
    return warning

"""Usage warnings: a day's figure first reaching a threshold tells people once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audit.services import EventSpec, audit_record_many
from licensing.errors import ActionForbidden, DomainError
from licensing.models import Entitlement
from outbox.services import mail_enqueue_many

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

    Set-based: one query per threshold finds every first day not yet warned of, however many
    figures there are; the warnings, their mails, history and audit events are written in bulk.
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
    found = [
        warning for threshold in rules.warning_thresholds
        for warning in _first_days(figures, threshold, policy)
    ]  # fmt: skip
    if not found:
        return []
    # Two jobs may look at once (the task after a report, the nightly run): the entitlements are
    # locked in primary-key order and what was warned of is read again behind the lock.
    ids = sorted({w.entitlement_id for w in found})
    list(
        Entitlement.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    warned = set(
        UsageWarning.objects.filter(entitlement_id__in=ids).values_list(
            "entitlement_id", "metric", "threshold"
        )
    )
    created = [w for w in found if (w.entitlement_id, w.metric, w.threshold) not in warned]
    if not created:
        return []
    members = mail.member_emails({w.entitlement.contract.customer_id for w in created})
    mails = mail_enqueue_many(
        mail.usage_warning_mail(w, to=_recipients(w, members)) for w in created
    )
    for warning, sent in zip(created, mails, strict=True):
        warning.mail = sent
    bulk_create_with_history(
        created, UsageWarning, batch_size=1000, default_user=actor, default_change_reason=reason
    )
    audit_record_many(
        actor=actor,
        specs=[
            EventSpec(
                "usage_warning.raise",
                "breaches.usagewarning",
                str(w.pk),
                reason,
                policy.label,
                {
                    "entitlement": w.entitlement_id,
                    "metric": w.metric,
                    "threshold": w.threshold,
                    "day": w.day,
                    "figure": w.figure,
                    "quantity": w.quantity,
                    # How many, not who: addresses are sealed on the mail (audit.sealing).
                    "recipient_count": len(w.mail.recipients) if w.mail else 0,
                },
            )  # fmt: skip
            for w in created
        ],
    )
    return created


def _first_days(figures, threshold: int, policy) -> list[UsageWarning]:
    """One query: for each entitlement and metric not yet warned of at `threshold`, its first
    day reaching it, as an unsaved warning with the entitlement, contract, customer and account
    manager fetched."""
    not_warned = ~Exists(
        UsageWarning.objects.filter(
            entitlement_id=OuterRef("entitlement_id"),
            metric=OuterRef("metric"),
            threshold=threshold,
        )
    )
    first = Window(
        RowNumber(),
        partition_by=[F("entitlement_id"), F("metric")],
        order_by=[F("day").asc(), F("pk").asc()],
    )
    reached = (
        # Whole numbers: figure x 100 >= quantity x threshold.
        figures.alias(scaled=F("quantity") * 100, limit=F("entitlement__quantity") * threshold)
        .filter(not_warned, scaled__gte=F("limit"))
        .annotate(position=first)
        .filter(position=1)
        .select_related("entitlement__contract__customer", "entitlement__contract__account_manager")
        .order_by("entitlement_id", "metric")
    )
    return [
        UsageWarning(
            entitlement=figure.entitlement,
            metric=figure.metric,
            threshold=threshold,
            day=figure.day,
            figure=figure.quantity,
            quantity=figure.entitlement.quantity,
            policy=policy,
        )  # fmt: skip
        for figure in reached
    ]


def _recipients(warning: UsageWarning, members: dict[int, list[str]]) -> list[str]:
    contract = warning.entitlement.contract
    return [
        contract.customer.billing_email,
        *members[contract.customer_id],
        *mail.manager_contacts(warning.entitlement),
    ]


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

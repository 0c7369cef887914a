"""Reads for the breach pages (the manager's queue and case page, the customer's cases), each
with its joins, so a page's query count does not grow with its rows."""

from datetime import date, timedelta

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from licensing.access import customer_of
from licensing.models import Contract, Invoice
from licensing.roles import is_staff_role

from .models import (
    BreachCase,
    BreachNotice,
    CaseEvent,
    Communication,
    CommunicationAttachment,
    Milestone,
    Severity,
)

SEVERITY_RANK = Case(
    When(severity=Severity.HIGH, then=Value(3)),
    When(severity=Severity.MEDIUM, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)


def cases_for_user(user) -> QuerySet[BreachCase]:
    """Staff see every case; a customer user only their own customer's; anyone else none."""
    if not user.is_authenticated:
        return BreachCase.objects.none()
    if is_staff_role(user):
        return BreachCase.objects.all()
    customer = customer_of(user)
    if customer is None:
        return BreachCase.objects.none()
    return BreachCase.objects.filter(entitlement__contract__customer=customer)


def case_queue(*, base: QuerySet[BreachCase]) -> QuerySet[BreachCase]:
    """Cases with what a queue row shows: customer, entitlement, owner, the peak and the next
    milestone due, in a fixed number of queries."""
    open_milestones = Milestone.objects.filter(done_on__isnull=True).order_by("due_on", "pk")
    next_due = open_milestones.filter(case=OuterRef("pk")).values("due_on")[:1]
    return (
        base.select_related("entitlement__contract__customer", "owner")
        .annotate(
            severity_rank=SEVERITY_RANK,
            peak=Cast(KeyTextTransform("peak", "evidence"), IntegerField()),
            next_due_on=Subquery(next_due),
        )
        .order_by("-detected_on", "-pk")
    )


def case_detail(*, base: QuerySet[BreachCase], pk: int) -> BreachCase:
    """One case with everything its page lists, prefetched."""
    return (
        base.select_related(
            "entitlement__contract__customer",
            "entitlement__contract__account_manager",
            "entitlement__contract_line__plan",
            "owner",
            "policy",
            "agreed_option",
            "classified_by",
            "agreed_by",
        )  # fmt: skip
        .prefetch_related(
            "options__target_plan",
            "earlier_overuse",
            Prefetch("milestones", queryset=Milestone.objects.select_related("our_contact")),
            Prefetch(
                "communications",
                queryset=Communication.objects.select_related("logged_by")
                .prefetch_related(
                    Prefetch("attachments", CommunicationAttachment.objects.defer("content"))
                )
                .order_by("-occurred_at", "-pk"),
            ),
            Prefetch(
                "notices",
                queryset=BreachNotice.objects.select_related("created_by")
                .defer("pdf")
                .order_by("-created_at", "-pk"),
            ),
            Prefetch(
                "events",
                queryset=CaseEvent.objects.select_related("actor").order_by("-at", "-pk"),
            ),
        )
        .get(pk=pk)
    )


def customer_context(*, case: BreachCase, on: date) -> dict:
    """What a manager weighs beside a classification: how long the customer has been with us,
    their earlier cases, and how they pay."""
    customer = case.entitlement.contract.customer
    since = Contract.objects.filter(customer=customer).aggregate(first=Min("term_start"))["first"]
    earlier = (
        BreachCase.objects.filter(entitlement__contract__customer=customer)
        .exclude(pk=case.pk)
        .aggregate(
            total=Count("pk"),
            willful=Count("pk", filter=Q(classification="willful")),
            open=Count("pk", filter=~Q(state__in=BreachCase.CLOSED_STATES)),
        )
    )
    invoices = Invoice.objects.filter(contract__customer=customer, issued_on__lte=on)
    # Paid on time: within 30 days of issue, the house's usual term.
    paid = invoices.aggregate(
        total=Count("pk"),
        paid=Count("pk", filter=Q(paid_on__isnull=False)),
        late=Count(
            "pk",
            filter=Q(paid_on__isnull=False, paid_on__gt=_plus_days("issued_on", 30)),
        ),
        overdue=Count("pk", filter=Q(paid_on__isnull=True, issued_on__lt=on - timedelta(days=30))),
    )
    return {
        "customer": customer,
        "since": since,
        "tenure_days": (on - since).days if since else 0,
        "earlier": earlier,
        "invoices": paid,
    }


def _plus_days(field: str, days: int):
    from django.db.models import DateField, ExpressionWrapper, F

    return ExpressionWrapper(F(field) + timedelta(days=days), output_field=DateField())


def account_managers():
    """The people a case may be handed to or a milestone named for: active users whose role
    may move breach cases."""
    from django.contrib.auth import get_user_model

    from .services._common import MANAGE_PERM

    app_label, codename = MANAGE_PERM.split(".")
    return list(
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__permissions__content_type__app_label=app_label,
            groups__permissions__codename=codename,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )

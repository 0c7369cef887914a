"""Demo usage for the demo contracts, and one breach case in each main state.

Breaches' part of `seed_demo`, run after licensing's. Everything goes through the services, as a
licence server's export and an account manager would: a usage report for the last 90 days with
runs of over-use on nine seat pools, detection, then each case moved through the lifecycle
service to its state, so the history, timeline and audit trail are real. Safe to run twice:
the demo report and the cases are made once.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from breaches.models import BreachCase, UsageFigure, UsageReport
from breaches.notices import breach_notice_issue
from breaches.services import (
    breach_case_classify,
    breach_case_transition,
    breach_detect,
    communication_log,
    earlier_overuse_decide,
    usage_report_create,
)
from licensing.models import Contract, Entitlement

DAYS = 90
USAGE_REASON = "Demo: nightly licence server export"
METRIC_OF_KIND = {
    Entitlement.Kind.SEAT_POOL: UsageFigure.Metric.SEATS_IN_USE,
    Entitlement.Kind.PRODUCT_KEY: UsageFigure.Metric.INSTALLATIONS,
    Entitlement.Kind.API_QUOTA: UsageFigure.Metric.API_CALLS,
}
IN_USE = [Entitlement.State.ACTIVE, Entitlement.State.GRACE, Entitlement.State.HELD,
          Entitlement.State.SUSPENDED, Entitlement.State.RESTORED]  # fmt: skip


def demo_entitlements():
    """The entitlements a licence server reports on: in use, under an active contract."""
    return (
        Entitlement.objects.filter(
            state__in=IN_USE, kind__in=list(METRIC_OF_KIND),
            contract__status=Contract.Status.ACTIVE,
        )
        .select_related("contract__customer")
        .order_by("contract__number", "pk")
    )  # fmt: skip


def steady_usage(rng: random.Random, entitlement: Entitlement, days: list) -> dict:
    """Daily figures that stay within the entitlement: 60-95 % of it, a little noise."""
    quantity = entitlement.quantity
    if entitlement.kind == Entitlement.Kind.API_QUOTA:
        # A monthly quota reported as calls per day: a thirtieth of it, give or take.
        base = quantity // 30
        return {day: max(0, base * rng.randint(55, 95) // 100) for day in days}
    level = rng.randint(60, 90)
    figures = {}
    for day in days:
        level = min(95, max(50, level + rng.randint(-3, 3)))
        weekend = day.weekday() >= 5
        figures[day] = max(0, quantity * (level - (15 if weekend else 0)) // 100)
    return figures


S = BreachCase.State
# The state each demo case is taken to, and the moves that lead there, in the order of
# `case_entitlements`: Northwind (customer1) has a choice to make, Globex (customer2) a
# remediation under way.
STORIES = [
    (S.REMEDIATION_OFFERED, ["review", "confirm", "offer"]),
    (S.IN_REMEDIATION, ["review", "confirm", "offer", "agree", "start_remediation"]),
    (S.DETECTED, []),
    (S.UNDER_REVIEW, ["review"]),
    (S.CONFIRMED, ["review", "confirm"]),
    (S.REMEDIATION_AGREED, ["review", "confirm", "offer", "agree"]),
    (S.RESOLVED, ["review", "confirm", "offer", "agree", "start_remediation", "resolve"]),
    (S.DISMISSED, ["review", "dismiss"]),
    (S.ESCALATED, ["review", "confirm", "escalate"]),
]
# Over-use: a run of days above the entitlement, so many days ago, by so much (percent).
RUNS = [(24, 5, 18), (40, 6, 30), (6, 4, 12), (9, 3, 8), (15, 7, 60), (30, 5, 20),
        (50, 4, 15), (12, 3, 5), (35, 8, 45)]  # fmt: skip
# The notice each move is followed by.
NOTICE_AFTER = {
    "confirm": "breach_notice",
    "offer": "remediation_proposal",
    "resolve": "resolution_confirmation",
}
REASONS = {
    "review": "Usage above the entitlement on consecutive days; checking the figures.",
    "confirm": "Figures match the licence server; the customer's admin confirmed new users.",
    "offer": "Options discussed on the phone; sending them in writing.",
    "agree": "The customer chose the true-up.",
    "start_remediation": "True-up invoiced.",
    "resolve": "Usage reported since the agreement is within the entitlement.",
    "dismiss": "A test tenant was counted by mistake; no real over-use.",
    "escalate": "No answer to three reminders.",
}


def case_entitlements():
    """Seat pools a licence server reports on, priced from a contract line: one case each,
    the portal's demo customers first."""
    pools = [
        e for e in demo_entitlements().filter(kind=Entitlement.Kind.SEAT_POOL)
        if e.contract_line_id is not None
    ]  # fmt: skip
    first = {"northwind": 0, "globex": 1}
    pools.sort(key=lambda e: (first.get(e.contract.customer.code, 2), e.contract.number, e.pk))
    return pools[: len(STORIES)]


class Command(BaseCommand):
    help = "Create demo usage and breach cases for the demo contracts (idempotent)."

    def handle(self, *args, **options):
        if UsageReport.objects.filter(reason=USAGE_REASON).exists():
            self.stdout.write("Breaches: demo usage already present.")
        else:
            with transaction.atomic():
                count = self._usage()
            self.stdout.write(f"Breaches: {count:,} usage figures for the last {DAYS} days.")
        if BreachCase.objects.exists():
            self.stdout.write("Breaches: demo cases already present.")
            return
        made = self._cases()
        self.stdout.write(f"Breaches: {len(made)} cases, one in each main state.")

    def _usage(self) -> int:
        manager = get_user_model().objects.get(username="manager")
        rng = random.Random(2611)
        today = timezone.localdate()
        days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
        runs = {e.pk: run for e, run in zip(case_entitlements(), RUNS, strict=False)}
        rows = []
        for entitlement in demo_entitlements():
            window = [d for d in days if entitlement.starts_on <= d < entitlement.ends_on]
            metric = METRIC_OF_KIND[entitlement.kind]
            figures = steady_usage(rng, entitlement, window)
            if entitlement.pk in runs:
                ago, length, percent = runs[entitlement.pk]
                for n in range(length):
                    day = today - timedelta(days=ago - n)
                    if day in figures:
                        bump = rng.randint(0, max(1, entitlement.quantity // 20))
                        figures[day] = entitlement.quantity * (100 + percent) // 100 + bump
            for day, quantity in figures.items():
                rows.append({"entitlement": entitlement.pk, "date": day.isoformat(),
                             "metric": metric, "quantity": quantity})  # fmt: skip
        if not rows:
            return 0
        report = usage_report_create(actor=manager, on=today, rows=rows, reason=USAGE_REASON)
        return report.figures

    def _cases(self) -> list[BreachCase]:
        users = get_user_model().objects
        manager = users.get(username="manager")
        today = timezone.localdate()
        entitlements = case_entitlements()
        made = []
        for entitlement, (_state, moves), (ago, _length, _percent) in zip(
            entitlements, STORIES, RUNS, strict=False
        ):
            # Detected the night after the run reached the policy's three days.
            breach_detect(on=today - timedelta(days=ago - 3), entitlement_ids=[entitlement.pk],
                          reason="Demo: nightly breach detection")  # fmt: skip
            case = BreachCase.objects.get(entitlement=entitlement, state=S.DETECTED)
            actor = entitlement.contract.account_manager or manager
            for move in moves:
                case = self._move(case, move, actor=actor, manager=manager, on=today)
            made.append(case)
        return made

    def _move(self, case, move: str, *, actor, manager, on):
        if move == "confirm":
            breach_case_classify(
                actor=actor, case_id=case.pk, classification="inadvertent",
                rationale="Long-standing customer who pays on time; a new team was onboarded "
                "before the seats were added.",
            )  # fmt: skip
            communication_log(
                actor=actor, case_id=case.pk, kind="call", subject="Seat count above contract",
                body="Walked through the daily figures; their admin confirms a new team started.",
                occurred_at=timezone.now() - timedelta(hours=2), participants="Customer admin",
                reason="Demo: call logged",
            )  # fmt: skip
        if move == "resolve":
            # A figure within the entitlement, reported after the agreement, for today.
            entitlement = case.entitlement
            usage_report_create(actor=manager, on=on, reason="Demo: usage after the agreement",
                                rows=[{"entitlement": entitlement.pk, "date": on.isoformat(),
                                       "metric": case.metric,
                                       "quantity": entitlement.quantity - 1}])  # fmt: skip
        option = "true_up" if move == "agree" else None
        case = breach_case_transition(actor=actor, case_id=case.pk, transition=move,
                                      reason=REASONS[move], on=on, option=option)  # fmt: skip
        if move == "confirm":
            # The runs began in an earlier billing period: the manager includes that over-use
            # in the true-up rather than waive it.
            for item in case.earlier_overuse.all():
                earlier_overuse_decide(actor=actor, item_id=item.pk, decision="included",
                                       reason="Demo: recent over-use, included")  # fmt: skip
        notice = NOTICE_AFTER.get(move)
        if notice:
            breach_notice_issue(actor=actor, case_id=case.pk, kind=notice, on=on,
                                reason="Demo: notice issued")  # fmt: skip
        return case

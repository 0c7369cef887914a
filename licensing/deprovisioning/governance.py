"""The deprovisioning panel of the governance dashboard (registered in LicensingConfig.ready):
time to revoke and drift found at connected systems."""

from collections import defaultdict
from datetime import date, datetime, time

from django.db.models import Count, Sum
from django.utils import timezone

from audit.governance import bar_chart, hours, median_seconds

from .models import DeprovisioningRun, Reconciliation, ReconciliationFinding


def deprovisioning_panel(*, on: date, since: date) -> dict:
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(on, time.max))
    done = DeprovisioningRun.objects.filter(
        state=DeprovisioningRun.State.COMPLETED, completed_at__range=(start, end)
    ).values_list("trigger", "execute_on", "completed_at")
    waits: dict[str, list[float]] = defaultdict(list)
    for trigger, execute_on, completed_at in done:
        # From the start of the day execution was due to the last system's confirmation.
        due = timezone.make_aware(datetime.combine(execute_on, time.min))
        waits[trigger].append(max((completed_at - due).total_seconds(), 0))
    labels = dict(DeprovisioningRun.Trigger.choices)
    revoke_rows = [
        [labels.get(trigger, trigger), len(durations), hours(median_seconds(durations)),
         hours(max(durations))]
        for trigger, durations in sorted(waits.items())
    ]  # fmt: skip
    open_runs = (
        DeprovisioningRun.objects.filter(state__in=DeprovisioningRun.OPEN_STATES)
        .values("state").annotate(n=Count("id")).order_by("state")
    )  # fmt: skip
    states = dict(DeprovisioningRun.State.choices)
    recs = Reconciliation.objects.filter(created_at__range=(start, end)).aggregate(
        runs=Count("id"), checked=Sum("checked"), drift=Sum("drift"), repaired=Sum("repaired")
    )
    findings = (
        ReconciliationFinding.objects.filter(state=ReconciliationFinding.State.OPEN)
        .values("kind").annotate(n=Count("id")).order_by("kind")
    )  # fmt: skip
    kinds = dict(ReconciliationFinding.Kind.choices)
    return {
        "tables": [
            {
                "title": "Time to revoke (completed runs)",
                "columns": ["Trigger", "Runs", "Median hours", "Slowest hours"],
                "rows": revoke_rows,
            },
            {
                "title": "Runs open now",
                "columns": ["State", "Runs"],
                "rows": [[states.get(r["state"], r["state"]), r["n"]] for r in open_runs],
            },
            {
                "title": "Drift at connected systems",
                "columns": ["Measure", "Count"],
                "rows": [
                    ["Reconciliations", recs["runs"] or 0],
                    ["Holders checked", recs["checked"] or 0],
                    ["Drift found", recs["drift"] or 0],
                    ["Repaired", recs["repaired"] or 0],
                    *[
                        [f"Open finding: {kinds.get(f['kind'], f['kind'])}", f["n"]]
                        for f in findings
                    ],
                ],
            },
        ],  # fmt: skip
        "charts": [
            {
                "title": "Median hours to revoke, by trigger",
                "config": bar_chart(
                    [row[0] for row in revoke_rows],
                    {"Median hours": [row[2] for row in revoke_rows]},
                ),
            },
        ],  # fmt: skip
    }

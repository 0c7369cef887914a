"""Benchmark rows for breaches: a usage CSV imported, a notice PDF rendered, detection at scale."""

import csv
import io
import statistics
import tracemalloc
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .fixtures import TERM, active_contract, plan_for_bench
from .registry import Context, Samples, alternate, benchmark, timed

CSV_ROWS = 100_000
CSV_ENTITLEMENTS = 200
HEADER = "entitlement,date,metric,quantity\n"


def _usage_csv(entitlement_ids: list[int], rows: int, *, last_day: date) -> bytes:
    """`rows` daily figures, spread evenly over the entitlements, ending on `last_day`."""
    days = -(-rows // len(entitlement_ids))
    out = io.StringIO()
    out.write(HEADER)
    written = 0
    for n in range(days):
        day = (last_day - timedelta(days=n)).isoformat()
        for pk in entitlement_ids:
            if written == rows:
                break
            out.write(f"{pk},{day},seats_in_use,{(pk + n) % 3}\n")
            written += 1
    return out.getvalue().encode()


def _copy_usage(conn, *, actor_id: int, data: bytes) -> int:
    """The baseline: parse the same CSV with the csv module and COPY it in, one report row,
    no checks, no history, no audit."""
    reader = csv.reader(io.StringIO(data.decode()))
    next(reader)
    with conn.transaction(), conn.cursor() as cur:
        (report_id,) = cur.execute(
            "INSERT INTO breaches_usagereport (sent_by_id, received_at, source, filename, rows,"
            " figures, replaced, reason) VALUES (%s, now(), 'csv', 'bench.csv', 0, 0, 0,"
            " 'Bench baseline') RETURNING id",
            [actor_id],
        ).fetchone()
        count = 0
        with cur.copy(
            "COPY breaches_usagefigure (entitlement_id, day, metric, quantity, report_id)"
            " FROM STDIN"
        ) as copy:
            for entitlement, day, metric, quantity in reader:
                copy.write_row((int(entitlement), day, metric, int(quantity), report_id))
                count += 1
        cur.execute("UPDATE breaches_usagereport SET rows = %s, figures = %s WHERE id = %s",
                    [count, count, report_id])  # fmt: skip
    return count


@contextmanager
def _tasks_queued():
    """Tasks a service sends after commit go to an in-memory queue, as a worker would get them,
    instead of running in-process on the clock (the bench's default without a broker)."""
    from config.celery import app

    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, broker


def _import_peak(actor, entitlement_ids: list[int], rows: int, today: date) -> int:
    """Peak Python memory (bytes, tracemalloc) of one service import of `rows` rows, untimed."""
    from breaches.services import usage_report_create

    data = _usage_csv(entitlement_ids, rows, last_day=today - timedelta(days=1))
    tracemalloc.start()
    try:
        with transaction.atomic():
            usage_report_create(actor=actor, on=today, file=data, filename="bench.csv",
                                reason="Bench memory")  # fmt: skip
            transaction.set_rollback(True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@benchmark(
    "usage_csv_import",
    title=f"import a {CSV_ROWS:,}-row usage CSV",
    measured="breaches.services.usage_report_create(file=...): the file read as a stream, every "
    "row's fields checked and the good rows COPYed to a staging table, the sender's "
    "entitlements checked in one query, entitlements locked, figures, replacements and their "
    "history written by INSERT ... SELECT, one audit event; the usage-warnings task it sends on "
    "commit is queued for a worker (its own time is a note, and a row of its own)",
    baseline="the same CSV parsed with the csv module and loaded by psycopg COPY into the "
    "figures table with one report row: no checks, no history, no audit",
    unit="rate",
    item="rows",
)
def usage_csv_import(ctx: Context) -> Samples:
    from breaches.models import UsageFigure
    from breaches.services import usage_report_create

    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    rows = ctx.size(CSV_ROWS, smoke=400)
    per = ctx.size(CSV_ENTITLEMENTS, smoke=8)
    today = timezone.localdate()
    # Each run imports for entitlements of its own, so every run stores new figures.
    runs = []
    for n in range(ctx.repeats):
        run = {}
        for side in ("measured", "baseline"):
            contract = active_contract(actor=actor, plan=plan, number=f"BENCH-{side}-{n}",
                                       entitlements=per)  # fmt: skip
            ids = sorted(contract.entitlements.values_list("pk", flat=True))
            run[side] = (ids, _usage_csv(ids, rows, last_day=today - timedelta(days=1)))
        runs.append(run)
    memory_ids = sorted(
        active_contract(actor=actor, plan=plan, number="BENCH-memory", entitlements=per)
        .entitlements.values_list("pk", flat=True)
    )  # fmt: skip
    ctx.settle()
    with ctx.raw() as conn, _tasks_queued():
        times, values = alternate(
            {
                "measured": lambda run: (
                    usage_report_create(
                        actor=actor,
                        on=today,
                        file=run["measured"][1],
                        filename="bench.csv",
                        reason="Bench import",
                    ).figures
                ),  # fmt: skip
                "baseline": lambda run: _copy_usage(
                    conn, actor_id=actor.pk, data=run["baseline"][1]
                ),  # fmt: skip
            },
            runs,
        )
    from breaches.services import usage_warnings_raise

    first_ids = runs[0]["measured"][0]
    warned, _ = timed(lambda: usage_warnings_raise(on=today, entitlement_ids=first_ids))
    small, large = rows // 2, rows
    peak_small = _import_peak(actor, memory_ids, small, today)
    peak_large = _import_peak(actor, memory_ids, large, today)
    stored = all(
        UsageFigure.objects.filter(entitlement_id__in=run[side][0]).count() == rows
        for run in runs for side in ("measured", "baseline")
    )  # fmt: skip
    history = all(
        UsageFigure.history.filter(entitlement_id__in=run["measured"][0]).count() == rows
        for run in runs
    )
    return Samples(
        times["measured"],
        times["baseline"],
        work=rows,
        checks={
            "every run stored every row": all(v == rows for side in values.values() for v in side),
            "both sides' figures are in the table": stored,
            "the service wrote a history row per figure": history,
            # Flat: a file twice as long costs at most a quarter more memory (or 1 MiB, as
            # noise at these sizes).
            "peak memory is flat whatever the file's length": peak_large
            <= max(peak_small * 5 // 4, peak_small + 2**20),
        },
        extra={
            f"peak Python memory at {small:,} rows": f"{peak_small / 2**20:.1f} MiB",
            f"peak Python memory at {large:,} rows": f"{peak_large / 2**20:.1f} MiB",
            "the usage-warnings task after one import (worker side)": f"{warned:.1f} s",
            "bytes per row (large / small)": (f"{peak_large // large:,} / {peak_small // small:,}"),
        },
    )


RAW_WARNINGS = """
    SELECT DISTINCT ON (f.entitlement_id, f.metric, t.threshold)
           f.entitlement_id, f.metric, t.threshold, f.day, f.quantity
    FROM breaches_usagefigure f
    JOIN licensing_entitlement e ON e.id = f.entitlement_id
    CROSS JOIN unnest(%s::int[]) AS t(threshold)
    WHERE f.replaced_at IS NULL AND f.day >= e.starts_on AND f.day < e.ends_on
      AND f.entitlement_id = ANY(%s) AND f.quantity * 100 >= e.quantity * t.threshold
    ORDER BY f.entitlement_id, f.metric, t.threshold, f.day, f.id
"""


@benchmark(
    "usage_warnings",
    title=f"raise usage warnings over {CSV_ROWS:,} usage figures",
    measured="breaches.services.usage_warnings_raise() for the entitlements of one imported "
    "CSV (the task a report sends on commit): one query per threshold for the first day "
    "reaching it, entitlements locked, warnings, their mails (rendered), history and audit "
    "events in bulk (rolled back after each run)",
    baseline="one raw SQL query on a psycopg connection returning the first day reaching each "
    "threshold per entitlement and metric: the same comparison, nothing written",
)
def usage_warnings(ctx: Context) -> Samples:
    from breaches.models import UsageWarning
    from breaches.policy import breach_policy, breach_rules
    from breaches.services import usage_warnings_raise

    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    rows = ctx.size(CSV_ROWS, smoke=400)
    per = ctx.size(CSV_ENTITLEMENTS, smoke=8)
    today = timezone.localdate()
    contract = active_contract(actor=actor, plan=plan, number="BENCH-warnings", entitlements=per)
    ids = sorted(contract.entitlements.values_list("pk", flat=True))
    thresholds = list(breach_rules(breach_policy(today)).warning_thresholds)
    with ctx.raw() as conn:
        loaded = _copy_usage(
            conn, actor_id=actor.pk, data=_usage_csv(ids, rows, last_day=today - timedelta(days=1))
        )
        ctx.settle()

        def measured(_):
            # Each run starts from no warning at all: the work is undone, not kept.
            with transaction.atomic():
                created = len(usage_warnings_raise(on=today, entitlement_ids=ids))
                transaction.set_rollback(True)
            return created

        def baseline(_):
            with conn.cursor() as cur:
                found = cur.execute(RAW_WARNINGS, [thresholds, ids]).fetchall()
            conn.rollback()
            return len(found)

        times, values = alternate({"measured": measured, "baseline": baseline},
                                  [None] * ctx.repeats)  # fmt: skip
    return Samples(
        times["measured"],
        times["baseline"],
        work=loaded,
        checks={
            "the figures loaded": loaded == rows,
            "every run raised a warning per entitlement and threshold": all(
                v == per * len(thresholds) for v in values["measured"]
            ),
            "the raw query found the same first days": all(
                v == per * len(thresholds) for v in values["baseline"]
            ),
            "nothing kept between runs": not UsageWarning.objects.exists(),
        },
        extra={"usage figures": f"{loaded:,}", "warnings per run": str(per * len(thresholds))},
    )


def _notice_facts():
    from breaches.notice_pdf import Contact, DayFigure, Deadline, NoticeFacts, OptionFacts

    first = date(2026, 3, 11)
    return NoticeFacts(
        kind="remediation_proposal", reference="Case 1", issued_on=date(2026, 3, 20),
        customer="Bench Customer", contract="BENCH-1", entitlement="Bench seats", unit="seats",
        metric="Seats in use", entitled=50, tolerance=Decimal("1.0"), peak=60,
        first_day_over=first, days_over=10, renewal_on=date(2027, 1, 1),
        renewal="Renews automatically", our_contact=Contact("Bench Manager", "bench@localhost"),
        customer_contact=Contact("Bench Contact", "contact@localhost"),
        daily=tuple(DayFigure(first + timedelta(days=n), 55 + n % 6) for n in range(10)),
        deadlines=(Deadline("Choose a remediation option", date(2026, 4, 3), "Bench Contact"),),
        options=(
            OptionFacts("True-up", Decimal("210.00"), "USD", "10 over the 50 entitled."),
            OptionFacts("Reduction plan", Decimal("0.00"), "USD", "Back to 50 by 30 April."),
        ),
    )  # fmt: skip


MINIMAL_HTML = "<!doctype html><html><body><h1>Notice</h1><p>{}</p></body></html>"


@benchmark(
    "notice_pdf",
    title="render one breach notice PDF (median)",
    measured="breaches.notice_pdf.render_notice(): the remediation proposal template with its "
    "own CSS, ten daily figures, two options and a deadline, to A4 PDF with its SHA-256",
    baseline="WeasyPrint writing a one-heading, one-paragraph HTML page to PDF",
)
def notice_pdf(ctx: Context) -> Samples:
    from weasyprint import HTML

    from breaches.notice_pdf import render_notice

    facts = _notice_facts()
    render_notice(facts)  # fonts and templates loaded once, off the clock
    runs = ctx.size(7, smoke=1) * ctx.repeats
    times, values = alternate(
        {
            "measured": lambda _: render_notice(facts),
            "baseline": lambda _: HTML(string=MINIMAL_HTML.format(facts.entitlement)).write_pdf(),
        },
        [None] * runs,
    )
    digests = {rendered.sha256 for rendered in values["measured"]}
    median = statistics.median(times["measured"])
    # The median is the figure asked for: both sides report it as their one sample.
    return Samples(
        [median],
        [statistics.median(times["baseline"])],
        work=1,
        checks={
            "every render is a PDF": all(r.pdf.startswith(b"%PDF-") for r in values["measured"]),
            "the same facts give the same hash every time": len(digests) == 1,
        },
        extra={
            "renders per side": str(runs),
            "fastest / slowest render": f"{min(times['measured']):.3f} s / "
            f"{max(times['measured']):.3f} s",
        },
    )


DETECT_FIGURES = 1_000_000
DETECT_ENTITLEMENTS = 1_000
RUN_EVERY = 20  # one entitlement in twenty has a run over


def _load_detection_figures(conn, *, actor_id: int, ids: list[int], days: int) -> int:
    """COPY `days` daily figures per entitlement (untimed setup): one-seat entitlements use
    0 or 1 seat, every RUN_EVERY-th one is over (2) on four days in a row, and every seventh has
    a two-day blip over that is too short to count."""
    start = TERM[0]
    with conn.transaction(), conn.cursor() as cur:
        (report_id,) = cur.execute(
            "INSERT INTO breaches_usagereport (sent_by_id, received_at, source, filename, rows,"
            " figures, replaced, reason) VALUES (%s, now(), 'json', '', 0, 0, 0, 'Bench setup')"
            " RETURNING id",
            [actor_id],
        ).fetchone()
        with cur.copy(
            "COPY breaches_usagefigure (entitlement_id, day, metric, quantity, report_id)"
            " FROM STDIN"
        ) as copy:
            for position, pk in enumerate(ids):
                run_from = (position * 37) % (days - 10)
                over = 4 if position % RUN_EVERY == 0 else 2 if position % 7 == 3 else 0
                for n in range(days):
                    quantity = 2 if run_from <= n < run_from + over else (pk + n) % 2
                    copy.write_row((pk, start + timedelta(days=n), "seats_in_use", quantity,
                                    report_id))  # fmt: skip
    return len(ids) * days


RAW_DETECTION = """
    WITH over AS (
        SELECT f.entitlement_id, f.metric, f.day, f.quantity,
               f.day - (ROW_NUMBER() OVER (PARTITION BY f.entitlement_id, f.metric
                                           ORDER BY f.day))::int AS island
        FROM breaches_usagefigure f
        JOIN licensing_entitlement e ON e.id = f.entitlement_id
        WHERE f.replaced_at IS NULL AND f.day >= e.starts_on AND f.day < e.ends_on
          AND f.quantity * 100 > e.quantity * %s
    )
    SELECT entitlement_id, metric, MIN(day), COUNT(*), MAX(quantity)
    FROM over GROUP BY entitlement_id, metric, island HAVING COUNT(*) >= %s
    ORDER BY entitlement_id, MIN(day)
"""


@benchmark(
    "detect_breaches",
    title=f"detect over-use in {DETECT_FIGURES:,} usage figures",
    measured="breaches.services.breach_detect(): the policy read, one gaps-and-islands query "
    "for runs of 3 days over quantity x tolerance, entitlements locked, cases opened with "
    "their evidence, history, timeline and audit rows in bulk (rolled back after each run)",
    baseline="one raw SQL gaps-and-islands query on a psycopg connection returning each run "
    "over (entitlement, metric, first day, days, peak): the same comparison, nothing written",
    target=3,
)
def detect_breaches(ctx: Context) -> Samples:
    from breaches.models import BreachCase
    from breaches.services import breach_detect

    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    entitlements = ctx.size(DETECT_ENTITLEMENTS, smoke=40)
    days = ctx.size(DETECT_FIGURES // DETECT_ENTITLEMENTS, smoke=50)
    contract = active_contract(actor=actor, plan=plan, number="BENCH-detect",
                               entitlements=entitlements)  # fmt: skip
    ids = sorted(contract.entitlements.values_list("pk", flat=True))
    today = timezone.localdate()
    with ctx.raw() as conn:
        loaded = _load_detection_figures(conn, actor_id=actor.pk, ids=ids, days=days)
        ctx.settle()
        expected = -(-entitlements // RUN_EVERY)

        def measured(_):
            # Each run starts from no case at all: the work is undone, not kept.
            with transaction.atomic():
                found = breach_detect(actor=actor, on=today, reason="Bench detection")
                opened = BreachCase.objects.filter(pk__in=found.opened).count()
                transaction.set_rollback(True)
            return opened

        def baseline(_):
            with conn.cursor() as cur:
                rows = cur.execute(RAW_DETECTION, [100, 3]).fetchall()
            conn.rollback()
            return len({row[0] for row in rows})

        times, values = alternate({"measured": measured, "baseline": baseline},
                                  [None] * ctx.repeats)  # fmt: skip
    return Samples(
        times["measured"],
        times["baseline"],
        work=loaded,
        checks={
            "the figures loaded": loaded == entitlements * days,
            "the service opened one case per entitlement with a run": all(
                v == expected for v in values["measured"]
            ),
            "the raw query found the same entitlements": all(
                v == expected for v in values["baseline"]
            ),
            "nothing kept between runs": not BreachCase.objects.exists(),
        },
        extra={"usage figures": f"{loaded:,}", "entitlements with a run": str(expected)},
    )

"""Usage reports through the service: the whole file checked first, one figure per key."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from breaches.errors import RowError, UsageRejected
from breaches.models import UsageFigure, UsageReport
from breaches.services import usage_report_create
from breaches.usage_input import MAX_ROWS
from licensing.errors import ActionForbidden
from tests.breaches.conftest import csv_bytes, stored

pytestmark = pytest.mark.django_db

HEADER = "entitlement,date,metric,quantity"


def _send(actor, today, **kwargs):
    return usage_report_create(actor=actor, on=today, **kwargs)


def _errors(excinfo) -> list[tuple]:
    return [(e.line, e.field) for e in excinfo.value.errors]


def test_a_csv_report_stores_one_figure_per_row(manager, seats, today, day):
    report = _send(
        manager,
        today,
        file=csv_bytes(
            HEADER, f"{seats.pk},{day},seats_in_use,48", f"{seats.pk},{day},api_calls,1200"
        ),
        filename="usage.csv",
    )

    assert (report.rows, report.figures, report.replaced) == (2, 2, 0)
    assert (report.source, report.filename, report.sent_by) == ("csv", "usage.csv", manager)
    figures = {(f.metric, f.day): f.quantity for f in UsageFigure.objects.all()}
    assert figures == {("seats_in_use", day): 48, ("api_calls", day): 1200}


def test_a_report_records_history_and_one_audit_event_with_actor_and_reason(
    manager, seats, today, day
):
    report = _send(
        manager, today, rows=[{"entitlement": seats.pk, "date": str(day),
                               "metric": "installations", "quantity": 3}],
        reason="Monthly export from the licence server",
    )  # fmt: skip

    event = AuditEvent.objects.get(action="usage_report.create")
    assert (event.object_id, event.actor_username, event.reason) == (
        str(report.pk),
        "maya",
        "Monthly export from the licence server",
    )
    assert event.data["rows"] == 1 and event.data["replaced"] == 0
    assert report.history.get().history_user == manager
    figure = UsageFigure.objects.get()
    assert figure.history.get().history_change_reason == "Monthly export from the licence server"


def test_resending_the_same_rows_does_not_count_them_twice(manager, seats, today, day):
    rows = [
        {"entitlement": seats.pk, "date": str(day), "metric": "seats_in_use", "quantity": 48},
        {"entitlement": seats.pk, "date": str(day - timedelta(days=1)),
         "metric": "seats_in_use", "quantity": 47},
    ]  # fmt: skip
    _send(manager, today, rows=rows)

    again = _send(manager, today, rows=rows)

    assert again.replaced == 2
    assert UsageFigure.objects.filter(replaced_at__isnull=True).count() == 2
    assert UsageFigure.objects.count() == 4  # the earlier ones are kept for history


def test_a_later_report_for_the_same_day_replaces_the_earlier_figure_and_says_so(
    manager, seats, today, day
):
    first = _send(manager, today, file=csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48"))

    second = _send(
        manager,
        today,
        file=csv_bytes(
            HEADER, f"{seats.pk},{day},seats_in_use,55", f"{seats.pk},{day},api_calls,10"
        ),
    )

    assert (second.rows, second.replaced) == (2, 1)
    current = UsageFigure.objects.get(replaced_at__isnull=True, metric="seats_in_use")
    assert (current.quantity, current.report, current.replaces.report) == (55, second, first)
    assert current.replaces.replaced_at is not None
    assert current.replaces.quantity == 48


def test_a_repeated_key_within_one_report_keeps_the_last(manager, seats, today, day):
    report = _send(
        manager,
        today,
        file=csv_bytes(
            HEADER, f"{seats.pk},{day},seats_in_use,48", f"{seats.pk},{day},seats_in_use,51"
        ),
    )

    assert (report.rows, report.figures, report.replaced) == (2, 1, 0)
    assert UsageFigure.objects.get().quantity == 51


BAD_CSV = [
    ("unknown entitlement", "{other},{day},seats_in_use,4", "entitlement"),
    ("entitlement not a number", "abc,{day},seats_in_use,4", "entitlement"),
    ("bad date", "{seats},2026-02-30,seats_in_use,4", "date"),
    ("date in another format", "{seats},03/01/2026,seats_in_use,4", "date"),
    ("future date", "{seats},{future},seats_in_use,4", "date"),
    ("unknown metric", "{seats},{day},cpu_hours,4", "metric"),
    ("negative quantity", "{seats},{day},seats_in_use,-4", "quantity"),
    ("fractional quantity", "{seats},{day},seats_in_use,4.5", "quantity"),
    ("missing quantity", "{seats},{day},seats_in_use,", "quantity"),
    ("short row", "{seats},{day},seats_in_use", "quantity"),
    ("too many values", "{seats},{day},seats_in_use,4,9", "file"),
]


@pytest.mark.parametrize("case, line, field", BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_a_bad_row_refuses_the_whole_file_with_its_line_and_field(
    manager, seats, today, day, case, line, field
):
    good = f"{seats.pk},{day},seats_in_use,40"
    bad = line.format(seats=seats.pk, other=999_999, day=day, future=today + timedelta(days=1))
    before = stored()

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=csv_bytes(HEADER, good, bad))

    assert _errors(excinfo) == [(3, field)]
    assert stored() == before


def test_every_bad_row_is_reported_not_only_the_first(manager, seats, today, day):
    with pytest.raises(UsageRejected) as excinfo:
        _send(
            manager,
            today,
            file=csv_bytes(
                HEADER,
                f"{seats.pk},yesterday,seats_in_use,4",
                f"{seats.pk},{day},seats_in_use,4",
                f"{seats.pk},{day},cpu,-1",
            ),
        )

    assert _errors(excinfo) == [(2, "date"), (4, "metric"), (4, "quantity")]
    assert UsageReport.objects.count() == 0


def test_the_first_data_row_is_line_two_and_json_rows_count_from_one(manager, today, day):
    with pytest.raises(UsageRejected) as from_csv:
        _send(manager, today, file=csv_bytes(HEADER, f"999999,{day},seats_in_use,4"))
    with pytest.raises(UsageRejected) as from_json:
        _send(manager, today, rows=[{"entitlement": 999999, "date": str(day),
                                     "metric": "seats_in_use", "quantity": 4}])  # fmt: skip

    assert _errors(from_csv) == [(2, "entitlement")]
    assert _errors(from_json) == [(1, "entitlement")]


def test_a_missing_column_is_reported_on_the_header_line(manager, today, day):
    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=csv_bytes("entitlement,date,quantity", f"1,{day},4"))

    assert excinfo.value.errors == [RowError(1, "metric", "Missing column 'metric'.")]


def test_nul_bytes_are_reported_on_their_line(manager, seats, today, day):
    data = csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,4", f"{seats.pk},{day},api\x00,4")

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=data)

    assert _errors(excinfo) == [(3, "file")]


@pytest.mark.parametrize(
    "data, message",
    [(b"", "empty"), (HEADER.encode() + b"\n", "no rows"), (b"\xff\xfe,bad\n", "UTF-8")],
)
def test_an_empty_or_unreadable_file_is_refused(manager, today, data, message):
    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=data)

    assert _errors(excinfo) == [(1, "file")]
    assert message in excinfo.value.errors[0].message


def test_a_file_with_too_many_rows_is_refused(manager, seats, today, day, monkeypatch):
    monkeypatch.setattr("breaches.usage_input.MAX_ROWS", 2)
    row = f"{seats.pk},{day},seats_in_use,4"

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=csv_bytes(HEADER, row, row, row))

    assert _errors(excinfo) == [(4, "file")]
    assert MAX_ROWS == 100_000


@pytest.mark.parametrize(
    "row, field",
    [
        ({"date": "{day}", "metric": "seats_in_use", "quantity": 1}, "entitlement"),
        ({"entitlement": "{seats}", "metric": "seats_in_use", "quantity": 1}, "date"),
        ({"entitlement": "{seats}", "date": "{day}", "metric": "seats_in_use", "quantity": 1.5},
         "quantity"),
        ({"entitlement": "{seats}", "date": "{day}", "metric": "seats_in_use", "quantity": True},
         "quantity"),
        ({"entitlement": "{seats}", "date": "{day}", "metric": "seats\x00", "quantity": 1},
         "metric"),
        ("not an object", "row"),
    ],
)  # fmt: skip
def test_bad_json_rows_are_reported_by_number_and_field(manager, seats, today, day, row, field):
    if isinstance(row, dict):
        row = {k: v.format(seats=seats.pk, day=day) if isinstance(v, str) else v
               for k, v in row.items()}  # fmt: skip
    good = {"entitlement": seats.pk, "date": str(day), "metric": "api_calls", "quantity": 1}

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, rows=[good, row])

    assert _errors(excinfo) == [(2, field)]
    assert stored()["figures"] == 0


@pytest.mark.parametrize("persona", ["analyst", "auditor", "customer_user"], indirect=True)
def test_only_a_manager_may_send_usage(persona, seats, today, day):
    with pytest.raises(ActionForbidden):
        _send(persona, today, rows=[{"entitlement": seats.pk, "date": str(day),
                                     "metric": "seats_in_use", "quantity": 1}])  # fmt: skip

    assert UsageReport.objects.count() == 0


# The file is read as a stream, a chunk at a time: problems past the first chunk keep their line.
def _long_csv(seats, day, rows: int) -> list[str]:
    return [HEADER] + [f"{seats.pk},{day},seats_in_use,{n}" for n in range(rows)]


def test_a_csv_report_can_be_sent_as_an_open_file(manager, seats, today, day, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_bytes(csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48"))

    with path.open("rb") as file:
        report = _send(manager, today, file=file, filename="usage.csv")
        assert not file.closed  # the caller's file is the caller's to close

    assert (report.rows, report.figures) == (1, 1)
    assert UsageFigure.objects.get().quantity == 48


@pytest.mark.parametrize("bad, message", [(b"\xff", "UTF-8"), (b"\x00", "NUL")])
def test_an_unreadable_byte_far_into_a_long_file_is_reported_on_its_line(
    manager, seats, today, day, bad, message
):
    lines = _long_csv(seats, day, 5000)  # well past one 64 KiB chunk
    data = csv_bytes(*lines).replace(lines[4000].encode(), lines[4000].encode()[:-1] + bad, 1)
    before = stored()

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=data)

    assert _errors(excinfo) == [(4001, "file")]
    assert message in excinfo.value.errors[0].message
    assert stored() == before


def test_a_bad_row_far_into_a_long_file_refuses_it_all(manager, seats, today, day):
    lines = _long_csv(seats, day - timedelta(days=1), 4000) + [f"{seats.pk},{day},cpu,4"]
    before = stored()

    with pytest.raises(UsageRejected) as excinfo:
        _send(manager, today, file=csv_bytes(*lines))

    assert _errors(excinfo) == [(4002, "metric")]
    assert stored() == before


def test_a_refused_report_leaves_nothing_behind_for_the_next_one(manager, seats, today, day):
    with pytest.raises(UsageRejected):
        _send(manager, today, file=csv_bytes(HEADER, f"{seats.pk},{day},cpu,4"))

    report = _send(manager, today, file=csv_bytes(HEADER, f"{seats.pk},{day},api_calls,7"))

    assert (report.rows, report.figures, report.replaced) == (1, 1, 0)
    assert list(UsageFigure.objects.values_list("metric", "quantity")) == [("api_calls", 7)]


def test_replacing_a_figure_writes_history_for_both_figures(manager, seats, today, day):
    first = _send(manager, today, file=csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48"))
    earlier = UsageFigure.objects.get()

    second = _send(manager, today, reason="Corrected export",
                   file=csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,55"))  # fmt: skip

    earlier.refresh_from_db()
    change = earlier.history.first()
    assert (change.history_type, change.replaced_at, change.report_id) == (
        "~",
        earlier.replaced_at,
        first.pk,
    )
    assert (change.history_user, change.history_change_reason) == (manager, "Corrected export")
    current = UsageFigure.objects.get(replaced_at__isnull=True)
    created = current.history.get()
    assert (created.history_type, created.replaces_id, created.report_id) == (
        "+",
        earlier.pk,
        second.pk,
    )
    assert created.history_date == change.history_date == earlier.replaced_at


def test_figures_are_stored_in_the_order_sent_each_key_where_its_last_row_was(
    manager, seats, today, day
):
    earlier = day - timedelta(days=1)
    _send(manager, today, file=csv_bytes(
        HEADER, f"{seats.pk},{day},seats_in_use,1", f"{seats.pk},{earlier},seats_in_use,2",
        f"{seats.pk},{day},seats_in_use,3",
    ))  # fmt: skip

    stored_order = UsageFigure.objects.order_by("pk").values_list("day", "quantity")
    assert list(stored_order) == [(earlier, 2), (day, 3)]

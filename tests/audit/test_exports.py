"""Exports of the timeline: streamed or built by a task, bundles an outsider verifies, and
every export recorded as an audit event."""

import base64
import csv
import hashlib
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import tree
from audit.bundle import timeline_lines
from audit.models import AuditEvent, ExportJob
from audit.services import EventSpec, audit_record_many
from audit.timeline import TimelineFilter, timeline_events
from licensing.services import entitlement_transition
from tests.support import Snapshot, paid_contract

from .verifier import readme_bundle_verifier

pytestmark = pytest.mark.django_db

EXPORTS = "/audit/exports/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(customer_a, customer_b, manager):
    ours, theirs = paid_contract(customer_a), paid_contract(customer_b)
    entitlement_transition(actor=manager, entitlement_id=ours.entitlements.get().pk,
                           transition="suspend", reason="Invoice overdue")  # fmt: skip
    return {"ours": ours, "theirs": theirs}


def _export(client, fmt, capture, **filters):
    with capture(execute=True):
        return client.post(EXPORTS, {"format": fmt, **filters})


def _body(response) -> str:
    return b"".join(response.streaming_content).decode()


def _export_events():
    return AuditEvent.objects.filter(action="audit.export").order_by("seq")


def test_a_small_export_streams_at_once_as_csv_with_names_not_ids(
    client, auditor, world, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    ours = world["ours"]

    response = _export(client, "csv", django_capture_on_commit_callbacks, contract=ours.pk)

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert rows and {row["contract"] for row in rows} == {ours.number}
    assert {row["customer"] for row in rows} == {ours.customer.name}
    assert {row["source"] for row in rows} == {"event", "history"}
    suspend = next(row for row in rows if row["action"] == "entitlement.suspend")
    assert (suspend["actor"], suspend["reason"]) == ("maya", "Invoice overdue")
    assert ExportJob.objects.get().state == ExportJob.State.STREAMED


def test_a_jsonl_export_holds_one_json_object_per_line(
    client, auditor, world, django_capture_on_commit_callbacks
):
    client.force_login(auditor)

    response = _export(client, "jsonl", django_capture_on_commit_callbacks,
                       contract=world["ours"].pk)  # fmt: skip

    lines = [json.loads(line) for line in _body(response).splitlines()]
    assert response["Content-Type"] == "application/x-ndjson"
    assert lines and all(line["contract"] == world["ours"].number for line in lines)
    times = [line["at"] for line in lines]
    assert times == sorted(times)  # oldest first, as a record is read


def test_an_export_above_the_threshold_is_built_by_a_task_and_downloaded_from_its_page(
    client, auditor, world, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_EXPORT_STREAM_MAX_ROWS = 5
    client.force_login(auditor)
    streamed_rows = len(list(timeline_lines(TimelineFilter(contract=world["ours"].pk), "csv")))

    response = _export(client, "csv", django_capture_on_commit_callbacks,
                       contract=world["ours"].pk)  # fmt: skip

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/audit/exports/{job.pk}/"
    assert (job.state, job.requested_by) == ("done", auditor)
    assert job.filter == {"contract": world["ours"].pk}
    assert job.done == job.total == streamed_rows - 1  # the header is not a row
    download = client.get(f"/audit/exports/{job.pk}/download/")
    content = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert len(content.decode().splitlines()) == streamed_rows
    assert job.sha256 == hashlib.sha256(content).hexdigest()
    assert Path(settings.MEDIA_ROOT, job.file.name).is_file()


def test_the_export_page_polls_while_the_task_runs_and_offers_the_file_when_done(
    client, auditor, world
):
    from audit.services import export_request, export_run

    client.force_login(auditor)
    job = export_request(actor=auditor, fmt="jsonl", filter={}, stream=False)  # not run yet

    waiting = client.get(f"/audit/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    export_run(job_id=job.pk)
    done = client.get(f"/audit/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert waiting.startswith('\n<div id="export-status"') or 'id="export-status"' in waiting
    assert "<html" not in waiting  # htmx gets the partial only
    assert 'hx-trigger="every 1s"' in waiting and "<progress" in waiting
    assert "hx-trigger" not in done and f"/audit/exports/{job.pk}/download/" in done


def test_a_second_run_of_the_same_export_changes_nothing(auditor, world):
    from audit.services import export_request, export_run

    job = export_request(actor=auditor, fmt="csv", filter={}, stream=False)
    first = export_run(job_id=job.pk)

    assert export_run(job_id=job.pk) is None
    assert ExportJob.objects.get(pk=job.pk).sha256 == first.sha256


@pytest.mark.parametrize(
    ("persona", "status"), [("auditor", 200), ("admin_user", 200), ("other_auditor", 404)]
)
def test_only_the_requester_and_administrators_reach_an_exports_file(
    client, request, auditor, world, persona, status
):
    from audit.services import export_request, export_run
    from licensing.roles import Role
    from tests.factories import UserFactory

    job = export_run(job_id=export_request(actor=auditor, fmt="csv", filter={}, stream=False).pk)
    if persona == "other_auditor":
        user = UserFactory(username="olga", role=Role.AUDITOR)
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)

    assert client.get(f"/audit/exports/{job.pk}/").status_code == status
    assert client.get(f"/audit/exports/{job.pk}/download/").status_code == status


@pytest.mark.parametrize("how", ["page-stream", "page-task", "bundle", "api-jsonl", "api-csv"])
def test_every_export_is_an_audit_event_naming_who_what_and_the_filter(
    client, api, auditor, world, settings, django_capture_on_commit_callbacks, how
):
    ours = world["ours"]
    if how == "page-task":
        settings.AUDIT_EXPORT_STREAM_MAX_ROWS = 1
    client.force_login(auditor)

    if how.startswith("api"):
        query = {"format": how[4:], "object_type": "licensing.contract"}
        response = api(auditor).get("/api/v1/audit/events/", query)
        b"".join(response.streaming_content)
    else:
        fmt = "bundle" if how == "bundle" else "csv"
        _export(client, fmt, django_capture_on_commit_callbacks, contract=ours.pk)

    (event,) = _export_events()
    assert (event.actor, event.object_type) == (auditor, "audit.exportjob")
    job = ExportJob.objects.get(pk=event.object_id)
    assert event.data["format"] == job.format
    if how.startswith("api"):
        assert event.data["filter"] == {"object_type": "licensing.contract"}
        assert event.data["via"] == "api"
    else:
        assert event.data["filter"] == {"contract": ours.pk}
        assert event.data["delivery"] == ("stream" if how == "page-stream" else "task")


def _fill(n: int) -> None:
    specs = [EventSpec("test.bulk", "tests.thing", str(i), "bulk", "", {"i": i}) for i in range(n)]
    for start in range(0, n, 2000):
        audit_record_many(actor=None, specs=specs[start : start + 2000])


def _peak(flt: TimelineFilter) -> tuple[int, int]:
    tracemalloc.start()
    lines = 0
    for _ in timeline_lines(flt, "csv"):
        lines += 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return lines, peak


def test_a_streamed_export_holds_memory_flat_whatever_its_size(db):
    flt = TimelineFilter(action="test.bulk")
    _fill(4_000)
    small_lines, small = _peak(flt)
    _fill(16_000)
    large_lines, large = _peak(flt)

    assert (small_lines, large_lines) == (4_001, 20_001)
    # Five times the rows, about the same memory: a chunk of rows at a time, never all.
    assert large < small * 1.5, (small, large)


# Verifiable bundles.


def _bundle(client, tmp_path, capture, **filters) -> tuple[Path, ExportJob]:
    response = _export(client, "bundle", capture, **filters)
    job = ExportJob.objects.get(format="bundle")
    assert response.url == f"/audit/exports/{job.pk}/"
    path = tmp_path / "bundle.zip"
    download = client.get(f"/audit/exports/{job.pk}/download/")
    path.write_bytes(b"".join(download.streaming_content))
    return path, job


def test_a_bundle_verifies_with_the_readme_snippet(
    client, auditor, world, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    ours = world["ours"]

    path, job = _bundle(client, tmp_path, django_capture_on_commit_callbacks, contract=ours.pk)
    manifest = readme_bundle_verifier()["check_bundle"](path, tree.public_key_b64())

    flt = TimelineFilter(contract=ours.pk)
    assert manifest["filter"] == {"contract": ours.pk}
    assert manifest["counts"]["events"] == timeline_events(flt).count() > 0
    assert manifest["counts"]["history"] > 0
    assert manifest["tree_head"]["tree_size"] >= AuditEvent.objects.order_by("-seq").first().seq - 1
    with zipfile.ZipFile(path) as bundle:
        history = [json.loads(line) for line in bundle.read("history.jsonl").splitlines()]
    assert {row["model"] for row in history} >= {"licensing.contract", "licensing.entitlement"}
    assert all(row["fields"].get("contract_id", ours.pk) == ours.pk for row in history)


def _rewrite(path: Path, name: str, change) -> None:
    with zipfile.ZipFile(path) as bundle:
        files = {info.filename: bundle.read(info.filename) for info in bundle.infolist()}
    files[name] = change(files[name])
    with zipfile.ZipFile(path, "w") as bundle:
        for filename, data in files.items():
            bundle.writestr(filename, data)


@pytest.mark.parametrize(
    ("name", "change", "error"),
    [
        ("history.jsonl", lambda b: b.replace(b"Invoice overdue", b"Paid on time"), ValueError),
        ("events.jsonl", lambda b: b.replace(b"Invoice overdue", b"Paid on time"), ValueError),
        ("manifest.json", lambda b: b.replace(b'"history": ', b'"history": 1'), InvalidSignature),
        ("manifest.sig", lambda b: b[:10] + (b"A" if b[10:11] != b"A" else b"B") + b[11:],
         InvalidSignature),
    ],
)  # fmt: skip
def test_a_bundle_with_any_changed_file_fails_verification(
    client, auditor, world, tmp_path, django_capture_on_commit_callbacks, name, change, error
):
    client.force_login(auditor)
    path, _ = _bundle(client, tmp_path, django_capture_on_commit_callbacks,
                      contract=world["ours"].pk)  # fmt: skip
    check = readme_bundle_verifier()["check_bundle"]
    check(path, tree.public_key_b64())

    _rewrite(path, name, change)

    with pytest.raises(error):
        check(path, tree.public_key_b64())


def test_a_bundle_signed_by_another_key_is_refused(
    client, auditor, world, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    path, _ = _bundle(client, tmp_path, django_capture_on_commit_callbacks)
    stranger = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw())

    with pytest.raises(InvalidSignature):
        readme_bundle_verifier()["check_bundle"](path, stranger.decode())


# Refusals.

NEW_ROUTES = ["/audit/", "/audit/events/1/", "/audit/chain/", EXPORTS]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("path", NEW_ROUTES + ["/audit/exports/{job}/",
                                               "/audit/exports/{job}/download/"])  # fmt: skip
def test_auditors_unsafe_methods_are_refused_on_every_workspace_route(
    client, auditor, world, method, path
):
    from audit.services import export_request, export_run

    job = export_run(job_id=export_request(actor=auditor, fmt="csv", filter={}, stream=False).pk)
    client.force_login(auditor)
    snapshot = Snapshot(job)

    response = getattr(client, method)(path.format(job=job.pk))

    assert response.status_code == 405
    assert snapshot.unchanged(), snapshot.changes()


READ_ONLY = ["/audit/", "/audit/events/1/", "/audit/chain/", "/audit/exports/{job}/",
             "/audit/exports/{job}/download/"]  # fmt: skip


@pytest.mark.parametrize("path", READ_ONLY)
def test_the_workspaces_pages_refuse_post(client, auditor, world, path):
    from audit.services import export_request

    job = export_request(actor=auditor, fmt="csv", filter={}, stream=False)
    client.force_login(auditor)
    snapshot = Snapshot()

    assert client.post(path.format(job=job.pk)).status_code == 405
    assert snapshot.unchanged()


def test_an_export_without_a_format_is_refused_and_records_nothing(client, auditor, world):
    client.force_login(auditor)
    snapshot = Snapshot()

    response = client.post(EXPORTS, {"contract": world["ours"].pk})

    assert response.status_code == 400
    assert "Correct the filters or choose a format" in response.content.decode()
    assert snapshot.unchanged(), snapshot.changes()


@pytest.mark.parametrize("persona", ["manager", "analyst", "customer_user"], indirect=True)
def test_nobody_but_auditors_and_admins_exports(client, persona, world):
    client.force_login(persona)
    snapshot = Snapshot()

    response = client.post(EXPORTS, {"format": "csv"})

    assert response.status_code == 403
    assert snapshot.unchanged()

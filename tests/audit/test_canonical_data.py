"""Each event keeps `data` as the canonical text that was hashed: jsonb rewrites some numbers
(-0.0 as 0.0, 1e20 as an integer), so the JSON column alone would no longer hash to the event."""

import json

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit import tree
from audit.chain import canonical, link_hash
from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from audit.services import audit_record

pytestmark = pytest.mark.django_db

REWRITTEN = {"zero": -0.0, "big": 1e20, "small": 1e-7, "list": [-0.0, 2.5e300]}


def _record(data: dict) -> AuditEvent:
    return audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=1,
                        data=data)  # fmt: skip


def test_the_json_column_does_rewrite_these_numbers():
    event = _record(REWRITTEN)

    stored = AuditEvent.objects.get(pk=event.pk).data

    assert canonical(stored) != canonical(REWRITTEN)  # why the text column exists


def test_an_event_whose_numbers_jsonb_rewrites_still_verifies():
    _record(REWRITTEN)
    _record({"n": 1})

    report = audit_verify_chain()

    assert report.ok and report.checked == 2


def test_the_stored_text_is_the_canonical_data_that_was_hashed():
    event = _record(REWRITTEN)

    text = AuditEvent.objects.values_list("canonical_data", flat=True).get(pk=event.pk)

    assert text == canonical(REWRITTEN).decode()
    assert json.loads(text) == REWRITTEN


def test_the_signed_head_recomputes_from_events_whose_numbers_jsonb_rewrites():
    _record(REWRITTEN)
    _record({"n": 1})

    head = tree.tree_head_sign()

    assert tree.verify_tree_head(head).ok


def test_the_jsonl_export_gives_the_content_exactly_as_hashed(auditor, settings):
    event = _record(REWRITTEN)
    client = APIClient()
    client.force_authenticate(auditor)

    body = b"".join(
        client.get("/api/v1/audit/events/", {"format": "jsonl"}).streaming_content
    ).decode()

    line = next(json.loads(text) for text in body.splitlines() if '"seq":1,' in text)
    key = settings.AUDIT_HMAC_KEY.encode()
    assert line["content"]["data"] == REWRITTEN
    assert link_hash(key, event.prev_hash, line["content"]) == event.hash


def test_a_changed_json_column_is_caught_though_the_hashed_text_is_untouched():
    event = _record({"amount": "10.00"})
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s WHERE id = %s", ['{"amount": "1.00"}', event.pk]
        )

    report = audit_verify_chain()

    assert not report.ok and report.first_bad_id == event.pk


def test_a_changed_hashed_text_is_caught():
    event = _record({"amount": "10.00"})
    AuditEvent.objects.filter(pk=event.pk).update(
        canonical_data='{"amount":"1.00"}', data={"amount": "1.00"}
    )

    report = audit_verify_chain()

    assert not report.ok and report.problem == "content does not match its hash"

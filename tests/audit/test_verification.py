"""The chain is verified by a task, never inside a page request; the page shows what it stored."""

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent, ChainVerification
from audit.services import audit_record, chain_verification_request
from audit.tasks import verify_chain
from config.settings import CELERY_BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditEvent]:
    return [
        audit_record(
            actor=None,
            action="test.event",
            object_type="tests.thing",
            object_id=i,
            reason=f"event {i}",
            data={"n": i},
        )  # fmt: skip
        for i in range(n)
    ]


def test_the_chain_page_reads_the_stored_result_and_walks_no_chain(
    client, auditor, django_assert_max_num_queries
):
    _append(3)
    client.force_login(auditor)

    # Three events or three thousand: the page reads a handful of rows, not the chain.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("audit:chain"), {"verify": "1"})

    assert response.status_code == 200
    assert "has not been verified yet" in response.text
    assert not ChainVerification.objects.exists()


def test_asking_for_a_verification_queues_it_on_commit_and_the_page_shows_the_result(
    client, auditor, django_capture_on_commit_callbacks
):
    _append(4)
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("audit:verify"))

    assert response.status_code == 302
    assert len(callbacks) == 1
    verification = ChainVerification.objects.get()
    assert verification.requested_by == auditor
    assert verification.ok is True and verification.verified_up_to == 4
    assert verification.started_at and verification.finished_at
    assert response.url == reverse("audit:chain")
    page = client.get(reverse("audit:chain")).text
    assert "Chain intact." in page and "Verified up to event #4" in page


def test_a_broken_chain_is_stored_with_its_place(
    client, auditor, django_capture_on_commit_callbacks
):
    events = _append(3)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'forged' WHERE id = %s",
                       [events[1].pk])  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        verify_chain.delay()

    verification = ChainVerification.objects.get()
    assert verification.ok is False
    assert (verification.verified_up_to, verification.first_bad_id) == (1, events[1].pk)
    assert verification.problem == "content does not match its hash"
    client.force_login(auditor)
    page = client.get(reverse("audit:chain")).text
    assert "Chain broken at event #2:" in page
    assert f'href="{reverse("audit:event", args=[2])}"' in page


def test_a_request_while_one_waits_queues_no_second_and_a_duplicate_run_does_nothing():
    _append(2)

    first = chain_verification_request()  # no commit in this test: its run waits
    again = chain_verification_request()

    assert again.pk == first.pk
    assert verify_chain.delay(first.pk).get() is True
    assert verify_chain.delay(first.pk).get() is None  # already taken: nothing runs twice
    assert ChainVerification.objects.get().verified_up_to == 2


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_auditors_and_admins_may_ask_for_a_verification(client, manager, method):
    client.force_login(manager)

    response = getattr(client, method)(reverse("audit:verify"))

    assert response.status_code in (403, 405)
    assert not ChainVerification.objects.exists()


def test_beat_verifies_the_chain_nightly():
    [entry] = [e for e in CELERY_BEAT_SCHEDULE.values() if e["task"] == "audit.tasks.verify_chain"]
    assert entry["schedule"].hour == {2}

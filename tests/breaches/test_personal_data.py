"""What a case holds about people (what was said, to whom, staff notes, contacts) is sealed at
rest and read in clear only by the roles that work with customers (audit.personal)."""

import importlib
import io
import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.personal import MASK
from audit.sealing import TOKEN_PREFIX
from breaches.models import BreachCase, Communication, Milestone
from breaches.services import (
    breach_case_note,
    communication_log,
    communication_send_email,
    milestone_create,
)
from outbox.models import Mail
from tests.breaches.support import march_case

pytestmark = pytest.mark.django_db

SUBJECT = "Call with Jane Doe about the seats"
SAID = "Jane Doe (CFO) will remove 10 users by Friday"
WHO = "Jane Doe, Maya"
NOTE = "Jane prefers calls after 4pm"
CONTACT, CONTACT_EMAIL = "Jane Doe", "jane.doe@northwind.test"


def _raw(table: str, column: str, where: str, params) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {where}", params)
        return [row[0] for row in cursor.fetchall()]


def _sealed(values: list[str], *clear: str) -> bool:
    return bool(values) and all(
        value.startswith(TOKEN_PREFIX) and not any(text in value for text in clear)
        for value in values
    )


@pytest.fixture
def case(manager, customer_a):
    return march_case(manager, customer_a)


@pytest.fixture
def call(manager, case):
    return communication_log(
        actor=manager, case_id=case.pk, kind="call", subject=SUBJECT, body=SAID,
        occurred_at=timezone.now() - timedelta(hours=1), reason="Call notes",
        participants=WHO, staff_note=NOTE,
    )  # fmt: skip


@pytest.fixture
def milestone(manager, case):
    today = timezone.localdate()
    return milestone_create(
        actor=manager, case_id=case.pk, title="Remove the extra users",
        due_on=today + timedelta(days=14), on=today, reason="Agreed on the call",
        customer_contact_name=CONTACT, customer_contact_email=CONTACT_EMAIL,
    )  # fmt: skip


def test_a_logged_call_is_sealed_in_its_row_and_its_history(call):
    sealed = (("subject", SUBJECT), ("body", SAID), ("participants", WHO), ("staff_note", NOTE))
    for column, clear in sealed:
        assert _sealed(_raw("breaches_communication", column, "id = %s", [call.pk]), clear)
        history = _raw("breaches_historicalcommunication", column, "id = %s", [call.pk])
        assert _sealed(history, clear)

    stored = Communication.objects.get(pk=call.pk)
    assert (stored.subject, stored.body, stored.participants, stored.staff_note) == (
        SUBJECT, SAID, WHO, NOTE
    )  # fmt: skip
    # The timeline and the chain name the entry, not what it was about.
    [line] = call.case.events.filter(communication=call).values_list("summary", flat=True)
    assert line == "Call"
    event = AuditEvent.objects.get(action="communication.call")
    assert "Jane" not in json.dumps(event.data)


def test_an_emailed_communication_and_its_mail_are_sealed_and_the_mail_goes_out_in_clear(
    manager, customer_a, case, django_capture_on_commit_callbacks
):
    customer_a.billing_email = CONTACT_EMAIL
    customer_a.save()

    with django_capture_on_commit_callbacks(execute=True):
        entry = communication_send_email(
            actor=manager, case_id=case.pk, template="breach_notice", reason="First contact",
            note="Jane, happy to talk this week.",
        )  # fmt: skip

    where = ("id = %s", [entry.pk])
    assert _sealed(_raw("breaches_communication", "body", *where), "Jane")
    assert _sealed(_raw("breaches_communication", "recipients", *where), "jane")
    mail_where = ("id = %s", [entry.mail_id])
    for column in ("body", "html", "recipients"):
        assert _sealed(_raw("outbox_mail", column, *mail_where), "Jane", "jane")
    [sent] = mail.outbox
    assert sent.to == [CONTACT_EMAIL] and "Jane, happy to talk this week." in sent.body
    assert "Jane, happy to talk this week." in sent.alternatives[0][0]
    assert Mail.objects.get(pk=entry.mail_id).sent_at is not None
    # The append-only (and exported) audit chain says how many were written to, not who.
    event = AuditEvent.objects.get(action="communication.email", object_id=str(entry.pk))
    assert event.data["recipient_count"] == 1 and CONTACT_EMAIL not in json.dumps(event.data)


def test_staff_notes_and_milestone_contacts_are_sealed_in_rows_and_history(
    manager, case, milestone
):
    breach_case_note(actor=manager, case_id=case.pk, notes=NOTE)

    assert _sealed(_raw("breaches_breachcase", "staff_notes", "id = %s", [case.pk]), "Jane")
    notes = _raw("breaches_historicalbreachcase", "staff_notes",
                 "id = %s AND staff_notes <> ''", [case.pk])  # fmt: skip
    assert _sealed(notes, "Jane")
    for table in ("breaches_milestone", "breaches_historicalmilestone"):
        for column in ("customer_contact_name", "customer_contact_email"):
            assert _sealed(_raw(table, column, "id = %s", [milestone.pk]), "Jane", "jane")
    assert BreachCase.objects.get(pk=case.pk).staff_notes == NOTE
    stored = Milestone.objects.get(pk=milestone.pk)
    assert (stored.customer_contact_name, stored.customer_contact_email) == (CONTACT, CONTACT_EMAIL)


@pytest.mark.parametrize(
    ("persona", "clear"),
    [("manager", True), ("analyst", True), ("admin_user", True), ("auditor", False)],
)
def test_the_case_page_shows_what_was_said_in_clear_only_to_roles_that_need_it(
    client, call, milestone, case, persona, clear, request
):
    client.force_login(request.getfixturevalue(persona))

    page = client.get(f"/breaches/cases/{case.pk}/").text

    for text in (SUBJECT, SAID, WHO, CONTACT):
        assert (text in page) is clear
    assert (MASK in page) is not clear


@pytest.mark.parametrize(("persona", "clear"), [("manager", True), ("auditor", False)])
def test_the_case_api_masks_communications_notes_and_contacts_for_auditors(
    api, manager, call, milestone, case, persona, clear, request
):
    breach_case_note(actor=manager, case_id=case.pk, notes=NOTE)

    answer = api(request.getfixturevalue(persona)).get(f"/api/v1/breach-cases/{case.pk}/").json()

    [entry] = answer["communications"]
    [contact] = answer["milestones"]
    shown = (entry["subject"], entry["body"], entry["participants"], entry["staff_note"],
             answer["staff_notes"], contact["customer_contact_name"])  # fmt: skip
    assert shown == ((SUBJECT, SAID, WHO, NOTE, NOTE, CONTACT) if clear else (MASK,) * 6)
    [line] = [e["summary"] for e in answer["timeline"] if e["communication"] == entry["id"]]
    assert line == f"Call: {SUBJECT if clear else MASK}"
    assert contact["customer_contact_email"] == (CONTACT_EMAIL if clear else "j•••@northwind.test")


def test_the_customer_reads_its_own_milestone_contacts_in_clear(api, customer_user, milestone):
    answer = api(customer_user).get(f"/api/v1/breach-cases/{milestone.case_id}/").json()

    [contact] = answer["milestones"]
    assert (contact["customer_contact_name"], contact["customer_contact_email"]) == (
        CONTACT,
        CONTACT_EMAIL,
    )


def test_rotating_keys_reseals_communications_milestones_notes_and_mail(
    settings, manager, customer_a, django_capture_on_commit_callbacks
):
    # Everything so far (the personas, the customer) is sealed under the test settings' keys.
    old, new = list(settings.PERSONAL_DATA_KEYS), Fernet.generate_key().decode()
    customer_a.billing_email = CONTACT_EMAIL
    customer_a.save()
    case = march_case(manager, customer_a)
    with django_capture_on_commit_callbacks(execute=False):
        entry = communication_send_email(
            actor=manager, case_id=case.pk, template="breach_notice", reason="First contact"
        )
    before = _raw("outbox_mail", "recipients", "id = %s", [entry.mail_id])

    settings.PERSONAL_DATA_KEYS = [new, *old]
    out = io.StringIO()
    call_command("rotate_personal_data_keys", stdout=out)
    settings.PERSONAL_DATA_KEYS = [new]  # the old key is gone

    for table, column in (("outbox_mail", "body"), ("outbox_mail", "html"),
                          ("outbox_mail", "recipients")):  # fmt: skip
        [after] = _raw(table, column, "id = %s", [entry.mail_id])
        Fernet(new).decrypt(after.encode())  # opens under the new key alone
    for table in ("breaches_communication", "breaches_historicalcommunication"):
        for column in ("body", "recipients", "participants"):
            assert f"{table}.{column}:" in out.getvalue()
    for column in ("staff_notes",):
        assert f"breaches_breachcase.{column}:" in out.getvalue()
    for column in ("customer_contact_name", "customer_contact_email"):
        assert f"breaches_historicalmilestone.{column}:" in out.getvalue()
    assert _raw("outbox_mail", "recipients", "id = %s", [entry.mail_id]) != before
    assert Mail.objects.get(pk=entry.mail_id).recipients == [CONTACT_EMAIL]
    assert Communication.objects.get(pk=entry.pk).recipients == [CONTACT_EMAIL]
    assert Communication.history.get(id=entry.pk).recipients == [CONTACT_EMAIL]


def test_the_migrations_seal_rows_written_in_clear_before_them(call, milestone, case):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE breaches_communication SET body = %s, recipients = %s "
                       "WHERE id = %s", [SAID, '["jane@northwind.test"]', call.pk])  # fmt: skip
        cursor.execute("UPDATE breaches_milestone SET customer_contact_email = %s WHERE id = %s",
                       [CONTACT_EMAIL, milestone.pk])  # fmt: skip
    migration = importlib.import_module("breaches.migrations.0006_personal_data_encrypted")

    migration.seal_existing(None, connection.schema_editor())
    migration.seal_existing(None, connection.schema_editor())  # twice: nothing sealed twice

    assert _sealed(_raw("breaches_communication", "body", "id = %s", [call.pk]), "Jane")
    stored = Communication.objects.get(pk=call.pk)
    assert (stored.body, stored.recipients) == (SAID, ["jane@northwind.test"])
    assert Milestone.objects.get(pk=milestone.pk).customer_contact_email == CONTACT_EMAIL


@pytest.mark.parametrize(("persona", "clear"), [("admin_user", True), ("auditor", False)])
def test_the_audit_trails_before_and_after_masks_what_was_said_for_auditors(
    client, call, persona, clear, request
):
    row = Communication.history.get(id=call.pk)
    client.force_login(request.getfixturevalue(persona))

    page = client.get(f"/audit/history/breaches.communication/{row.history_id}/").text

    for text in (SAID, WHO, NOTE):
        assert (text in page) is clear
    assert (MASK in page) is not clear
    assert (SUBJECT in page) is clear


def test_the_migration_seals_subjects_and_takes_them_out_of_the_timeline(call):
    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("UPDATE breaches_communication SET subject = %s WHERE id = %s",
                       [SUBJECT, call.pk])  # fmt: skip
    call.case.events.filter(communication=call).update(
        summary=f"Call: {SUBJECT}", data={"attachments": ["jane-doe-users.csv"]}
    )
    migration = importlib.import_module("breaches.migrations.0007_communication_subject_sealed")

    migration.seal_existing(apps, connection.schema_editor())
    migration.timeline_names_the_entry_only(apps, connection.schema_editor())

    assert _sealed(_raw("breaches_communication", "subject", "id = %s", [call.pk]), "Jane")
    assert Communication.objects.get(pk=call.pk).subject == SUBJECT
    [event] = call.case.events.filter(communication=call)
    assert (event.summary, event.data) == ("Call", {"attachment_count": 1})

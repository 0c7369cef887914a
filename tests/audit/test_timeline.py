"""The auditor's timeline: one list over the chain's events and every app's history tables."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone
from simple_history.models import HistoricalChanges

from audit.history import history_sources
from audit.models import AuditEvent
from audit.timeline import TimelineFilter, timeline_iter, timeline_page
from licensing.models import Entitlement
from licensing.services import entitlement_transition
from tests.support import paid_contract, requested_credit

pytestmark = pytest.mark.django_db

TIMELINE = "/audit/"


@pytest.fixture
def world(customer_a, customer_b, manager):
    """Two customers, a paid contract each; the first's seats suspended by the manager."""
    ours, theirs = paid_contract(customer_a), paid_contract(customer_b)
    seats = ours.entitlements.get()
    entitlement_transition(
        actor=manager, entitlement_id=seats.pk, transition="suspend", reason="Invoice overdue"
    )
    return {"ours": ours, "theirs": theirs, "seats": seats}


def _all(flt: TimelineFilter) -> list:
    return list(timeline_iter(flt))


def test_every_history_table_of_every_app_is_a_source_of_the_timeline():
    historical = {m.instance_type._meta.label_lower for m in apps.get_models()
                  if issubclass(m, HistoricalChanges)}  # fmt: skip

    assert {s.label for s in history_sources()} == historical
    assert {"licensing.entitlement", "credits.credit", "breaches.usagereport"} <= historical


def test_audit_imports_no_other_app_of_the_project():
    others = {"licensing", "credits", "breaches", "shell", "outbox", "config"}
    offending = []
    for path in Path(settings.BASE_DIR, "audit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            offending += [f"{path.name}: {n}" for n in names if n.split(".")[0] in others]

    assert not offending


def test_the_timeline_holds_events_and_history_rows_newest_first(world):
    entries = timeline_page(TimelineFilter(), per_page=500).entries

    kinds = {e.is_event for e in entries}
    times = [e.at for e in entries]
    assert kinds == {True, False}
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("filtered", [False, True])
def test_pages_cut_branch_by_branch_read_the_whole_timeline_in_order(world, manager, filtered):
    # Given the whole timeline, newest first (read without any cut), with or without a filter
    flt = TimelineFilter(actor=manager.pk) if filtered else TimelineFilter()
    whole = [e.ref for e in reversed(_all(flt))]

    # When it is read one entry a page
    pages, number = [], 1
    while True:
        page = timeline_page(flt, number=number, per_page=1)
        pages += [e.ref for e in page.entries]
        if not page.has_next:
            break
        number += 1

    # Then the pages hold every entry once, in the same order
    assert len(whole) > 1
    assert pages == whole


def test_a_contract_filter_keeps_that_contracts_events_and_history_and_nothing_else(world):
    ours, theirs = world["ours"], world["theirs"]

    entries = _all(TimelineFilter(contract=ours.pk))

    assert entries
    assert {e.contract for e in entries} == {ours.number}
    types = {e.object_type for e in entries}
    assert {"licensing.contract", "licensing.entitlement", "licensing.invoice"} <= types
    assert any(e.is_event and e.action == "entitlement.suspend" for e in entries)
    assert not any(e.contract == theirs.number for e in entries)


def test_events_naming_their_record_by_a_short_type_are_found_and_named(world, manager):
    credit = requested_credit(manager, world["ours"])

    entries = _all(TimelineFilter(contract=world["ours"].pk, action="change_request.create"))

    (entry,) = entries
    assert (entry.object_type, entry.object_id) == ("credits.change", str(credit.change_id))
    assert (entry.object_label, entry.contract) == ("Change request", world["ours"].number)


def test_a_customer_filter_keeps_rows_reached_through_any_foreign_key(world, customer_a):
    entries = _all(TimelineFilter(customer=customer_a.pk))

    assert {e.customer for e in entries} == {customer_a.name}
    # Invoice lines reach the customer through invoice -> contract -> customer.
    assert "licensing.invoiceline" in {e.object_type for e in entries}


def test_an_actor_filter_keeps_only_that_persons_entries(world, manager):
    entries = _all(TimelineFilter(actor=manager.pk))

    assert entries
    assert {e.actor_username for e in entries} == {manager.username}
    assert {e.is_event for e in entries} == {True, False}


def test_object_type_and_id_select_one_records_entries(world):
    seats = world["seats"]

    entries = _all(TimelineFilter(object_type="licensing.entitlement", object_id=str(seats.pk)))

    assert entries
    assert {(e.object_type, e.object_id) for e in entries} == {
        ("licensing.entitlement", str(seats.pk))
    }


def test_a_policy_version_filter_keeps_only_events_made_under_it(world):
    version = AuditEvent.objects.get(action="entitlement.suspend").policy_version

    entries = _all(TimelineFilter(policy_version=version))

    assert entries
    assert all(e.is_event and e.policy_version == version for e in entries)


def test_an_event_action_filter_keeps_only_those_events(world):
    entries = _all(TimelineFilter(action="entitlement.suspend"))

    assert [(e.action, e.object_id) for e in entries] == [
        ("entitlement.suspend", str(world["seats"].pk))
    ]


def test_a_history_action_filter_keeps_only_history_rows_of_that_kind(world):
    entries = _all(TimelineFilter(action="changed"))

    assert entries
    assert all(not e.is_event and e.action == "~" for e in entries)


def test_a_period_filter_keeps_only_what_happened_within_it(world, pinned_clock, today, manager):
    pinned_clock.shift(timedelta(days=3))
    entitlement_transition(
        actor=manager, entitlement_id=world["seats"].pk, transition="resume", reason="Paid"
    )
    later = timezone.localdate()

    within = _all(TimelineFilter(period_start=later, period_end=later + timedelta(days=1)))
    before = _all(TimelineFilter(period_end=later))

    assert {timezone.localtime(e.at).date() for e in within} == {later}
    assert any(e.action == "entitlement.resume" for e in within)
    assert not any(e.action == "entitlement.resume" for e in before)
    assert {timezone.localtime(e.at).date() for e in before} == {today}


def test_entries_carry_names_not_ids(world, manager):
    entries = _all(TimelineFilter(action="entitlement.suspend"))

    (entry,) = entries
    assert entry.actor == manager.get_full_name()
    assert entry.object_label == "Entitlement"
    assert entry.name == world["seats"].name
    assert (entry.contract, entry.customer) == (world["ours"].number, world["ours"].customer.name)


def test_the_page_is_paginated_without_counting_everything(client, auditor, world, manager):
    client.force_login(auditor)
    _more_suspensions(manager, world["ours"], 10)
    total = len(_all(TimelineFilter()))

    first = client.get(TIMELINE)
    second = client.get(TIMELINE, {"page": 2})

    assert total > 50
    assert len(first.context["page"].entries) == 50
    assert first.context["page"].has_next
    assert len(second.context["page"].entries) == min(50, total - 50)
    assert not {e.ref for e in first.context["page"].entries} & {
        e.ref for e in second.context["page"].entries
    }


def test_the_page_filters_by_the_contract_chosen_in_its_form(client, auditor, world):
    client.force_login(auditor)

    response = client.get(TIMELINE, {"contract": world["ours"].pk})

    entries = response.context["page"].entries
    assert entries and {e.contract for e in entries} == {world["ours"].number}
    assert world["theirs"].number not in response.content.decode().split("<tbody>")[1]


def test_an_impossible_period_is_refused_by_the_field(client, auditor, world, today):
    client.force_login(auditor)

    response = client.get(TIMELINE, {"period_start": today, "period_end": today - timedelta(1)})

    assert response.status_code == 200
    assert response.context["page"] is None
    assert "The period ends before it starts." in response.content.decode()


def _more_suspensions(manager, contract, n: int) -> None:
    from tests.factories import EntitlementFactory

    for _ in range(n):
        extra = EntitlementFactory(contract=contract, contract_line=contract.lines.get())
        entitlement_transition(
            actor=manager, entitlement_id=extra.pk, transition="suspend", reason="Overdue"
        )


@pytest.mark.parametrize("extra", [0, 12])
def test_the_timeline_pages_query_count_does_not_grow_with_its_rows(
    client, auditor, world, manager, django_assert_num_queries, extra
):
    client.force_login(auditor)
    _more_suspensions(manager, world["ours"], extra)
    query = {"contract": world["ours"].pk, "object_type": "licensing.entitlement"}

    # Session, user, permissions (2), the chosen contract, the ids of the contract's records
    # (for its events), the page, its actors, its entitlements, their contracts and customers,
    # and the form's choices (users, customers, contracts, kinds, policy versions, actions):
    # none per row.
    with django_assert_num_queries(18):
        response = client.get(TIMELINE, query)

    assert len(response.context["page"].entries) >= 3 + 2 * extra
    assert Entitlement.objects.filter(contract=world["ours"]).count() == 1 + extra


# Names, not codes (breach options and notices reach their contract, not their customer).


@pytest.fixture
def dropped_option(manager, customer_a):
    from breaches.services import remediation_option_drop
    from tests.breaches.support import march_case, move

    case = move(manager, march_case(manager, customer_a), "review", "confirm")
    option = case.options.get(kind="grace_extension")
    remediation_option_drop(actor=manager, option_id=option.pk, reason="Not for this customer")
    return option


def test_a_breach_options_entries_name_the_customer_of_its_contract(dropped_option, customer_a):
    contract = dropped_option.case.entitlement.contract

    entries = [e for e in _all(TimelineFilter(contract=contract.pk))
               if e.object_type == "breaches.remediationoption"]  # fmt: skip

    assert entries and {e.contract for e in entries} == {contract.number}
    assert {e.customer for e in entries} == {customer_a.name}


def test_the_timeline_page_shows_what_happened_and_the_policy_by_name(
    client, auditor, dropped_option
):
    client.force_login(auditor)
    event = AuditEvent.objects.get(action="remediation_option.drop")

    page = client.get(TIMELINE, {"action": "remediation_option.drop"}).content.decode()

    table = page.split('<table class="audit-timeline">', 1)[1].split("</table>", 1)[0]
    assert ">Dropped</a>" in table and ">remediation_option" not in table
    assert f"Event #{event.seq} · Breach policy v" in table
    assert event.policy_version not in table


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("breach_case.escalate", "Escalated"),
        ("entitlement.suspend", "Suspended"),
        ("credit.apply_to_invoice", "Applied to invoice"),
        ("breach_case.milestone_add", "Milestone added"),
        ("breach_case.earlier_accept", "Earlier accepted"),
        ("breaches.execute_requested", "Execute requested"),
        ("dispute.open", "Opened"),
        ("audit.purge", "Redacted by the retention purge"),
    ],
)
def test_an_action_reads_as_what_was_done(code, name):
    from audit.timeline import action_label

    assert action_label(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [("breach/v1", "Breach policy v1"), ("lifecycle/v12", "Lifecycle policy v12"),
     ("retention/v2", "Retention policy v2"), ("custom-rule", "custom-rule")],
)  # fmt: skip
def test_a_policy_version_reads_as_its_name(code, name):
    from audit.timeline import policy_label

    assert policy_label(code) == name

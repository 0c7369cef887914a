"""Changes happen on their effective date: an issued credit dated later changes nothing today;
the beat job applies it at the start of its date, once."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent
from credits import services
from licensing.models import Entitlement, LedgerEntry, ScheduledChange
from licensing.selectors import contract_holdings_on, scheduled_changes
from licensing.tasks import apply_scheduled_changes

pytestmark = pytest.mark.django_db


def start_of(day) -> datetime:
    return datetime.combine(day, time(0, 1), tzinfo=ZoneInfo(settings.TIME_ZONE))


def issue(change, *approvers):
    credit = change.credit
    for approver in approvers:
        credit = services.credit_approve(actor=approver, credit_id=credit.pk, reason="Checked")
    return credit


def request(actor, contract, intent, effective, **extra):
    line = contract.lines.get()
    lines = [{"contract_line": line.pk, **({"quantity_after": extra.pop("after")}
                                            if "after" in extra else {})}]  # fmt: skip
    return services.change_request_create(
        actor=actor, contract_id=contract.pk, intent=intent, effective_date=effective,
        lines=lines, on=timezone.localdate(), **extra,
    )  # fmt: skip


def test_a_future_downgrade_changes_nothing_until_its_date_then_applies_once(
    manager, analyst, current_contract, period, pinned_clock
):
    effective = period[1] - timedelta(days=3)
    credit = issue(request(manager, current_contract, "downgrade", effective, after=20), analyst)
    pool = Entitlement.objects.get(contract=current_contract)
    line = current_contract.lines.get()

    assert credit.status == "issued"
    pool.refresh_from_db()
    line.refresh_from_db()
    assert (pool.quantity, line.quantity) == (50, 50)
    assert not LedgerEntry.objects.filter(entitlement=pool, action="adjust").exists()
    pending = list(scheduled_changes(base=ScheduledChange.objects.filter(
        contract=current_contract)))  # fmt: skip
    assert {c.description for c in pending} == {f"50 → 20 seats on {effective:%-d %b %Y}"}
    assert len(pending) == 2  # the plan line and the seat pool

    pinned_clock.move_to(start_of(effective - timedelta(days=1)))
    assert apply_scheduled_changes() == 0
    pinned_clock.move_to(start_of(effective))
    assert apply_scheduled_changes() == 2
    assert apply_scheduled_changes() == 0  # a duplicate run applies nothing twice

    pool.refresh_from_db()
    line.refresh_from_db()
    assert (pool.quantity, line.quantity) == (20, 20)
    entry = LedgerEntry.objects.get(entitlement=pool, action="adjust")
    assert entry.effective_date == effective
    holdings = contract_holdings_on(contract_id=current_contract.pk, on=effective)
    assert holdings[pool.pk].quantity == 20
    assert AuditEvent.objects.filter(action="scheduled_change.apply").count() == 2
    assert not ScheduledChange.objects.filter(state="pending").exists()


def test_a_downgrade_effective_today_applies_at_once(manager, analyst, current_contract, today):
    issue(request(manager, current_contract, "downgrade", today, after=20), analyst)

    pool = Entitlement.objects.get(contract=current_contract)
    assert pool.quantity == 20
    assert ScheduledChange.objects.filter(state="applied").count() == 2


def test_a_back_dated_downgrade_is_recorded_on_its_own_date(manager, analyst, seat_contract):
    # Given a seat pool whose ledger has a change after the date asked for
    from datetime import date

    pool = Entitlement.objects.get(contract=seat_contract)
    from licensing import services as licensing_services
    from tests.factories import admin_actor

    licensing_services.entitlement_extend(
        actor=admin_actor(), entitlement_id=pool.pk, days=1, reason="Goodwill",
        on=date(2026, 4, 20),
    )  # fmt: skip

    issue(request(manager, seat_contract, "downgrade", date(2026, 3, 16), after=20), analyst)

    adjust = LedgerEntry.objects.get(entitlement=pool, action="adjust")
    assert adjust.effective_date == date(2026, 3, 16)
    assert (
        contract_holdings_on(contract_id=seat_contract.pk, on=date(2026, 3, 15))[pool.pk].quantity
        == 50
    )
    assert (
        contract_holdings_on(contract_id=seat_contract.pk, on=date(2026, 3, 16))[pool.pk].quantity
        == 20
    )


def test_an_issued_pause_suspends_on_its_date_and_resumes_on_the_resume_date(
    manager, analyst, current_contract, period, pinned_clock, today
):
    start, resume = today + timedelta(days=2), today + timedelta(days=9)
    change = request(manager, current_contract, "pause", start, resume_date=resume)
    issue(change, analyst)
    pool = Entitlement.objects.get(contract=current_contract)
    assert pool.state == "active"
    assert [c.description for c in scheduled_changes(base=pool.schedule.all())] == [
        f"Paused from {start:%-d %b %Y}",
        f"Resumes on {resume:%-d %b %Y}",
    ]
    # 1,500.00 × 7 paused days of the period
    days = (period[1] - period[0]).days
    assert change.lines.get().quantity_after is None
    assert change.total == (Decimal("1500.00") * 7 / days).quantize(Decimal("0.01"))

    pinned_clock.move_to(start_of(start))
    apply_scheduled_changes()
    pool.refresh_from_db()
    assert pool.state == "suspended"

    pinned_clock.move_to(start_of(resume))
    apply_scheduled_changes()
    pool.refresh_from_db()
    assert pool.state == "active"
    holdings = contract_holdings_on(contract_id=current_contract.pk, on=start)
    assert holdings[pool.pk].state == "suspended"
    assert (
        contract_holdings_on(contract_id=current_contract.pk, on=resume)[pool.pk].state == "active"
    )


@pytest.mark.parametrize("resume", [None, 0], ids=["missing", "same-day"])
def test_a_pause_request_needs_a_resume_date_after_it_begins(
    manager, current_contract, today, resume
):
    from licensing.errors import DomainError

    resume_date = None if resume is None else today + timedelta(days=resume)
    with pytest.raises(DomainError) as error:
        request(manager, current_contract, "pause", today, resume_date=resume_date)
    assert error.value.field == "resume_date"


def test_the_scheduled_downgrade_shows_on_staff_and_portal_pages(
    client, manager, analyst, customer_user, current_contract, period
):
    from django.urls import reverse

    effective = period[1] - timedelta(days=3)
    credit = issue(request(manager, current_contract, "downgrade", effective, after=20), analyst)
    pool = Entitlement.objects.get(contract=current_contract)
    expected = f"50 → 20 seats on {effective:%-d %b %Y}"

    client.force_login(manager)
    for url in [
        reverse("licensing:contract", args=[current_contract.pk]),
        reverse("licensing:entitlement", args=[pool.pk]),
        reverse("credits:credit", args=[credit.pk]),
    ]:
        page = client.get(url).content.decode()
        assert expected in page, url
        assert f"Credit {credit.number}" in page, url
    client.force_login(customer_user)
    for url in [
        reverse("portal:contract", args=[current_contract.pk]),
        reverse("credits_portal:credit", args=[credit.pk]),
    ]:
        assert expected in client.get(url).content.decode(), url


def test_a_move_to_a_smaller_plan_switches_the_line_on_its_effective_date(
    manager, analyst, current_contract, period, pinned_clock
):
    from tests.factories import PlanFactory

    line = current_contract.lines.get()
    old_plan = line.plan
    smaller = PlanFactory(product=old_plan.product, name="Atlas Lite", unit_price=Decimal("20.00"))
    effective = period[1] - timedelta(days=3)
    change = services.change_request_create(
        actor=manager, contract_id=current_contract.pk, intent="downgrade",
        effective_date=effective, form="plan_change", on=timezone.localdate(),
        lines=[{"contract_line": line.pk, "quantity_after": 20, "plan_after": smaller.pk}],
    )  # fmt: skip

    issue(change, analyst)

    line.refresh_from_db()
    assert (line.plan, line.unit_price) == (old_plan, Decimal("30.00"))
    move = ScheduledChange.objects.get(contract_line=line, kind="plan")
    assert move.description == f"{old_plan.name} → Atlas Lite on {effective:%-d %b %Y}"
    assert not AuditEvent.objects.filter(action="contract_line.change_plan").exists()

    pinned_clock.move_to(start_of(effective))
    apply_scheduled_changes()

    line.refresh_from_db()
    move.refresh_from_db()
    assert (line.plan, line.unit_price, line.quantity) == (smaller, Decimal("20.00"), 20)
    assert move.state == ScheduledChange.State.APPLIED
    event = AuditEvent.objects.get(action="contract_line.change_plan")
    assert (event.data["from"], event.data["to"]) == (old_plan.code, smaller.code)
    assert line.history.filter(plan=smaller).exists()

"""Plain helpers every test package shares, written once: a paid contract, the engine's credit,
a change request, a published policy, a snapshot that shows a refusal changed nothing, a real
sign-in and a race. Fixtures live in tests/fixtures/ and the personas in tests/conftest.py;
test modules import these helpers from here, never from a conftest.

Two kinds of dates. Staff may record a change that already happened, so their requests default
to fixed dates: March 2026 is paid (`MARCH`) and changes take effect on the 16th (`EFFECTIVE`).
A customer cannot backdate a change, so a customer's request is made today, in a billing period
under way (the `period` fixture).
"""

import threading
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.db import connections
from django.utils import timezone

from licensing import services as licensing_services
from licensing.models import Contract
from licensing.pricing.calendar import add_months
from tests.factories import ContractFactory, EntitlementFactory, PlanFactory, admin_actor

# The paid billing period of staff requests, and the date their changes take effect: 16 of its
# 31 days remain.
MARCH = (date(2026, 3, 1), date(2026, 4, 1))
EFFECTIVE = date(2026, 3, 16)


def paid_contract(
    customer, *, period: tuple[date, date] = MARCH, seats: int = 50, unit_price: str = "30.00",
    currency: str = "USD", number: str | None = None, paid: bool = True, plan=None,
) -> Contract:  # fmt: skip
    """An active seat contract with its seat pool, `period` invoiced at `seats` × `unit_price`
    and, unless `paid=False`, paid four days after it began.

    The term runs from two months before the period to ten months after it: for March, 2026.
    """
    term_start, term_end = add_months(period[0], -2), add_months(period[0], 10)
    plan = plan or PlanFactory(currency=currency, unit_price=Decimal(unit_price))
    contract = ContractFactory(customer=customer, plan=plan, quantity=seats,
                               term_start=term_start, term_end=term_end, billing_anchor=period[0],
                               **({"number": number} if number else {}))  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=seats,
                       starts_on=term_start, ends_on=term_end)  # fmt: skip
    licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.number}-{period[0]:%Y%m}",
        period_start=period[0], period_end=period[1],
        lines=[(line, seats, plan.unit_price * seats)], issued_on=period[0],
        paid_on=period[0] + timedelta(days=4) if paid else None,
    )  # fmt: skip
    return contract


def seat_credit(*, paid: str, seats: int, after: int, period: tuple[date, date], effective: date,
                currency: str = "USD") -> Decimal:  # fmt: skip
    """What the engine credits for releasing seats of a paid period, under the policy in force."""
    from credits.engine import Line, QuoteRequest, quote
    from credits.selectors import credit_policy_in_force, policy_rules

    line = Line("seats", "seat", Decimal(paid), quantity_before=seats, quantity_after=after)
    request = QuoteRequest(currency, "downgrade", period[0], period[1], effective, (line,))
    return quote(request, policy_rules(credit_policy_in_force(on=effective)).engine).total


def request_change(
    actor, contract: Contract, *, intent: str = "downgrade", quantity_after: int = 20,
    form: str = "credit_note", effective: date = EFFECTIVE, note: str = "",
):  # fmt: skip
    """A change requested through the service on the contract's one line, today; by default
    effective mid-March (so by staff: a customer's request cannot go back)."""
    from credits.services import change_request_create

    line = {"contract_line": contract.lines.get().pk}
    if intent == "downgrade":
        line["quantity_after"] = quantity_after
    return change_request_create(
        actor=actor, contract_id=contract.pk, intent=intent, effective_date=effective,
        lines=[line], form=form, note=note, on=timezone.localdate(),
    )  # fmt: skip


def requested_credit(actor, contract: Contract, **changes):
    """The credit a downgrade opens, awaiting its first approval."""
    return request_change(actor, contract, **changes).credit


def downgrade(actor, contract: Contract, quantity_after: int, **options):
    """A downgrade of the contract's one line to `quantity_after` (see `request_change`); to 0
    seats it is a termination, since a downgrade to nothing is refused."""
    if not quantity_after:
        return request_change(actor, contract, intent="terminate", **options)
    return request_change(actor, contract, quantity_after=quantity_after, **options)


def publish_policy(controller, *, effective_from: date, summary: str, **rules):
    """A credit policy version with `rules` over the defaults, published today."""
    from credits import services
    from credits.rules import DEFAULT_RULES

    draft = services.policy_create_draft(
        actor=controller, rules={**DEFAULT_RULES, **rules}, title="Credit policy",
        introduction="Clearer words.", effective_from=effective_from, change_summary=summary,
    )  # fmt: skip
    return services.policy_publish(actor=controller, policy_id=draft.pk, on=timezone.localdate())


class Snapshot:
    """Every table's rows, taken before a request, to show that a refusal changed nothing.

    Signing in is left out (sessions, django-axes' sign-in log, a user's last login): a test may
    sign its client in after the snapshot, and that is not what the refused request did. On
    PostgreSQL each table is one count and one digest of its rows in key order, all tables in
    one query computed by the server (the hostile-input suite takes thousands of snapshots);
    elsewhere the rows themselves. The objects a test names are kept row by row either way.
    """

    SKIPPED = frozenset({"sessions.Session", "axes.AccessLog", "axes.AccessAttempt",
                         "axes.AccessFailureLog"})  # fmt: skip
    IGNORED_FIELDS = frozenset({"last_login"})

    def __init__(self, *objects):
        # The objects a test is about: named in a failure, and read afresh (a version bump
        # shows even where a table's other rows would hide it).
        self.objects = objects
        self.rows = self.take()

    @classmethod
    def _models(cls):
        return [
            model for model in apps.get_models(include_auto_created=True)
            if model._meta.label not in cls.SKIPPED and model._meta.managed
            and not model._meta.proxy
        ]  # fmt: skip

    @classmethod
    def _fields(cls, model, attribute: str) -> list[str]:
        """Each compared field's ``attname`` (for the ORM) or ``column`` (for SQL)."""
        return [
            getattr(f, attribute) for f in model._meta.concrete_fields
            if f.name not in cls.IGNORED_FIELDS
        ]  # fmt: skip

    def take(self) -> dict:
        connection = connections["default"]
        if connection.vendor == "postgresql":
            rows = self._digests(connection)
        else:
            rows = {
                model._meta.label: list(
                    model._base_manager.order_by("pk").values_list(*self._fields(model, "attname"))
                )
                for model in self._models()
            }
        for obj in self.objects:
            fields = [f.attname for f in obj._meta.concrete_fields]
            rows[f"{obj._meta.label}:{obj.pk}"] = list(
                type(obj)._base_manager.filter(pk=obj.pk).values_list(*fields)
            )
        return rows

    def _digests(self, connection) -> dict:
        quote = connection.ops.quote_name
        parts, labels = [], []
        for model in self._models():
            columns = ", ".join(quote(c) for c in self._fields(model, "column"))
            # A composite key (the Merkle tree's nodes) has no one column: the whole row orders.
            pk = model._meta.pk.column
            order = quote(pk) if pk else f"ROW({columns})::text"
            parts.append(
                f"SELECT %s, count(*), md5(coalesce(string_agg(ROW({columns})::text, E'\\n' "
                f"ORDER BY {order}), '')) FROM {quote(model._meta.db_table)}"
            )
            labels.append(model._meta.label)
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), labels)
            return {label: (count, digest) for label, count, digest in cursor.fetchall()}

    def changes(self) -> dict:
        """What differs from the snapshot, table by table (for a failing test's message; on
        PostgreSQL a table's row count and digest before and after)."""
        now = self.take()
        return {k: (v, now.get(k)) for k, v in self.rows.items() if now.get(k) != v}

    def unchanged(self) -> bool:
        return self.take() == self.rows


def sign_in(page, *, username: str, password: str = "pw") -> None:
    """Sign in through the real login form, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def race(calls):
    """Start every call at the same moment, each on its own connection; collect outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def add_rate(currency: str, rate: str, *, base: str = "USD", valid_from: date | None = None):
    """Finance's rate for `currency` into `base`, valid from `valid_from` (a year ago)."""
    from credits.services import exchange_rate_add

    return exchange_rate_add(
        actor=admin_actor(), currency=currency, base=base, rate=Decimal(rate),
        valid_from=valid_from or timezone.localdate() - timedelta(days=365),
    )  # fmt: skip


def issued_credit(requester, approver, contract: Contract, **changes):
    """A downgrade's credit, approved in its one step and so issued (to dispute, say)."""
    from credits.services import credit_approve

    credit = requested_credit(requester, contract, **changes)
    return credit_approve(actor=approver, credit_id=credit.pk)


def open_dispute(customer_user, credit, *, reason: str = "We released more seats than that."):
    """A dispute of an issued credit by one of its customer's users, with a small attachment
    (stored under MEDIA_ROOT: point it at a temporary folder)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credits.services import dispute_open

    return dispute_open(
        actor=customer_user, credit_id=credit.pk, reason=reason, on=timezone.localdate(),
        attachment=SimpleUploadedFile("usage.csv", b"date,seats\n2026-11-10,4\n"),
    )  # fmt: skip


def terminated_run(actor, customer):
    """A contract of `customer` terminated today, and the deprovisioning run it started."""
    from licensing.deprovisioning.services import contract_terminate

    contract = ContractFactory(customer=customer)
    _, run = contract_terminate(
        actor=actor, contract_id=contract.pk, reason="Ended early", on=timezone.localdate()
    )
    return run


def placed_hold(actor, contract: Contract):
    """A legal hold on the contract's deprovisioning, placed by `actor`."""
    from licensing.deprovisioning.services import hold_place

    return hold_place(actor=actor, contract=contract, kind="legal_hold", reason="Litigation",
                      on=timezone.localdate())  # fmt: skip


def connected_system(*, name: str = "License server"):
    """A webhook system at a public HTTPS address (never called by what uses it here)."""
    from licensing.deprovisioning.connectors.webhook import new_webhook_secret
    from licensing.deprovisioning.services import connected_system_create

    return connected_system_create(
        actor=admin_actor(), name=name, kind="license_server", protocol="webhook",
        base_url="https://hooks.example.com/licensedesk", secret=new_webhook_secret(),
    )  # fmt: skip


def bundle_of(*products, code: str = "SUITE"):
    """A bundle of one of each product at USD 10.00 standalone."""
    from licensing.services import bundle_create

    items = [(product, 1, Decimal("10.00")) for product in products]
    return bundle_create(actor=admin_actor(), code=code, name=f"{code.title()} bundle", items=items)


def review_queue_rows(manager, customer, *, name: str) -> dict:
    """What the deprovisioning review queue acts on, on a contract of its own: a planned run's
    pending delivery, an open reconciliation finding, and a blackout window still to come. The
    system `name` is at a public address and is never called: nothing here commits."""
    from licensing.deprovisioning import services as deprovisioning
    from licensing.deprovisioning.reconciliation import reconcile_system

    today = timezone.localdate()
    contract = ContractFactory(customer=customer)
    system = connected_system(name=name)
    entitlement = EntitlementFactory(contract=contract)
    deprovisioning.assignment_create(actor=manager, entitlement=entitlement, system=system,
                                     external_id="queue-holder")  # fmt: skip
    run = deprovisioning.run_start(
        actor=manager, contract=contract, trigger="termination", reason="Contract ended",
        effective_date=today, on=today,
    )  # fmt: skip
    # An empty report: the holder is missing at the system, a finding for a person.
    finding = reconcile_system(actor=manager, system_id=system.pk, on=today, report=iter(()))
    window = deprovisioning.blackout_add(
        actor=manager, contract=contract, starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=37), reason="Year-end freeze", on=today,
    )  # fmt: skip
    return {"delivery": run.deliveries.get().pk, "finding": finding.findings.get().pk,
            "blackout": window.pk}  # fmt: skip

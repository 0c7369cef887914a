"""Deprovisioning's demo data: connected systems served by the app itself, and every holder.

Registered as a `seed_demo` part after licensing's. In debug only (outside it, loopback base
URLs are refused, rightly). It connects three systems at ``SITE_URL`` (the address runserver
answers at): a SCIM directory for seats, its groups for roles, and a webhook license server
for product keys, feature flags and API quotas; then it creates, at those systems, the holders
of every entitlement of the demo contracts and assigns them, so terminating any active demo
contract sends deliveries that are confirmed by read-back.
"""

from __future__ import annotations

import httpx2
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Group, GroupMember, ScimProvider, User

from ..models import ConnectedSystem, Contract, Entitlement
from . import demo, services

DIRECTORY = "Demo directory (SCIM)"
ROLES = "Demo workspace roles (SCIM groups)"
LICENSES = "Demo license server (webhooks)"
SEATS_PER_POOL = 3
GONE = [Entitlement.State.REVOKED, Entitlement.State.EXPIRED]
WEBHOOK_KINDS = (Entitlement.Kind.PRODUCT_KEY, Entitlement.Kind.FEATURE_FLAG,
                 Entitlement.Kind.API_QUOTA)  # fmt: skip


def seed(*, stdout, password: str) -> None:
    if not settings.DEBUG:
        stdout.write("Demo connected systems skipped: they are served by the app in debug only.")
        return
    if ConnectedSystem.objects.filter(name=DIRECTORY).exists():
        stdout.write("Demo connected systems already present.")
        return
    admin = get_user_model().objects.get(username="admin")
    root = settings.SITE_URL
    folder = demo.state_dir()
    for name in ("scim.json", "webhooks.json"):  # a new database starts a new directory
        (folder / name).unlink(missing_ok=True)
    http = _directory_admin()
    scim = SyncSCIMClient(http, provider=ScimProvider(models=[User, Group]))
    receiver = demo.receiver()
    receiver.load()
    with transaction.atomic():
        systems = _systems(admin, root)
        _ready_contracts()
        count = _holders(admin, systems, scim, receiver)
    receiver.save()
    http.close()
    stdout.write(f"Demo connected systems at {root}{demo.SCIM_PATH} and {root}"
                 f"{demo.WEBHOOK_PATH}: {count} holders assigned.")  # fmt: skip
    _completed_run(stdout)


def _directory_admin() -> httpx2.Client:
    """The directory's own admin: the seed speaks SCIM to the application in-process."""
    app, _storage = demo.scim_application()
    return httpx2.Client(
        transport=httpx2.WSGITransport(app=app), base_url="http://demo-directory/v2",
        headers={"Authorization": f"Bearer {demo.scim_token()}"},
    )  # fmt: skip


# The contract the demo has already deprovisioned, so the dashboard and run pages show real
# figures on first start; the READY contracts stay active for a newcomer to terminate.
DONE = ("globex", "C-{year}-0999")


def _completed_run(stdout) -> None:
    """Terminate ``DONE`` through the services, as a person would, with its deliveries sent to
    the demo systems in this process (runserver is not up yet) and confirmed by read-back."""
    from celery import current_app
    from django.utils import timezone

    from .models import DeprovisioningRun

    if not current_app.conf.task_always_eager:
        stdout.write("Demo deprovisioning run skipped: tasks go to a broker, not run here.")
        return
    today = timezone.localdate()
    contract = Contract.objects.get(number=DONE[1].format(year=today.replace(day=1).year))
    manager = get_user_model().objects.get(username="manager")
    with demo.served_here():
        _contract, run = services.contract_terminate(
            actor=manager, contract_id=contract.pk, on=today,
            reason="Customer moved to a competitor; termination letter of the 1st.",
        )  # fmt: skip
    run = DeprovisioningRun.objects.get(pk=run.pk)
    confirmed, total = run.deliveries.filter(state="confirmed").count(), run.deliveries.count()
    stdout.write(f"Demo deprovisioning run {run.pk} of {contract.number}: {run.state}, "
                 f"{confirmed} of {total} deliveries confirmed by read-back.")  # fmt: skip
    _drift_repaired(run, actor=manager, on=today, stdout=stdout)


def _drift_repaired(run, *, actor, on, stdout) -> None:
    """A directory admin turns one of the run's users back on behind our back; the directory's
    reconciliation finds it and re-revokes, so the dashboard's drift chart has a real day."""
    from .reconciliation import reconcile_system

    seat = run.deliveries.filter(system__name=DIRECTORY).order_by("pk").first()
    if seat is None:
        return
    with _directory_admin() as http:
        http.patch(f"/Users/{seat.external_id}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": True}],
        }).raise_for_status()  # fmt: skip
    with demo.served_here():
        done = reconcile_system(actor=actor, system_id=seat.system_id, on=on)
    stdout.write(f"Demo reconciliation of {seat.system.name}: {done.checked} holders checked, "
                 f"{done.drift} drifted, {done.repaired} repaired.")  # fmt: skip


# Contracts whose every entitlement is active, ready to terminate: (customer, grace days).
READY = [("hooli", 0), ("massive", 0), ("wayne", 14)]
READY_KINDS = [
    (Entitlement.Kind.SEAT_POOL, "Named-user seats", "seats", 25),
    (Entitlement.Kind.PRODUCT_KEY, "Server product key", "activations", 5),
    (Entitlement.Kind.ROLE_PERMISSION, "Workspace admin role", "users", 2),
    (Entitlement.Kind.FEATURE_FLAG, "Single sign-on", "flag", 1),
]


def _ready_contracts() -> None:
    """A few contracts to try deprovisioning on: everything they grant is active, so a
    termination revokes all of it (the licensing demo's contracts tell other stories)."""
    from datetime import date

    from django.utils import timezone

    from .. import services as licensing
    from ..models import Customer, Plan

    today = timezone.localdate()
    start = today.replace(day=1)
    end = date(start.year + 1, start.month, 1)
    plan = Plan.objects.filter(currency="USD", product__isnull=False).order_by("code").first()
    ready = [(code, grace, f"C-{start.year}-09{n:02d}") for n, (code, grace) in
             enumerate(READY, start=1)]  # fmt: skip
    for serial, (code, grace, number) in enumerate([*ready, (DONE[0], 0, DONE[1].format(
            year=start.year))], start=1):  # fmt: skip
        customer = Customer.objects.get(code=code)
        manager = get_user_model().objects.get(username="manager" if serial % 2 else "manager2")
        contract = licensing.contract_create(
            actor=manager, customer=customer, number=number,
            term_start=start, term_end=end, lines=[licensing.LineSpec(plan=plan, quantity=25)],
            account_manager=manager, grace_days=grace,
        )  # fmt: skip
        licensing.contract_transition(actor=manager, contract_id=contract.pk, transition="activate",
                                      reason="Contract signed by both parties.")  # fmt: skip
        line = contract.lines.get()
        for position, (kind, label, unit, quantity) in enumerate(READY_KINDS):
            entitlement = licensing.entitlement_create(
                actor=manager, contract=contract, contract_line=line, kind=kind,
                name=f"{plan.product} — {label}", scope=f"{plan.product.sku.lower()}:{kind}",
                key=f"{code[:4].upper()}-09{serial:02d}-{position:02d}"
                if kind == Entitlement.Kind.PRODUCT_KEY else "",
                quantity=quantity, unit=unit, starts_on=start, ends_on=end, effective_date=start,
            )  # fmt: skip
            licensing.entitlement_transition(
                actor=manager, entitlement_id=entitlement.pk, transition="activate",
                reason="Provisioned after signature.", effective_date=start,
            )  # fmt: skip


def _systems(admin, root: str) -> dict[str, ConnectedSystem]:
    reason = "Demo system served by the app itself"
    scim_url, token = f"{root}{demo.SCIM_PATH}/v2", demo.scim_token()
    specs = [
        (DIRECTORY, ConnectedSystem.Kind.IDENTITY_PROVIDER, "scim2", scim_url, token),
        (ROLES, ConnectedSystem.Kind.IDENTITY_PROVIDER, "scim2", scim_url, token),
        (LICENSES, ConnectedSystem.Kind.LICENSE_SERVER, "webhook", f"{root}{demo.WEBHOOK_PATH}",
         demo.webhook_secret()),
    ]  # fmt: skip
    return {
        name: services.connected_system_create(
            actor=admin,
            name=name,
            kind=kind,
            protocol=protocol,
            base_url=url,
            secret=secret,
            timeout=10,
            reason=reason,
        )  # fmt: skip
        for name, kind, protocol, url, secret in specs
    }


def _holders(admin, systems, scim, receiver) -> int:
    count = 0
    contracts = Contract.objects.exclude(status=Contract.Status.DRAFT).select_related("customer")
    for contract in contracts.order_by("pk"):
        code = contract.customer.code
        entitlements = contract.entitlements.order_by("pk")
        people: list[str] = []
        for entitlement in entitlements:
            active = entitlement.state not in GONE
            if entitlement.kind == Entitlement.Kind.SEAT_POOL:
                for n in range(1, min(entitlement.quantity, SEATS_PER_POOL) + 1):
                    user = f"{code}.user{n}.{contract.number.lower()}@{code}.example"
                    user_id = scim.create(User(user_name=user, active=active)).id
                    people.append(user_id)
                    _assign(admin, entitlement, systems[DIRECTORY], user_id, holder_name=user)
                    count += 1
            elif entitlement.kind == Entitlement.Kind.ROLE_PERMISSION:
                admin_user = f"{code}.admin.{contract.number.lower()}@{code}.example"
                member = scim.create(User(user_name=admin_user, active=True)).id
                members = [GroupMember(value=member)] if active else []
                group_name = f"{contract.number} workspace admins"
                group = scim.create(Group(display_name=group_name, members=members)).id
                _assign(admin, entitlement, systems[ROLES], member, group_id=group,
                        holder_name=admin_user, group_name=group_name)  # fmt: skip
                count += 1
            elif entitlement.kind in WEBHOOK_KINDS:
                account = entitlement.key or f"{code}-{entitlement.kind}-{entitlement.pk}"
                receiver.holders[account] = active
                _assign(admin, entitlement, systems[LICENSES], account)
                count += 1
    return count


def _assign(admin, entitlement, system, external_id: str, group_id: str = "", **names) -> None:
    services.assignment_create(
        actor=admin, entitlement=entitlement, system=system, external_id=external_id,
        group_id=group_id, reason="Demo holder", **names,
    )  # fmt: skip

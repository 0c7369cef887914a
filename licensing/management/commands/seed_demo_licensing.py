"""Realistic synthetic data for trying LicenseDesk: every role, every lifecycle state.

Licensing's part of `seed_demo` (the shell runs every app's part in order). Safe to run twice: what exists is kept, only passwords are reset to the one given.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from licensing import services
from licensing.models import Customer, CustomerMembership, Entitlement, Plan
from licensing.roles import Role

USERS = [
    ("manager", "Maya", "Okafor", Role.ACCOUNT_MANAGER),
    ("manager2", "Tomás", "Ribeiro", Role.ACCOUNT_MANAGER),
    ("analyst", "Priya", "Raman", Role.FINANCE_ANALYST),
    ("approver", "Jonas", "Weber", Role.FINANCE_APPROVER),
    ("controller", "Grace", "Adeyemi", Role.FINANCIAL_CONTROLLER),
    ("auditor", "Henrik", "Lund", Role.AUDITOR),
]

CUSTOMERS = [
    ("northwind", "Northwind Traders", "US"), ("globex", "Globex Corporation", "US"),
    ("initech", "Initech GmbH", "DE"), ("umbrella", "Umbrella Health plc", "GB"),
    ("hooli", "Hooli Systems", "US"), ("sakura", "Sakura Robotics KK", "JP"),
    ("gulf-logistics", "Gulf Logistics WLL", "KW"), ("acme", "Acme Industrial", "US"),
    ("vandelay", "Vandelay Imports", "US"), ("stark", "Stark Components", "US"),
    ("wayne", "Wayne Enterprises", "US"), ("tyrell", "Tyrell Biotech", "GB"),
    ("soylent", "Soylent Foods BV", "NL"), ("cyberdyne", "Cyberdyne Research", "US"),
    ("oceanic", "Oceanic Airlines", "AU"), ("massive", "Massive Dynamic", "US"),
    ("nakatomi", "Nakatomi Trading", "JP"), ("aperture", "Aperture Labs", "US"),
    ("blue-sun", "Blue Sun Retail", "DE"), ("kuwait-energy", "Kuwait Energy Services", "KW"),
]  # fmt: skip

PRODUCTS = [
    ("ATL", "Atlas Analytics", "Dashboards and reporting over licensed data."),
    ("BCN", "Beacon Editor", "Collaborative document editor."),
    ("CBT", "Cobalt API Gateway", "Metered API access for integrations."),
    ("DRF", "Drift Workspace", "Team messaging and file sharing."),
]

# code, name, product sku, tier, currency, cycle, pricing, price, unit
PLANS = [
    ("ATL-STD-USD-M", "Atlas Standard (monthly)", "ATL", "standard", "USD", "monthly", "per_seat", "30.00", "seat"),
    ("ATL-ENT-USD-A", "Atlas Enterprise (annual)", "ATL", "enterprise", "USD", "annual", "per_seat", "540.00", "seat"),
    ("BCN-PRO-EUR-M", "Beacon Professional (monthly)", "BCN", "professional", "EUR", "monthly", "per_seat", "18.00", "seat"),
    ("CBT-STD-USD-M", "Cobalt 1M calls (monthly)", "CBT", "standard", "USD", "monthly", "per_unit", "1000.00", "million calls"),
    ("DRF-STD-JPY-M", "Drift Standard (monthly, JPY)", "DRF", "standard", "JPY", "monthly", "per_seat", "1200", "seat"),
    ("ATL-PRO-KWD-Q", "Atlas Professional (quarterly, KWD)", "ATL", "professional", "KWD", "quarterly", "per_seat", "27.500", "seat"),
    ("BCN-STD-GBP-A", "Beacon Standard (annual, GBP)", "BCN", "standard", "GBP", "annual", "per_seat", "150.00", "seat"),
]  # fmt: skip

CURRENCY_PLANS = {"US": "USD", "DE": "EUR", "NL": "EUR", "JP": "JPY", "KW": "KWD", "GB": "GBP",
                  "AU": "USD"}  # fmt: skip

# Each contract's story: its final status and the states its entitlements end in.
STORIES = [
    ("active", ["active", "active", "active", "grace", "held"]),
    ("active", ["active", "suspended", "pending", "active"]),
    ("active", ["active", "revoked", "restored", "active"]),
    ("suspended", ["suspended", "suspended", "held"]),
    ("terminated", ["revoked", "revoked", "revoked"]),
    ("expired", ["expired", "expired"]),
    ("draft", ["pending", "pending"]),
]

# The transitions that lead from pending to each final state.
PATHS = {
    "pending": [],
    "active": ["activate"],
    "suspended": ["activate", "suspend"],
    "grace": ["activate", "start_grace"],
    "held": ["activate", "hold"],
    "revoked": ["activate", "revoke"],
    "restored": ["activate", "revoke", "restore"],
    "expired": ["activate", "expire"],
}

REASONS = {
    "activate": "Provisioned after signature.",
    "suspend": "Invoice overdue by 30 days.",
    "start_grace": "Renewal under negotiation; grace granted.",
    "hold": "Legal hold while an audit is open.",
    "revoke": "Seats released at the customer's request.",
    "restore": "Revoked in error; restored on approval.",
    "expire": "The entitlement's term ended.",
    "resume": "Payment received.",
    "terminate": "Customer terminated for convenience.",
}

KINDS = [
    (Entitlement.Kind.SEAT_POOL, "Named-user seats", "seats"),
    (Entitlement.Kind.PRODUCT_KEY, "Server product key", "activations"),
    (Entitlement.Kind.FEATURE_FLAG, "Single sign-on", "flag"),
    (Entitlement.Kind.API_QUOTA, "API calls", "calls/month"),
    (Entitlement.Kind.ROLE_PERMISSION, "Workspace admin role", "users"),
]


class Command(BaseCommand):
    help = "Create demo customers, catalogue, contracts and one user per role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo", help="Password for every demo login.")

    def handle(self, *args, password: str, **options):
        with transaction.atomic():
            users = self._users(password)
            if Customer.objects.filter(code=CUSTOMERS[0][0]).exists():
                self.stdout.write("Demo data already present; passwords reset.")
            else:
                self._catalogue(users["admin"])
                self._customers_and_contracts(users)
            self._portal_users(password)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {password}):"))
        for name in ["manager", "manager2", "analyst", "approver", "controller", "auditor", "admin",
                     "customer1", "customer2"]:  # fmt: skip
            self.stdout.write(f"  {name}")

    def _users(self, password: str) -> dict:
        User = get_user_model()
        users = {}
        for username, first, last, role in USERS:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            users[username] = user
        admin, _ = User.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com", "first_name": "Ada"}
        )
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        users["admin"] = admin
        return users

    def _portal_users(self, password: str) -> None:
        User = get_user_model()
        customer_group = Group.objects.get(name=Role.CUSTOMER)
        for username, code, first in [("customer1", "northwind", "Nina"),
                                      ("customer2", "globex", "Gus")]:  # fmt: skip
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "email": f"{username}@example.com"},
            )
            user.set_password(password)
            user.save()
            user.groups.set([customer_group])
            CustomerMembership.objects.update_or_create(
                user=user, defaults={"customer": Customer.objects.get(code=code)}
            )

    def _catalogue(self, admin) -> None:
        products = {
            sku: services.product_create(actor=admin, sku=sku, name=name, description=desc)
            for sku, name, desc in PRODUCTS
        }
        for code, name, sku, tier, currency, cycle, pricing, price, unit in PLANS:
            services.plan_create(
                actor=admin, code=code, name=name, product=products[sku], tier=tier,
                currency=currency, billing_cycle=cycle, pricing_model=pricing,
                unit_price=Decimal(price), unit_label=unit,
            )  # fmt: skip
        suite = services.bundle_create(
            actor=admin,
            code="SUITE",
            name="Atlas + Beacon Suite",
            items=[(products["ATL"], 1, Decimal("30.00")), (products["BCN"], 1, Decimal("20.00"))],
        )
        services.plan_create(
            actor=admin, code="SUITE-USD-M", name="Atlas + Beacon Suite (monthly)", bundle=suite,
            tier="professional", currency="USD", billing_cycle="monthly",
            pricing_model="per_seat", unit_price=Decimal("42.00"), unit_label="seat",
        )  # fmt: skip

    def _customers_and_contracts(self, users) -> None:
        rng = random.Random(2026)
        today = timezone.localdate()
        admin, managers = users["admin"], [users["manager"], users["manager2"]]
        plans_by_currency: dict[str, list[Plan]] = {}
        for plan in Plan.objects.all():
            plans_by_currency.setdefault(plan.currency, []).append(plan)
        systems = self._systems()
        serial = 0
        for index, (code, name, country) in enumerate(CUSTOMERS):
            customer = services.customer_create(
                actor=admin, code=code, name=name, country=country,
                billing_email=f"billing@{code}.example",
            )  # fmt: skip
            stories = [STORIES[index % len(STORIES)]]
            if index < 4:
                stories.append(STORIES[(index + 3) % len(STORIES)])
            for status, states in stories:
                serial += 1
                manager = managers[0] if index % 3 else managers[1]
                if index < 2:
                    manager = managers[0]
                currency = CURRENCY_PLANS[country]
                self._contract(
                    rng, today, serial, customer, manager, plans_by_currency[currency],
                    status, states, systems,
                )  # fmt: skip

    def _invoices(self, contract, today) -> None:
        """Paid invoices for the last two periods, and prepaid future years where agreed."""
        from licensing.pricing.calendar import CYCLE_MONTHS, add_months, billing_period

        line = contract.lines.select_related("plan").get()
        cycle = line.plan.billing_cycle
        on = min(today, contract.term_end - timedelta(days=1))
        start, end = billing_period(contract.billing_anchor, cycle, on)
        months = CYCLE_MONTHS[cycle]
        periods = [(add_months(start, -months), start), (start, end)]
        if contract.prepaid:
            while periods[-1][1] < contract.term_end:
                nxt = periods[-1][1]
                periods.append((nxt, add_months(nxt, months)))
        admin = get_user_model().objects.get(username="admin")
        for index, (period_start, period_end) in enumerate(periods):
            if period_start < contract.term_start or period_end > contract.term_end:
                continue
            issued = min(period_start, start) if contract.prepaid else period_start
            services.invoice_record(
                actor=admin, contract=contract,
                number=f"INV-{contract.number[2:]}-{index + 1:02d}",
                period_start=period_start, period_end=period_end,
                lines=[(line, line.quantity, line.unit_price * line.quantity)],
                # Paid twelve days after issue, or today at the latest: never in the future.
                issued_on=issued, paid_on=min(issued + timedelta(days=12), today),
            )  # fmt: skip

    def _systems(self) -> list:
        from licensing.models import ConnectedSystem

        specs = [
            ("Okta (corporate IdP)", ConnectedSystem.Kind.IDENTITY_PROVIDER, "https://idp.example/scim/v2"),
            ("FlexLM license server", ConnectedSystem.Kind.LICENSE_SERVER, "https://lic.example/hooks"),
            ("ServiceNow assets", ConnectedSystem.Kind.ASSET_INVENTORY, "https://assets.example/api"),
        ]  # fmt: skip
        return [
            ConnectedSystem.objects.get_or_create(name=n, defaults={"kind": k, "base_url": e})[0]
            for n, k, e in specs
        ]

    def _contract(self, rng, today, serial, customer, manager, plans, status, states, systems):
        months_ago = rng.randint(4, 20)
        if status == "expired":
            start = today - timedelta(days=400 + rng.randint(0, 60))
            end = today - timedelta(days=rng.randint(5, 30))
        else:
            start = (today - timedelta(days=30 * months_ago)).replace(day=1)
            end = date(start.year + rng.choice([1, 2, 3]), start.month, 1)
            if end <= today:
                end = date(today.year + 1, start.month, 1)
        plan = rng.choice(plans)
        years = max(1, round((end - start).days / 365))
        contract = services.contract_create(
            actor=manager,
            customer=customer,
            number=f"C-{start.year}-{serial:04d}",
            term_start=start,
            term_end=end,
            lines=[services.LineSpec(plan=plan, quantity=rng.choice([10, 25, 50, 120, 400]))],
            account_manager=manager,
            prepaid=years > 1 or plan.billing_cycle == Plan.BillingCycle.ANNUAL,
            commitment_years=years,
            grace_days=rng.choice([0, 14, 30]),
        )
        line = contract.lines.first()
        if status != "draft":
            services.contract_transition(
                actor=manager, contract_id=contract.pk, transition="activate",
                reason="Contract signed by both parties.",
            )  # fmt: skip
        for position, final in enumerate(states):
            kind, label, unit = KINDS[position % len(KINDS)]
            quantity = {
                Entitlement.Kind.SEAT_POOL: line.quantity,
                Entitlement.Kind.API_QUOTA: 1_000_000,
                Entitlement.Kind.FEATURE_FLAG: 1,
            }.get(kind, rng.choice([2, 5, 10]))
            # An entitlement ends within its contract's term, an expired one by now as well.
            ends = (
                end if final != "expired" else min(end, today - timedelta(days=rng.randint(1, 4)))
            )
            entitlement = services.entitlement_create(
                actor=manager,
                contract=contract,
                contract_line=line,
                kind=kind,
                name=f"{plan.product or plan.bundle} — {label}",
                scope=f"{(plan.product or plan.bundle).name.split()[0].lower()}:{kind}",
                key=f"{customer.code[:4].upper()}-{serial:04d}-{position:02d}"
                if kind == Entitlement.Kind.PRODUCT_KEY
                else "",
                quantity=quantity,
                unit=unit,
                starts_on=start,
                ends_on=ends,
                enforced_by=[systems[position % len(systems)]],
                effective_date=start,
            )
            when = start
            for step in PATHS[final]:
                when = {"activate": start, "expire": ends}.get(
                    step, max(when, today - timedelta(days=rng.randint(1, 20)))
                )
                services.entitlement_transition(
                    actor=manager, entitlement_id=entitlement.pk, transition=step,
                    reason=REASONS[step], effective_date=when,
                )  # fmt: skip
        if status != "draft":
            self._invoices(contract, today)
        if status in ("suspended", "terminated"):
            services.contract_transition(
                actor=manager, contract_id=contract.pk,
                transition="suspend" if status == "suspended" else "terminate",
                reason=REASONS["suspend" if status == "suspended" else "terminate"],
            )  # fmt: skip
        elif status == "expired":
            services.contract_transition(
                actor=manager, contract_id=contract.pk, transition="expire",
                reason="The contract's term ended.",
            )  # fmt: skip
        return contract

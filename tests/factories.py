"""Factories build state through the services, so history, ledger and audit rows exist.

Their default dates (a 2026 term) are relative to the suite's pinned clock
(tests/clock.py: PINNED_DAY, in November 2026), never to the calendar.
"""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from licensing import services
from licensing.models import Contract, Customer, CustomerMembership, Entitlement, Plan, Product
from licensing.roles import Role
from tests.clock import PINNED_DAY

# The default term: the pinned year, start inclusive, end exclusive.
TERM = (date(PINNED_DAY.year, 1, 1), date(PINNED_DAY.year + 1, 1, 1))


def admin_actor():
    user, created = get_user_model().objects.get_or_create(
        username="factory-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"cust-{n}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    country = "US"
    billing_email = factory.LazyAttribute(lambda o: f"billing@{o.code}.example")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.customer_create(actor=admin_actor(), **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"Product {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.product_create(actor=admin_actor(), **kwargs)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    code = factory.Sequence(lambda n: f"PLAN-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    product = factory.SubFactory(ProductFactory)
    tier = Plan.Tier.STANDARD
    currency = "USD"
    billing_cycle = Plan.BillingCycle.MONTHLY
    pricing_model = Plan.PricingModel.PER_SEAT
    unit_price = Decimal("30.00")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.plan_create(actor=admin_actor(), **kwargs)


class ContractFactory(factory.django.DjangoModelFactory):
    """A contract with one plan line; `active=True` (the default) activates it."""

    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"C-T-{n:05d}")
    term_start, term_end = TERM
    grace_days = 14

    @classmethod
    def _create(cls, model_class, active=True, plan=None, quantity=10, **kwargs):
        plan = plan or PlanFactory()
        actor = admin_actor()
        contract = services.contract_create(
            actor=actor, lines=[services.LineSpec(plan=plan, quantity=quantity)], **kwargs
        )
        if active:
            contract = services.contract_transition(
                actor=actor, contract_id=contract.pk, transition="activate", reason="Signed"
            )
        return contract


class EntitlementFactory(factory.django.DjangoModelFactory):
    """An entitlement moved through the services to `state` (default active)."""

    class Meta:
        model = Entitlement

    # An entitlement lies within its contract's term: the contract's covers the default term
    # and the entitlement's own dates.
    contract = factory.SubFactory(
        ContractFactory,
        term_start=factory.LazyAttribute(lambda c: min(TERM[0], c.factory_parent.starts_on)),
        term_end=factory.LazyAttribute(lambda c: max(TERM[1], c.factory_parent.ends_on)),
    )
    kind = Entitlement.Kind.SEAT_POOL
    name = factory.Sequence(lambda n: f"Seats {n}")
    scope = "product:seats"
    quantity = 10
    starts_on, ends_on = TERM

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

    @classmethod
    def _create(cls, model_class, state="active", **kwargs):
        kwargs.pop("PATHS", None)
        if state == "expired" and kwargs["ends_on"] > timezone.localdate():
            kwargs["starts_on"], kwargs["ends_on"] = date(2020, 1, 1), date(2021, 1, 1)
            if kwargs["contract"].term_start > kwargs["starts_on"]:
                kwargs["contract"] = ContractFactory(term_start=kwargs["starts_on"])
        actor = admin_actor()
        kwargs.setdefault("effective_date", kwargs["starts_on"])
        entitlement = services.entitlement_create(actor=actor, **kwargs)
        for step in cls.PATHS[state]:
            entitlement = services.entitlement_transition(
                actor=actor,
                entitlement_id=entitlement.pk,
                transition=step,
                reason=f"Factory: {step}",
                effective_date=kwargs["starts_on"] if step == "activate" else None,
            )
        return entitlement


def member_of(user, customer) -> None:
    user.groups.add(Group.objects.get(name=Role.CUSTOMER))
    CustomerMembership.objects.update_or_create(user=user, defaults={"customer": customer})

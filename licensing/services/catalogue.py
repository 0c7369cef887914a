"""Customers, products, plans, bundles and contracts: what is sold and to whom."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from audit.services import audit_record

from ..errors import DomainError
from ..models import (
    Bundle,
    BundleItem,
    Contract,
    ContractLine,
    Customer,
    Plan,
    Product,
)
from ..money import is_currency
from ..roles import is_customer_user
from ..validation import is_country
from ._common import (
    _require_perm,
    _stamp,
)


@transaction.atomic
def customer_create(*, actor, code: str, name: str, country: str = "", billing_email: str = "",
                    reason: str = "New customer") -> Customer:  # fmt: skip
    _require_perm(actor, "licensing.add_customer", "add customers")
    if Customer.objects.filter(code=code).exists():
        raise DomainError(f"A customer with code '{code}' already exists.")
    country = country.upper()
    if country and not is_country(country):
        raise DomainError(
            f"'{country}' is not an ISO 3166-1 alpha-2 country code.", field="country"
        )
    customer = Customer(code=code, name=name, country=country, billing_email=billing_email)
    _stamp(customer, actor=actor, reason=reason)
    customer.save()
    audit_record(
        actor=actor,
        action="customer.create",
        object_type="licensing.customer",
        object_id=customer.pk,
        reason=reason,
        data={"code": code, "name": name},
    )
    return customer


@dataclass(frozen=True)
class LineSpec:
    plan: Plan
    quantity: int
    unit_price: Decimal | None = None


@transaction.atomic
def contract_create(
    *,
    actor,
    customer: Customer,
    number: str,
    term_start: date,
    term_end: date,
    lines: list[LineSpec],
    account_manager=None,
    billing_anchor: date | None = None,
    prepaid: bool = False,
    commitment_years: int = 1,
    grace_days: int = 0,
    payment_terms_days: int = 30,
    currency: str | None = None,
    reason: str = "New contract",
) -> Contract:
    _require_perm(actor, "licensing.add_contract", "create contracts")
    if term_end <= term_start:
        raise DomainError("The term must end after it starts.")
    if not lines:
        raise DomainError("A contract needs at least one plan line.")
    currency = currency or lines[0].plan.currency
    if not is_currency(currency):
        raise DomainError(f"'{currency}' is not an ISO 4217 currency code in use.")
    if any(line.plan.currency != currency for line in lines):
        raise DomainError(f"Every plan on the contract must be priced in {currency}.")
    if Contract.objects.filter(number=number).exists():
        raise DomainError(f"Contract number {number} is already taken.")
    if not 0 <= payment_terms_days <= 365:
        raise DomainError("Payment terms run 0 to 365 days.", field="payment_terms_days")
    if account_manager is not None and is_customer_user(account_manager):
        raise DomainError(
            f"{account_manager.get_username()} is not on our staff: a customer's user cannot "
            "manage a contract.",
            field="account_manager",
        )
    contract = Contract(
        number=number,
        customer=customer,
        account_manager=account_manager,
        currency=currency,
        term_start=term_start,
        term_end=term_end,
        billing_anchor=billing_anchor or term_start,
        prepaid=prepaid,
        commitment_years=commitment_years,
        grace_days=grace_days,
        payment_terms_days=payment_terms_days,
    )
    _stamp(contract, actor=actor, reason=reason)
    contract.save()
    for spec in lines:
        line = ContractLine(
            contract=contract,
            plan=spec.plan,
            quantity=spec.quantity,
            unit_price=spec.plan.unit_price if spec.unit_price is None else spec.unit_price,
        )
        _stamp(line, actor=actor, reason=reason)
        line.save()
    audit_record(
        actor=actor,
        action="contract.create",
        object_type="licensing.contract",
        object_id=contract.pk,
        reason=reason,
        data={
            "number": number,
            "customer": customer.pk,
            "term_start": term_start,
            "term_end": term_end,
            "lines": [
                {"plan": s.plan.code, "quantity": s.quantity, "unit_price": s.unit_price}
                for s in lines
            ],
        },
    )
    return contract


def _catalogue_save(instance, *, actor, reason: str, action: str, data: dict):
    _stamp(instance, actor=actor, reason=reason)
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=action,
        object_type=f"licensing.{instance._meta.model_name}",
        object_id=instance.pk,
        reason=reason,
        data=data,
    )
    return instance


@transaction.atomic
def product_create(*, actor, sku: str, name: str, description: str = "",
                   reason: str = "New product") -> Product:  # fmt: skip
    _require_perm(actor, "licensing.add_product", "add products")
    product = Product(sku=sku, name=name, description=description)
    return _catalogue_save(
        product, actor=actor, reason=reason, action="product.create", data={"sku": sku}
    )


@transaction.atomic
def plan_create(*, actor, reason: str = "New plan", **fields) -> Plan:
    _require_perm(actor, "licensing.add_plan", "add plans")
    if not is_currency(fields.get("currency", "")):
        raise DomainError(f"'{fields.get('currency')}' is not an ISO 4217 currency code in use.")
    plan = Plan(**fields)
    data = {
        "code": plan.code,
        "currency": plan.currency,
        "unit_price": plan.unit_price,
        "billing_cycle": plan.billing_cycle,
    }
    return _catalogue_save(plan, actor=actor, reason=reason, action="plan.create", data=data)


@transaction.atomic
def bundle_create(*, actor, code: str, name: str, items: list[tuple[Product, int, Decimal]],
                  reason: str = "New bundle") -> Bundle:  # fmt: skip
    _require_perm(actor, "licensing.add_bundle", "add bundles")
    if not items:
        raise DomainError("A bundle needs at least one product.")
    bundle = _catalogue_save(
        Bundle(code=code, name=name),
        actor=actor,
        reason=reason,
        action="bundle.create",
        data={"code": code, "items": [[p.sku, q, price] for p, q, price in items]},
    )
    for product, quantity, price in items:
        item = BundleItem(bundle=bundle, product=product, quantity=quantity, standalone_price=price)
        _stamp(item, actor=actor, reason=reason)
        item.save()
    return bundle

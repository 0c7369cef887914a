"""Finance's dated exchange-rate table, and the conversion of a credit into the policy's base
currency that picks its approval steps."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError
from licensing.money import currency_codes, round_money
from licensing.roles import ADMIN, FINANCE_ROLES, role_of

from ..models import ExchangeRate
from ._common import _refusal, _stamp

RATE_KEEPERS = FINANCE_ROLES | {ADMIN}


def _check_rate_keeper(actor) -> None:
    if role_of(actor) not in RATE_KEEPERS:
        raise ActionForbidden("Finance keeps the exchange rates.")


def exchange_rate_add_refusal(*, actor) -> str | None:
    """Why `actor` may not add exchange rates, or None when they may."""
    return _refusal(_check_rate_keeper, actor)


@transaction.atomic
def exchange_rate_add(
    *, actor, currency: str, base: str, rate: Decimal, valid_from: date, reason: str = ""
) -> ExchangeRate:
    """A new rate for the pair from `valid_from` on. Earlier rows stay: credits calculated under
    them keep pointing at the rate they used."""
    _check_rate_keeper(actor)
    currency, base = currency.strip().upper(), base.strip().upper()
    for field, code in (("currency", currency), ("base", base)):
        if code not in currency_codes():
            raise DomainError(f"'{code}' is not an ISO 4217 currency code.", field=field)
    if currency == base:
        raise DomainError("A rate converts between two different currencies.", field="base")
    if rate is None or not rate.is_finite() or rate <= 0:
        raise DomainError("The rate must be a positive number.", field="rate")
    row = ExchangeRate(
        currency=currency, base=base, rate=rate, valid_from=valid_from, created_by=actor
    )
    _stamp(row, actor=actor, reason=reason or "Rate added")
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise DomainError(
            f"A {currency} to {base} rate from {valid_from:%-d %B %Y} exists already; add one "
            f"from another day to supersede it.",
            field="valid_from",
        ) from None
    audit_record(actor=actor, action="exchange_rate.add", object_type="credits.exchangerate",
                 object_id=row.pk, reason=reason,
                 data={"currency": currency, "base": base, "rate": rate,
                       "valid_from": valid_from})  # fmt: skip
    return row


@dataclass(frozen=True)
class Conversion:
    amount: Decimal
    currency: str
    rate: Decimal
    rate_date: date | None


def convert(*, amount: Decimal, currency: str, base: str, on: date) -> Conversion:
    """`amount` in `base` at the rate in force `on`; a missing rate is a refusal, not a guess."""
    if currency == base:
        return Conversion(amount, base, Decimal(1), None)
    row = (
        ExchangeRate.objects.filter(currency=currency, base=base, valid_from__lte=on)
        .order_by("-valid_from")
        .first()
    )
    if row is None:
        raise DomainError(
            f"No {currency} to {base} exchange rate is recorded for {on:%-d %B %Y}: the approval "
            f"thresholds are in {base}, so finance must add that rate before this credit can be "
            f"calculated."
        )
    return Conversion(round_money(amount * row.rate, base), base, row.rate, row.valid_from)

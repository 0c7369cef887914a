"""A credit policy version's rules: parsed, validated and handed to the engine."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from licensing.errors import DomainError
from licensing.money import currency_codes
from licensing.pricing.arithmetic import BASES
from licensing.roles import Role

from .engine import INTENTS, Rules
from .models import CreditForm

DEFAULT_RULES: dict = {
    "eligible_intents": list(INTENTS),
    "eligible_bases": list(BASES),
    "minimum_credit": "0",
    "termination": "prorate",
    "prepaid_refundable_share": "1",
    "allowed_forms": [form.value for form in CreditForm],
    "downgrade_payout": {"mode": "immediate", "periods": 1},
    # Approval thresholds are amounts in this currency; other currencies are converted.
    "base_currency": "USD",
    "approval_steps": [
        {"role": Role.FINANCE_ANALYST.value, "threshold": "0"},
        {"role": Role.FINANCE_APPROVER.value, "threshold": "1000"},
        {"role": Role.FINANCIAL_CONTROLLER.value, "threshold": "10000"},
    ],
    "step_deadline_hours": 48,
    "reminder_after_hours": 24,
    "escalate_to": Role.FINANCIAL_CONTROLLER.value,
    "dispute_days": 10,
}


# Sane maxima: beyond them a rule is a typo, and a schedule or a deadline would not fit a row.
MAX_PAYOUT_PERIODS = 36
MAX_DEADLINE_HOURS = 24 * 90
MAX_DISPUTE_DAYS = 365
MAX_THRESHOLD = Decimal("1000000000")
BOUNDS = {
    "step_deadline_hours": MAX_DEADLINE_HOURS,
    "reminder_after_hours": MAX_DEADLINE_HOURS,
    "dispute_days": MAX_DISPUTE_DAYS,
}


class RulesError(DomainError):
    """Rules that cannot be used; `errors` names each wrong field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ApprovalRule:
    role: str
    threshold: Decimal


@dataclass(frozen=True)
class CreditRules:
    eligible_intents: tuple[str, ...]
    eligible_bases: tuple[str, ...]
    minimum_credit: Decimal
    termination: str
    prepaid_refundable_share: Decimal
    allowed_forms: tuple[str, ...]
    payout_mode: str
    payout_periods: int
    approval_steps: tuple[ApprovalRule, ...]
    base_currency: str
    step_deadline_hours: int
    reminder_after_hours: int
    escalate_to: str
    dispute_days: int

    @property
    def engine(self) -> Rules:
        return Rules(
            termination=self.termination,
            prepaid_refundable_share=self.prepaid_refundable_share,
            minimum_credit=self.minimum_credit,
        )

    def steps_for(self, amount: Decimal) -> list[ApprovalRule]:
        return [step for step in self.approval_steps if amount >= step.threshold]


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(raw, name: str, errors: dict, *, low=Decimal(0), high=None) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, TypeError):
        errors[name] = f"'{raw}' is not a number."
        return Decimal(0)
    if not value.is_finite() or value < low:
        errors[name] = f"Must be between {low} and any amount."
    elif high is not None and value > high:
        errors[name] = f"Must be between {low} and {high}."
    return value


def parse_rules(raw: dict) -> CreditRules:
    """Parse stored JSON into rules; RulesError names every field that is wrong."""
    errors: dict[str, str] = {}
    data = {**DEFAULT_RULES, **(raw or {})}
    intents = tuple(data["eligible_intents"])
    if not set(intents) <= set(INTENTS):
        errors["eligible_intents"] = f"Use only {', '.join(INTENTS)}."
    bases = tuple(data["eligible_bases"])
    if not set(bases) <= set(BASES):
        errors["eligible_bases"] = f"Use only {', '.join(BASES)}."
    forms = tuple(data["allowed_forms"])
    if not forms or not set(forms) <= set(CreditForm.values):
        errors["allowed_forms"] = f"Name one or more of {', '.join(CreditForm.values)}."
    if data["termination"] not in ("prorate", "period_end"):
        errors["termination"] = "Use 'prorate' or 'period_end'."
    payout = data["downgrade_payout"] or {}
    mode, periods = payout.get("mode", "immediate"), payout.get("periods", 1)
    if (
        mode not in ("immediate", "declining")
        or not _whole(periods)
        or not 1 <= periods <= MAX_PAYOUT_PERIODS
    ):
        errors["downgrade_payout"] = (
            f"Mode 'immediate' or 'declining' over 1 to {MAX_PAYOUT_PERIODS} periods."
        )
    steps = []
    raw_steps = data["approval_steps"] or []
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        raw_steps, errors["approval_steps"] = [], "A list of steps, each with a role and threshold."
    for index, step in enumerate(raw_steps):
        if step.get("role") not in Role.values or step.get("role") == Role.CUSTOMER:
            errors[f"approval_steps.{index}.role"] = "Name a finance role."
        steps.append(
            ApprovalRule(
                step.get("role", ""),
                _decimal(
                    step.get("threshold"),
                    f"approval_steps.{index}.threshold",
                    errors,
                    high=MAX_THRESHOLD,
                ),  # fmt: skip
            )
        )
    if not steps:
        errors.setdefault("approval_steps", "At least one approval step is needed.")
    elif [s.threshold for s in steps] != sorted(s.threshold for s in steps):
        errors["approval_steps"] = "Thresholds must rise from step to step."
    elif steps[0].threshold != 0:
        # Otherwise a credit below the first threshold would have no step and wait forever.
        errors["approval_steps.0.threshold"] = "The first step's threshold must be 0."
    ints = {}
    for name in ("step_deadline_hours", "reminder_after_hours", "dispute_days"):
        value = data[name]
        if not _whole(value) or value < 1:
            errors[name], value = "A whole number of 1 or more.", 1
        elif value > BOUNDS[name]:
            errors[name], value = f"At most {BOUNDS[name]}.", 1
        ints[name] = value
    base_currency = str(data["base_currency"] or "").upper()
    if base_currency not in currency_codes():
        errors["base_currency"] = "Name a currency by its ISO 4217 code, e.g. USD."
    if data["escalate_to"] not in Role.values:
        errors["escalate_to"] = "Name a role."
    rules = CreditRules(
        eligible_intents=intents,
        eligible_bases=bases,
        minimum_credit=_decimal(data["minimum_credit"], "minimum_credit", errors),
        termination=data["termination"],
        prepaid_refundable_share=_decimal(
            data["prepaid_refundable_share"], "prepaid_refundable_share", errors, high=Decimal(1)
        ),
        allowed_forms=forms,
        payout_mode=mode,
        payout_periods=periods if _whole(periods) else 1,
        approval_steps=tuple(steps),
        base_currency=base_currency,
        escalate_to=data["escalate_to"],
        **ints,
    )
    if errors:
        raise RulesError(errors)
    return rules

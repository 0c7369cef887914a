"""The public calculator: validated input in, the engine's explained answer out."""

from licensing.errors import DomainError
from licensing.pricing.arithmetic import ProrationError

from ..engine import Component, Line, Quote, QuoteRequest, quote
from ..models import (
    CreditPolicyVersion,
)
from ..selectors import policy_rules


def _quote_dict(result: Quote, policy: CreditPolicyVersion) -> dict:
    return {
        "currency": result.currency,
        "policy_version": policy.label,
        "lines": [
            {
                "id": line.id,
                "credit": str(line.credit),
                "explanation": line.explanation,
                **(
                    {
                        "components": [
                            {"id": c.id, "credit": str(c.credit), "explanation": c.explanation}
                            for c in line.components
                        ]
                    }
                    if line.basis == "bundle"
                    else {}
                ),
            }
            for line in result.lines
        ],
        "total_credit": str(result.total),
        "notes": list(result.notes),
    }


def calculator_quote(data: dict, *, policy: CreditPolicyVersion) -> dict:
    """The public calculator: validated input in, the engine's explained answer out."""
    request = QuoteRequest(
        currency=data["currency"],
        intent=data["intent"],
        period_start=data["period_start"],
        period_end=data["period_end"],
        effective_date=data["effective_date"],
        resume_date=data.get("resume_date"),
        lines=tuple(
            Line(
                id=line["id"],
                basis=line["basis"],
                amount_paid=line["amount_paid"],
                quantity_before=line.get("quantity_before"),
                quantity_after=line.get("quantity_after"),
                included_units=line.get("included_units"),
                units_used=line.get("units_used"),
                components=tuple(
                    Component(
                        c["id"],
                        c["standalone_price"],
                        c["quantity_before"],
                        c.get("quantity_after"),
                    )  # fmt: skip
                    for c in line.get("components", [])
                ),
            )
            for line in data["lines"]
        ),
    )
    rules = policy_rules(policy)
    if request.intent not in rules.eligible_intents:
        raise DomainError(f"{policy.name} gives no credit for a {request.intent}.")
    ineligible = {line.basis for line in request.lines} - set(rules.eligible_bases)
    if ineligible:
        raise DomainError(f"{policy.name} gives no credit on {', '.join(ineligible)} lines.")
    try:
        result = quote(request, rules.engine)
    except ProrationError as error:
        raise DomainError(f"{error.field}: {error.message}") from None
    return _quote_dict(result, policy)

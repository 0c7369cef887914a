"""The public true-up calculator: validated input in, the engine's explained answer out."""

from ..engine import TrueUpLine, true_up_quote


def true_up_calculator(data: dict) -> dict:
    result = true_up_quote(
        currency=data["currency"],
        period_start=data["period_start"],
        period_end=data["period_end"],
        overuse_start=data["overuse_start"],
        lines=tuple(
            TrueUpLine(line["id"], line["amount_paid"], line["quantity"], line["peak"])
            for line in data["lines"]
        ),
    )
    return {
        "currency": result.currency,
        "lines": [
            {"id": q.id, "charge": str(q.charge), "explanation": q.explanation}
            for q in result.lines
        ],
        "total_charge": str(result.total),
    }

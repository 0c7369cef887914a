"""The customer-facing text of a credit policy version, written from its rules by the engine.

The worked examples are computed, not typed, so the text and the code cannot disagree.
"""

from datetime import date
from decimal import Decimal

from licensing.pricing.wording import money_text
from licensing.roles import Role

from .engine import Component, Line, QuoteRequest, quote
from .models import CreditForm
from .rules import CreditRules

INTENT_WORDS = {"downgrade": "downgrade", "pause": "pause", "terminate": "termination"}
ROLE_WORDS = {
    Role.FINANCE_ANALYST: "a finance analyst",
    Role.FINANCE_APPROVER: "a finance approver",
    Role.FINANCIAL_CONTROLLER: "the financial controller",
    Role.ACCOUNT_MANAGER: "an account manager",
    Role.AUDITOR: "an auditor",
}


def _examples(rules: CreditRules) -> list[dict]:
    march = (date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16))
    cases = [
        (
            "A downgrade from 50 to 20 seats on 16 March, in a March paid at USD 1,500.00",
            QuoteRequest("USD", "downgrade", *march,
                         (Line("seats", "seat", Decimal("1500.00"), 50, 20),)),
        ),
        (
            "An API commitment of 1,000,000 calls (USD 1,000.00) released on 16 March "
            "after 400,000 calls",
            QuoteRequest("USD", "downgrade", *march, (Line(
                "api", "usage", Decimal("1000.00"), included_units=1_000_000,
                units_used=400_000),)),
        ),
        (
            "A bundle paid at USD 900.00 whose 10 editor seats (standalone USD 20.00) drop to 5 "
            "while 40 viewer seats (standalone USD 5.00) stay",
            QuoteRequest("USD", "downgrade", *march, (Line(
                "suite", "bundle", Decimal("900.00"), components=(
                    Component("editor", Decimal("20.00"), 10, 5),
                    Component("viewer", Decimal("5.00"), 40, 40)),
            ),)),
        ),
        (
            "A termination on 16 March of 50 seats paid at USD 1,500.00 for March, with "
            "USD 18,000.00 prepaid for the years after",
            QuoteRequest("USD", "terminate", *march, (Line(
                "seats", "seat", Decimal("1500.00"), quantity_before=50,
                prepaid_future_amount=Decimal("18000.00")),)),
        ),
        (
            "A downgrade from 3 to 2 seats on 16 March, paid at JPY 100,000 (a currency "
            "with no decimals)",
            QuoteRequest("JPY", "downgrade", *march,
                         (Line("seats", "seat", Decimal("100000"), 3, 2),)),
        ),
    ]  # fmt: skip
    examples = []
    for title, request in cases:
        if request.intent not in rules.eligible_intents:
            continue
        result = quote(request, rules.engine)
        examples.append(
            {
                "title": title,
                "currency": result.currency,
                "lines": [
                    {
                        "id": line.id,
                        "credit": str(line.credit),
                        "explanation": line.explanation,
                        "components": [
                            {"id": c.id, "credit": str(c.credit), "explanation": c.explanation}
                            for c in line.components
                        ],
                    }
                    for line in result.lines
                ],
                "total": str(result.total),
                "notes": list(result.notes),
            }
        )
    return examples


def render_policy(rules: CreditRules, *, title: str, introduction: str) -> tuple[str, list]:
    """Return (text, examples) for a version; called when it is published."""
    examples = _examples(rules)
    forms = [label for value, label in CreditForm.choices if value in rules.allowed_forms]
    words = [f"a {INTENT_WORDS[i]}" for i in rules.eligible_intents]
    intents = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    steps = "; ".join(
        f"{ROLE_WORDS.get(s.role, s.role)} from {s.threshold:,} in the contract's currency"
        for s in rules.approval_steps
    )
    termination = (
        "A termination is credited from its effective date, like a downgrade to zero."
        if rules.termination == "prorate"
        else "A termination is credited only from the end of the current billing period: "
        "the period under way is not credited."
    )
    payout = (
        "A downgrade credit is given at once."
        if rules.payout_mode == "immediate"
        else f"A downgrade credit taken as a discount is spread over {rules.payout_periods} "
        f"invoices, largest first."
    )
    sections = [
        f"# {title}",
        introduction.strip(),
        "## Who can receive a credit",
        f"Credits are given for {intents} of a paid subscription"
        + (
            f", when the total reaches {rules.minimum_credit:,} in the contract's currency."
            if rules.minimum_credit
            else "."
        ),
        "## How a credit is calculated",
        "A billing period runs from its first day up to, not including, its last. A change "
        "takes effect at the start of its effective date. Days remaining = period end − "
        "effective date; days elapsed = effective date − period start.",
        "- Seats: amount paid × seats released ÷ seats paid for × days remaining ÷ days in "
        "the period.",
        "- Usage commitments: the whole commitment is released; you get back the amount paid "
        "× (1 − the larger of the share of units used and the share of the period elapsed), "
        "never less than zero.",
        "- Bundles: the bundle price is shared among its products in proportion to their "
        "standalone price × quantity; each product is then credited like seats.",
        "- Each line is rounded half up to the currency's smallest unit (for example 0 decimals "
        "for JPY, 2 for USD, 3 for KWD); the total is the sum of the rounded lines.",
        "- Credits for one paid period of one line never add up to more than was paid for it.",
        "## Terminations, prepaid and multi-year terms",
        termination,
        f"Of amounts prepaid for periods after the current one, "
        f"{rules.prepaid_refundable_share * 100:.0f}% of the released share is refundable.",
        "## How you receive it",
        "You choose among: " + "; ".join(forms) + ". " + payout,
        "## Approval",
        f"Every credit is approved by finance before it is issued: {steps}. Nobody approves a "
        f"credit they requested or calculated, or two steps of one credit. Each step is due "
        f"within {rules.step_deadline_hours} hours.",
        "## Disputes",
        f"You may dispute an issued credit within the portal; finance answers within "
        f"{rules.dispute_days} days.",
        "## Worked examples",
    ]
    for example in examples:
        sections.append(f"### {example['title']}")
        for line in example["lines"]:
            sections.append(f"- {line['id']}: {line['explanation']}")
            for component in line["components"]:
                sections.append(f"  - {component['id']}: {component['explanation']}")
        sections.extend(example["notes"])
        sections.append(
            f"Total credit: {money_text(Decimal(example['total']), example['currency'])}."
        )
    return "\n\n".join(sections), examples

"""The breach policy: a kind of `licensing.PolicyVersion`, read here into typed rules.

Rules are JSON; numbers that are not whole (the tolerance) are strings, so nothing passes
through a float. Version 1 is installed by data migration (see `breaches.bootstrap`).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from licensing.models import PolicyVersion
from licensing.selectors import policy_in_force

# Tolerances licence servers offer: how far over the entitled quantity usage may go before it
# counts as over-use.
TOLERANCES = (Decimal("1.0"), Decimal("1.25"), Decimal("1.5"), Decimal("2"))

BREACH_RULES_V1 = {
    "tolerance": "1.0",
    "consecutive_days": 3,
    "warning_thresholds": [80, 100],
    # What each classification allows. Grace: days a grace extension runs from the offer;
    # reduction: days the customer has to bring usage back; respond: days to the first
    # milestone; fee_percent: a fee on top of the license fees (shown apart), percent.
    "classifications": {
        "inadvertent": {
            "grace_days": 30, "reduction_days": 60, "respond_days": 14,
            "fee_percent": "0", "may_deprovision": False,
        },
        "willful": {
            "grace_days": 7, "reduction_days": 30, "respond_days": 7,
            "fee_percent": "10", "may_deprovision": True,
        },
    },
    # Days before a milestone's due date its contacts are reminded.
    "reminder_days": 3,
}  # fmt: skip

BREACH_SUMMARY_V1 = (
    "Usage counts as over-use when it is above the entitled quantity (tolerance 1.0) on 3 or "
    "more consecutive days. Customers and their account manager are warned when a day's usage "
    "first reaches 80% and 100% of the entitlement. Inadvertent cases get 30 days' grace and "
    "no fee; willful cases 7 days' grace, a 10% fee shown apart from license fees, and may "
    "lead to deprovisioning once their final deadline has passed."
)


@dataclass(frozen=True, slots=True)
class ClassificationRules:
    grace_days: int
    reduction_days: int
    respond_days: int
    fee_percent: Decimal
    may_deprovision: bool


@dataclass(frozen=True, slots=True)
class BreachRules:
    tolerance: Decimal
    consecutive_days: int
    warning_thresholds: tuple[int, ...]
    reminder_days: int
    classifications: dict[str, ClassificationRules]

    def for_classification(self, classification: str) -> ClassificationRules:
        """What a classification allows; an unclassified case is treated as inadvertent."""
        return self.classifications.get(classification) or self.classifications["inadvertent"]


def breach_rules(policy: PolicyVersion) -> BreachRules:
    rules = policy.rules
    defaults = BREACH_RULES_V1["classifications"]
    classes = {}
    for name, default in defaults.items():
        given = {**default, **rules.get("classifications", {}).get(name, {})}
        classes[name] = ClassificationRules(
            grace_days=int(given["grace_days"]),
            reduction_days=int(given["reduction_days"]),
            respond_days=int(given["respond_days"]),
            fee_percent=Decimal(str(given["fee_percent"])),
            may_deprovision=bool(given["may_deprovision"]),
        )
    return BreachRules(
        tolerance=Decimal(str(rules.get("tolerance", BREACH_RULES_V1["tolerance"]))),
        consecutive_days=int(rules.get("consecutive_days", BREACH_RULES_V1["consecutive_days"])),
        warning_thresholds=tuple(
            sorted(int(t) for t in rules.get("warning_thresholds", [80, 100]))
        ),
        reminder_days=int(rules.get("reminder_days", BREACH_RULES_V1["reminder_days"])),
        classifications=classes,
    )


def breach_policy(on: date) -> PolicyVersion:
    """The breach policy version in force on a day."""
    return policy_in_force(kind=PolicyVersion.Kind.BREACH, on=on)

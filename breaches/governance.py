"""The breaches panel of the governance dashboard (registered in BreachesConfig.ready): cases by
state, and the open ones by age."""

from datetime import date

from django.db.models import Count

from audit.governance import bar_chart

from .models import BreachCase

# Age of an open case in days since detection: (label, up to and including).
AGES = [("Up to 7 days", 7), ("8 to 30 days", 30), ("31 to 90 days", 90), ("Over 90 days", None)]


def _age_label(days: int) -> str:
    return next(label for label, limit in AGES if limit is None or days <= limit)


def breaches_panel(*, on: date, since: date) -> dict:
    states = dict(BreachCase.State.choices)
    opened = dict(
        BreachCase.objects.filter(detected_on__range=(since, on))
        .values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )  # fmt: skip
    open_cases = BreachCase.objects.filter(state__in=BreachCase.OPEN_STATES)
    by_age: dict[tuple[str, str], int] = {}
    for state, detected_on in open_cases.values_list("state", "detected_on"):
        key = (state, _age_label((on - detected_on).days))
        by_age[key] = by_age.get(key, 0) + 1
    open_states = [s for s in BreachCase.OPEN_STATES if any(k[0] == s for k in by_age)]
    ages = [label for label, _ in AGES]
    return {
        "tables": [
            {
                "title": "Cases detected in the period, by state now",
                "columns": ["State", "Cases"],
                "rows": [[states[s], opened[s]] for s in BreachCase.State.values if s in opened],
            },
            {
                "title": "Open cases by age",
                "columns": ["State", *ages],
                "rows": [[states[s], *[by_age.get((s, a), 0) for a in ages]] for s in open_states],
            },
        ],  # fmt: skip
        "charts": [
            {
                "title": "Open cases by age",
                "config": bar_chart(
                    [states[s] for s in open_states],
                    {a: [by_age.get((s, a), 0) for s in open_states] for a in ages},
                    stacked=True,
                ),
            },
        ],  # fmt: skip
    }

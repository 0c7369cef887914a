from django import template

from ..models import BreachCase

register = template.Library()


@register.filter
def case_state(value: str) -> str:
    """A case state as people read it: `remediation_offered` reads "Remediation offered"."""
    try:
        return BreachCase.State(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()

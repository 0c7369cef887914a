from datetime import date, timedelta

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str) -> str:
    """A column header that sorts by the field, and reverses when it already does."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    ordering, arrow, title = field, "", f"Sort by {label.lower()}"
    if current == field:
        ordering, arrow, title = f"-{field}", " ▲", f"Sorted by {label.lower()}, ascending"
    elif current == f"-{field}":
        arrow, title = " ▼", f"Sorted by {label.lower()}, descending"
    params["ordering"] = ordering
    params.pop("page", None)
    return format_html('<a href="?{}" title="{}">{}{}</a>', params.urlencode(), title, label, arrow)


@register.filter
def money(amount, currency: str) -> str:
    from licensing.money import round_money

    if amount is None:
        return "—"
    return f"{currency} {round_money(amount, currency):,}"


@register.filter
def delta(value) -> str:
    """A signed quantity change with thousands separators: +1,000, −25, 0."""
    if value in (None, ""):
        return "—"
    value = int(value)
    if value == 0:
        return "0"
    return f"{value:+,}".replace("-", "−")


@register.filter
def action_label(action: str) -> str:
    """A ledger action in words: `start_grace` reads "Start grace period"."""
    from licensing.services import TRANSITION_LABELS

    return TRANSITION_LABELS.get(action) or action.replace("_", " ").capitalize()


@register.filter
def last_day(end: date | None) -> date | None:
    """Ends are exclusive in the data; people read the last day that is still covered."""
    return end - timedelta(days=1) if end else end


BILLED = {"monthly": "billed monthly", "quarterly": "billed quarterly", "annual": "billed yearly"}


@register.filter
def billed(cycle: str) -> str:
    return BILLED.get(cycle, f"billed {cycle}")

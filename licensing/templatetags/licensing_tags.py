from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str) -> str:
    """A column header that sorts by the field, and reverses when it already does."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    ordering, arrow = field, ""
    if current == field:
        ordering, arrow = f"-{field}", " ▲"
    elif current == f"-{field}":
        arrow = " ▼"
    params["ordering"] = ordering
    params.pop("page", None)
    return format_html('<a href="?{}">{}{}</a>', params.urlencode(), label, arrow)


@register.filter
def money(amount, currency: str) -> str:
    from licensing.money import round_money

    if amount is None:
        return "—"
    return f"{currency} {round_money(amount, currency):,}"

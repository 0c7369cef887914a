from django import template
from django.utils.html import format_html_join

from .. import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def object_actions(context, place: str, obj=None):
    """The buttons other apps registered for this place, for this user and object."""
    user = context["request"].user
    return format_html_join(
        "\n",
        '<a class="{}" href="{}">{}</a>',
        (
            ("btn btn-primary" if action.primary else "btn", action.url(obj), action.label)
            for action in registry.actions_for(place, user, obj)
        ),
    )


@register.simple_tag(takes_context=True)
def object_panels(context, place: str, obj=None):
    """The sections other apps registered for this place, rendered with their own context."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    request = context["request"]
    return mark_safe(  # noqa: S308 (each panel is an autoescaped template of ours)
        "\n".join(
            render_to_string(template, panel_context, request=request)
            for template, panel_context in registry.panels_for(place, request, obj)
        )
    )

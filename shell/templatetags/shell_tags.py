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

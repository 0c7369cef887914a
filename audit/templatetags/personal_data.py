from django import template

from audit.personal import for_user

register = template.Library()


@register.filter
def personal(value, user):
    """`{{ customer.billing_email|personal:request.user }}`: clear or masked, by role."""
    return for_user(value, user)

"""The browsable API is a staff tool: its HTML forms list related objects in `<option>` lists.

Customers (and anyone without a staff role) get JSON only, so no form can show them another
customer's names or contract numbers whatever its field's queryset.
"""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer

from licensing.roles import is_staff_role


class StaffBrowsableNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        chosen = super().select_renderer(request, renderers, format_suffix)
        # The role is looked up only when HTML would be served: JSON requests pay no query.
        if isinstance(chosen[0], BrowsableAPIRenderer) and not is_staff_role(request.user):
            renderers = [r for r in renderers if not isinstance(r, BrowsableAPIRenderer)]
            return super().select_renderer(request, renderers, format_suffix)
        return chosen

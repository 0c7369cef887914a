"""Every write to the licensing core. One service is one transaction and one fact.

One module per room; callers use the names below, so a module can move without them noticing.
"""

from ._common import (
    CONTRACT_TRANSITIONS,
    ENTITLEMENT_TRANSITIONS,
    SYSTEM_USERNAME,
    TRANSITION_LABELS,
    system_actor,
)
from .api_tokens import (
    api_token_issue,
    api_token_refusal,
    api_token_renewal_refusal,
    api_tokens_renew_due,
)
from .billing import invoice_record, register_invoice_hook
from .catalogue import (
    LineSpec,
    bundle_create,
    contract_create,
    customer_create,
    plan_create,
    product_create,
)
from .entitlements import (
    contract_line_change_plan,
    contract_line_change_quantity,
    entitlement_change_quantity,
    entitlement_create,
    entitlement_extend,
)
from .lifecycle import (
    contract_transition,
    entitlement_transition,
    entitlements_bulk_transition,
    expire_ended_entitlements,
)
from .scheduling import (
    apply_due_changes,
    change_schedule,
    register_cancel_guard,
    scheduled_change_apply,
    scheduled_change_cancel,
    scheduled_change_cancel_refusal,
)

__all__ = [
    "CONTRACT_TRANSITIONS",
    "ENTITLEMENT_TRANSITIONS",
    "SYSTEM_USERNAME",
    "TRANSITION_LABELS",
    "LineSpec",
    "api_token_issue",
    "api_token_refusal",
    "api_token_renewal_refusal",
    "api_tokens_renew_due",
    "apply_due_changes",
    "change_schedule",
    "scheduled_change_apply",
    "scheduled_change_cancel",
    "scheduled_change_cancel_refusal",
    "register_cancel_guard",
    "bundle_create",
    "contract_create",
    "contract_line_change_plan",
    "contract_line_change_quantity",
    "contract_transition",
    "customer_create",
    "entitlement_change_quantity",
    "entitlement_create",
    "entitlement_extend",
    "entitlement_transition",
    "entitlements_bulk_transition",
    "expire_ended_entitlements",
    "invoice_record",
    "register_invoice_hook",
    "plan_create",
    "product_create",
    "system_actor",
]

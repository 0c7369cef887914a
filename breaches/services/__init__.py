"""Every write in breaches: keyword-only, with an actor and a reason, one module per room."""

from .calculator import true_up_calculator
from .cases import (
    TRANSITIONS,
    allowed_transitions,
    breach_case_assign,
    breach_case_classify,
    breach_case_note,
    breach_case_offer_refusal,
    breach_case_resolve_refusal,
    breach_case_transition,
    breach_case_transition_refusal,
)
from .communications import Attachment, communication_log, communication_send_email
from .deprovisioning import (
    breach_deprovision_approve,
    breach_deprovision_refusal,
    breach_deprovision_request,
)
from .detection import breach_detect, breach_detect_refusal
from .milestones import milestone_complete, milestone_create, milestones_process
from .options import (
    earlier_overuse_decide,
    remediation_option_adjust,
    remediation_option_drop,
    remediation_option_restore,
)
from .usage import usage_report_create, usage_report_refusal
from .warnings import usage_warning_dismiss, usage_warnings_raise

__all__ = [
    "TRANSITIONS", "Attachment", "allowed_transitions", "breach_case_assign",
    "breach_case_classify", "breach_case_note", "breach_case_offer_refusal",
    "breach_case_resolve_refusal", "breach_case_transition",
    "breach_case_transition_refusal", "breach_deprovision_approve", "breach_deprovision_refusal",
    "breach_deprovision_request", "breach_detect", "breach_detect_refusal",
    "communication_log", "communication_send_email", "earlier_overuse_decide",
    "milestone_complete", "milestone_create", "milestones_process",
    "remediation_option_adjust", "remediation_option_drop", "remediation_option_restore",
    "true_up_calculator", "usage_report_create", "usage_report_refusal",
    "usage_warning_dismiss", "usage_warnings_raise",
]  # fmt: skip

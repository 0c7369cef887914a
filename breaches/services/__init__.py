"""Every write in breaches: keyword-only, with an actor and a reason, one module per room."""

from .calculator import true_up_calculator
from .usage import usage_report_create, usage_report_refusal

__all__ = ["true_up_calculator", "usage_report_create", "usage_report_refusal"]

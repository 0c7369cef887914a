"""Every write in breaches: keyword-only, with an actor and a reason, one module per room."""

from .usage import usage_report_create, usage_report_refusal

__all__ = ["usage_report_create", "usage_report_refusal"]

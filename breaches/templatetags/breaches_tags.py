from django import template

from ..models import BreachCase

register = template.Library()


@register.filter
def event_line(event, user) -> str:
    """A timeline entry's line as the reader may read it (`CaseEvent.line_for`)."""
    return event.line_for(user)


@register.filter
def case_state(value: str) -> str:
    """A case state as people read it: `remediation_offered` reads "Remediation offered"."""
    try:
        return BreachCase.State(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


# The states in the customer's words: what it means for them, not our workflow.
CUSTOMER_STATES = {
    "detected": ("Being checked", "Our records show use above what your contract grants. We "
                 "are checking the figures before we talk it through with you; nothing changes "
                 "to your service while we do."),
    "under_review": ("Being checked", "We are checking these figures against our records. "
                     "Your contact will be in touch if there is anything to agree; nothing "
                     "changes to your service meanwhile."),
    "dismissed": ("Closed, nothing to do", "We checked the figures and closed this case: there "
                  "is nothing to pay and nothing for you to do."),
    "confirmed": ("Being prepared", "We have checked the figures below with our records and are "
                  "preparing ways back to compliance for you to choose from."),
    "remediation_offered": ("Your choice", "These are the ways back to compliance we can offer. "
                            "Choose the one that suits you best, or talk to your contact."),
    "remediation_agreed": ("Agreed", "Thank you for choosing. We will confirm the next steps "
                           "with you."),
    "in_remediation": ("Under way", "The agreed option is being carried out. The case closes "
                       "once usage reported after the agreement is within the entitlement."),
    "resolved": ("Resolved", "Resolved: usage is back within the entitlement. Thank you."),
    "escalated": ("With account management", "Our account management team is looking at this "
                  "case; your contact will be in touch."),
}  # fmt: skip


@register.filter
def customer_state(value: str) -> str:
    return CUSTOMER_STATES.get(value, (case_state(value), ""))[0]


@register.filter
def customer_state_text(value: str) -> str:
    return CUSTOMER_STATES.get(value, ("", ""))[1]

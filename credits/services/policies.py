"""Credit policy versions: drafted, then published with engine-written text."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.models import Customer
from outbox.services import mail_enqueue

from ..models import (
    CreditPolicyVersion,
)
from ..policy_text import render_policy
from ..rules import RulesError, parse_rules
from ._common import _stamp


@transaction.atomic
def policy_create_draft(
    *, actor, rules: dict, title: str, introduction: str, effective_from: date,
    change_summary: str,
) -> CreditPolicyVersion:  # fmt: skip
    if not actor.has_perm("credits.add_creditpolicyversion"):
        raise ActionForbidden("Only the financial controller drafts credit policies.")
    parse_rules(rules)  # RulesError names each wrong field
    number = (CreditPolicyVersion.objects.order_by("-number").values_list("number", flat=True)
              .first() or 0) + 1  # fmt: skip
    policy = CreditPolicyVersion(
        number=number, rules=rules, title=title, introduction=introduction,
        effective_from=effective_from, change_summary=change_summary,
    )  # fmt: skip
    _stamp(policy, actor=actor, reason="Drafted")
    policy.save()
    audit_record(actor=actor, action="credit_policy.draft", object_type="credits.policy",
                 object_id=policy.pk, policy_version=policy.label,
                 data={"rules": rules, "effective_from": effective_from})  # fmt: skip
    return policy


@transaction.atomic
def policy_publish(*, actor, policy_id: int, on: date) -> CreditPolicyVersion:
    """Freeze a draft: write its text and worked examples with the engine, tell customers.

    `on` is today, read once by the caller: the version must take effect after it.
    """
    if not actor.has_perm("credits.add_creditpolicyversion"):
        raise ActionForbidden("Only the financial controller publishes credit policies.")
    policy = CreditPolicyVersion.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise DomainError(f"There is no credit policy version {policy_id}.")
    if policy.status != CreditPolicyVersion.Status.DRAFT:
        raise TransitionNotAllowed(f"{policy.name} is {policy.status}; only a draft publishes.")
    if policy.effective_from <= on:
        raise DomainError(
            "A new version must take effect after today, so customers are told first."
        )
    try:
        rules = parse_rules(policy.rules)
    except RulesError as error:
        raise DomainError(f"The rules are not valid: {error}") from None
    policy.text, policy.examples = render_policy(
        rules, title=policy.title, introduction=policy.introduction
    )
    policy.status = CreditPolicyVersion.Status.PUBLISHED
    policy.published_at, policy.published_by = timezone.now(), actor
    # The notices go to the outbox in this transaction, so publishing and telling customers are
    # one fact; tasks deliver them after commit.
    policy.customers_notified_at = policy.published_at
    _stamp(policy, actor=actor, reason="Published")
    policy.save()
    audit_record(actor=actor, action="credit_policy.publish", object_type="credits.policy",
                 object_id=policy.pk, policy_version=policy.label,
                 data={"effective_from": policy.effective_from})  # fmt: skip
    _notify_customers_of_policy(policy)
    return policy


def _notify_customers_of_policy(policy: CreditPolicyVersion) -> None:
    emails = set(Customer.objects.exclude(billing_email="").values_list("billing_email", flat=True))
    emails |= set(
        get_user_model()
        .objects.filter(customer_membership__isnull=False)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    subject = f"Our credit policy changes on {policy.effective_from:%-d %B %Y}"
    body = (
        f"Version {policy.number} of our credit policy takes effect on "
        f"{policy.effective_from:%-d %B %Y}.\n\nWhat changes: {policy.change_summary}\n\n"
        f"Read it, with worked examples, in the customer portal under Credit policy."
    )
    # One mail per address: customers never see each other's addresses.
    for email in sorted(emails):
        mail_enqueue(kind="credit_policy.publish", to=[email], subject=subject, body=body)

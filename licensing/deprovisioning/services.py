"""Every write of deprovisioning: policy, systems, assignments, runs, holds, deliveries.

A run is driven by ``run_advance``, which is safe to call any number of times: it locks the run,
looks at its state and the clock (``on``), does the next step that is due and returns. Tasks,
the nightly job and the API all call it; HTTP to connected systems and PDF rendering happen
outside its transactions.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import audit_record
from outbox.services import mail_enqueue

from .. import services as licensing
from ..errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from ..models import (
    Assignment,
    ConnectedSystem,
    Contract,
    Entitlement,
    Invoice,
    PolicyVersion,
)
from ..selectors import policy_in_force
from ..services._common import _require_reason, _stamp
from .connectors import Change, ConnectorError, connector_for
from .connectors.webhook import check_webhook_secret
from .models import BlackoutWindow, Delivery, DeprovisioningHold, DeprovisioningRun
from .selectors import run_entitlements, run_reason_prefix
from .systems import base_url_refusal, open_secret, seal_secret

Run = DeprovisioningRun
DEFAULT_MAX_ATTEMPTS = 5
# Past this, a queued delivery nobody attempted (or a failed one never retried; backoff is at
# most an hour) counts as lost and is queued again.
LOST_AFTER = timedelta(hours=2)


def revocation_policy(on: date) -> PolicyVersion:
    return policy_in_force(kind=PolicyVersion.Kind.REVOCATION, on=on)


def max_attempts(policy: PolicyVersion) -> int:
    return int(policy.rules.get("max_attempts", DEFAULT_MAX_ATTEMPTS))


def _audit(actor, action: str, obj, *, reason: str = "", policy=None, data=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=f"licensing.{obj._meta.model_name}",
        object_id=obj.pk,
        reason=reason,
        policy_version=policy.label if policy else "",
        data=data or {},
    )


# Policy versions ------------------------------------------------------------------------------

# Whole-number rules of a revocation policy and the range each may take.
REVOCATION_BOUNDS = {
    "nonpayment_days_after_due": (0, 365),
    "notice_lead_days": (0, 90),
    "max_grace_days": (0, 365),
    "max_attempts": (1, 20),
}
REVOCATION_FLAGS = ("delete_at_identity_providers", "suppress_renewal")


def revocation_rules_errors(rules) -> dict[str, str]:
    """What is wrong with a revocation policy's rules, by rule; empty when nothing is."""
    if not isinstance(rules, dict):
        return {"rules": "Rules are a JSON object."}
    errors = {}
    known = {*REVOCATION_BOUNDS, *REVOCATION_FLAGS, "triggers", "revoke_order"}
    for name in sorted(set(rules) - known):
        errors[name] = f"'{name}' is not a rule of revocation policies."
    for name, (low, high) in REVOCATION_BOUNDS.items():
        value = rules.get(name, low)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"A whole number from {low} to {high}."
    for name in REVOCATION_FLAGS:
        if name in rules and not isinstance(rules[name], bool):
            errors[name] = "true or false."
    triggers = rules.get("triggers", [])
    if not isinstance(triggers, list) or set(triggers) - set(Run.Trigger.values):
        errors["triggers"] = f"A list drawn from {', '.join(Run.Trigger.values)}."
    order = rules.get("revoke_order", [])
    if (
        not isinstance(order, list) or len(set(order)) != len(order)
        or set(order) - set(Entitlement.Kind.values)
    ):  # fmt: skip
        errors["revoke_order"] = (
            f"Each kind at most once, from {', '.join(Entitlement.Kind.values)}."
        )
    return errors


def _check_rules(kind: str, rules) -> None:
    if kind != PolicyVersion.Kind.REVOCATION:
        return
    errors = revocation_rules_errors(rules)
    if errors:
        name, message = next(iter(errors.items()))
        raise DomainError(f"{name}: {message}", field="rules")


@transaction.atomic
def policy_draft(
    *, actor, kind: str, rules: dict, summary: str, effective_from: date, reason: str
) -> PolicyVersion:
    """A new draft of a policy kind; its summary is the changelog entry."""
    if not actor.has_perm("licensing.add_policyversion"):
        raise ActionForbidden("Your role may not draft policies.")
    reason = _require_reason(reason)
    if not (summary or "").strip():
        raise DomainError("Say what changes: the summary is the changelog entry.", field="summary")
    _check_rules(kind, rules)
    number = (
        PolicyVersion.objects.filter(kind=kind).order_by("-number")
        .values_list("number", flat=True).first() or 0
    ) + 1  # fmt: skip
    policy = PolicyVersion(
        kind=kind, number=number, rules=rules, summary=summary.strip(),
        effective_from=effective_from, drafted_by=actor,
    )  # fmt: skip
    _stamp(policy, actor=actor, reason=reason)
    policy.save()
    _audit(actor, "policy.draft", policy, reason=reason, policy=policy, data={"rules": rules})
    return policy


def policy_publish_refusal(actor, policy: PolicyVersion) -> str | None:
    """Why ``actor`` may not publish ``policy`` now, or ``None``: asked by pages, enforced below."""
    if not actor.has_perm("licensing.change_policyversion"):
        return "Your role may not publish policies."
    if policy.status != PolicyVersion.Status.DRAFT:
        return f"{policy.label} is {policy.status}; only a draft publishes."
    if policy.drafted_by_id == actor.pk:
        return "Somebody other than its drafter must publish a policy."
    return None


@transaction.atomic
def policy_publish(*, actor, policy_id: int, reason: str, on: date) -> PolicyVersion:
    """Publish a draft; a second person must do it, and it is immutable from then on."""
    if not actor.has_perm("licensing.change_policyversion"):
        raise ActionForbidden("Your role may not publish policies.")
    reason = _require_reason(reason)
    policy = PolicyVersion.objects.select_for_update().get(pk=policy_id)
    refusal = policy_publish_refusal(actor, policy)
    if refusal:
        drafter = policy.status == PolicyVersion.Status.DRAFT
        raise (ActionForbidden if drafter else TransitionNotAllowed)(refusal)
    if policy.effective_from < on:
        raise DomainError("A policy cannot take effect in the past.", field="effective_from")
    _check_rules(policy.kind, policy.rules)
    policy.status = PolicyVersion.Status.PUBLISHED
    policy.published_at, policy.published_by = timezone.now(), actor
    _stamp(policy, actor=actor, reason=reason)
    policy.save()
    _audit(actor, "policy.publish", policy, reason=reason, policy=policy,
           data={"effective_from": policy.effective_from})  # fmt: skip
    return policy


def policy_update_draft(*, actor, policy_id: int, rules: dict) -> PolicyVersion:
    with transaction.atomic():
        policy = PolicyVersion.objects.select_for_update().get(pk=policy_id)
        if policy.status != PolicyVersion.Status.DRAFT:
            raise TransitionNotAllowed(f"{policy.label} is published and cannot change.")
        _check_rules(policy.kind, rules)
        policy.rules = rules
        _stamp(policy, actor=actor, reason="Draft edited")
        policy.save(update_fields=["rules"])
        return policy


# Connected systems and assignments ------------------------------------------------------------


def connected_system_refusal(*, protocol: str, base_url: str, secret: str) -> dict[str, str]:
    """What is wrong with a system's connection details, by field; empty when nothing is."""
    errors = {}
    if protocol:
        refusal = base_url_refusal(base_url, debug=settings.DEBUG)
        if refusal:
            errors["base_url"] = refusal
        if not secret:
            errors["secret"] = "A system that is sent changes needs a secret."
    if protocol == ConnectedSystem.Protocol.WEBHOOK and secret:
        try:
            check_webhook_secret(secret)
        except ValueError as error:
            errors["secret"] = str(error)
    return errors


@transaction.atomic
def connected_system_create(
    *, actor, name: str, kind: str, protocol: str, base_url: str, secret: str,
    timeout: int = 10, reason: str = "New connected system",
) -> ConnectedSystem:  # fmt: skip
    if not actor.is_superuser:
        raise ActionForbidden("Only an administrator connects systems.")
    errors = connected_system_refusal(protocol=protocol, base_url=base_url, secret=secret)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field=field)
    system = ConnectedSystem(
        name=name, kind=kind, protocol=protocol, base_url=base_url, timeout=timeout,
        secret_sealed=seal_secret(secret) if secret else "",
    )  # fmt: skip
    _stamp(system, actor=actor, reason=reason)
    # The unique name is the database's to keep: a check beforehand would pass for both of
    # two identical requests sent at once.
    try:
        with transaction.atomic():
            system.save()
    except IntegrityError:
        raise ConflictError(f"A system named {name} already exists.", field="name") from None
    # Never the secret, not even sealed.
    _audit(actor, "connected_system.create", system, reason=reason,
           data={"name": name, "protocol": protocol, "base_url": base_url})  # fmt: skip
    return system


@transaction.atomic
def assignment_create(
    *, actor, entitlement: Entitlement, system: ConnectedSystem, external_id: str,
    group_id: str = "", holder_name: str = "", group_name: str = "",
    reason: str = "Holder assigned",
) -> Assignment:  # fmt: skip
    """Record who holds ``entitlement`` at ``system``. Names not given are read from a SCIM
    system after commit, so pages can name the holder and group rather than show their ids."""
    if not actor.has_perm("licensing.add_assignment"):
        raise ActionForbidden("Your role may not assign holders.")
    if Assignment.objects.filter(
        entitlement=entitlement, system=system, external_id=external_id
    ).exists():
        raise DomainError(f"{external_id} already holds it at {system}.", field="external_id")
    assignment = Assignment(
        entitlement=entitlement, system=system, external_id=external_id, group_id=group_id,
        holder_name=holder_name.strip(), group_name=group_name.strip(),
    )  # fmt: skip
    _stamp(assignment, actor=actor, reason=reason)
    assignment.save()
    # A holder there means the system enforces it: pages list it under "enforced by".
    entitlement.enforced_by.add(system)
    data = {"entitlement": entitlement.pk, "system": system.pk, "external_id": external_id}
    _audit(actor, "assignment.create", assignment, reason=reason, data=data)
    unnamed = not assignment.holder_name or (group_id and not assignment.group_name)
    if system.protocol == ConnectedSystem.Protocol.SCIM2 and unnamed:
        from .tasks import name_assignment

        transaction.on_commit(lambda: name_assignment.delay(assignment.pk), robust=True)
    return assignment


def assignment_name(*, assignment_id: int) -> Assignment:
    """Read the holder's and group's names from the SCIM system and keep them on the row.

    HTTP first, outside any transaction; a system that cannot answer leaves the names empty
    (pages then show the id) and changes nothing else.
    """
    assignment = Assignment.objects.select_related("system").get(pk=assignment_id)
    connector = _connector(assignment.system)
    try:
        holder, group = connector.names(
            assignment.external_id, group_id=assignment.group_id or None
        )
    except ConnectorError:
        return assignment
    finally:
        connector.close()
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        changed = [
            name for name, value in (("holder_name", holder), ("group_name", group))
            if value and not getattr(assignment, name)
        ]  # fmt: skip
        if changed:
            assignment.holder_name = assignment.holder_name or holder[:255]
            assignment.group_name = assignment.group_name or group[:255]
            actor = licensing.system_actor()
            _stamp(assignment, actor=actor, reason="Names read from the identity provider")
            assignment.save(update_fields=changed)
    return assignment


# Runs -----------------------------------------------------------------------------------------


def _execution_day(contract_id: int, day: date) -> date:
    """``day``, or the end of any blackout window it falls in (windows may chain)."""
    while True:
        windows = BlackoutWindow.objects.filter(contract_id=contract_id, starts_on__lte=day)
        window = windows.filter(ends_on__gt=day).order_by("-ends_on").first()
        if window is None:
            return day
        day = window.ends_on


def _grace_days(contract: Contract, policy: PolicyVersion) -> int:
    """Only what the contract grants, never longer than the policy allows."""
    return min(contract.grace_days, int(policy.rules.get("max_grace_days", contract.grace_days)))


def _suppress_renewal(
    *, actor, contract: Contract, reason: str, policy, only: int | None = None
) -> int:
    """Renewal stops at once: for the whole contract, or ``only`` that entitlement."""
    rows = Entitlement.objects.select_for_update(of=("self",)).filter(contract=contract)
    if only is not None:
        rows = rows.filter(pk=only)
    entitlements = list(rows.exclude(renewal=Entitlement.Renewal.NONE).order_by("pk"))
    if not entitlements:
        return 0
    Entitlement.objects.filter(pk__in=[e.pk for e in entitlements]).update(
        renewal=Entitlement.Renewal.NONE
    )
    for entitlement in entitlements:
        entitlement.renewal = Entitlement.Renewal.NONE
    Entitlement.history.bulk_history_create(
        entitlements, update=True, default_user=actor, default_change_reason=reason
    )
    _audit(actor, "contract.suppress_renewal", contract, reason=reason, policy=policy,
           data={"entitlements": [e.pk for e in entitlements]})  # fmt: skip
    return len(entitlements)


# States in which an entitlement gives nothing a run could take: gone already, or never
# activated (a pending entitlement granted nothing, and a terminated contract activates none).
NOTHING_TO_TAKE = (Entitlement.State.REVOKED, Entitlement.State.EXPIRED, Entitlement.State.PENDING)


def _plan_deliveries(run: Run, policy: PolicyVersion) -> list[Delivery]:
    """One revoke delivery per holder at a system that is sent changes (ids only: a contract
    may hold 10,000 entitlements, and loading each with its system costs more than the insert).
    Safe to call again: holders that already have a delivery in the run are left out."""
    delete = bool(policy.rules.get("delete_at_identity_providers", False))
    scheduled = run.execute_on + timedelta(days=run.grace_days)
    holders = Assignment.objects.filter(entitlement__contract_id=run.contract_id)
    if run.entitlement_id:
        holders = holders.filter(entitlement_id=run.entitlement_id)
    holders = (
        holders
        .exclude(entitlement__state__in=NOTHING_TO_TAKE)
        .exclude(system__protocol="").exclude(deliveries__run=run)
        .order_by("pk").values_list("pk", "entitlement_id", "system_id", "external_id",
                                    "system__kind")
    )  # fmt: skip
    idp = ConnectedSystem.Kind.IDENTITY_PROVIDER
    deliveries = [
        Delivery(
            run=run,
            assignment_id=pk,
            entitlement_id=entitlement_id,
            system_id=system_id,
            external_id=external_id,
            action=Delivery.Action.REVOKE,
            delete=delete and kind == idp,
            scheduled_for=scheduled,
            idempotency_key=f"msg_{uuid.uuid4().hex}",
            policy=policy,
        )  # fmt: skip
        for pk, entitlement_id, system_id, external_id, kind in holders
    ]
    return Delivery.objects.bulk_create(deliveries, batch_size=2000)


def trigger_refusal(trigger: str, policy: PolicyVersion) -> str | None:
    """Why ``trigger`` may not start a run under ``policy``, or ``None`` if it may."""
    if trigger not in Run.Trigger.values:
        return f"'{trigger}' is not a deprovisioning trigger."
    if trigger not in policy.rules.get("triggers", Run.Trigger.values):
        return f"{policy.label} does not deprovision on {Run.Trigger(trigger).label.lower()}."
    return None


@transaction.atomic
def run_start(
    *, actor, contract: Contract, trigger: str, reason: str, effective_date: date, on: date
) -> Run:
    """The contract's open run, joined, or a new one planned; renewal stops at once."""
    reason = _require_reason(reason)
    refusal = trigger_refusal(trigger, revocation_policy(on))
    if refusal:
        raise DomainError(refusal, field="trigger")
    open_run = (
        Run.objects.select_for_update()
        .filter(contract=contract, state__in=Run.JOINABLE_STATES, entitlement__isnull=True)
        .first()
    )  # fmt: skip
    if open_run is not None:
        _audit(actor, "deprovisioning.join", open_run, reason=reason, policy=open_run.policy,
               data={"trigger": trigger})  # fmt: skip
        return open_run
    policy = revocation_policy(on)
    lead = int(policy.rules.get("notice_lead_days", 0))
    execute_on = _execution_day(contract.pk, max(effective_date, on + timedelta(days=lead)))
    run = Run(
        contract=contract, trigger=trigger, policy=policy, reason=reason,
        effective_date=effective_date, execute_on=execute_on, created_by=actor,
    )  # fmt: skip
    run.grace_days = _grace_days(contract, policy)
    _stamp(run, actor=actor, reason=reason)
    run.save()
    if policy.rules.get("suppress_renewal", True):
        _suppress_renewal(actor=actor, contract=contract, reason=reason, policy=policy)
    deliveries = _plan_deliveries(run, policy)
    _audit(actor, "deprovisioning.plan", run, reason=reason, policy=policy, data={
        "trigger": trigger, "effective_date": effective_date, "execute_on": execute_on,
        "grace_days": run.grace_days, "deliveries": len(deliveries),
    })  # fmt: skip
    _advance_on_commit(run.pk)
    return run


def _advance_on_commit(run_id: int) -> None:
    from .tasks import advance_run

    transaction.on_commit(lambda: advance_run.delay(run_id), robust=True)


@transaction.atomic
def contract_terminate(
    *, actor, contract_id: int, reason: str, effective_date: date | None = None, on: date,
    expected_version: int | None = None,
) -> tuple[Contract, Run]:  # fmt: skip
    """Terminate the contract and start (or join) its deprovisioning run."""
    contract = licensing.contract_transition(
        actor=actor, contract_id=contract_id, transition="terminate", reason=reason,
        expected_version=expected_version, on=on,
    )  # fmt: skip
    run = run_start(
        actor=actor, contract=contract, trigger=Run.Trigger.TERMINATION, reason=reason,
        effective_date=effective_date or on, on=on,
    )  # fmt: skip
    return contract, run


def _save_run(run: Run, *, actor, reason: str, action: str, data=None) -> None:
    _stamp(run, actor=actor, reason=reason)
    run.save()
    _audit(actor, f"deprovisioning.{action}", run, reason=reason, policy=run.policy,
           data={"state": run.state, **(data or {})})  # fmt: skip


def _locked(run_id: int) -> Run:
    return (
        Run.objects.select_for_update(of=("self",))
        .select_related("contract", "policy")
        .get(pk=run_id)
    )


def _active_holds(contract_id: int):
    return DeprovisioningHold.objects.filter(contract_id=contract_id, lifted_at__isnull=True)


def run_advance(*, run_id: int, on: date) -> Run:
    """Do whatever step of the run is due now; safe to call again at any time."""
    run = Run.objects.get(pk=run_id)
    if run.state == Run.State.PLANNED:
        _run_notify(run_id, on=on)
    with transaction.atomic():
        run = _locked(run_id)
        if run.state == Run.State.NOTIFIED:
            _run_try_execute(run, on=on)
    _send_due(run_id, on=on)
    with transaction.atomic():
        run = _locked(run_id)
        if run.state == Run.State.EXECUTING:
            _run_try_finish(run)
    if run.state == Run.State.VERIFYING:
        _run_verify(run_id)
    return Run.objects.get(pk=run_id)


def _run_notify(run_id: int, *, on: date) -> None:
    from .notice import notice_attachment, notice_mail, render_notice

    run = Run.objects.select_related(
        "contract__customer", "contract__account_manager", "entitlement"
    ).get(pk=run_id)
    pdf = render_notice(run, on=on)  # outside any transaction: rendering takes a while
    actor = licensing.system_actor()
    with transaction.atomic():
        run = _locked(run_id)
        if run.state != Run.State.PLANNED:
            return
        run.notice_pdf, run.notice_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        run.notified_at = timezone.now()
        run.notify()
        subject, body, recipients = notice_mail(run)
        sent = mail_enqueue(kind="deprovisioning.notice", to=recipients, subject=subject,
                            body=body, attachments=[notice_attachment(run)])  # fmt: skip
        # How many were told, not who: the addresses are sealed on the mail (audit.sealing).
        told = len(sent.recipients) if sent else 0
        _save_run(run, actor=actor, reason="Customer told before anything stops",
                  action="notify", data={"notice_sha256": run.notice_sha256,
                                         "recipient_count": told})  # fmt: skip


def _run_try_execute(run: Run, *, on: date, actor=None, reason: str = "") -> None:
    actor = actor or licensing.system_actor()
    if _active_holds(run.contract_id).exists():
        run.hold()
        _save_run(run, actor=actor, reason="The contract is under hold", action="hold")
        return
    day = _execution_day(run.contract_id, run.execute_on)
    if day != run.execute_on:
        run.execute_on = day
        _save_run(run, actor=actor, reason="Deferred past a blackout window", action="defer",
                  data={"execute_on": day})  # fmt: skip
        _reschedule(run)
    if run.execute_on > on:
        return
    run.execute()
    _save_run(run, actor=actor, reason=reason or "Due: executing", action="execute")
    _transition_entitlements(run, actor=actor, on=on)


def _reschedule(run: Run) -> None:
    run.deliveries.filter(state=Delivery.State.PENDING, action=Delivery.Action.REVOKE).update(
        scheduled_for=run.execute_on + timedelta(days=run.grace_days)
    )


def _transition_entitlements(run: Run, *, actor, on: date) -> None:
    """Kind by kind in the policy's order: grace where the contract grants it, else revoke."""
    transition = "start_grace" if run.grace_days else "revoke"
    reason = f"{run_reason_prefix(run)} {run.reason}"
    # The run's policy decides, so ledger and audit name it; grace is the run's (capped) days.
    only = [run.entitlement_id] if run.entitlement_id else None
    for kind in revoke_order(run.policy):
        licensing.entitlements_bulk_transition(
            actor=actor, contract_id=run.contract_id, transition=transition, reason=reason,
            effective_date=on, kinds=[kind], policy=run.policy, grace_days=run.grace_days,
            entitlement_ids=only,
        )  # fmt: skip
    # An entitlement activated (or released from hold) since the run was planned has holders
    # that need telling too.
    _plan_deliveries(run, run.policy)


def revoke_order(policy: PolicyVersion) -> list[str]:
    """Entitlement kinds in the order the policy revokes them; kinds it omits come last."""
    order = list(policy.rules.get("revoke_order", []))
    return order + [k for k in Entitlement.Kind.values if k not in order]


def _send_due(run_id: int, *, on: date) -> None:
    from .tasks import enqueue_deliveries

    # First attempts not queued yet: a failed delivery's retry is already queued with its
    # backoff, and every batch sent calls this again. Claimed under lock, so queued once. A
    # message lost on its way (queued long ago, still pending; failed and never retried) is
    # queued again, so nothing waits forever unseen; a duplicate changes nothing (the attempt
    # claims its delivery).
    stale = timezone.now() - LOST_AFTER
    waiting = (
        Q(state=Delivery.State.PENDING) & (Q(queued_at__isnull=True) | Q(queued_at__lt=stale))
    ) | Q(state=Delivery.State.FAILED, sent_at__lt=stale)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True).filter(
                waiting, run_id=run_id, run__state=Run.State.EXECUTING, scheduled_for__lte=on,
                entitlement__state=Entitlement.State.REVOKED,
            ).order_by("scheduled_for", "pk").values_list("pk", flat=True)
        )  # fmt: skip
        if due:
            Delivery.objects.filter(pk__in=due).update(queued_at=timezone.now())
            transaction.on_commit(lambda: enqueue_deliveries(due), robust=True)


def _run_try_finish(run: Run) -> None:
    """Verify once every delivery that can be sent is answered and no grace is running.

    A delivery is sent only once its entitlement is revoked; one the run could not revoke
    (held: revocation does not take an entitlement from that state) keeps its delivery unsent
    and the run ends ``failed`` naming it, so a person releases the hold and executes again.
    """
    entitlements = run_entitlements(run)
    if entitlements.filter(state=Entitlement.State.GRACE).exists():
        return
    states = set(
        run.deliveries.filter(entitlement__state=Entitlement.State.REVOKED)
        .values_list("state", flat=True)
    )  # fmt: skip
    if states - {Delivery.State.CONFIRMED, Delivery.State.ESCALATED}:
        return
    actor = licensing.system_actor()
    kept = list(
        entitlements.exclude(state__in=NOTHING_TO_TAKE).order_by("pk").values_list("pk", "state")
    )  # fmt: skip
    if kept:
        held = [pk for pk, state in kept if state == Entitlement.State.HELD]
        run.fail()
        _save_run(
            run, actor=actor, action="fail",
            reason=f"{len(kept)} entitlement{'s' if len(kept) != 1 else ''} could not be revoked "
            f"({', '.join(sorted({Entitlement.State(s).label.lower() for _, s in kept}))}): "
            "a person must act, then execute the run again",
            data={"not_revoked": [pk for pk, _ in kept], "held": held},
        )  # fmt: skip
        return
    if Delivery.State.ESCALATED in states:
        run.fail()
        _save_run(run, actor=actor, reason="A delivery escalated: a person must act",
                  action="fail")  # fmt: skip
        return
    run.verify()
    _save_run(run, actor=actor, reason="Every delivery confirmed; reading all back",
              action="verify")  # fmt: skip


def _run_verify(run_id: int) -> None:
    """Read every holder back once more; the run completes only if all agree."""
    disagreeing = []
    # Only what was sent: a delivery planned for an entitlement that was never activated
    # (planned before pending ones were left out) is not read back.
    sent = Delivery.objects.filter(run_id=run_id, state=Delivery.State.CONFIRMED)
    for delivery in sent.select_related("system", "assignment"):
        try:
            if not _reads_as_done(delivery):
                disagreeing.append(delivery.pk)
        except ConnectorError:
            disagreeing.append(delivery.pk)
    actor = licensing.system_actor()
    with transaction.atomic():
        run = _locked(run_id)
        if run.state != Run.State.VERIFYING:
            return
        if disagreeing:
            run.fail()
            _save_run(run, actor=actor, reason="Read-back disagrees", action="fail",
                      data={"deliveries": disagreeing})  # fmt: skip
        else:
            run.complete()
            run.completed_at = timezone.now()
            _save_run(run, actor=actor, reason="Every system confirmed", action="complete")


def run_execute_refusal(actor, run: Run, *, held: bool | None = None) -> str | None:
    """Why ``actor`` may not execute ``run`` now, or ``None``. ``held``: whether the contract
    has an active hold, when the caller already knows (a page that lists the holds)."""
    if not actor.has_perm("licensing.change_deprovisioningrun"):
        return "Your role may not execute deprovisioning runs."
    if held is None:
        held = _active_holds(run.contract_id).exists()
    if run.state == Run.State.ON_HOLD or held:
        return f"Run {run.pk} waits on a hold; lift the hold first."
    if run.state not in (Run.State.PLANNED, Run.State.NOTIFIED, Run.State.FAILED):
        return f"Run {run.pk} is {run.get_state_display().lower()}."
    return None


@transaction.atomic
def run_execute(*, actor, run_id: int, reason: str, on: date) -> Run:
    """Execute now, whatever its date; refused while the contract is under hold."""
    if not actor.has_perm("licensing.change_deprovisioningrun"):
        raise ActionForbidden("Your role may not execute deprovisioning runs.")
    reason = _require_reason(reason)
    run = _locked(run_id)
    refusal = run_execute_refusal(actor, run)
    if refusal:
        raise TransitionNotAllowed(refusal)
    if run.execute_on > on:
        run.execute_on = on
        _reschedule(run)
    if run.state == Run.State.FAILED:
        # A person acts: escalated deliveries get a fresh ceiling.
        run.deliveries.filter(state=Delivery.State.ESCALATED, closed_at__isnull=True).update(
            state=Delivery.State.PENDING, attempts=0, escalated_at=None, queued_at=None
        )
        run.execute()
        # What the run could not revoke before (a hold since released) is revoked now.
        _transition_entitlements(run, actor=actor, on=on)
    _save_run(run, actor=actor, reason=reason, action="execute_requested")
    _advance_on_commit(run.pk)
    return run


# Holds ----------------------------------------------------------------------------------------


def _governing_policy(contract_id: int, on: date) -> PolicyVersion:
    """The revocation policy a hold or blackout is decided under: the open run's, whose
    execution it changes, or else the one in force on ``on``."""
    run = (
        Run.objects.filter(contract_id=contract_id, state__in=Run.OPEN_STATES)
        .select_related("policy").defer("notice_pdf").order_by("-created_at", "-pk").first()
    )  # fmt: skip
    return run.policy if run is not None else revocation_policy(on)


@transaction.atomic
def hold_place(
    *, actor, contract: Contract, kind: str, reason: str, on: date
) -> DeprovisioningHold:
    if not actor.has_perm("licensing.add_deprovisioninghold"):
        raise ActionForbidden("Your role may not place holds.")
    reason = _require_reason(reason)
    if kind not in DeprovisioningHold.Kind.values:
        raise DomainError(f"'{kind}' is not a kind of hold.", field="kind")
    policy = _governing_policy(contract.pk, on)
    hold = DeprovisioningHold(
        contract=contract, kind=kind, reason=reason, placed_by=actor, policy=policy
    )
    _stamp(hold, actor=actor, reason=reason)
    hold.save()
    _audit(actor, "deprovisioning_hold.place", hold, reason=reason, policy=policy,
           data={"kind": kind})  # fmt: skip
    # A run told to the customer but not yet due waits too, so its page says so at once.
    run = (
        Run.objects.select_for_update()
        .filter(contract=contract, state__in=[Run.State.NOTIFIED, Run.State.EXECUTING]).first()
    )  # fmt: skip
    if run is not None and can_proceed(run.hold):
        run.hold()
        _save_run(run, actor=actor, reason=reason, action="hold")
    return hold


def hold_lift_refusal(actor, hold: DeprovisioningHold) -> str | None:
    if not actor.has_perm("licensing.change_deprovisioninghold"):
        return "Your role may not lift holds."
    if hold.placed_by_id == actor.pk:
        return "Somebody other than the person who placed a hold must lift it."
    if not hold.is_active:
        return "This hold was already lifted."
    return None


@transaction.atomic
def hold_lift(*, actor, hold_id: int, reason: str, on: date) -> DeprovisioningHold:
    reason = _require_reason(reason)
    hold = DeprovisioningHold.objects.select_for_update().get(pk=hold_id)
    refusal = hold_lift_refusal(actor, hold)
    if refusal:
        error = TransitionNotAllowed if refusal.endswith("already lifted.") else ActionForbidden
        raise error(refusal)
    hold.lifted_by, hold.lifted_at, hold.lift_reason = actor, timezone.now(), reason
    hold.policy = _governing_policy(hold.contract_id, on)
    _stamp(hold, actor=actor, reason=reason)
    hold.save()
    _audit(actor, "deprovisioning_hold.lift", hold, reason=reason, policy=hold.policy)
    if not _active_holds(hold.contract_id).exists():
        run = (
            Run.objects.select_for_update()
            .filter(contract_id=hold.contract_id, state=Run.State.ON_HOLD).first()
        )  # fmt: skip
        if run is not None:
            run.release()
            _save_run(run, actor=actor, reason=reason, action="release")
            _advance_on_commit(run.pk)
    return hold


@transaction.atomic
def blackout_add(
    *, actor, contract: Contract, starts_on: date, ends_on: date, reason: str, on: date
):
    if not actor.has_perm("licensing.add_blackoutwindow"):
        raise ActionForbidden("Your role may not add blackout windows.")
    reason = _require_reason(reason)
    if ends_on <= starts_on:
        raise DomainError("A blackout window ends after it starts.", field="ends_on")
    policy = _governing_policy(contract.pk, on)
    window = BlackoutWindow(
        contract=contract, starts_on=starts_on, ends_on=ends_on, reason=reason, policy=policy
    )
    _stamp(window, actor=actor, reason=reason)
    window.save()
    _audit(actor, "blackout.add", window, reason=reason, policy=policy,
           data={"starts_on": starts_on, "ends_on": ends_on})  # fmt: skip
    return window


# Deliveries -----------------------------------------------------------------------------------


def _connector(system: ConnectedSystem):
    return connector_for(
        system.protocol, base_url=system.base_url, secret=open_secret(system.secret_sealed),
        timeout=system.timeout,
    )  # fmt: skip


def _change(delivery: Delivery) -> Change:
    return Change(
        external_id=delivery.external_id, idempotency_key=delivery.idempotency_key,
        entitlement=str(delivery.entitlement_id), contract=str(delivery.run.contract_id),
        effective_date=delivery.run.effective_date, group_id=delivery.assignment.group_id or None,
    )  # fmt: skip


def _reads_as_done(delivery: Delivery) -> bool:
    connector = _connector(delivery.system)
    try:
        state = connector.read_back(
            delivery.external_id, group_id=delivery.assignment.group_id or None
        )
    finally:
        connector.close()
    if delivery.action == Delivery.Action.RESTORE:
        return state is True
    return state is not True  # inactive, or gone


@transaction.atomic
def _claim(delivery_id: int) -> tuple[bool, Delivery | None]:
    """Claim a delivery for sending: ``(claimed, covering)``.

    ``covering`` is another run's confirmed delivery of the same change to the same holder, the
    holder's last confirmed change (a contract's run beside one for a single entitlement of it):
    then nothing need be sent, only read back. Claims lock the holder's assignment first, so of
    two runs' deliveries to one holder only one is on its way at a time; one whose twin is on
    its way is not claimed, and the lost-message sweep queues it again later, when the twin's
    confirmation covers it.
    """
    assignment_id, run_id, action, repair = Delivery.objects.values_list(
        "assignment_id", "run_id", "action", "reconciliation_id"
    ).get(pk=delivery_id)
    Assignment.objects.select_for_update().filter(pk=assignment_id).first()
    waiting = Delivery.objects.filter(
        pk=delivery_id, state__in=[Delivery.State.PENDING, Delivery.State.FAILED]
    )
    if not waiting.exists():
        return False, None
    others = Delivery.objects.filter(assignment_id=assignment_id).exclude(run_id=run_id)
    # On its way: sent, and not so long ago that its sender must have died mid-send.
    in_flight = Q(state=Delivery.State.SENT, sent_at__gte=timezone.now() - LOST_AFTER)
    if others.filter(in_flight, action=action).exists():
        return False, None
    covering = None
    if repair is None:  # a drift repair is sent because the holder is active again: always sent
        last = (
            others.filter(state=Delivery.State.CONFIRMED)
            .order_by("-confirmed_at", "-pk").only("pk", "action", "run_id").first()
        )  # fmt: skip
        covering = last if last is not None and last.action == action else None
    waiting.update(state=Delivery.State.SENT, sent_at=timezone.now())
    return True, covering


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one delivery and read it back. Returns the delivery's state afterwards.

    Claimed under lock, so a duplicate task changes nothing. A change another run already made
    to this holder (confirmed, and still its last) is not sent twice: the holder is read back
    and the delivery records that confirmation. A retryable failure below the policy's ceiling
    leaves it ``failed`` (the task tries again); at the ceiling, or for a failure no retry can
    mend, it is ``escalated`` to a person.
    """
    claimed, covering = _claim(delivery_id)
    delivery = Delivery.objects.select_related("system", "assignment", "run", "policy").get(
        pk=delivery_id
    )
    if not claimed:
        return delivery.state
    if covering is not None:
        try:
            if _reads_as_done(delivery):
                return _record_covered(delivery_id, covering)
        except ConnectorError:
            pass  # cannot tell: send it, as if nothing covered it
    error, retryable = "", True
    try:
        connector = _connector(delivery.system)
        try:
            if delivery.action == Delivery.Action.REVOKE:
                connector.revoke(_change(delivery), delete=delivery.delete)
            else:
                connector.restore(_change(delivery))
        finally:
            connector.close()
        if not _reads_as_done(delivery):
            error = "read-back still shows the holder active"
    except (ConnectorError, ValueError) as exc:
        error, retryable = str(exc), isinstance(exc, ConnectorError) and exc.retryable
    return _record_attempt(delivery_id, error=error, retryable=retryable)


@transaction.atomic
def _record_attempt(delivery_id: int, *, error: str, retryable: bool) -> str:
    delivery = Delivery.objects.select_for_update().select_related("policy").get(pk=delivery_id)
    delivery.attempts += 1
    actor = licensing.system_actor()
    if not error:
        delivery.state, delivery.confirmed_at, delivery.last_error = (
            Delivery.State.CONFIRMED, timezone.now(), ""
        )  # fmt: skip
        action = "delivery.confirm"
        if delivery.reconciliation_id:
            from .reconciliation import repair_confirmed

            repair_confirmed(delivery)
    elif not retryable or delivery.attempts >= max_attempts(delivery.policy):
        delivery.state, delivery.escalated_at = Delivery.State.ESCALATED, timezone.now()
        delivery.last_error = error[:2000]
        action = "delivery.escalate"
    else:
        delivery.state, delivery.last_error = Delivery.State.FAILED, error[:2000]
        action = "delivery.fail"
    _stamp(delivery, actor=actor, reason=error or "Confirmed by read-back")
    delivery.save()
    data = {"attempts": delivery.attempts, "run": delivery.run_id}
    _audit(actor, action, delivery, reason=error or "Confirmed by read-back",
           policy=delivery.policy, data=data)  # fmt: skip
    return delivery.state


@transaction.atomic
def _record_covered(delivery_id: int, covering: Delivery) -> str:
    """Confirmed by another run's delivery and a read-back of our own; nothing was sent."""
    delivery = Delivery.objects.select_for_update().select_related("policy").get(pk=delivery_id)
    actor = licensing.system_actor()
    reason = (
        f"Already {delivery.action}d by deliveries of run {covering.run_id}; "
        "read back, not sent again"
    )
    delivery.state, delivery.confirmed_at, delivery.last_error = (
        Delivery.State.CONFIRMED, timezone.now(), ""
    )  # fmt: skip
    delivery.covered_by_id = covering.pk
    _stamp(delivery, actor=actor, reason=reason)
    delivery.save()
    _audit(actor, "delivery.confirm_existing", delivery, reason=reason, policy=delivery.policy,
           data={"run": delivery.run_id, "covered_by": covering.pk,
                 "covered_by_run": covering.run_id})  # fmt: skip
    return delivery.state


# Nightly --------------------------------------------------------------------------------------


def nightly(*, on: date) -> dict[str, int]:
    """Expire and deprovision contracts past their term; revoke ended grace; deprovision
    contracts whose invoices stay unpaid past the policy's days; start due runs."""
    actor = licensing.system_actor()
    counts = {"expired": 0, "grace_revoked": 0, "nonpayment": 0, "runs": 0}
    for contract_id in Contract.objects.filter(
        term_end__lte=on, status__in=[Contract.Status.ACTIVE, Contract.Status.SUSPENDED]
    ).values_list("pk", flat=True):
        with transaction.atomic():
            contract = licensing.contract_transition(
                actor=actor, contract_id=contract_id, transition="expire",
                reason="The contract's term ended.", on=on,
            )  # fmt: skip
            run_start(
                actor=actor, contract=contract, trigger=Run.Trigger.TERM_END,
                reason="The contract's term ended.", effective_date=contract.term_end, on=on,
            )  # fmt: skip
        counts["expired"] += 1
    counts["grace_revoked"] = revoke_ended_grace(actor=actor, on=on)
    counts["nonpayment"] = nonpayment_runs(actor=actor, on=on)
    due = Run.objects.filter(
        Q(state=Run.State.NOTIFIED, execute_on__lte=on) | Q(state=Run.State.EXECUTING)
        | Q(state=Run.State.PLANNED)
    ).values_list("pk", flat=True)  # fmt: skip
    for run_id in list(due):
        run_advance(run_id=run_id, on=on)
        counts["runs"] += 1
    return counts


def revoke_ended_grace(*, actor, on: date) -> int:
    """Revoke every entitlement whose grace has ended, contract by contract in bulk.

    Under an open run the run's policy decides (its order of kinds, its label on every ledger
    entry and event); grace started by hand outside a run ends under the lifecycle policy.
    """
    ended = Entitlement.objects.filter(state=Entitlement.State.GRACE, grace_ends_on__lte=on)
    by_contract: dict[int, list[int]] = {}
    for pk, contract_id in ended.order_by("contract_id", "pk").values_list("pk", "contract_id"):
        by_contract.setdefault(contract_id, []).append(pk)
    revoked = 0
    for contract_id, ids in by_contract.items():
        run = Run.objects.filter(contract_id=contract_id, state=Run.State.EXECUTING).first()
        policy = run.policy if run else None
        kinds = revoke_order(run.policy) if run else [None]
        with transaction.atomic():
            for kind in kinds:
                revoked += licensing.entitlements_bulk_transition(
                    actor=actor, contract_id=contract_id, transition="revoke",
                    reason=f"Grace ended (deprovisioning run {run.pk})" if run else "Grace ended.",
                    effective_date=on, entitlement_ids=ids, policy=policy,
                    kinds=None if kind is None else [kind],
                )  # fmt: skip
    return revoked


def nonpayment_runs(*, actor, on: date) -> int:
    """Deprovision active contracts with an invoice unpaid N days (policy) past its due date.

    The contract is suspended for nonpayment and its run started, or the open run joined (a
    breach may have opened one). Only active contracts are looked at, so the suspension is what
    makes a second night find nothing new; paying and resuming is a person's decision.
    """
    policy = revocation_policy(on)
    if trigger_refusal(Run.Trigger.NONPAYMENT, policy):
        return 0
    days = int(policy.rules.get("nonpayment_days_after_due", 30))
    overdue = (
        Invoice.objects.filter(
            paid_on__isnull=True, due_on__lte=on - timedelta(days=days),
            contract__status=Contract.Status.ACTIVE,
        ).order_by("contract_id", "due_on", "pk").values_list("contract_id", "number", "due_on")
    )  # fmt: skip
    first: dict[int, tuple[str, date]] = {}
    for contract_id, number, due_on in overdue:
        first.setdefault(contract_id, (number, due_on))
    started = 0
    for contract_id, (number, due_on) in first.items():
        reason = f"Invoice {number} is unpaid {days} days after it fell due on {due_on:%Y-%m-%d}."
        with transaction.atomic():
            try:
                contract = licensing.contract_transition(
                    actor=actor, contract_id=contract_id, transition="suspend", reason=reason,
                    on=on,
                )  # fmt: skip
            except DomainError:
                continue  # somebody changed the contract meanwhile
            run_start(actor=actor, contract=contract, trigger=Run.Trigger.NONPAYMENT,
                      reason=reason, effective_date=on, on=on)  # fmt: skip
        started += 1
    return started


# One entitlement ------------------------------------------------------------------------------


@transaction.atomic
def entitlement_deprovision(
    *, actor, entitlement_id: int, reason: str, on: date, trigger: str = Run.Trigger.BREACH,
    effective_date: date | None = None,
) -> Run:  # fmt: skip
    """Take back one entitlement rather than a whole contract (an escalated breach case).

    The same run as a termination's, scoped to the entitlement: its renewal stops at once, one
    delivery per holder at each connected system (SCIM, license-server webhooks), the customer's
    notice, grace where the contract grants it (capped by the policy), revocation through the
    lifecycle service, read-back, reconciliation and rollback. The contract's open run, if it
    has one, already takes the entitlement back and is joined; so is the entitlement's own.
    Runs on after commit (Celery), like every run.
    """
    reason = _require_reason(reason)
    if not actor.has_perm("licensing.change_deprovisioningrun"):
        raise ActionForbidden("Your role may not deprovision entitlements.")
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("contract")
        .get(pk=entitlement_id)
    )  # fmt: skip
    if entitlement.state in (Entitlement.State.REVOKED, Entitlement.State.EXPIRED):
        raise TransitionNotAllowed(
            f"{entitlement.name} is {entitlement.get_state_display().lower()}: "
            "there is nothing to take back."
        )
    policy = revocation_policy(on)
    refusal = trigger_refusal(trigger, policy)
    if refusal:
        raise DomainError(refusal, field="trigger")
    contract = entitlement.contract
    open_run = (
        Run.objects.select_for_update(of=("self",))
        .filter(contract=contract, state__in=Run.JOINABLE_STATES)
        .filter(Q(entitlement__isnull=True) | Q(entitlement=entitlement))
        .order_by("pk").first()
    )  # fmt: skip
    if open_run is not None:
        _audit(actor, "deprovisioning.join", open_run, reason=reason, policy=open_run.policy,
               data={"trigger": trigger, "entitlement": entitlement.pk})  # fmt: skip
        return open_run
    effective_date = effective_date or on
    lead = int(policy.rules.get("notice_lead_days", 0))
    execute_on = _execution_day(contract.pk, max(effective_date, on + timedelta(days=lead)))
    run = Run(
        contract=contract, entitlement=entitlement, trigger=trigger, policy=policy,
        reason=reason, effective_date=effective_date, execute_on=execute_on, created_by=actor,
        grace_days=_grace_days(contract, policy),
    )  # fmt: skip
    _stamp(run, actor=actor, reason=reason)
    run.save()
    if policy.rules.get("suppress_renewal", True):
        _suppress_renewal(actor=actor, contract=contract, reason=reason, policy=policy,
                          only=entitlement.pk)  # fmt: skip
    deliveries = _plan_deliveries(run, policy)
    _audit(actor, "deprovisioning.plan", run, reason=reason, policy=policy, data={
        "trigger": trigger, "entitlement": entitlement.pk, "effective_date": effective_date,
        "execute_on": execute_on, "grace_days": run.grace_days, "deliveries": len(deliveries),
    })  # fmt: skip
    _advance_on_commit(run.pk)
    return run

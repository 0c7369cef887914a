"""Deprovisioning's records: runs, their deliveries to connected systems, holds and blackouts.

Registered with the licensing app (imported at the end of ``licensing.models``), so their
tables, permissions and migrations are licensing's. A delivery's ``action`` is ``revoke`` or
``restore``, so a rollback later sends restores through the same machinery.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from audit.transactions import AuditedHistory

# The states in which a run is open for the one-open-run rules (a failed run is not: a person
# acts on it, and a new trigger starts afresh).
OPEN_UNIQUE = ["planned", "notified", "on_hold", "executing", "verifying"]


class DeprovisioningRun(ConcurrentTransitionMixin, models.Model):
    """Taking back, everywhere, what one contract granted (one open run per contract), or one
    entitlement of it (an escalated breach case: one open run per entitlement)."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        NOTIFIED = "notified", "Customer notified"
        ON_HOLD = "on_hold", "On hold"
        EXECUTING = "executing", "Executing"
        VERIFYING = "verifying", "Verifying"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed: a person must act"
        ROLLED_BACK = "rolled_back", "Rolled back"

    class Trigger(models.TextChoices):
        TERMINATION = "termination", "Termination"
        TERM_END = "term_end", "End of term"
        NONPAYMENT = "nonpayment", "Nonpayment"
        BREACH = "breach", "Escalated breach case"

    S = State
    OPEN_STATES = (S.PLANNED, S.NOTIFIED, S.ON_HOLD, S.EXECUTING, S.VERIFYING, S.FAILED)
    # Open runs a new trigger joins: a failed run waits for a person, so it is not joined.
    JOINABLE_STATES = (S.PLANNED, S.NOTIFIED, S.ON_HOLD, S.EXECUTING, S.VERIFYING)

    contract = models.ForeignKey(
        "licensing.Contract", on_delete=models.PROTECT, related_name="deprovisioning_runs"
    )
    state = FSMField(default=S.PLANNED, choices=State.choices, protected=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    # Blank: everything the contract granted. Set: only this entitlement is taken back.
    entitlement = models.ForeignKey(
        "licensing.Entitlement", null=True, blank=True, on_delete=models.PROTECT,
        related_name="deprovisioning_runs",
    )  # fmt: skip
    policy = models.ForeignKey(
        "licensing.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    effective_date = models.DateField()
    # The day execution may start: the effective date, later for notice lead days or a blackout.
    execute_on = models.DateField()
    # Grace the contract granted when the run was planned (capped by the policy).
    grace_days = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notice_pdf = models.BinaryField(null=True, blank=True, editable=False)
    notice_sha256 = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A rollback: asked for by one person, approved by another.
    rollback_reason = models.TextField(blank=True)
    rollback_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rollback_requested_at = models.DateTimeField(null=True, blank=True)
    rollback_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rollback_approved_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory(excluded_fields=["notice_pdf"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(state__in=OPEN_UNIQUE, entitlement__isnull=True),
                name="deprovisioningrun_one_open_per_contract",
            ),
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=Q(state__in=OPEN_UNIQUE, entitlement__isnull=False),
                name="deprovisioningrun_one_open_per_entitlement",
            ),
        ]
        indexes = [models.Index(fields=["state", "execute_on"])]

    def __str__(self) -> str:
        return f"Deprovisioning run {self.pk} of {self.contract_id}"

    @transition(field=state, source=S.PLANNED, target=S.NOTIFIED)
    def notify(self):
        pass

    @transition(field=state, source=[S.PLANNED, S.NOTIFIED, S.EXECUTING], target=S.ON_HOLD)
    def hold(self):
        pass

    @transition(field=state, source=S.ON_HOLD, target=S.NOTIFIED)
    def release(self):
        pass

    @transition(field=state, source=[S.NOTIFIED, S.FAILED], target=S.EXECUTING)
    def execute(self):
        pass

    @transition(field=state, source=S.EXECUTING, target=S.VERIFYING)
    def verify(self):
        pass

    @transition(field=state, source=S.VERIFYING, target=S.COMPLETED)
    def complete(self):
        pass

    @transition(field=state, source=[S.EXECUTING, S.VERIFYING], target=S.FAILED)
    def fail(self):
        pass

    @transition(field=state, source=[S.EXECUTING, S.VERIFYING, S.COMPLETED, S.FAILED],
                target=S.ROLLED_BACK)  # fmt: skip
    def roll_back(self):
        pass

    del S


class Delivery(models.Model):
    """One change sent to one holder at one system; confirmed only by reading it back."""

    class Action(models.TextChoices):
        REVOKE = "revoke", "Revoke"
        RESTORE = "restore", "Restore"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed"
        ESCALATED = "escalated", "Escalated"

    run = models.ForeignKey(DeprovisioningRun, on_delete=models.PROTECT, related_name="deliveries")
    assignment = models.ForeignKey(
        "licensing.Assignment", on_delete=models.PROTECT, related_name="deliveries"
    )
    entitlement = models.ForeignKey(
        "licensing.Entitlement", on_delete=models.PROTECT, related_name="deliveries"
    )
    system = models.ForeignKey(
        "licensing.ConnectedSystem", on_delete=models.PROTECT, related_name="deliveries"
    )
    external_id = models.CharField(max_length=255)
    action = models.CharField(max_length=10, choices=Action.choices)
    delete = models.BooleanField(default=False, help_text="Delete rather than deactivate")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    scheduled_for = models.DateField()
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=64, unique=True)
    policy = models.ForeignKey(
        "licensing.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )
    last_error = models.TextField(blank=True)
    # When its first attempt was handed to Celery: claimed so a delivery is queued once.
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # A person took it out of the review queue without sending it again; it stays escalated.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.TextField(blank=True)
    # Another run's confirmed delivery of the same change to the same holder (a contract's run
    # beside one for a single entitlement): nothing was sent again, the holder was read back.
    covered_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set on a re-revocation sent because reconciliation found the holder active again.
    reconciliation = models.ForeignKey(
        "licensing.Reconciliation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="deliveries",
    )  # fmt: skip
    history = AuditedHistory()

    class Meta:
        ordering = ["run_id", "scheduled_for", "id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "assignment", "action"],
                condition=Q(reconciliation__isnull=True),
                name="delivery_one_per_assignment_action",
            )
        ]
        indexes = [models.Index(fields=["state", "scheduled_for"])]

    def __str__(self) -> str:
        return f"{self.action} {self.external_id} at {self.system_id}: {self.state}"


class DeprovisioningHold(models.Model):
    """A reason not to take anything away yet; lifted only by somebody else."""

    class Kind(models.TextChoices):
        LEGAL_HOLD = "legal_hold", "Legal hold"
        OPEN_DISPUTE = "open_dispute", "Open dispute"
        DATA_PRESERVATION = "data_preservation", "Data preservation"

    contract = models.ForeignKey(
        "licensing.Contract", on_delete=models.PROTECT, related_name="deprovisioning_holds"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    # The revocation policy under which the last change was made (placing, then lifting): each
    # history row keeps the one of its own change. Empty on holds from before it was recorded.
    policy = models.ForeignKey(
        "licensing.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    history = AuditedHistory()

    class Meta:
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.contract_id}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class BlackoutWindow(models.Model):
    """Dates a customer asked to be left alone: execution waits for ``ends_on`` (exclusive)."""

    contract = models.ForeignKey(
        "licensing.Contract", on_delete=models.PROTECT, related_name="blackout_windows"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Exclusive: the first day work may happen again")
    reason = models.TextField()
    # The revocation policy under which the window was added (empty on older windows).
    policy = models.ForeignKey(
        "licensing.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    history = AuditedHistory()

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="blackout_not_empty"
            )
        ]

    def __str__(self) -> str:
        return f"Blackout {self.starts_on}–{self.ends_on} for {self.contract_id}"


class Reconciliation(models.Model):
    """One comparison of our assignments with what one connected system reports."""

    system = models.ForeignKey(
        "licensing.ConnectedSystem", on_delete=models.PROTECT, related_name="reconciliations"
    )
    checked = models.PositiveIntegerField(default=0)
    drift = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    policy = models.ForeignKey(
        "licensing.PolicyVersion", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation {self.pk} of {self.system_id}"


class ReconciliationFinding(models.Model):
    """One holder whose state at a system disagrees with ours; repaired, or for a person."""

    class Situation(models.TextChoices):
        # Identity governance's classes (midPoint's synchronization situations).
        LINKED = "linked", "Linked"
        UNLINKED = "unlinked", "Unlinked"
        UNMATCHED = "unmatched", "Unmatched"
        DISPUTED = "disputed", "Disputed"
        DELETED = "deleted", "Deleted"

    class Kind(models.TextChoices):
        ACTIVE_AFTER_REVOCATION = "active_after_revocation", "Active after revocation"
        MISSING = "missing", "Missing at the system"
        MISMATCH = "mismatch", "State differs"

    class State(models.TextChoices):
        OPEN = "open", "Open: a person must look"
        RESOLVED = "resolved", "Resolved"

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.PROTECT, related_name="findings"
    )
    assignment = models.ForeignKey(
        "licensing.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(max_length=255)
    situation = models.CharField(max_length=20, choices=Situation.choices)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    repaired = models.BooleanField(default=False)
    detail = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Blank when a confirmed re-revocation resolved it (repaired); a person says why otherwise.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["reconciliation_id", "id"]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} ({self.state})"

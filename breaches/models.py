"""Breach cases: the usage figures they are judged on, the warnings those figures raise, and
the case itself with its remediation options, milestones, communications and notices.

A figure is one number for one entitlement, metric and day. Only one figure per key is current
(`replaced_at` is empty); a later report for the same key replaces it and keeps the old row, so
the history of what was reported, and when, stays readable.

The breach policy is a kind of `licensing.PolicyVersion` (kind "breach"); its rules are read
through `breaches.policy`. Every write goes through `breaches.services`.
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from audit.limits import REASON_MAX_LENGTH
from audit.personal import for_user
from audit.sealing import EncryptedEmailField, EncryptedJSONField, EncryptedTextField
from audit.transactions import AuditedHistory
from licensing.models import Entitlement, Plan, PolicyVersion
from licensing.money import money_field


class UsageReport(models.Model):
    class Source(models.TextChoices):
        CSV = "csv", "CSV file"
        JSON = "json", "JSON rows"

    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="usage_reports"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=4, choices=Source.choices)
    filename = models.CharField(max_length=255, blank=True)
    rows = models.PositiveIntegerField(help_text="Data rows received")
    figures = models.PositiveIntegerField(help_text="Figures stored: rows less repeated keys")
    replaced = models.PositiveIntegerField(help_text="Figures that replaced earlier ones")
    reason = models.TextField(max_length=REASON_MAX_LENGTH)
    history = AuditedHistory()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Usage report {self.pk} ({self.rows} rows)"


class UsageFigure(models.Model):
    class Metric(models.TextChoices):
        SEATS_IN_USE = "seats_in_use", "Seats in use"
        API_CALLS = "api_calls", "API calls"
        INSTALLATIONS = "installations", "Installations"

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="usage_figures"
    )
    day = models.DateField()
    metric = models.CharField(max_length=20, choices=Metric.choices)
    quantity = models.PositiveBigIntegerField()
    report = models.ForeignKey(UsageReport, on_delete=models.PROTECT, related_name="figures_set")
    # The figure this one took the place of, and when this one was itself replaced.
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    replaced_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["entitlement_id", "metric", "day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "metric", "day"],
                condition=models.Q(replaced_at__isnull=True),
                name="one_current_usage_figure",
            )
        ]
        indexes = [models.Index(fields=["entitlement", "metric", "day"])]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.metric} {self.day:%Y-%m-%d}: {self.quantity}"

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None


class UsageWarning(models.Model):
    """A day's figure first reached a warning threshold (a percentage of the entitled quantity).

    One row per entitlement, metric and threshold: the customer's contacts and the account
    manager are told once, and the portal shows a banner while the warning is `active`.
    """

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="usage_warnings"
    )
    metric = models.CharField(max_length=20, choices=UsageFigure.Metric.choices)
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the entitled quantity")
    day = models.DateField(help_text="The first day whose figure reached the threshold")
    figure = models.PositiveBigIntegerField(help_text="That day's figure")
    quantity = models.PositiveBigIntegerField(help_text="The entitled quantity on that day")
    policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The outbox mail that told people; empty when nobody had an address.
    mail = models.ForeignKey(
        "outbox.Mail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A customer user may put the banner away; the warning itself stays.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = AuditedHistory()

    class Meta:
        ordering = ["-day", "entitlement_id", "metric", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "metric", "threshold"], name="usagewarning_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.metric} reached {self.threshold}% on {self.day}"


class Classification(models.TextChoices):
    INADVERTENT = "inadvertent", "Inadvertent"
    WILLFUL = "willful", "Willful"


class Severity(models.TextChoices):
    """How far over the entitlement the peak went: low up to 10%, medium up to 50%, high above."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class BreachCase(ConcurrentTransitionMixin, models.Model):
    """Over-use of one entitlement, worked with the customer from detection to resolution.

    `evidence` is the snapshot detection took (see `breaches.detection`): `metric`,
    `quantity`, `peak`, `first_day_over` (ISO date), `days_over`, `tolerance`, `daily`
    (`[{"day", "quantity"}]` of the run), `entitlement` (as it stood), `runs` (every run over
    seen so far, the opening one first). One open case per entitlement; `escalated` is open.
    Transitions only change the instance; `breaches.services.cases` checks who, guards, and
    writes history, the timeline and the audit event.
    """

    class State(models.TextChoices):
        DETECTED = "detected", "Detected"
        UNDER_REVIEW = "under_review", "Under review"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"
        REMEDIATION_OFFERED = "remediation_offered", "Remediation offered"
        REMEDIATION_AGREED = "remediation_agreed", "Remediation agreed"
        IN_REMEDIATION = "in_remediation", "In remediation"
        RESOLVED = "resolved", "Resolved"
        ESCALATED = "escalated", "Escalated"

    S = State
    CLOSED_STATES = (S.RESOLVED, S.DISMISSED)
    OPEN_STATES = (
        S.DETECTED, S.UNDER_REVIEW, S.CONFIRMED, S.REMEDIATION_OFFERED, S.REMEDIATION_AGREED,
        S.IN_REMEDIATION, S.ESCALATED,
    )  # fmt: skip

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="breach_cases"
    )
    state = FSMField(default=S.DETECTED, choices=State.choices, protected=True)
    policy = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="+",
        help_text="The breach policy version that detected the case",
    )  # fmt: skip
    metric = models.CharField(max_length=20, choices=UsageFigure.Metric.choices)
    evidence = models.JSONField(default=dict)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.LOW)
    detected_on = models.DateField(help_text="The business day detection opened the case")
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="owned_breach_cases", help_text="The account manager working the case",
    )  # fmt: skip
    classification = models.CharField(max_length=20, choices=Classification.choices, blank=True)
    classification_rationale = models.TextField(blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    # Staff only: never in what a customer reads. Personal data (it names people): sealed at
    # rest (audit.sealing), shown by role (audit.personal).
    staff_notes = EncryptedTextField(blank=True)
    # The agreement: which option, who agreed (a customer user or a manager for them), when.
    agreed_option = models.ForeignKey(
        "RemediationOption", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agreed_on = models.DateField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Escalation: the state it left, and an ending (resolved or dismissed) asked for by one
    # person that a second person must approve.
    escalated_from = models.CharField(max_length=30, choices=State.choices, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    close_requested_to = models.CharField(max_length=30, choices=State.choices, blank=True)
    close_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_requested_at = models.DateTimeField(null=True, blank=True)
    close_request_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Deprovisioning of the entitlement for an unresolved willful case past its final deadline:
    # asked for by one person, approved by another, carried out by a licensing service.
    deprovision_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deprovision_requested_at = models.DateTimeField(null=True, blank=True)
    deprovision_reason = models.TextField(blank=True)
    deprovision_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deprovision_approved_at = models.DateTimeField(null=True, blank=True)
    # What licensing answered: e.g. "licensing.deprovisioningrun:12" or "licensing.entitlement:7".
    deprovision_reference = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = AuditedHistory(excluded_fields=["version"])

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("transition_breachcase", "Can move a breach case through its lifecycle")]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=~Q(state__in=["resolved", "dismissed"]),
                name="breachcase_one_open_per_entitlement",
            )
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["owner", "state"])]

    def __str__(self) -> str:
        return f"Breach case {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("breaches:case", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state not in self.CLOSED_STATES

    @property
    def first_day_over(self) -> date | None:
        value = self.evidence.get("first_day_over")
        return date.fromisoformat(value) if value else None

    # Facts a guard needs that only a query can tell; the service sets them before it asks
    # (conditions never query or read a clock), and an unset fact is a programming error.
    compliant_since_agreement: bool | None = None

    def has_options(self) -> bool:
        return self.options.filter(dropped_at__isnull=True).exists()

    def usage_compliant_since_agreement(self) -> bool:
        if self.agreed_on is None:  # an escalated case closed without an agreement
            return True
        if self.compliant_since_agreement is None:
            raise ValueError(
                "BreachCase.compliant_since_agreement is not set: the service checks usage "
                "before it asks whether the case may be resolved."
            )
        return self.compliant_since_agreement

    def close_approved(self) -> bool:
        """An escalated case ends only on a second person's approval of a recorded request."""
        if self.state != self.State.ESCALATED:
            return True
        return bool(self.close_requested_to and self.close_requested_by_id)

    @transition(field=state, source=S.DETECTED, target=S.UNDER_REVIEW)
    def review(self):
        pass

    @transition(field=state, source=S.UNDER_REVIEW, target=S.CONFIRMED)
    def confirm(self):
        pass

    @transition(
        field=state, source=[S.UNDER_REVIEW, S.ESCALATED], target=S.DISMISSED,
        conditions=[close_approved],
    )  # fmt: skip
    def dismiss(self):
        pass

    @transition(
        field=state, source=S.CONFIRMED, target=S.REMEDIATION_OFFERED, conditions=[has_options]
    )
    def offer(self):
        pass

    @transition(field=state, source=S.REMEDIATION_OFFERED, target=S.REMEDIATION_AGREED)
    def agree(self):
        pass

    @transition(field=state, source=S.REMEDIATION_AGREED, target=S.IN_REMEDIATION)
    def start_remediation(self):
        pass

    @transition(
        field=state, source=[S.IN_REMEDIATION, S.ESCALATED], target=S.RESOLVED,
        conditions=[close_approved, usage_compliant_since_agreement],
    )  # fmt: skip
    def resolve(self):
        pass

    @transition(
        field=state,
        source=[S.DETECTED, S.UNDER_REVIEW, S.CONFIRMED, S.REMEDIATION_OFFERED,
                S.REMEDIATION_AGREED, S.IN_REMEDIATION],
        target=S.ESCALATED,
    )  # fmt: skip
    def escalate(self):
        self.escalated_from = self.state

    del S


class RemediationOption(models.Model):
    """One priced way back to compliance offered on a case; one per kind.

    `amount` is the license fee in `currency`; `fees` (penalties, if the policy sets any) are
    kept apart and never folded into it. `details` holds what the kind needs (an upgrade's
    plan and quantity, a grace period's end, a reduction plan's target and date, the true-up's
    engine lines). A manager may adjust (the priced figures stay in `priced_amount`) or drop
    an option before the offer.
    """

    class Kind(models.TextChoices):
        TRUE_UP = "true_up", "True-up"
        UPGRADE = "upgrade", "Upgrade to a bigger plan"
        GRACE_EXTENSION = "grace_extension", "Grace extension"
        REDUCTION_PLAN = "reduction_plan", "Reduction plan"

    case = models.ForeignKey(BreachCase, on_delete=models.CASCADE, related_name="options")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = money_field(help_text="License fees")
    currency = models.CharField(max_length=3)
    fees = money_field(default=0, help_text="Fees or penalties, shown apart from license fees")
    fees_explanation = models.TextField(blank=True)
    explanation = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    target_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="For an upgrade: the next higher tier",
    )  # fmt: skip
    # grace_extension: the day the grace ends; reduction_plan: the day usage must be back
    # within the entitlement.
    deadline = models.DateField(null=True, blank=True)
    priced_amount = money_field(help_text="What the engine priced, before any adjustment")
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dropped_at = models.DateTimeField(null=True, blank=True)
    dropped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["case_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="remediationoption_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for case {self.case_id}"

    @property
    def is_offered(self) -> bool:
        return self.dropped_at is None

    @property
    def included_amount(self) -> Decimal:
        """For a true-up: what earlier periods the manager included add to it (JSON keeps the
        figure as text)."""
        return Decimal(self.details.get("included") or "0")

    @property
    def has_deadline(self) -> bool:
        """A grace extension ends, and a reduction plan is due, on a day; the others do not."""
        return self.kind in (self.Kind.GRACE_EXTENSION, self.Kind.REDUCTION_PLAN)


class EarlierOveruse(models.Model):
    """Over-use in a billing period before the one the true-up prices, priced the same way.

    Listed on the case for the manager to include in the true-up or waive; `decision` is
    empty until they decide.
    """

    class Decision(models.TextChoices):
        INCLUDED = "included", "Included"
        WAIVED = "waived", "Waived"

    case = models.ForeignKey(BreachCase, on_delete=models.CASCADE, related_name="earlier_overuse")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive")
    first_day_over = models.DateField()
    quantity = models.PositiveBigIntegerField()
    peak = models.PositiveBigIntegerField()
    amount_paid = money_field()
    amount = money_field()
    currency = models.CharField(max_length=3)
    explanation = models.TextField()
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = AuditedHistory()

    class Meta:
        ordering = ["case_id", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "period_start"], name="earlieroveruse_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"Case {self.case_id}: {self.period_start} to {self.period_end}"


class Milestone(models.Model):
    """A deadline both sides agreed, with a named contact on each side.

    The beat job reminds both contacts `remind_days` before `due_on` (once: `reminded_at`)
    and escalates the case when the day passes undone (once: `overdue_at`). The `is_final`
    milestone is the one whose passing, on an unresolved willful case, allows deprovisioning.
    """

    case = models.ForeignKey(BreachCase, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    is_final = models.BooleanField(default=False)
    remind_days = models.PositiveSmallIntegerField(default=3)
    our_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        help_text="Who answers for us",
    )  # fmt: skip
    # Personal data: sealed at rest (audit.sealing), shown by role (audit.personal).
    customer_contact_name = EncryptedTextField(max_length=200)
    customer_contact_email = EncryptedEmailField()
    done_on = models.DateField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["case_id", "due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"])]

    def __str__(self) -> str:
        return f"{self.title} by {self.due_on}"


class Communication(models.Model):
    """One entry of the case's communications log: an e-mail sent from a template, a call or a
    meeting. Immutable once logged: nothing updates a row, corrections are new entries."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="communications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    template = models.CharField(max_length=60, blank=True, help_text="For an e-mail")
    # Personal data (what it was about, what was said, to whom, who took part): sealed at rest
    # (audit.sealing), shown by role (audit.personal), so never filtered or sorted on.
    subject = EncryptedTextField(max_length=300)
    body = EncryptedTextField(help_text="What was sent, or what was said")
    recipients = EncryptedJSONField(default=list, blank=True)
    participants = EncryptedTextField(max_length=500, blank=True, help_text="Calls and meetings")
    occurred_at = models.DateTimeField()
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField(auto_now_add=True)
    mail = models.ForeignKey(
        "outbox.Mail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Staff only: never in what a customer reads. Sealed like the body.
    staff_note = EncryptedTextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["case_id", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    def save(self, *args, **kwargs):
        # The log's one promise: what was logged stays as it was logged.
        if self.pk is not None and not self._state.adding:
            raise ValueError("A logged communication is immutable; log a new entry instead.")
        super().save(*args, **kwargs)


class CommunicationAttachment(models.Model):
    """A file kept with a communication, immutable like it, with its SHA-256."""

    communication = models.ForeignKey(
        Communication, on_delete=models.PROTECT, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    history = AuditedHistory(excluded_fields=["content"])

    class Meta:
        ordering = ["communication_id", "id"]

    def __str__(self) -> str:
        return self.filename

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("A logged attachment is immutable.")
        super().save(*args, **kwargs)


class BreachNotice(models.Model):
    """A PDF notice as it was issued, with the SHA-256 of its bytes so it can be proved later."""

    class Kind(models.TextChoices):
        BREACH_NOTICE = "breach_notice", "Breach notice"
        REMEDIATION_PROPOSAL = "remediation_proposal", "Remediation proposal"
        RESOLUTION_CONFIRMATION = "resolution_confirmation", "Resolution confirmation"

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    pdf = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    communication = models.ForeignKey(
        Communication, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    history = AuditedHistory(excluded_fields=["pdf"])

    class Meta:
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for case {self.case_id}"


class CaseEvent(models.Model):
    """One entry of a case's timeline: a transition, a classification, an agreement, a
    communication, an option change, a milestone or new evidence. Written by the services in
    the same transaction as the change; `customer_visible` says whether the portal shows it."""

    class Kind(models.TextChoices):
        DETECTED = "detected", "Detected"
        EVIDENCE = "evidence", "New evidence"
        TRANSITION = "transition", "Transition"
        CLASSIFICATION = "classification", "Classification"
        OPTION = "option", "Option"
        AGREEMENT = "agreement", "Agreement"
        COMMUNICATION = "communication", "Communication"
        MILESTONE = "milestone", "Milestone"
        NOTICE = "notice", "Notice"
        APPROVAL = "approval", "Approval requested"
        DEPROVISIONING = "deprovisioning", "Deprovisioning"

    case = models.ForeignKey(BreachCase, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    action = models.CharField(max_length=40, help_text="e.g. the transition's name")
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(max_length=REASON_MAX_LENGTH, blank=True)
    summary = models.CharField(max_length=300, help_text="One plain-language line")
    data = models.JSONField(default=dict, blank=True)
    communication = models.ForeignKey(
        Communication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer_visible = models.BooleanField(default=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "at", "id"]

    def __str__(self) -> str:
        return f"Case {self.case_id}: {self.summary}"

    def line_for(self, user) -> str:
        """The entry's line as ``user`` may read it: a communication's says what it was about
        (the entry's sealed subject), masked for a reader who may not see personal data."""
        if self.communication_id is None:
            return self.summary
        return f"{self.summary}: {for_user(self.communication.subject, user)}"

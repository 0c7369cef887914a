from django.conf import settings
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from audit.sealing import EncryptedTextField
from audit.transactions import AuditedHistory
from licensing.models import Contract, ContractLine, Customer, InvoiceLine
from licensing.money import money_field


class Intent(models.TextChoices):
    DOWNGRADE = "downgrade", "Downgrade"
    PAUSE = "pause", "Pause"
    TERMINATE = "terminate", "Terminate"


class CreditForm(models.TextChoices):
    CREDIT_NOTE = "credit_note", "Credit note against the account"
    FUTURE_DISCOUNT = "future_discount", "Discount on future invoices"
    SERVICE_EXTENSION = "service_extension", "Service-time extension"
    DEFERRAL = "deferral", "Entitlement deferral"
    PLAN_CHANGE = "plan_change", "Move to the smaller plan"


class CreditPolicyVersion(models.Model):
    """One version of the credit policy. Published versions are immutable; one is in force."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    rules = models.JSONField()
    title = models.CharField(max_length=200)
    introduction = models.TextField(help_text="Plain-language summary shown above the rules")
    change_summary = models.TextField(blank=True, help_text="What changed from the last version")
    # Written by the engine at publication: the text and its worked examples.
    text = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customers_notified_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"credit/v{self.number}"

    @property
    def name(self) -> str:
        """What people read: "Credit policy v2"."""
        return f"Credit policy v{self.number}"


class ChangeRequest(models.Model):
    """A customer's intent to downgrade, pause or terminate, with the quote frozen at request."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="changes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="changes")
    intent = models.CharField(max_length=20, choices=Intent.choices)
    effective_date = models.DateField()
    # A pause's first day back: the pause covers [effective_date, resume_date).
    resume_date = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    note = EncryptedTextField(blank=True)  # personal data: sealed at rest, shown by role
    policy = models.ForeignKey(CreditPolicyVersion, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    quote = models.JSONField(help_text="The engine's answer at request time, lines explained")
    total = money_field()
    history = AuditedHistory()

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return (
            f"{self.get_intent_display()} of {self.contract} from {self.effective_date:%-d %b %Y}"
        )


class ChangeLine(models.Model):
    change = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="lines")
    contract_line = models.ForeignKey(ContractLine, on_delete=models.PROTECT, related_name="+")
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )
    basis = models.CharField(max_length=10)
    quantity_before = models.PositiveIntegerField(null=True, blank=True)
    quantity_after = models.PositiveIntegerField(null=True, blank=True)
    units_used = models.PositiveBigIntegerField(null=True, blank=True)
    plan_after = models.ForeignKey(
        "licensing.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="For a move to a smaller plan: the plan the line moves to",
    )  # fmt: skip
    amount_paid = money_field()
    credit = money_field()
    explanation = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.contract_line}: {self.credit}"


class Credit(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        SENT_BACK = "sent_back", "Sent back"
        APPROVED = "approved", "Approved"
        ISSUED = "issued", "Issued"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        REVERSED = "reversed", "Reversed"

    change = models.OneToOneField(ChangeRequest, on_delete=models.PROTECT, related_name="credit")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credits")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="credits")
    amount = money_field()
    currency = models.CharField(max_length=3)
    form = models.CharField(max_length=30, choices=CreditForm.choices)
    policy = models.ForeignKey(CreditPolicyVersion, on_delete=models.PROTECT, related_name="+")
    calculated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(default=Status.PENDING, choices=Status.choices, protected=True)
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    schedule = models.JSONField(default=list, blank=True, help_text="Instalments, for discounts")
    deferred_to = models.ForeignKey(
        ContractLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="For a deferral: the later entitlement or renewal line that receives the value",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    # The amount in the policy's base currency, which the approval thresholds are set in: the
    # rate of the request date from finance's table, kept as it was used at calculation.
    base_currency = models.CharField(max_length=3, blank=True)
    base_amount = money_field(null=True, blank=True)
    exchange_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    rate_date = models.DateField(null=True, blank=True)
    # A corrective credit names the credit and the dispute it corrects.
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return self.number or f"Credit request {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("credits:credit", args=[self.pk])

    @transition(field=status, source=[Status.PENDING], target=Status.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=[Status.PENDING], target=Status.SENT_BACK)
    def send_back(self):
        pass

    @transition(field=status, source=[Status.SENT_BACK], target=Status.PENDING)
    def resubmit(self):
        pass

    @transition(field=status, source=[Status.PENDING, Status.SENT_BACK], target=Status.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=[Status.APPROVED], target=Status.ISSUED)
    def issue(self):
        pass

    @transition(field=status, source=[Status.SENT_BACK], target=Status.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=status, source=[Status.ISSUED], target=Status.REVERSED)
    def reverse(self):
        pass

    @property
    def converted(self) -> bool:
        return bool(self.base_currency) and self.base_currency != self.currency


class ApprovalStep(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for an earlier step"
        PENDING = "pending", "Awaiting decision"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SENT_BACK = "sent_back", "Sent back"

    credit = models.ForeignKey(Credit, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=40)
    threshold = money_field()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The role the overdue step was escalated to, which may then decide it as well.
    escalated_to = models.CharField(max_length=40, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["credit_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["credit", "order"], name="approvalstep_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.credit} step {self.order} ({self.role})"


class CreditNoteSequence(models.Model):
    """Gapless numbering: one row per year, locked while a number is taken."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class AccountEntry(models.Model):
    """The customer's account ledger: credits posted, discounts scheduled, value deferred."""

    class Kind(models.TextChoices):
        CREDIT_NOTE = "credit_note", "Credit note"
        DISCOUNT = "discount", "Future discount"
        DEFERRAL = "deferral", "Deferred entitlement value"
        EXTENSION = "extension", "Service extension"
        PLAN_CHANGE = "plan_change", "Plan change credit"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="account")
    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="account_entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = money_field(help_text="Positive: owed to the customer")
    currency = models.CharField(max_length=3)
    posted_at = models.DateTimeField(auto_now_add=True)
    description = models.TextField()

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name_plural = "account entries"

    def __str__(self) -> str:
        return f"{self.customer}: {self.amount} {self.currency}"


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    class Outcome(models.TextChoices):
        CORRECTION = "correction", "Upheld with a corrective credit"
        REVERSAL = "reversal", "Upheld: the credit is reversed"

    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    # The customer's words and our answer are personal data: sealed at rest, shown by role.
    reason = EncryptedTextField()
    attachment = models.FileField(upload_to="disputes/%Y/%m/", blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    due_on = models.DateField()
    resolution = EncryptedTextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    corrective_credit = models.OneToOneField(
        Credit, null=True, blank=True, on_delete=models.PROTECT, related_name="correcting_dispute"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"Dispute of {self.credit}"


class InvoiceAdjustment(models.Model):
    """A line credits adds to an invoice billing recorded: part of a discount on future invoices,
    or the deferred value received by the entitlement or renewal the customer chose."""

    class Kind(models.TextChoices):
        DISCOUNT = "discount", "Discount"
        DEFERRAL = "deferral", "Deferred value"

    invoice = models.ForeignKey(
        "licensing.Invoice", on_delete=models.PROTECT, related_name="credit_adjustments"
    )
    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = money_field(help_text="Taken off the invoice; positive")
    currency = models.CharField(max_length=3)
    description = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "credit"], name="invoiceadjustment_once_per_invoice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice}: −{self.amount} {self.currency} ({self.credit})"


class ExchangeRate(models.Model):
    """One unit of `currency` is worth `rate` units of `base` from `valid_from` on, until a
    later row for the pair. Finance keeps the table; rows are never edited, a new row supersedes."""

    currency = models.CharField(max_length=3)
    base = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    valid_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["currency", "base", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "base", "valid_from"], name="exchangerate_one_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {self.base} from {self.valid_from}"

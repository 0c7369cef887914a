from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from audit.sealing import EncryptedEmailField
from audit.transactions import AuditedHistory

from .money import money_field

CONTRACT_PERM = "licensing.transition_contract"
ENTITLEMENT_PERM = "licensing.transition_entitlement"


def _judged_on(instance) -> date:
    if instance.as_of is None:
        raise ValueError(
            f"{type(instance).__name__}.as_of is not set: the service passes the business date "
            "(`on=`) before it checks a date-bound transition."
        )
    return instance.as_of


class Customer(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    # Personal data: sealed at rest (audit.sealing), shown by role (audit.personal).
    billing_email = EncryptedEmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomerMembership(models.Model):
    """Ties a portal user to the one customer whose data they may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_membership"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="members")
    history = AuditedHistory()

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer}"


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Bundle(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    products = models.ManyToManyField(Product, through="BundleItem", related_name="bundles")
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    standalone_price = money_field(help_text="Price of the component bought on its own")
    history = AuditedHistory()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "product"], name="bundleitem_unique_product")
        ]

    def __str__(self) -> str:
        return f"{self.bundle}: {self.quantity} × {self.product}"


class Plan(models.Model):
    class Tier(models.TextChoices):
        STARTER = "starter", "Starter"
        STANDARD = "standard", "Standard"
        PROFESSIONAL = "professional", "Professional"
        ENTERPRISE = "enterprise", "Enterprise"

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUAL = "annual", "Annual"

    class PricingModel(models.TextChoices):
        PER_SEAT = "per_seat", "Per seat"
        PER_UNIT = "per_unit", "Per unit"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    tier = models.CharField(max_length=20, choices=Tier.choices)
    currency = models.CharField(max_length=3, help_text="ISO 4217 code")
    billing_cycle = models.CharField(max_length=20, choices=BillingCycle.choices)
    pricing_model = models.CharField(max_length=20, choices=PricingModel.choices)
    unit_price = money_field(validators=[MinValueValidator(0)])
    unit_label = models.CharField(max_length=40, default="seat")
    history = AuditedHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(product__isnull=False, bundle__isnull=True))
                | (models.Q(product__isnull=True, bundle__isnull=False)),
                name="plan_sells_product_or_bundle",
            ),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="plan_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class ConnectedSystem(models.Model):
    """A system that enforces entitlements: identity provider, license server, asset inventory."""

    class Kind(models.TextChoices):
        IDENTITY_PROVIDER = "identity_provider", "Identity provider"
        LICENSE_SERVER = "license_server", "License server"
        ASSET_INVENTORY = "asset_inventory", "Asset inventory"
        PAYMENT_GATEWAY = "payment_gateway", "Payment gateway"

    class Protocol(models.TextChoices):
        SCIM2 = "scim2", "SCIM 2.0"
        WEBHOOK = "webhook", "Signed webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # Blank protocol: a label only, nothing is sent there.
    protocol = models.CharField(max_length=10, choices=Protocol.choices, blank=True)
    base_url = models.URLField(blank=True)
    # Sealed by licensing.deprovisioning.systems; never shown, never in history.
    secret_sealed = models.TextField(blank=True, editable=False)
    timeout = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Seconds to wait for the system to answer",
    )
    history = AuditedHistory(excluded_fields=["secret_sealed"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_sealed)


class PolicyVersion(models.Model):
    """A versioned rule set; published versions are never edited, only superseded."""

    class Kind(models.TextChoices):
        LIFECYCLE = "lifecycle", "Lifecycle"
        REVOCATION = "revocation", "Revocation"
        # Read by the breaches app (tolerance, consecutive days, warnings, what each
        # classification allows); the core only stores and versions it.
        BREACH = "breach", "Breach"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    rules = models.JSONField(default=dict)
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = AuditedHistory()

    class Meta:
        ordering = ["kind", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="policy_unique_number")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.kind}/v{self.number}"


class Contract(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        TERMINATED = "terminated", "Terminated"
        EXPIRED = "expired", "Expired"

    number = models.CharField(max_length=30, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managed_contracts",
    )
    currency = models.CharField(max_length=3)
    term_start = models.DateField()
    term_end = models.DateField(help_text="Exclusive: the first day no longer covered")
    billing_anchor = models.DateField(help_text="Billing periods start on this day")
    prepaid = models.BooleanField(default=False)
    commitment_years = models.PositiveSmallIntegerField(default=1)
    grace_days = models.PositiveSmallIntegerField(default=0)
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(365)],
        help_text="Days after an invoice is issued until it is due",
    )
    status = FSMField(default=Status.DRAFT, choices=Status.choices, protected=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-term_start", "number"]
        permissions = [("transition_contract", "Can move a contract through its lifecycle")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__gt=models.F("term_start")),
                name="contract_term_not_empty",
            )
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("licensing:contract", args=[self.pk])

    # The business date a transition is judged on. FSM conditions receive only the instance, so
    # the service sets this from its `on` before asking; a condition never reads a clock.
    as_of: date | None = None

    def term_has_ended(self) -> bool:
        return _judged_on(self) >= self.term_end

    @transition(field=status, permission=CONTRACT_PERM, source=Status.DRAFT, target=Status.ACTIVE)
    def activate(self):
        pass

    @transition(
        field=status, permission=CONTRACT_PERM, source=Status.ACTIVE, target=Status.SUSPENDED
    )
    def suspend(self):
        pass

    @transition(
        field=status, permission=CONTRACT_PERM, source=Status.SUSPENDED, target=Status.ACTIVE
    )
    def resume(self):
        pass

    @transition(
        field=status,
        permission=CONTRACT_PERM,
        source=[Status.ACTIVE, Status.SUSPENDED],
        target=Status.TERMINATED,
    )
    def terminate(self):
        pass

    @transition(
        field=status,
        permission=CONTRACT_PERM,
        source=[Status.ACTIVE, Status.SUSPENDED],
        target=Status.EXPIRED,
        conditions=[term_has_ended],
    )
    def expire(self):
        pass


class ContractLine(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = money_field(validators=[MinValueValidator(0)], help_text="Agreed price per period")
    history = AuditedHistory()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.plan}"

    @property
    def period_amount(self):
        return self.unit_price * self.quantity


class Entitlement(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        SEAT_POOL = "seat_pool", "Seat pool"
        PRODUCT_KEY = "product_key", "Product key"
        FEATURE_FLAG = "feature_flag", "Feature flag"
        API_QUOTA = "api_quota", "API quota"
        ROLE_PERMISSION = "role_permission", "Role permission"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        GRACE = "grace", "In grace"
        HELD = "held", "On hold"
        REVOKED = "revoked", "Revoked"
        RESTORED = "restored", "Restored"
        EXPIRED = "expired", "Expired"

    class Renewal(models.TextChoices):
        AUTO = "auto", "Renews automatically"
        MANUAL = "manual", "Renewal to be agreed"
        NONE = "none", "Does not renew"

    # States in which the customer holds the entitlement's quantity (the ledger adds it on entry).
    HOLDING_STATES = frozenset(
        {State.ACTIVE, State.SUSPENDED, State.GRACE, State.HELD, State.RESTORED}
    )
    S = State

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="entitlements")
    contract_line = models.ForeignKey(
        ContractLine, null=True, blank=True, on_delete=models.PROTECT, related_name="entitlements"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    scope = models.CharField(max_length=200, help_text="What it covers: product, feature, role")
    key = models.CharField(max_length=80, blank=True, help_text="Product key, where one is issued")
    quantity = models.PositiveBigIntegerField(help_text="Seats, calls per period or 1 for a flag")
    unit = models.CharField(max_length=40, default="seats")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Exclusive")
    renewal = models.CharField(max_length=10, choices=Renewal.choices, default=Renewal.AUTO)
    state = FSMField(default=State.PENDING, choices=State.choices, protected=True)
    held_from = models.CharField(max_length=20, blank=True, choices=State.choices)
    grace_ends_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    enforced_by = models.ManyToManyField(ConnectedSystem, blank=True, related_name="entitlements")
    history = AuditedHistory(excluded_fields=["version"])

    class Meta:
        ordering = ["contract_id", "id"]
        permissions = [("transition_entitlement", "Can move an entitlement through its lifecycle")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="entitlement_period_not_empty",
            )
        ]
        indexes = [models.Index(fields=["contract", "state"]), models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.contract})"

    def get_absolute_url(self) -> str:
        return reverse("licensing:entitlement", args=[self.pk])

    # The business date a transition is judged on: see Contract.as_of.
    as_of: date | None = None

    def has_ended(self) -> bool:
        return _judged_on(self) >= self.ends_on

    @property
    def holds_quantity(self) -> bool:
        return self.state in self.HOLDING_STATES

    @transition(
        field=state, permission=ENTITLEMENT_PERM, source=[S.PENDING, S.RESTORED], target=S.ACTIVE
    )
    def activate(self):
        pass

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=[S.ACTIVE, S.RESTORED, S.GRACE],
        target=S.SUSPENDED,
    )
    def suspend(self):
        pass

    @transition(field=state, permission=ENTITLEMENT_PERM, source=S.SUSPENDED, target=S.ACTIVE)
    def resume(self):
        pass

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=[S.ACTIVE, S.SUSPENDED, S.RESTORED],
        target=S.GRACE,
    )
    def start_grace(self):
        pass

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=[S.ACTIVE, S.SUSPENDED, S.GRACE, S.RESTORED],
        target=S.HELD,
    )
    def hold(self):
        self.held_from = self.state

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=S.HELD,
        target=RETURN_VALUE(S.ACTIVE, S.SUSPENDED, S.GRACE, S.RESTORED),
    )
    def release_hold(self):
        previous, self.held_from = self.held_from or self.S.ACTIVE, ""
        return previous

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=[S.ACTIVE, S.SUSPENDED, S.GRACE, S.RESTORED],
        target=S.REVOKED,
    )
    def revoke(self):
        pass

    @transition(field=state, permission=ENTITLEMENT_PERM, source=S.REVOKED, target=S.RESTORED)
    def restore(self):
        pass

    @transition(
        field=state,
        permission=ENTITLEMENT_PERM,
        source=[S.PENDING, S.ACTIVE, S.SUSPENDED, S.GRACE, S.RESTORED],
        target=S.EXPIRED,
        conditions=[has_ended],
    )
    def expire(self):
        pass

    del S


class Assignment(models.Model):
    """An entitlement's holder at one connected system: who, over there, must lose access.

    ``external_id`` is the system's own id of the holder (a SCIM user id for a seat, an account
    at a license server for a product key). ``group_id`` names the SCIM group through which a
    role is held: revoking the role removes the membership, not the user.
    """

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="assignments"
    )
    system = models.ForeignKey(
        ConnectedSystem, on_delete=models.PROTECT, related_name="assignments"
    )
    external_id = models.CharField(max_length=255)
    group_id = models.CharField(max_length=255, blank=True)
    # What people call the holder and the group (a SCIM displayName, userName or e-mail), so
    # pages name them rather than show the system's ids; read from the system when not given.
    holder_name = models.CharField(max_length=255, blank=True)
    group_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["entitlement_id", "system_id", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement", "system", "external_id"], name="assignment_unique_holder"
            )
        ]
        indexes = [models.Index(fields=["system", "external_id"])]

    def __str__(self) -> str:
        return f"{self.external_id} at {self.system} for {self.entitlement_id}"

    @property
    def holder_label(self) -> str:
        """The holder's name where known, else the system's id (a webhook account is its id)."""
        return self.holder_name or self.external_id

    @property
    def group_label(self) -> str:
        return self.group_name or self.group_id


class ApiToken(models.Model):
    """A time-bound credential an API-quota entitlement grants.

    Renewed shortly before it expires (a successor token, ``renewed_by``) for as long as the
    entitlement lives and renews; renewal stops the moment its contract is deprovisioned
    (renewal suppressed), and every live token is revoked when the entitlement is. Only the
    SHA-256 of a token is kept for checking it; the token itself is sealed at rest so its holder
    can be handed it again, and is never logged or shown in history.
    """

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=16, help_text="The token's first characters, for people")
    token_hash = models.CharField(max_length=64, unique=True)
    token_sealed = models.TextField(editable=False)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    renewed_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renews"
    )
    history = AuditedHistory(excluded_fields=["token_sealed"])

    class Meta:
        ordering = ["entitlement_id", "issued_at", "id"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(revoked_at__isnull=True, renewed_by__isnull=True),
                name="apitoken_live_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.entitlement_id}"

    def is_valid_at(self, moment) -> bool:
        return self.revoked_at is None and self.issued_at <= moment < self.expires_at


class LedgerEntry(models.Model):
    """Append-only record of every change to what a customer holds. The truth; state is a cache."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="ledger")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="ledger")
    effective_date = models.DateField()
    quantity_delta = models.BigIntegerField()
    state_after = models.CharField(max_length=20, choices=Entitlement.State.choices)
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    policy_version = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["contract", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.effective_date} {self.action} {self.quantity_delta:+d} → {self.state_after}"


class ScheduledChange(models.Model):
    """A change decided now that takes effect on a later date: until then nothing it names
    changes. The beat job applies it at the start of its date through the services."""

    class Kind(models.TextChoices):
        QUANTITY = "quantity", "Quantity change"
        SUSPEND = "suspend", "Pause"
        RESUME = "resume", "Resume"
        START_GRACE = "start_grace", "End, with the grace period"
        PLAN = "plan", "Move to another plan"

    class State(models.TextChoices):
        PENDING = "pending", "Scheduled"
        APPLIED = "applied", "Applied"
        CANCELLED = "cancelled", "Cancelled"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="schedule")
    # One of the two: an entitlement, or (for a quantity change) the plan line.
    entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="schedule"
    )
    contract_line = models.ForeignKey(
        ContractLine, null=True, blank=True, on_delete=models.PROTECT, related_name="schedule"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity_before = models.PositiveBigIntegerField(null=True, blank=True)
    quantity_after = models.PositiveBigIntegerField(null=True, blank=True)
    # A plan move names the plan the line leaves and the one it moves to.
    plan_before = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan_after = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_date = models.DateField()
    # Who decided it, for people ("Credit CN-2026-0001") and for code ("credits.credit:12").
    source = models.CharField(max_length=100, blank=True)
    source_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    outcome = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["effective_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(entitlement__isnull=False, contract_line__isnull=True)
                | models.Q(entitlement__isnull=True, contract_line__isnull=False),
                name="scheduledchange_one_target",
            )
        ]
        indexes = [models.Index(fields=["state", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.target_name}: {self.description}"

    @property
    def target_name(self) -> str:
        if self.entitlement_id:
            return self.entitlement.name
        return self.contract_line.plan.name

    @property
    def unit(self) -> str:
        if self.entitlement_id:
            return self.entitlement.unit
        return f"{self.contract_line.plan.unit_label}s"

    @property
    def description(self) -> str:
        """ "15 → 10 seats on 1 Dec 2026", "Paused from 1 Dec 2026", ..."""
        on = f"{self.effective_date:%-d %b %Y}"
        if self.kind == self.Kind.QUANTITY:
            return f"{self.quantity_before:,} → {self.quantity_after:,} {self.unit} on {on}"
        if self.kind == self.Kind.PLAN:
            return f"{self.plan_before.name} → {self.plan_after.name} on {on}"
        if self.kind == self.Kind.SUSPEND:
            return f"Paused from {on}"
        if self.kind == self.Kind.RESUME:
            return f"Resumes on {on}"
        return f"Ends on {on} (grace period starts)"


class Invoice(models.Model):
    """What the customer was billed for one billing period, and whether it was paid."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=30, unique=True)
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive")
    issued_on = models.DateField()
    # Unpaid past this (plus the revocation policy's days), the contract is deprovisioned.
    due_on = models.DateField(help_text="Issue date plus the contract's payment terms")
    paid_on = models.DateField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["contract_id", "period_start"]
        indexes = [models.Index(fields=["due_on"], condition=models.Q(paid_on__isnull=True),
                                name="invoice_unpaid_due")]  # fmt: skip
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")),
                name="invoice_period_not_empty",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    contract_line = models.ForeignKey(
        ContractLine, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    quantity = models.PositiveIntegerField()
    amount = money_field(validators=[MinValueValidator(0)])
    history = AuditedHistory()

    class Meta:
        ordering = ["invoice_id", "id"]

    def __str__(self) -> str:
        return f"{self.invoice}: {self.quantity} × {self.contract_line.plan}"


# Deprovisioning's models belong to this app; they live in their subpackage's room.
from .deprovisioning.models import (  # noqa: E402, F401
    BlackoutWindow,
    Delivery,
    DeprovisioningHold,
    DeprovisioningRun,
    Reconciliation,
    ReconciliationFinding,
)

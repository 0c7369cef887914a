from django.conf import settings
from django.db import models

from .transactions import AuditedHistory, transaction_field


class AuditEvent(models.Model):
    """One link of the tamper-evident chain: its hash covers the previous hash and its content."""

    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    policy_version = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # `data` exactly as it was hashed: its canonical JSON text (audit.chain.canonical). jsonb
    # rewrites some numbers (-0.0 becomes 0.0, 1e20 an integer), so the JSON column cannot
    # always give back the bytes the hash covers; the chain, the tree and exports read this.
    # Null (not "": "" is no JSON) only on rows written by raw SQL; verification then reads `data`.
    canonical_data = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Redaction by the retention purge (audit/retention.py): the personal content (reason, data,
    # actor_username) is blanked, the chained `hash` stays, the Merkle leaf hash is kept here (and
    # in the level-0 MerkleNode) so proofs still verify, and `redaction_mac` (HMAC under the chain
    # key) binds what is left to the kept hashes and to the purge event `redacted_by` (its seq).
    redacted_at = models.DateTimeField(null=True, blank=True)
    redacted_by = models.PositiveBigIntegerField(null=True, blank=True)
    leaf_hash = models.BinaryField(max_length=32, null=True, blank=True)
    # A database default too: rows written by raw SQL (bench baselines, tests) need none.
    redaction_mac = models.CharField(max_length=64, blank=True, default="", db_default="")
    # The database transaction that wrote the event, as its history rows record theirs
    # (audit.transactions): the timeline pairs them by it. Not chained; null on older events.
    transaction_id = transaction_field()

    class Meta:
        ordering = ["seq"]
        permissions = [
            ("view_personal_data", "Can read personal data in clear (contacts, notes, disputes)"),
            ("view_governance", "Can read the governance dashboard and its anonymised export"),
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["action", "occurred_at"], name="audit_event_action_time"),
            # The timeline filters these and orders by time: each index serves both.
            models.Index(fields=["actor", "occurred_at"], name="audit_event_actor_time"),
            models.Index(fields=["policy_version", "occurred_at"], name="audit_event_policy_time"),
            models.Index(
                fields=["object_type", "object_id", "occurred_at"], name="audit_event_object_time"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """A single row naming the last event; appenders lock it, so the chain never forks."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class ChainVerification(models.Model):
    """One check of the whole chain, run by a task (nightly, or asked for from the audit log) so
    no page request ever walks the chain; pages show the latest stored result."""

    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)
    verified_up_to = models.PositiveBigIntegerField(
        default=0, help_text="Events verified, from the first in order (the last good seq)"
    )
    first_bad_id = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        state = "pending" if self.ok is None else ("ok" if self.ok else "broken")
        return f"chain verification {self.requested_at:%Y-%m-%d %H:%M} {state}"


class MerkleNode(models.Model):
    """A perfect subtree of the RFC 9162 tree over the events: leaves [index * 2**level, ...).

    Level 0 holds the leaf hashes. Rows are written as events are appended, under the chain
    head's lock, and never change, so any root or proof reads O(log n) of them.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class SignedTreeHead(models.Model):
    """An Ed25519 signature over `licensedesk-tree-head:{tree_size}:{root_hash}`."""

    tree_size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=88, help_text="base64 of the 64-byte signature")
    # The key that signed, so a head still verifies after the signing key is rotated.
    public_key = models.CharField(max_length=44, help_text="base64 of the raw Ed25519 key")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"tree head {self.tree_size}"


class RetentionPolicyVersion(models.Model):
    """How long each kind of record is kept, and what happens then (audit/retention.py reads
    `rules`). Published versions are never edited, only superseded; one is in force on a date."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField()
    rules = models.JSONField()
    summary = models.TextField(blank=True, help_text="What changed from the last version")
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"retention/v{self.number}"


class ExportJob(models.Model):
    """One export of the timeline, by whoever asked: streamed at once, or built by a task into a
    file under MEDIA_ROOT that only its requester (or an administrator) downloads."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"
        BUNDLE = "bundle", "Verifiable bundle (zip)"

    class State(models.TextChoices):
        STREAMED = "streamed", "Streamed"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    format = models.CharField(max_length=10, choices=Format.choices)
    via = models.CharField(max_length=10, default="page", help_text="page or api")
    filter = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="audit-exports/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "requested_at"])]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.get_format_display()})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.state == self.State.DONE else 0
        return min(100, self.done * 100 // self.total)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED, self.State.STREAMED)

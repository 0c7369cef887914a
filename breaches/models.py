"""Breach cases. For now: the usage figures they are judged on, and the reports that bring them.

A figure is one number for one entitlement, metric and day. Only one figure per key is current
(`replaced_at` is empty); a later report for the same key replaces it and keeps the old row, so
the history of what was reported, and when, stays readable.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from audit.limits import REASON_MAX_LENGTH
from licensing.models import Entitlement


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
    history = HistoricalRecords()

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
    history = HistoricalRecords()

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

"""The admin reads credits; it writes nothing.

Policies, change requests, credits, their approval steps, disputes, account entries and
exchange rates change only through the credits services (history, audit event, e-mail), on the
finance pages and the API. Here they are read-only, like licensing's models.
"""

from django.contrib import admin

from licensing.admin import ReadOnlyAdmin

from .models import (
    AccountEntry,
    ApprovalStep,
    ChangeRequest,
    Credit,
    CreditPolicyVersion,
    Dispute,
    ExchangeRate,
    InvoiceAdjustment,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyPlainAdmin(admin.ModelAdmin):
    """For the rows that keep no history of their own (entries are append-only)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApprovalStepInline(ReadOnlyInline):
    model = ApprovalStep


@admin.register(CreditPolicyVersion)
class CreditPolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "effective_from", "title")


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "customer", "intent", "effective_date", "total", "currency")
    list_filter = ("intent",)
    search_fields = ("contract__number", "customer__name")


@admin.register(Credit)
class CreditAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "customer", "status", "form", "amount", "currency")
    list_filter = ("status", "form")
    search_fields = ("number", "customer__name", "contract__number")
    inlines = [ApprovalStepInline]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("credit", "status", "outcome", "raised_at", "due_on")
    list_filter = ("status", "outcome")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ("currency", "base", "rate", "valid_from")


@admin.register(AccountEntry)
class AccountEntryAdmin(ReadOnlyPlainAdmin):
    list_display = ("customer", "credit", "kind", "amount", "currency")


@admin.register(InvoiceAdjustment)
class InvoiceAdjustmentAdmin(ReadOnlyPlainAdmin):
    list_display = ("invoice", "credit", "kind", "amount")

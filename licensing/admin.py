"""The admin is for staff configuration; lifecycle changes go through the app's own pages."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Bundle,
    BundleItem,
    ConnectedSystem,
    Contract,
    ContractLine,
    Customer,
    CustomerMembership,
    Entitlement,
    LedgerEntry,
    Plan,
    PolicyVersion,
    Product,
)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """State, ledger and policy rows change only through services, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "country", "billing_email")
    search_fields = ("name", "code")


@admin.register(CustomerMembership)
class CustomerMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "customer")
    autocomplete_fields = ("customer",)


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ("name", "sku")
    search_fields = ("name", "sku")


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0


@admin.register(Bundle)
class BundleAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code")
    inlines = [BundleItemInline]


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "tier", "currency", "billing_cycle", "unit_price")
    list_filter = ("tier", "currency", "billing_cycle", "pricing_model")
    search_fields = ("name", "code")


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "protocol", "base_url")


class ContractLineInline(admin.TabularInline):
    model = ContractLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "status", "term_start", "term_end")
    list_filter = ("status",)
    search_fields = ("number", "customer__name")
    inlines = [ContractLineInline]


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin):
    list_display = ("name", "contract", "kind", "quantity", "state", "ends_on")
    list_filter = ("state", "kind")
    search_fields = ("name", "key", "contract__number")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("effective_date", "entitlement", "action", "quantity_delta", "state_after")
    list_filter = ("action",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("kind", "number", "status", "effective_from")

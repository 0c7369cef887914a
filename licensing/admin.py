"""The admin reads; it writes nothing unaudited.

Every licensing model changes through its service (with history and an audit event) on the app's
own pages or API, so here they are read-only: a membership moved by hand once silently gave a
customer's user another customer's data. Users and their roles stay editable for the
administrator, and each such change, a password set here included, is recorded in the audit
chain. The roles themselves (groups and their permissions) come from code and are read-only;
API tokens are credentials, neither shown nor made here; sign-in records are read-only, and
clearing a lockout is an audit event.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import TokenProxy
from simple_history.admin import SimpleHistoryAdmin

from audit.services import audit_record

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
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "country", "billing_email")
    search_fields = ("name", "code")


@admin.register(CustomerMembership)
class CustomerMembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "customer")


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("name", "sku")
    search_fields = ("name", "sku")


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0


@admin.register(Bundle)
class BundleAdmin(ReadOnlyAdmin):
    list_display = ("name", "code")
    inlines = [BundleItemInline]


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "tier", "currency", "billing_cycle", "unit_price")
    list_filter = ("tier", "currency", "billing_cycle", "pricing_model")
    search_fields = ("name", "code")


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(ReadOnlyAdmin):
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


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Who holds which role is access: every change made here is an audit event."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        audit_record(
            actor=request.user, action="user.admin_change" if change else "user.admin_create",
            object_type="auth.user", object_id=user.pk, reason="Changed in the admin",
            data={"username": user.get_username(), "changed": sorted(form.changed_data),
                  "groups": sorted(user.groups.values_list("name", flat=True)),
                  "is_active": user.is_active, "is_superuser": user.is_superuser},
        )  # fmt: skip

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="user.admin_delete", object_type="auth.user",
                     object_id=obj.pk, reason="Deleted in the admin",
                     data={"username": obj.get_username()})  # fmt: skip
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)

    def user_change_password(self, request, id, form_url=""):
        # The password and its audit event are one unit: no event, no new password.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, id)
                audit_record(
                    actor=request.user, action="user.admin_password_change",
                    object_type="auth.user", object_id=user.pk,
                    reason="Password set in the admin", data={"username": user.get_username()},
                )  # fmt: skip
        return response


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ReadOnlyAdmin):
    """Roles and their permissions are installed from licensing/roles.py; who holds one is
    changed on the user (audited above)."""

    list_display = ("name",)


# A token is a credential: listing keys would show them, and a token made here would act as
# its user unaudited. Tokens come from the token endpoint and die with sign-out or a new password.
admin.site.unregister(TokenProxy)

for model in (AccessAttempt, AccessLog, AccessFailureLog):
    admin.site.unregister(model)


@admin.register(AccessLog)
class SignInLogAdmin(AccessLogAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessFailureLog)
class SignInFailureLogAdmin(AccessFailureLogAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """Deleting a failed-attempt row lifts a lockout: allowed, and recorded."""

    actions = ["delete_selected"]

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        audit_record(actor=request.user, action="sign_in.lockout_clear", object_type="axes.attempt",
                     object_id=obj.pk, reason="Lockout cleared in the admin",
                     data={"username": obj.username, "ip_address": obj.ip_address})  # fmt: skip
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for attempt in queryset:
            self.delete_model(request, attempt)

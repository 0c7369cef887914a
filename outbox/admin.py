from django.contrib import admin

from .models import Mail


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    """Read-only: a mail that ran out of attempts shows here with its error, for a person."""

    list_display = ("created_at", "kind", "subject", "attempts", "sent_at")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    # Not the recipients: sealed at rest (audit.sealing), so a search cannot see them.
    search_fields = ("subject",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

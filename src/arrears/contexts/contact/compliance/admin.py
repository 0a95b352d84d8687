from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import ContactAttempt


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "customer", "case", "channel", "party", "outcome", "caller_kind", "caller",
                    "decision", "pack_version")
    list_filter = ("channel", "caller_kind", "decision")
    raw_id_fields = ("customer", "case", "contact", "actor")
    date_hierarchy = "at"

"""The audit log in the admin: a read-only list (no add, change or delete for anyone)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "action", "actor_label", "object_type", "object_id", "reason", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("=action", "=actor_label", "=object_id", "=ip")
    date_hierarchy = "at"
    ordering = ("-id",)
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


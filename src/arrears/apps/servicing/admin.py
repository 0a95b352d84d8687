"""Customer-service records in the admin: read-only (written by the servicing services)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import CollectionHold, ContactRestriction, ServiceContact


@admin.register(CollectionHold)
class CollectionHoldAdmin(ReadOnlyAdmin):
    list_display = ("customer", "kind", "since", "until", "breached", "reference")
    list_filter = ("kind", "breached")
    raw_id_fields = ("customer",)


@admin.register(ContactRestriction)
class ContactRestrictionAdmin(ReadOnlyAdmin):
    list_display = ("contact", "kind", "since")
    list_filter = ("kind",)
    raw_id_fields = ("contact",)


@admin.register(ServiceContact)
class ServiceContactAdmin(ReadOnlyAdmin):
    list_display = ("customer", "at", "channel", "handled_by", "routed_to")
    list_filter = ("channel",)
    raw_id_fields = ("customer",)

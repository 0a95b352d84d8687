"""Customer-service records in the admin: read-only (written by the servicing services)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin, ReadOnlyInline

from .models import CollectionHold, ContactRestriction, PaymentPlan, PlanInstalment, ServiceContact, Settlement


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


class PlanInstalmentInline(ReadOnlyInline):
    model = PlanInstalment
    fields = ("number", "due_date", "amount")
    extra = 0


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "account", "status", "total", "currency", "term_months", "created_on",
                    "requested_by", "approved_by", "signed_at")
    list_filter = ("status",)
    list_select_related = ("customer", "account", "requested_by", "approved_by")
    raw_id_fields = ("customer", "account", "hold")
    inlines = [PlanInstalmentInline]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "account", "status", "owed", "waived", "payoff", "deadline", "requested_on",
                    "requested_by", "approved_by")
    list_filter = ("status",)
    list_select_related = ("customer", "account", "requested_by", "approved_by")
    raw_id_fields = ("customer", "account")

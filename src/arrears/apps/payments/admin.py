"""Payments in the admin: read-only (payments are posted by the payment service, never by hand)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "account", "paid_at", "local_date", "amount", "channel")
    list_filter = ("channel", "local_date")
    search_fields = ("=external_id", "=account__external_id")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    show_full_result_count = False
    date_hierarchy = "local_date"


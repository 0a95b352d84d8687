"""Payments in the admin: read-only (payments are posted by the payment service, never by hand)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import AccountPosition, BalanceAdjustment, Payment, PromiseToPay


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "account", "paid_at", "local_date", "amount", "channel")
    list_filter = ("channel", "local_date")
    search_fields = ("=external_id", "=account__external_id")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    show_full_result_count = False
    date_hierarchy = "local_date"



@admin.register(PromiseToPay)
class PromiseToPayAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "amount", "currency", "promised_on", "channel", "agent", "status", "paid_amount",
                    "evaluated_on")
    list_filter = ("status", "channel")
    list_select_related = ("case", "agent")
    raw_id_fields = ("case", "customer", "agent")
    date_hierarchy = "promised_on"


@admin.register(BalanceAdjustment)
class BalanceAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("account", "kind", "local_date", "principal", "interest", "penalty", "fees", "reference", "actor")
    list_filter = ("kind",)
    search_fields = ("=account__external_id", "=reference")
    list_select_related = ("account", "actor")
    raw_id_fields = ("account", "actor")


@admin.register(AccountPosition)
class AccountPositionAdmin(ReadOnlyAdmin):
    list_display = ("account", "opened_on", "as_of", "principal", "interest", "penalty", "fees", "credit",
                    "product_version")
    search_fields = ("=account__external_id",)
    list_select_related = ("account",)
    raw_id_fields = ("account",)

"""Portfolio in the admin: read-only.

Customers, accounts and statements come from the card system's extract and delinquency from the
daily run; editing them by hand would be overwritten or, worse, silently disagree with the card
system. Personal data is shown masked here as on every screen.
"""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arrears.domain.masking import mask_name, mask_national_id

from arrears.admin_readonly import ReadOnlyAdmin, ReadOnlyInline

from .models import BucketHistory, CardAccount, Contact, Customer, DailyRun, ImportBatch, Statement


class ContactInline(ReadOnlyInline):
    model = Contact
    fields = ("party", "masked_party_name", "relation", "kind", "masked_value", "district")
    readonly_fields = fields

    @admin.display(description=_("联系人姓名"))
    def masked_party_name(self, obj):
        return mask_name(obj.party_name) or "–"

    @admin.display(description=_("号码或地址"))
    def masked_value(self, obj):
        from .selectors import mask_contact_value

        return mask_contact_value(obj.kind, obj.value)


class CardAccountInline(ReadOnlyInline):
    model = CardAccount
    fields = ("external_id", "product_code", "currency", "balance", "overdue_amount", "dpd", "bucket")
    readonly_fields = fields
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "masked_name", "sex", "district", "timezone", "created_at")
    list_filter = ("sex", "district", "timezone")
    search_fields = ("=external_id",)
    fields = ("external_id", "masked_name", "masked_national_id", "sex", "district", "timezone", "language", "created_at")
    readonly_fields = fields
    inlines = (ContactInline, CardAccountInline)

    @admin.display(description=_("姓名"))
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description=_("身份证号"))
    def masked_national_id(self, obj):
        return mask_national_id(obj.national_id) or "–"


class StatementInline(ReadOnlyInline):
    model = Statement
    fields = ("statement_date", "due_date", "closing_balance", "minimum_due", "delinquency_status")
    readonly_fields = fields
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-statement_date")


@admin.register(CardAccount)
class CardAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "external_id", "customer", "product_code", "currency", "balance", "overdue_amount", "dpd", "bucket",
        "as_of_extract", "last_run_as_of",
    )
    list_filter = ("bucket", "currency", "product_code", "as_of_extract")
    search_fields = ("=external_id", "=customer__external_id")
    list_select_related = ("customer",)
    exclude = ("customer",)
    readonly_fields = (
        "external_id", "customer_no", "product_code", "currency", "credit_limit", "balance", "principal", "interest",
        "fees", "minimum_due", "overdue_amount", "oldest_unpaid_due_date", "due_day", "opened_on", "as_of_extract",
        "dpd", "bucket", "last_run_as_of",
    )
    inlines = (StatementInline,)

    @admin.display(description=_("客户号"))
    def customer_no(self, obj):
        return obj.customer.external_id


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ("account", "statement_date", "due_date", "closing_balance", "minimum_due", "delinquency_status")
    list_filter = ("delinquency_status", "statement_date")
    search_fields = ("=account__external_id",)
    list_select_related = ("account",)
    raw_id_fields = ("account",)


@admin.register(BucketHistory)
class BucketHistoryAdmin(ReadOnlyAdmin):
    list_display = ("account", "as_of", "previous_bucket", "bucket", "dpd", "roll")
    list_filter = ("roll", "bucket", "as_of")
    search_fields = ("=account__external_id",)
    list_select_related = ("account",)
    raw_id_fields = ("account",)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("as_of", "format", "checksum", "created_at")
    list_filter = ("format",)
    search_fields = ("=checksum",)


@admin.register(DailyRun)
class DailyRunAdmin(ReadOnlyAdmin):
    list_display = (
        "as_of", "accounts", "cases_open", "cases_opened", "cases_closed", "seconds", "ladder_version", "executions",
        "finished_at",
    )
    list_filter = ("ladder_version",)

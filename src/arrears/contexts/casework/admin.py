"""Cases and their timeline in the admin: read-only.

A case's status moves only through the case services (declared transition map + timeline
event); the timeline is append-only. The admin therefore only shows them.
"""
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from arrears.admin_readonly import ReadOnlyAdmin, ReadOnlyMixin
from arrears.domain.masking import mask_name

from .models import Case, CaseEvent
from .selectors import event_label, status_label


class CaseEventInline(ReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("at", "as_of", "kind", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields
    ordering = ("-at", "-id")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__", "customer_no", "customer_name", "status_display", "bucket", "max_dpd", "total_balance",
        "overdue_amount", "currency", "opened_on", "closed_on", "assigned_to",
    )
    list_filter = ("status", "bucket", "currency", "opened_on")
    search_fields = ("=customer__external_id", "=customer__accounts__external_id")
    list_select_related = ("customer", "assigned_to")
    show_full_result_count = False
    exclude = ("customer",)
    readonly_fields = (
        "customer_no", "customer_name", "status", "opened_on", "closed_on", "bucket", "max_dpd", "total_balance",
        "overdue_amount", "currency", "assigned_to", "last_run_as_of",
    )
    inlines = (CaseEventInline,)
    ordering = ("-id",)

    def view_on_site(self, obj):
        return reverse("cases:detail", args=[obj.pk])

    @admin.display(description=_("客户号"), ordering="customer__external_id")
    def customer_no(self, obj):
        return obj.customer.external_id

    @admin.display(description=_("姓名"))
    def customer_name(self, obj):
        return mask_name(obj.customer.name)

    @admin.display(description=_("状态"), ordering="status")
    def status_display(self, obj):
        return status_label(obj.status)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "case", "kind_display", "from_status", "to_status", "actor", "as_of", "reason")
    list_filter = ("kind", "to_status")
    search_fields = ("=case__customer__external_id", "=kind")
    list_select_related = ("case", "actor")
    raw_id_fields = ("case", "actor")
    show_full_result_count = False

    @admin.display(description=_("类型"), ordering="kind")
    def kind_display(self, obj):
        return event_label(obj.kind)

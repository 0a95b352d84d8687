"""The one read-only rule of the Django admin.

The admin is for looking up reference data; every write goes through the services (import, daily
run, payments…), which check rules and leave audit and timeline events. So no model is added,
changed or deleted in the admin, for anyone.
"""
from django.contrib import admin


class ReadOnlyMixin:
    """Mix into a ``ModelAdmin`` or an inline: no add, change or delete, no bulk actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False

    def get_actions(self, request):
        return {}


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

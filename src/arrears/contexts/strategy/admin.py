"""Strategy versions and decisions in the admin: read-only (uploads and activation go through the
strategy page and :mod:`.versions`, which validate and audit; decisions are written by the daily
run)."""
from django.contrib import admin

from arrears.admin_readonly import ReadOnlyAdmin

from .models import StrategyDecision, StrategyVersion


@admin.register(StrategyVersion)
class StrategyVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "status", "uploaded_by", "uploaded_at", "activated_by", "activated_at", "note")
    list_filter = ("name", "status")
    search_fields = ("=name", "version", "note")
    list_select_related = ("uploaded_by", "activated_by")
    readonly_fields = ("name", "version", "status", "sha256", "uploaded_by", "uploaded_at", "activated_by",
                       "activated_at", "note", "source")
    fields = readonly_fields


@admin.register(StrategyDecision)
class StrategyDecisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "as_of", "trigger", "strategy_version", "segment", "arm", "rule_id", "action",
                    "previous_stage", "stage", "next_review_on")
    list_filter = ("as_of", "trigger", "strategy_version", "segment", "arm", "action", "stage")
    search_fields = ("=case__id", "=rule_id")
    date_hierarchy = "as_of"
    readonly_fields = ("case", "as_of", "trigger", "strategy_version", "segment", "arm", "rule_id", "action",
                       "action_params", "stage", "previous_stage", "next_review_on", "facts", "created_at")
    fields = readonly_fields
    list_select_related = ("case",)

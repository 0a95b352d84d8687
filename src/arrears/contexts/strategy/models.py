"""Collection strategy versions and the decisions they made.

A :class:`StrategyVersion` is the YAML text of one strategy version as uploaded (validated before
it is stored); exactly one version per strategy name is ``active`` and the daily run applies it.
Activation is a service call that writes an audit event. A :class:`StrategyDecision` is written
each time a case is (re)decided — by the daily run or on an event — with the version, segment,
arm, matched rule, action, stage and the facts the rule saw, so every action can be explained
later. The decision in force is also on the case (``Case.rule_id`` …) for fast reads.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StrategyVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACTIVE = "active", _("生效中")
        RETIRED = "retired", _("已停用")

    name = models.CharField(_("策略"), max_length=64)
    version = models.CharField(_("版本"), max_length=32)
    source = models.TextField(_("策略内容 (YAML)"))
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("启用人"))
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("策略版本")
        verbose_name_plural = pgettext_lazy("plural", "策略版本")
        ordering = ["name", "-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="strategy_name_version"),
            models.UniqueConstraint(fields=["name"], condition=Q(status="active"), name="one_active_strategy"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


class StrategyDecision(models.Model):
    class Trigger(models.TextChoices):
        DAILY = "daily", _("日终批处理")
        PAYMENT_POSTED = "payment_posted", _("还款入账")
        PAYMENT_REVERSED = "payment_reversed", _("还款冲正")
        PROMISE_BROKEN = "promise_broken", _("承诺跳票")
        VISIT_REPORTED = "visit_reported", _("外访反馈")
        COMPLAINT_OPENED = "complaint_opened", _("投诉受理")
        HOLD_CHANGED = "hold_changed", _("暂停催收变化")
        PLAN_BREACHED = "plan_breached", _("分期违约")
        MANUAL = "manual", _("人工重评")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="decisions",
                             verbose_name=_("案件"))
    as_of = models.DateField(_("业务日期"))
    trigger = models.CharField(_("触发"), max_length=24, choices=Trigger.choices, default=Trigger.DAILY)
    strategy_version = models.CharField(_("策略版本"), max_length=64)
    segment = models.CharField(_("客群"), max_length=32)
    arm = models.CharField(_("实验组"), max_length=32)
    rule_id = models.CharField(_("命中规则"), max_length=64)
    action = models.CharField(_("催收动作"), max_length=24)
    action_params = models.CharField(_("动作参数"), max_length=255, blank=True)
    stage = models.CharField(_("催收阶段"), max_length=16)
    previous_stage = models.CharField(_("原阶段"), max_length=16, blank=True)
    next_review_on = models.DateField(_("复评日"), null=True, blank=True)
    facts = models.JSONField(_("决策依据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("策略决策")
        verbose_name_plural = pgettext_lazy("plural", "策略决策")
        ordering = ["-as_of", "-id"]
        indexes = [
            models.Index(fields=["case", "as_of"], name="decision_case_day"),
            models.Index(fields=["as_of", "arm"], name="decision_day_arm"),
        ]

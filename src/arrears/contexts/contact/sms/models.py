"""SMS channel (issue 8): templates with versions, the outbox, message parts, inbound replies,
reply tasks for agents and numbers flagged for the desk.

``OutboundSms.status`` moves only through :func:`arrears.contexts.contact.sms.services.transition` (map
:data:`TRANSITIONS`), which also writes the ``sms_status`` timeline event. The outbox row's unique
constraint on (case, template code, debtor-local day) is what makes re-runs, retries and worker
crashes unable to create — and so to send — a second message (scenario R04).

Rendered bodies hold masked values only (last four card digits, amounts); the sender's number and
the text of inbound replies are personal data and are encrypted at rest.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.core.privacy.fields import EncryptedTextField


class SmsTemplate(models.Model):
    """One version of a template (code × language). Saved versions never change: editing saves a
    new version, screened when saved; one version per (code, language) is active."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ACTIVE = "active", _("启用")
        RETIRED = "retired", _("停用")

    code = models.SlugField(_("模板代码"), max_length=48)
    language = models.CharField(_("语言"), max_length=16)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=64)
    body = models.TextField(_("正文"))
    variables = models.JSONField(_("变量"), default=list)
    min_interval_days = models.PositiveSmallIntegerField(_("最短间隔天数"), default=7)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    policy_version = models.CharField(max_length=32, blank=True)
    screening_version = models.CharField(max_length=64, blank=True)
    parts = models.PositiveSmallIntegerField(_("条数"), default=1)
    encoding = models.CharField(_("编码"), max_length=8, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信模板")
        verbose_name_plural = pgettext_lazy("plural", "短信模板")
        ordering = ["code", "language", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "language", "version"], name="sms_template_version"),
            models.UniqueConstraint(fields=["code", "language"], condition=Q(status="active"),
                                    name="sms_template_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.code}/{self.language} v{self.version}"


class OutboundSms(models.Model):
    """One message of the outbox: created queued (by the daily run's strategy decisions or by an
    agent), sent by the worker inside the debtor's allowed hours, then followed by receipts."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        SUBMITTED = "submitted", _("已提交")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("发送失败")
        EXPIRED = "expired", _("已过期")
        CANCELLED = "cancelled", _("已取消")

    class Origin(models.TextChoices):
        STRATEGY = "strategy", _("催收策略")
        AGENT = "agent", _("催收员")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="sms", verbose_name=_("案件"))
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("客户"))
    contact = models.ForeignKey("portfolio.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("号码"))
    template_code = models.SlugField(_("模板代码"), max_length=48)
    template = models.ForeignKey(SmsTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("模板版本"))
    language = models.CharField(_("语言"), max_length=16, blank=True)
    language_fallback = models.CharField(_("语言回退"), max_length=64, blank=True)
    #: the debtor-local day the message belongs to (the decision's business date, or the agent's day)
    send_day = models.DateField(_("发送日"))
    #: "<case>:<template>:<day>": the idempotency key, also sent to the gateway as our reference
    idempotency_key = models.CharField(_("幂等键"), max_length=96, unique=True)
    origin = models.CharField(_("来源"), max_length=8, choices=Origin.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("创建人"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    policy_version = models.CharField(max_length=32, blank=True)
    body = models.TextField(_("短信内容"), blank=True)
    encoding = models.CharField(_("编码"), max_length=8, blank=True)
    parts = models.PositiveSmallIntegerField(_("条数"), default=0)
    not_before = models.DateTimeField(_("最早发送时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    #: set (and committed) before the first byte of submit_sm leaves: a row with it set and no
    #: message id is "in doubt" and is never submitted again (see services.dispatch_due)
    submit_started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    final_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    gateway = models.CharField(_("网关"), max_length=16, blank=True)
    error = models.CharField(_("错误"), max_length=255, blank=True)
    deferred_reason = models.CharField(_("延后原因"), max_length=64, blank=True)
    gate_decision = models.CharField(max_length=16, blank=True)
    gate_rule_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = pgettext_lazy("plural", "短信")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "template_code", "send_day"],
                                    name="sms_once_per_case_template_day"),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="sms_due"),
            models.Index(fields=["customer", "submit_started_at"], name="sms_customer_day"),
            models.Index(fields=["case", "template_code", "send_day"], name="sms_case_template"),
        ]

    def __str__(self) -> str:
        return f"SMS {self.idempotency_key} ({self.status})"

    @property
    def in_doubt(self) -> bool:
        """A submit began and its outcome was never recorded (a crash): reconciled, never resent."""
        return self.status == self.Status.QUEUED and self.submit_started_at is not None


class SmsPart(models.Model):
    """One submitted part of a (possibly concatenated) message, by the SMSC's message id; delivery
    receipts are matched here."""

    sms = models.ForeignKey(OutboundSms, on_delete=models.CASCADE, related_name="part_rows")
    seq = models.PositiveSmallIntegerField()
    message_id = models.CharField(max_length=65)
    gateway = models.CharField(max_length=16)
    state = models.CharField(max_length=16, blank=True)
    error = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "message_id"], name="sms_part_message_id"),
            models.UniqueConstraint(fields=["sms", "seq"], name="sms_part_seq"),
        ]


class InboundSms(models.Model):
    """A reply received from a handset (SMPP deliver_sm that is not a receipt)."""

    class Outcome(models.TextChoices):
        OPTED_OUT = "opted_out", _("已退订")
        TASK = "task", _("已转催收员")
        UNMATCHED = "unmatched", _("未匹配客户")

    received_at = models.DateTimeField(_("接收时间"))
    gateway = models.CharField(max_length=16)
    gateway_ref = models.CharField(max_length=96, blank=True)
    sender = EncryptedTextField(_("发送号码"), max_length=32)
    text = EncryptedTextField(_("内容"), max_length=2000)
    outcome = models.CharField(_("处理结果"), max_length=10, choices=Outcome.choices)
    customer = models.ForeignKey("portfolio.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("短信回复")
        verbose_name_plural = pgettext_lazy("plural", "短信回复")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "gateway_ref"], condition=~Q(gateway_ref=""),
                                    name="sms_inbound_once"),
        ]


class SmsReplyTask(models.Model):
    """A reply that is not an opt-out: work for the case's agent, shown on the case page."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        DONE = "done", _("已处理")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="sms_tasks")
    inbound = models.OneToOneField(InboundSms, on_delete=models.PROTECT, related_name="task")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="sms_tasks", verbose_name=_("催收员"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("创建时间"))
    done_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        verbose_name = _("短信回复任务")
        verbose_name_plural = pgettext_lazy("plural", "短信回复任务")
        ordering = ["-created_at", "-id"]


class NumberFlag(models.Model):
    """A number the gateway reported as permanently undeliverable (empty number, barred …): no more
    SMS to it; the desk checks it (skip tracing) and clears the flag."""

    contact = models.ForeignKey("portfolio.Contact", on_delete=models.CASCADE, related_name="sms_flags")
    sms = models.ForeignKey(OutboundSms, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("原因"), max_length=64)
    since = models.DateTimeField(_("开始"))
    cleared_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("异常号码")
        verbose_name_plural = pgettext_lazy("plural", "异常号码")
        constraints = [
            models.UniqueConstraint(fields=["contact"], condition=Q(cleared_at__isnull=True),
                                    name="sms_one_open_flag_per_contact"),
        ]

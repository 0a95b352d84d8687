"""The contact ledger (联络台账): every contact attempt on every channel, by in-house teams,
agencies and robots alike — the one history the compliance gate counts from.

Append-only: rows are written by :func:`arrears.contexts.contact.compliance.services.record_attempt` only; the
application never updates or deletes them (the admin is read-only).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ContactAttempt(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("电话")
        SMS = "sms", _("短信")
        EMAIL = "email", _("电子邮件")
        LETTER = "letter", _("信函")
        FIELD_VISIT = "field_visit", _("外访")
        VOICE_ROBOT = "voice_robot", _("智能语音")
        VOICEMAIL = "voicemail", _("语音留言")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("呼出")
        INBOUND = "inbound", _("呼入")

    class Party(models.TextChoices):
        DEBTOR = "debtor", _("本人")
        GUARANTOR = "guarantor", _("担保人")
        EMERGENCY = "emergency", _("紧急联系人")
        OTHER = "other", _("其他第三人")

    class CallerKind(models.TextChoices):
        BANK = "bank", _("行内")
        AGENCY = "agency", _("委外机构")
        ROBOT = "robot", _("机器人")

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="contact_attempts",
                                 verbose_name=_("客户"))
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="contact_attempts", verbose_name=_("案件"))
    at = models.DateTimeField(_("时间"))
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.OUTBOUND)
    party = models.CharField(_("联系对象"), max_length=16, choices=Party.choices, default=Party.DEBTOR)
    contact = models.ForeignKey("portfolio.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("联系方式"))
    #: open vocabulary (see arrears.domain.compliance.model): connected, conversation, rpc,
    #: unanswered, voicemail, sent, delivered, refused, not_in_service …
    outcome = models.CharField(_("结果"), max_length=32)
    #: collect (default), outsourcing_notice, locate … (arrears.domain.compliance.model.normalize_purpose)
    purpose = models.CharField(_("目的"), max_length=32, default="collect")
    caller_kind = models.CharField(_("联络方"), max_length=8, choices=CallerKind.choices, default=CallerKind.BANK)
    #: the team name or the agency code
    caller = models.CharField(_("联络团队或机构"), max_length=64, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"))
    decision = models.CharField(_("合规结论"), max_length=16)
    rule_ids = models.JSONField(_("规则"), default=list, blank=True)
    pack_version = models.CharField(_("规则包版本"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("联络记录")
        verbose_name_plural = pgettext_lazy("plural", "联络记录")
        indexes = [models.Index(fields=["customer", "at"], name="contact_attempt_customer_at"),
                   models.Index(fields=["at"], name="contact_attempt_at")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.at:%Y-%m-%d %H:%M}"

"""Payments received on card accounts.

``paid_at`` is a timezone-aware instant; ``local_date`` is its calendar date in the debtor's time
zone, which is what decides delinquency (a payment at 23:30 Beijing time belongs to that day).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.apps.portfolio.models import MONEY, CardAccount


class Payment(models.Model):
    account = models.ForeignKey(CardAccount, on_delete=models.CASCADE, related_name="payments", verbose_name=_("卡账户"))
    external_id = models.CharField(_("流水号"), max_length=64)
    paid_at = models.DateTimeField(_("还款时间"))
    local_date = models.DateField(_("还款日(当地)"))
    amount = models.DecimalField(_("金额"), **MONEY)
    channel = models.CharField(_("渠道"), max_length=32, default="bank_transfer")

    class Meta:
        ordering = ["-paid_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="payment_natural_key")]
        indexes = [models.Index(fields=["account", "paid_at"], name="payment_account_paid_at")]
        verbose_name = _("还款")
        verbose_name_plural = pgettext_lazy("plural", "还款")


class PromiseToPay(models.Model):
    """A promise to pay (承诺还款, PTP): a dated amount a customer promised on a contact.

    ``status`` starts ``open``; the promise evaluation (on every posting and in the daily run) moves
    it to ``kept`` / ``partly_kept`` / ``broken``; ``cancelled`` when superseded (e.g. by a plan).
    ``promised_on`` is a calendar date in the debtor's time zone; ``amount`` in the account currency
    (yuan, two decimals). The collection strategy reads the latest promise of a case (open/broken).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("待兑现")
        KEPT = "kept", _("已兑现")
        PARTLY_KEPT = "partly_kept", _("部分兑现")
        BROKEN = "broken", _("跳票")
        CANCELLED = "cancelled", _("已取消")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="promises", verbose_name=_("案件"))
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="promises",
                                 verbose_name=_("客户"))
    amount = models.DecimalField(_("承诺金额"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    promised_on = models.DateField(_("承诺还款日"))
    channel = models.CharField(_("渠道"), max_length=16, default="phone")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="promises_taken", verbose_name=_("催收员"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("记录时间"))
    evaluated_on = models.DateField(_("评估日期"), null=True, blank=True)
    paid_amount = models.DecimalField(_("已还金额"), **MONEY, default=0)

    class Meta:
        verbose_name = _("承诺还款")
        verbose_name_plural = pgettext_lazy("plural", "承诺还款")
        indexes = [
            models.Index(fields=["case", "created_at"], name="ptp_case_created"),
            models.Index(fields=["status", "promised_on"], name="ptp_status_due"),
        ]

"""Payments received on card accounts.

``paid_at`` is a timezone-aware instant; ``local_date`` is its calendar date in the debtor's time
zone, which is what decides delinquency (a payment at 23:30 Beijing time belongs to that day).
"""
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

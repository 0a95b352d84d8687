"""Payments received on card accounts, their allocation, reversals, balance adjustments and the
account position the payment service keeps between two extracts.

``paid_at`` is a timezone-aware instant; ``local_date`` is its calendar date in the debtor's time
zone, which is what decides delinquency (a payment at 23:30 Beijing time belongs to that day).
Payments are written only by :mod:`arrears.contexts.money.payments.services` (posting is idempotent by
``(account, external_id)``); a payment is never deleted: a reversal or chargeback sets
``status=reversed`` and ``reversed_on``, and the account is re-evaluated from that date.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

#: money fields: yuan (or the account currency's major unit) with two decimals, as every context stores money
MONEY = {"max_digits": 16, "decimal_places": 2}


class Payment(models.Model):
    account = models.ForeignKey("portfolio.CardAccount", on_delete=models.CASCADE, related_name="payments",
                                verbose_name=_("卡账户"))
    external_id = models.CharField(_("流水号"), max_length=64)
    paid_at = models.DateTimeField(_("还款时间"))
    local_date = models.DateField(_("还款日(当地)"))
    amount = models.DecimalField(_("金额"), **MONEY)
    channel = models.CharField(_("渠道"), max_length=32, default="bank_transfer")

    class Status(models.TextChoices):
        POSTED = "posted", _("已入账")
        REVERSED = "reversed", _("已冲正")

    class Source(models.TextChoices):
        EXTRACT = "extract", _("数据提取")
        FILE = "file", _("还款文件")
        API = "api", _("接口")

    class ReversalKind(models.TextChoices):
        REVERSAL = "reversal", _("冲正")
        CHARGEBACK = "chargeback", _("拒付")

    #: ``posted`` or ``reversed`` (see :data:`arrears.domain.payments` and services.PAYMENT_TRANSITIONS).
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.POSTED,
                              db_default=Status.POSTED)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.EXTRACT,
                              db_default=Source.EXTRACT)
    posted_at = models.DateTimeField(_("入账时间"), null=True, blank=True)
    #: How the waterfall applied it: {"order": [...], "applied": {part: "0.00"}, "credit": "0.00",
    #: "product": code, "product_version": v}; empty for payments already in an extract snapshot.
    allocation = models.JSONField(_("分配明细"), default=dict, blank=True, db_default={})
    #: The allocation order used, comma-separated (R03: stored on each payment for audit).
    allocation_order = models.CharField(_("冲抵顺序"), max_length=64, blank=True, default="", db_default="")
    reversed_on = models.DateField(_("冲正日期"), null=True, blank=True)
    reversal_kind = models.CharField(_("冲正类型"), max_length=16, choices=ReversalKind.choices, blank=True,
                                     default="", db_default="")
    reversal_reason = models.CharField(_("冲正原因"), max_length=255, blank=True, default="", db_default="")

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
    #: The local date the promise was taken (payments from this date on count towards it).
    taken_on = models.DateField(_("承诺日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("承诺还款")
        verbose_name_plural = pgettext_lazy("plural", "承诺还款")
        indexes = [
            models.Index(fields=["case", "created_at"], name="ptp_case_created"),
            models.Index(fields=["status", "promised_on"], name="ptp_status_due"),
        ]


class AccountPosition(models.Model):
    """The payment service's running position of one account since its last extract.

    ``opened_on`` is the extract date the opening parts (``opening``: principal, interest, penalty,
    fees as strings) and the minimum-payment ``items`` ([ref, due_date, amount]) were captured
    from; payments dated after it are replayed on top (:func:`arrears.domain.balance.explain`).
    A newer extract replaces the opening. ``credit`` is an overpayment kept for the customer.
    """

    account = models.OneToOneField("portfolio.CardAccount", on_delete=models.CASCADE, related_name="position",
                                   verbose_name=_("卡账户"))
    opened_on = models.DateField(_("期初日期"))
    opening = models.JSONField(_("期初余额"), default=dict)
    items = models.JSONField(_("最低还款明细"), default=list)
    principal = models.DecimalField(_("本金"), **MONEY, default=0)
    interest = models.DecimalField(_("利息"), **MONEY, default=0)
    penalty = models.DecimalField(_("违约金"), **MONEY, default=0)
    fees = models.DecimalField(_("费用"), **MONEY, default=0)
    credit = models.DecimalField(_("溢缴款"), **MONEY, default=0)
    as_of = models.DateField(_("计算日期"))
    product_version = models.CharField(_("产品条款版本"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("账户头寸")
        verbose_name_plural = pgettext_lazy("plural", "账户头寸")


class BalanceAdjustment(models.Model):
    """An amount taken off what an account owes without a payment: a waiver (减免), a settlement
    discount, or a residual written off after a payoff (尾差核销). Never a silent drop: each has an
    audit event and a case timeline event. ``local_date`` is when it takes effect."""

    class Kind(models.TextChoices):
        WAIVER = "waiver", _("减免")
        SETTLEMENT = "settlement", _("和解减免")
        RESIDUAL = "residual_write_off", _("尾差核销")

    account = models.ForeignKey("portfolio.CardAccount", on_delete=models.PROTECT, related_name="adjustments",
                                verbose_name=_("卡账户"))
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    local_date = models.DateField(_("生效日期"))
    principal = models.DecimalField(_("本金"), **MONEY, default=0)
    interest = models.DecimalField(_("利息"), **MONEY, default=0)
    penalty = models.DecimalField(_("违约金"), **MONEY, default=0)
    fees = models.DecimalField(_("费用"), **MONEY, default=0)
    reference = models.CharField(_("编号"), max_length=64)
    created_at = models.DateTimeField(_("记录时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"))
    #: reversed with the payment it depended on (a write-off or a settlement's waiver): it no longer
    #: counts from this local date on (snapshots before it are unchanged)
    reversed_on = models.DateField(_("撤销日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("余额调整")
        verbose_name_plural = pgettext_lazy("plural", "余额调整")
        constraints = [models.UniqueConstraint(fields=["account", "kind", "reference"], name="adjustment_once")]

    @property
    def total(self):
        return self.principal + self.interest + self.penalty + self.fees

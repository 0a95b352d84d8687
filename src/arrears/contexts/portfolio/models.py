"""Portfolio: customers, their contacts, card accounts, statements, delinquency history, runs.

Amounts are ``Decimal`` in the account's currency with two decimals (minor units: fen for CNY,
cents for TWD). Dates are calendar dates in the debtor's local time zone (``Customer.timezone``).

Personal data (names, national ID numbers, birth dates, contact values and the coordinates of
addresses) is encrypted at rest (:class:`~arrears.core.privacy.fields.EncryptedTextField`,
``EncryptedDateField``, ``EncryptedFloatField``); exact search goes through the blind indexes
``Customer.national_id_hash`` and ``Contact.value_hash`` (see :mod:`.selectors`). Birth dates and
coordinates cannot be filtered or ordered in SQL at all.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.core.privacy.fields import (
    BlindIndexedModel,
    BlindIndexField,
    EncryptedDateField,
    EncryptedFloatField,
    EncryptedTextField,
)

MONEY = {"max_digits": 16, "decimal_places": 2}


class Customer(BlindIndexedModel):
    """A cardholder. One collections case per delinquent customer covers all of their accounts."""

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    external_id = models.CharField(_("客户号"), max_length=64, unique=True)
    name = EncryptedTextField(_("姓名"), max_length=128)
    national_id = EncryptedTextField(_("身份证号"), max_length=32, blank=True)
    national_id_hash = BlindIndexField(source="national_id", indexer="national_id")
    birth_date = EncryptedDateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    timezone = models.CharField(_("时区"), max_length=64, default="Asia/Shanghai")
    language = models.CharField(_("语言"), max_length=16, default="zh-hans")
    district = models.CharField(_("区"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    #: When the retention policy erased this customer's personal data (arrears.contexts.audit.retention).
    purged_at = models.DateTimeField(_("个人信息清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = pgettext_lazy("plural", "客户")

    def __str__(self) -> str:
        return self.external_id


class Contact(BlindIndexedModel):
    """A way to reach a party of the customer: the customer, an emergency contact, a guarantor."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("手机")
        HOME_PHONE = "home_phone", _("住宅电话")
        WORK_PHONE = "work_phone", _("单位电话")
        EMAIL = "email", _("电子邮箱")
        HOME_ADDRESS = "home_address", _("住址")
        WORK_ADDRESS = "work_address", _("单位地址")

    class Party(models.TextChoices):
        DEBTOR = "debtor", _("本人")
        GUARANTOR = "guarantor", _("担保人")
        EMERGENCY = "emergency", _("紧急联系人")
        OTHER = "other", _("其他第三人")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("客户"))
    external_id = models.CharField(max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    party = models.CharField(_("联系对象"), max_length=16, choices=Party.choices, default=Party.DEBTOR)
    party_name = EncryptedTextField(_("联系人姓名"), max_length=128, blank=True)
    relation = models.CharField(_("关系"), max_length=32, blank=True)
    value = EncryptedTextField(_("号码或地址"), max_length=255)
    value_hash = BlindIndexField(source="value", indexer="contact_value")
    district = models.CharField(_("区"), max_length=32, blank=True)
    latitude = EncryptedFloatField(null=True, blank=True)
    longitude = EncryptedFloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "external_id"], name="contact_natural_key")]
        verbose_name = _("联系方式")
        verbose_name_plural = pgettext_lazy("plural", "联系方式")

    def __str__(self) -> str:
        return f"{self.get_party_display()} · {self.get_kind_display()}"


class CardAccount(models.Model):
    """A credit-card account and its delinquency as of the last daily run.

    Balances come from the card system's extract (``as_of_extract``); ``dpd`` and ``bucket`` are
    written by the daily run only (``last_run_as_of``).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("客户"))
    external_id = models.CharField(_("卡账户号"), max_length=64, unique=True)
    product_code = models.CharField(_("产品"), max_length=32, default="CARD")
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    credit_limit = models.DecimalField(_("授信额度"), **MONEY)
    balance = models.DecimalField(_("账户余额"), **MONEY)
    principal = models.DecimalField(_("本金"), **MONEY, default=0)
    interest = models.DecimalField(_("利息"), **MONEY, default=0)
    fees = models.DecimalField(_("违约金及费用"), **MONEY, default=0)
    minimum_due = models.DecimalField(_("最低还款额"), **MONEY, default=0)
    overdue_amount = models.DecimalField(_("逾期金额"), **MONEY, default=0)
    oldest_unpaid_due_date = models.DateField(_("最早未还到期日"), null=True, blank=True)
    due_day = models.PositiveSmallIntegerField(_("到期还款日(日)"), default=25)
    opened_on = models.DateField(_("开户日"), null=True, blank=True)
    as_of_extract = models.DateField(_("数据日期"))
    #: the extract's own figures (what the card system said on ``as_of_extract``), kept when payments
    #: or the daily run move ``overdue_amount`` / ``oldest_unpaid_due_date`` on: delinquency is
    #: recomputed from these, the statements, payments, reversals and adjustments
    #: (:mod:`arrears.domain.delinquency`), so the daily run does not need a fresh extract every day
    extract_overdue_amount = models.DecimalField(_("数据日逾期金额"), **MONEY, default=0, db_default=0)
    extract_oldest_unpaid_due_date = models.DateField(_("数据日最早未还到期日"), null=True, blank=True)
    dpd = models.IntegerField(_("逾期天数"), default=0)
    bucket = models.CharField(_("账龄"), max_length=8, default="M0", db_index=True)
    last_run_as_of = models.DateField(_("最近批处理日期"), null=True, blank=True)

    def save(self, *args, **kwargs):
        # a new account's current figures are its extract's figures unless they were given apart
        if self._state.adding and self.extract_oldest_unpaid_due_date is None and not self.extract_overdue_amount:
            self.extract_overdue_amount = self.overdue_amount
            self.extract_oldest_unpaid_due_date = self.oldest_unpaid_due_date
        super().save(*args, **kwargs)

    class Meta:
        verbose_name = _("信用卡账户")
        verbose_name_plural = pgettext_lazy("plural", "信用卡账户")

    def __str__(self) -> str:
        return self.external_id


class Statement(models.Model):
    """One billing cycle's statement (账单)."""

    account = models.ForeignKey(CardAccount, on_delete=models.CASCADE, related_name="statements", verbose_name=_("卡账户"))
    statement_date = models.DateField(_("账单日"))
    due_date = models.DateField(_("到期还款日"))
    closing_balance = models.DecimalField(_("账单金额"), **MONEY)
    minimum_due = models.DecimalField(_("最低还款额"), **MONEY)
    #: Repayment status the card system recorded for this cycle, in months of delay
    #: (-2 no consumption, -1 paid in full, 0 revolving, 1..8 months late); null when not given.
    delinquency_status = models.SmallIntegerField(_("还款状态"), null=True, blank=True)

    class Meta:
        ordering = ["-statement_date"]
        constraints = [models.UniqueConstraint(fields=["account", "statement_date"], name="statement_natural_key")]
        verbose_name = _("账单")
        verbose_name_plural = pgettext_lazy("plural", "账单")


class BucketHistory(models.Model):
    """An account's bucket from ``as_of`` on; a row is written for every move of the bucket, with
    its ``cause`` (the daily roll, a payment's cure, a reversal, a settlement, a waiver, a
    write-off), so roll and cure rates can be computed from history. The daily run writes at most
    one ``daily_run`` row per account and date; other causes may add rows on the same date."""

    class Roll(models.TextChoices):
        NEW = "new", _("新入")
        FORWARD = "forward", _("前滚")
        BACK = "back", _("回滚")
        CURE = "cure", _("出催")

    class Cause(models.TextChoices):
        DAILY_RUN = "daily_run", _("日批")
        PAYMENT = "payment", _("还款入账")
        REVERSAL = "reversal", _("还款冲正")
        SETTLEMENT = "settlement", _("和解")
        WAIVER = "waiver", _("减免")
        WRITE_OFF = "write_off", _("核销")

    # no index of its own: ``bucket_history_account_day`` (account, as_of) serves lookups by account
    # (one index fewer to maintain on the daily run's million-row writes)
    account = models.ForeignKey(CardAccount, on_delete=models.CASCADE, related_name="bucket_history",
                                verbose_name=_("卡账户"), db_index=False)
    as_of = models.DateField(_("日期"))
    dpd = models.IntegerField(_("逾期天数"))
    bucket = models.CharField(_("账龄"), max_length=8)
    previous_bucket = models.CharField(_("原账龄"), max_length=8, blank=True)
    roll = models.CharField(_("迁徙"), max_length=8, choices=Roll.choices)
    cause = models.CharField(_("原因"), max_length=16, choices=Cause.choices, default=Cause.DAILY_RUN,
                             db_default=Cause.DAILY_RUN)

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "as_of"], condition=models.Q(cause="daily_run"),
                                               name="bucket_history_once_per_run")]
        indexes = [models.Index(fields=["account", "as_of"], name="bucket_history_account_day")]
        verbose_name = _("账龄历史")
        verbose_name_plural = pgettext_lazy("plural", "账龄历史")


class ImportBatch(models.Model):
    """One loaded extract: its files, checksum and what it changed."""

    format = models.CharField(max_length=16)
    as_of = models.DateField()
    checksum = models.CharField(max_length=64)
    files = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["format", "as_of", "checksum"], name="import_once")]
        verbose_name = _("数据导入批次")
        verbose_name_plural = pgettext_lazy("plural", "数据导入批次")


class DailyRun(models.Model):
    """The record of one daily run per business date (``as_of``, in the business time zone)."""

    as_of = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    accounts = models.IntegerField()
    buckets = models.JSONField(default=dict)
    cases_open = models.IntegerField()
    cases_opened = models.IntegerField()
    cases_closed = models.IntegerField()
    seconds = models.FloatField()
    ladder_version = models.CharField(max_length=32)
    executions = models.IntegerField(default=1)

    class Meta:
        ordering = ["-as_of"]
        verbose_name = _("日终批处理")
        verbose_name_plural = pgettext_lazy("plural", "日终批处理")

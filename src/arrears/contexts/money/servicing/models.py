"""Customer service (客服): contacts from customers, and who they were routed to."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ServiceContact(models.Model):
    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("客服热线")
        ONLINE = "online", _("在线客服")
        BRANCH = "branch", _("网点")
        LETTER = "letter", _("信函")

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="service_contacts")
    at = models.DateTimeField(_("时间"))
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="service_contacts_handled", verbose_name=_("受理人"))
    routed_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="service_contacts_routed", verbose_name=_("转交给"))
    summary = models.CharField(_("摘要"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("客服来电")
        verbose_name_plural = pgettext_lazy("plural", "客服来电")


class CollectionHold(models.Model):
    """A reason collection must pause or be restricted for a customer (争议, 投诉, 个性化分期 …).

    Active from ``since`` until ``until`` (open-ended when empty). A signed payment plan holds
    collection unless ``breached``. The compliance gate reads active holds before every contact.
    """

    class Kind(models.TextChoices):
        DISPUTE = "dispute", _("争议")
        COMPLAINT = "complaint", _("投诉")
        PAYMENT_PLAN = "payment_plan", _("个性化分期")
        LITIGATION = "litigation", _("诉讼")
        DECEASED = "deceased", _("身故")
        BANKRUPTCY = "bankruptcy", _("破产")

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="collection_holds")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    since = models.DateTimeField(_("开始"))
    until = models.DateTimeField(_("结束"), null=True, blank=True)
    breached = models.BooleanField(_("已违约"), default=False)
    reference = models.CharField(_("编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("暂停催收")
        verbose_name_plural = pgettext_lazy("plural", "暂停催收")
        indexes = [models.Index(fields=["customer", "kind"], name="hold_customer_kind")]


class ContactRestriction(models.Model):
    """A party's wish or a rule about one contact: do not contact, refused (第三人拒绝), opted out."""

    class Kind(models.TextChoices):
        DO_NOT_CONTACT = "do_not_contact", _("勿扰")
        REFUSED = "refused", _("拒绝再被联系")
        OPTED_OUT = "opted_out", _("退订")

    contact = models.ForeignKey("portfolio.Contact", on_delete=models.CASCADE, related_name="restrictions")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    since = models.DateTimeField(_("开始"))

    class Meta:
        verbose_name = _("联络限制")
        verbose_name_plural = pgettext_lazy("plural", "联络限制")


class PaymentPlan(models.Model):
    """A personalised instalment plan (个性化分期还款协议, 2011 card rules 第七十条).

    ``status`` moves only through :func:`arrears.contexts.money.servicing.services.plan_transition` (map in
    :mod:`arrears.domain.plans`): proposed → approved (maker-checker) → active (signed: a
    ``payment_plan`` :class:`CollectionHold` suppresses contact) → completed, or breached (an
    instalment more than ``ARREARS_PLAN_GRACE_DAYS`` late: the hold is marked breached and
    collection resumes). ``contents`` holds the six mandatory contents by key.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待审批")
        APPROVED = "approved", _("已审批")
        ACTIVE = "active", _("履行中")
        COMPLETED = "completed", _("已结清")
        BREACHED = "breached", _("已违约")
        REJECTED = "rejected", _("已拒绝")
        CANCELLED = "cancelled", _("已取消")

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="payment_plans")
    account = models.ForeignKey("portfolio.CardAccount", on_delete=models.PROTECT, related_name="payment_plans")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    total = models.DecimalField(_("分期总额"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    term_months = models.PositiveSmallIntegerField(_("期数(月)"))
    contents = models.JSONField(_("协议内容"), default=dict)
    created_on = models.DateField(_("申请日期"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("经办人"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("审批人"))
    signed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    signature = models.CharField(_("签署方式/凭证"), max_length=128, blank=True)
    hold = models.ForeignKey(CollectionHold, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status_changed_on = models.DateField(_("状态日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("个性化分期")
        verbose_name_plural = pgettext_lazy("plural", "个性化分期")


class PlanInstalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("期次"))
    due_date = models.DateField(_("到期日"))
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="instalment_once")]
        verbose_name = _("分期计划")
        verbose_name_plural = pgettext_lazy("plural", "分期计划")


class Settlement(models.Model):
    """A settlement or waiver request (减免): ``waived`` of ``owed`` is forgiven if ``payoff``
    (= owed − waived) is paid by ``deadline``. requested → approved (by someone else, within their
    role's authority) → paid (the waiver is recorded as a balance adjustment) or void."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已审批")
        PAID = "paid", _("已结清")
        VOID = "void", _("已失效")
        REJECTED = "rejected", _("已拒绝")
        CANCELLED = "cancelled", _("已取消")

    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="settlements")
    account = models.ForeignKey("portfolio.CardAccount", on_delete=models.PROTECT, related_name="settlements")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    owed = models.DecimalField(_("欠款总额"), max_digits=16, decimal_places=2)
    waived = models.DecimalField(_("减免金额"), max_digits=16, decimal_places=2)
    payoff = models.DecimalField(_("应还金额"), max_digits=16, decimal_places=2)
    deadline = models.DateField(_("还款截止日"))
    requested_on = models.DateField(_("申请日期"))
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("经办人"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("审批人"))
    status_changed_on = models.DateField(_("状态日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = pgettext_lazy("plural", "减免")

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

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

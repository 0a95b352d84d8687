"""Legal referrals (转法务): cases the legal department has been asked to take."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LegalReferral(models.Model):
    class Status(models.TextChoices):
        REFERRED = "referred", _("已转法务")
        ACCEPTED = "accepted", _("法务已受理")
        WITHDRAWN = "withdrawn", _("已撤回")
        CLOSED = "closed", _("已结束")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="legal_referrals")
    referred_on = models.DateField(_("转法务日"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.REFERRED)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="legal_referrals", verbose_name=_("法务专员"))

    #: statuses in which the legal department works the case (and so sees it)
    ACTIVE = (Status.REFERRED, Status.ACCEPTED)

    class Meta:
        verbose_name = _("法务转案")
        verbose_name_plural = pgettext_lazy("plural", "法务转案")

"""Field visits (外访): which agent visits which case on which day."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FieldVisit(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("已计划")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="field_visits")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_visits",
                              verbose_name=_("外访员"))
    scheduled_on = models.DateField(_("外访日期"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED)

    class Outcome(models.TextChoices):
        MET_DEBTOR = "met_debtor", _("见到本人")
        MET_FAMILY = "met_family", _("见到家属")
        NOBODY = "nobody", _("无人")
        MOVED = "moved", _("已搬离")

    #: whom the visit met (empty until reported); a done visit not meeting the debtor is a failed visit
    outcome = models.CharField(_("外访结果"), max_length=16, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("外访")
        verbose_name_plural = pgettext_lazy("plural", "外访")
        indexes = [models.Index(fields=["agent", "scheduled_on"], name="visit_agent_day")]

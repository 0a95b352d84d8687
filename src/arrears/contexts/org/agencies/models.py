"""External collection agencies and the cases placed with them (委外 / 撤案).

A placement is active from ``placed_on`` until ``recalled_on``; an agency's staff see a case only
while its placement is active (data scope), never after recall.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Agency(models.Model):
    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=128)
    whitelisted = models.BooleanField(_("已入白名单"), default=False)
    #: the placement pool the strategy's ``agency_placement(pool)`` action names
    pool = models.CharField(_("委外池"), max_length=32, default="standard")
    #: the most active placements the agency takes (0 = none)
    capacity = models.PositiveIntegerField(_("案件容量"), default=0)
    active = models.BooleanField(_("合作中"), default=True)

    class Meta:
        verbose_name = _("委外机构")
        verbose_name_plural = pgettext_lazy("plural", "委外机构")

    def __str__(self) -> str:
        return self.name


class Placement(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placements")
    placed_on = models.DateField(_("委外日"))
    recall_due_on = models.DateField(_("约定撤案日"), null=True, blank=True)
    recalled_on = models.DateField(_("撤案日"), null=True, blank=True)
    recall_reason = models.CharField(_("撤案原因"), max_length=32, blank=True)
    extensions = models.PositiveIntegerField(_("留案次数"), default=0)

    class Meta:
        verbose_name = _("委外记录")
        verbose_name_plural = pgettext_lazy("plural", "委外记录")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(recalled_on__isnull=True),
                                    name="one_active_placement_per_case")
        ]

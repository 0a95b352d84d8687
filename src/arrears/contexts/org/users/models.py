"""Who works where: teams of the collections organisation and the staff profile.

Roles are Django groups (:mod:`arrears.contexts.org.users.roles`); a user's team and, for an external
collection agency's staff, their agency, are on :class:`StaffProfile`. Data scope
(:mod:`arrears.contexts.casework.scope`) reads both on every request, so a change takes effect at the
user's next request.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Team(models.Model):
    class Department(models.TextChoices):
        COLLECTION = "collection", _("催收部")
        FIELD = "field", _("外访部")
        LEGAL = "legal", _("法务部")
        SERVICE = "service", _("客服中心")

    name = models.CharField(_("团队名称"), max_length=64, unique=True)
    department = models.CharField(_("部门"), max_length=16, choices=Department.choices)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams",
        verbose_name=_("组长"),
    )
    # allocation skills (empty list = any): buckets the team works, languages it speaks, districts it
    # covers (field teams); read by the allocation step of the daily run
    buckets = models.JSONField(_("账龄技能"), default=list, blank=True)
    languages = models.JSONField(_("语言"), default=list, blank=True)
    districts = models.JSONField(_("负责区域"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = pgettext_lazy("plural", "团队")

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members",
                             verbose_name=_("团队"))
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="staff", verbose_name=_("委外机构"))
    #: how many open cases the allocation gives this person at most (0 = takes no cases)
    capacity = models.PositiveIntegerField(_("案件容量"), default=0)
    #: absence (leave, sickness): the allocation re-allocates their cases for days in [from, until]
    absent_from = models.DateField(_("缺勤开始"), null=True, blank=True)
    absent_until = models.DateField(_("缺勤结束"), null=True, blank=True)

    class Meta:
        verbose_name = _("员工档案")
        verbose_name_plural = pgettext_lazy("plural", "员工档案")

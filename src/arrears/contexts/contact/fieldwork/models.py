"""Field visits (外访): requests, approval, crews, routes, check-in/out, reports, photos, safety.

``FieldVisit.status`` moves only through :func:`arrears.contexts.contact.fieldwork.services.transition`, which
checks the map in :mod:`arrears.domain.fieldwork` and writes a timeline event. The strategy reads
``fieldwork_fieldvisit.case_id, status, outcome``. Positions of staff near a debtor's address are
personal data of the debtor (where they live) and are encrypted at rest like the address itself.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.domain.fieldwork import OPEN_STATUSES
from arrears.core.privacy.fields import EncryptedFloatField, EncryptedTextField

MONEY = {"max_digits": 16, "decimal_places": 2}


class FieldVisit(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        PLANNED = "planned", _("已计划")
        IN_PROGRESS = "in_progress", _("外访中")
        DONE = "done", _("已完成")
        REJECTED = "rejected", _("已驳回")
        CANCELLED = "cancelled", _("已取消")

    class Source(models.TextChoices):
        STRATEGY = "strategy", _("催收策略")
        AGENT = "agent", _("人工申请")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="field_visits")
    #: the crew lead (null until a crew is assigned)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="field_visits", verbose_name=_("外访员"))
    #: the second person of a two-person visit
    partner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="field_visits_as_partner", verbose_name=_("同行外访员"))
    team = models.ForeignKey("users.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="field_visits", verbose_name=_("外访团队"))
    scheduled_on = models.DateField(_("外访日期"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED)

    class Outcome(models.TextChoices):
        MET_DEBTOR = "met_debtor", _("见到本人")
        MET_FAMILY = "met_family", _("见到家属")
        NOBODY = "nobody", _("无人")
        MOVED = "moved", _("已搬离")

    #: whom the visit met (empty until reported); a done visit not meeting the debtor is a failed visit
    outcome = models.CharField(_("外访结果"), max_length=16, choices=Outcome.choices, blank=True)

    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.AGENT)
    priority = models.IntegerField(_("优先级"), default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("申请人"))
    request_reason = models.CharField(_("申请原因"), max_length=255, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=255, blank=True)
    #: the address visited (the debtor's home or work address)
    contact = models.ForeignKey("portfolio.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("外访地址"))
    staff_required = models.PositiveSmallIntegerField(_("所需人数"), default=2)
    #: why two persons: policy, address_flagged, risk:<flag>
    staff_reasons = models.JSONField(_("人数依据"), default=list, blank=True)
    #: when the visit may start, local time of the debtor (inside the hours the gate allows)
    window_start = models.TimeField(_("可外访开始"), null=True, blank=True)
    window_end = models.TimeField(_("可外访截止"), null=True, blank=True)
    expected_minutes = models.PositiveSmallIntegerField(_("预计时长(分钟)"), default=45)
    route_order = models.PositiveSmallIntegerField(_("路线顺序"), null=True, blank=True)
    planned_start = models.TimeField(_("计划到达"), null=True, blank=True)
    unplanned_reason = models.CharField(_("未排入路线原因"), max_length=32, blank=True)
    recording_ref = models.CharField(_("录音录像编号"), max_length=128, blank=True)
    checkin_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checkin_lat = EncryptedFloatField(null=True, blank=True)
    checkin_lon = EncryptedFloatField(null=True, blank=True)
    checkin_accuracy_m = models.FloatField(null=True, blank=True)
    checkin_distance_m = models.FloatField(_("签到距离(米)"), null=True, blank=True)
    checkin_reason = models.CharField(_("远距离签到原因"), max_length=255, blank=True)
    checkout_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    checkout_lat = EncryptedFloatField(null=True, blank=True)
    checkout_lon = EncryptedFloatField(null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, null=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, null=True)

    class Meta:
        verbose_name = _("外访")
        verbose_name_plural = pgettext_lazy("plural", "外访")
        indexes = [models.Index(fields=["agent", "scheduled_on"], name="visit_agent_day"),
                   models.Index(fields=["team", "scheduled_on", "status"], name="visit_team_day"),
                   models.Index(fields=["status", "scheduled_on"], name="visit_status_day")]
        constraints = [models.UniqueConstraint(fields=["case"], condition=Q(status__in=OPEN_STATUSES),
                                               name="one_open_visit_per_case")]

    def __str__(self) -> str:
        return f"V{self.pk}"


class FieldCredential(models.Model):
    """The identification a field staff member shows (工作证): staff number and issuer (the bank,
    or the agency for agency staff) — CN-FIELD-02 ``require_id_badge``, CN-PROHIBIT-03."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="field_credential")
    staff_number = models.CharField(_("工号"), max_length=32, unique=True)
    issuer = models.CharField(_("发证机构"), max_length=128)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("外访工作证")
        verbose_name_plural = pgettext_lazy("plural", "外访工作证")


class VisitReport(models.Model):
    """What happened at a visit (one per visit)."""

    class Result(models.TextChoices):
        PROMISE = "promise", _("承诺还款")
        PLAN_REQUEST = "plan_request", _("申请分期")
        REFUSED = "refused", _("拒绝还款")
        DISPUTE = "dispute", _("提出异议")
        HARDSHIP = "hardship", _("经济困难")
        NO_RESULT = "no_result", _("无结果")

    visit = models.OneToOneField(FieldVisit, on_delete=models.PROTECT, related_name="report")
    met = models.CharField(_("见到对象"), max_length=16, choices=FieldVisit.Outcome.choices)
    result = models.CharField(_("外访结论"), max_length=16, choices=Result.choices)
    promise_amount = models.DecimalField(_("承诺金额"), **MONEY, null=True, blank=True)
    promise_date = models.DateField(_("承诺日期"), null=True, blank=True)
    plan_months = models.PositiveSmallIntegerField(_("申请分期期数"), null=True, blank=True)
    entered_premises = models.BooleanField(_("进入私人场所"), default=False)
    premises_consent = models.BooleanField(_("已取得进入同意"), default=False)
    consent_by = EncryptedTextField(_("同意人"), max_length=128, blank=True)
    recording_ref = models.CharField(_("录音录像编号"), max_length=128, blank=True)
    risk_flags = models.JSONField(_("风险标记"), default=list, blank=True)
    notes = EncryptedTextField(_("备注"), max_length=4000, blank=True)
    promise_id = models.BigIntegerField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))

    class Meta:
        verbose_name = _("外访报告")
        verbose_name_plural = pgettext_lazy("plural", "外访报告")


class VisitPhoto(models.Model):
    """A photo taken at a visit, tamper-evident: SHA-256 of the bytes, server time, position."""

    visit = models.ForeignKey(FieldVisit, on_delete=models.PROTECT, related_name="photos")
    content = models.BinaryField()
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    received_at = models.DateTimeField(_("服务器时间"))
    lat = EncryptedFloatField(null=True, blank=True)
    lon = EncryptedFloatField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("外访照片")
        verbose_name_plural = pgettext_lazy("plural", "外访照片")


class RiskFlag(models.Model):
    """A danger recorded for a case's address by an earlier visit (aggression, dogs …): shown before
    every later visit and forcing a two-person crew."""

    class Kind(models.TextChoices):
        AGGRESSION = "aggression", _("有攻击行为")
        DOG = "dog", _("有犬只")
        WEAPON = "weapon", _("持有器械")
        THREATS = "threats", _("言语威胁")
        UNSAFE_BUILDING = "unsafe_building", _("建筑不安全")
        OTHER = "other", _("其他风险")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="risk_flags")
    kind = models.CharField(_("风险类型"), max_length=16, choices=Kind.choices)
    source_visit = models.ForeignKey(FieldVisit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    noted_at = models.DateTimeField(_("记录时间"))
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("风险标记")
        verbose_name_plural = pgettext_lazy("plural", "风险标记")
        constraints = [models.UniqueConstraint(fields=["case", "kind"], condition=Q(active=True),
                                               name="one_active_risk_flag_per_kind")]


class SafetyAlert(models.Model):
    """An alert on the team leader's board: a check-out overdue, or an SOS."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("超时未签退")
        SOS = "sos", _("紧急求助")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("处理中")
        RESOLVED = "resolved", _("已解除")

    visit = models.ForeignKey(FieldVisit, on_delete=models.PROTECT, related_name="alerts")
    team = models.ForeignKey("users.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    #: 1 = team leader; 2 = escalated (department duty manager / supervisors)
    level = models.PositiveSmallIntegerField(_("级别"), default=1)
    raised_at = models.DateTimeField(_("触发时间"))
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lat = EncryptedFloatField(null=True, blank=True)
    lon = EncryptedFloatField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("安全警报")
        verbose_name_plural = pgettext_lazy("plural", "安全警报")
        indexes = [models.Index(fields=["status", "team"], name="alert_status_team")]
        constraints = [models.UniqueConstraint(fields=["visit"], condition=Q(kind="overdue"),
                                               name="one_overdue_alert_per_visit")]


class RoutePlan(models.Model):
    """A crew's planned route for a day (written by ``plan_routes``; re-planning replaces it)."""

    team = models.ForeignKey("users.Team", on_delete=models.CASCADE, related_name="route_plans")
    day = models.DateField()
    crew_key = models.CharField(max_length=64)
    members = models.JSONField(default=list)
    stops = models.JSONField(default=list)  # [{"visit": id, "order": n, "start": "HH:MM", "travel": min}]
    travel_minutes = models.IntegerField(default=0)
    start = models.CharField(max_length=5, blank=True)
    end = models.CharField(max_length=5, blank=True)
    solve_seconds = models.FloatField(default=0)
    cost = models.BigIntegerField(default=0)
    planned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("外访路线")
        verbose_name_plural = pgettext_lazy("plural", "外访路线")
        constraints = [models.UniqueConstraint(fields=["team", "day", "crew_key"], name="one_route_per_crew_day")]


class FieldTeamSettings(models.Model):
    """Where a field team starts its day and its shift (defaults: its first district's centroid,
    09:00–18:00)."""

    team = models.OneToOneField("users.Team", on_delete=models.CASCADE, related_name="field_settings")
    base_lat = models.FloatField()
    base_lon = models.FloatField()
    shift_start = models.TimeField(default="09:00")
    shift_end = models.TimeField(default="18:00")

    class Meta:
        verbose_name = _("外访团队设置")
        verbose_name_plural = pgettext_lazy("plural", "外访团队设置")

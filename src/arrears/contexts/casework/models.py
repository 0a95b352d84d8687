"""Collections cases and their timeline.

One open case per delinquent customer (a database constraint). ``status`` moves only through
:func:`arrears.contexts.casework.services.transition` / ``transition_many``, which check the declared map
in :mod:`arrears.domain.cases` and write a :class:`CaseEvent`. Timeline events are written only by
:func:`arrears.contexts.casework.services.record_case_event` (and its bulk form), which checks each
against its kind (:mod:`arrears.contexts.casework.events`) and writes the audit event of an audited
kind with it.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.domain.cases import CaseStatus

#: money columns, as the portfolio's (Decimal, 2 places; migrations unchanged)
MONEY = {"max_digits": 16, "decimal_places": 2}

CLOSED = [s.value for s in CaseStatus if s.is_closed]

#: Display names of the case statuses (the statuses and their transitions live in the domain).
STATUS_LABELS = {
    CaseStatus.OPEN.value: _("新案"),
    CaseStatus.IN_COLLECTION.value: _("催收中"),
    CaseStatus.ON_HOLD.value: _("暂停催收"),
    CaseStatus.CLOSED_CURED.value: _("已出催"),
    CaseStatus.CLOSED_PAID.value: _("已结清"),
    CaseStatus.CLOSED_WRITTEN_OFF.value: _("已核销"),
    CaseStatus.CLOSED_RECALLED.value: _("已撤案"),
}


class Case(models.Model):
    customer = models.ForeignKey("portfolio.Customer", on_delete=models.PROTECT, related_name="cases", verbose_name=_("客户"))
    status = models.CharField(
        _("状态"), max_length=24, choices=list(STATUS_LABELS.items()), default=CaseStatus.OPEN.value
    )
    opened_on = models.DateField(_("立案日"))
    closed_on = models.DateField(_("结案日"), null=True, blank=True)
    bucket = models.CharField(_("账龄"), max_length=8)
    max_dpd = models.IntegerField(_("逾期天数"))
    total_balance = models.DecimalField(_("欠款余额"), **MONEY)
    overdue_amount = models.DecimalField(_("逾期金额"), **MONEY, default=0)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    #: the case's figures per currency, never summed across currencies:
    #: ``{"CNY": {"overdue": "100.00", "balance": "1200.00"}, "USD": {...}}`` (Decimal strings, major
    #: units). ``overdue_amount`` / ``total_balance`` / ``currency`` above are the figures of the
    #: case's primary currency (the one with the largest overdue amount; ties: alphabetical), used
    #: for sorting and thresholds; pages, SMS, scripts and boards show every currency from here.
    amounts = models.JSONField(_("分币种金额"), default=dict, blank=True, db_default={})
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases",
        verbose_name=_("催收员"),
    )
    team = models.ForeignKey(
        "users.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name=_("团队")
    )
    last_run_as_of = models.DateField(_("最近批处理日期"), null=True, blank=True)
    assigned_on = models.DateField(_("分案日"), null=True, blank=True)
    score_band = models.CharField(_("评分段"), max_length=8, blank=True, default="", db_default="")
    # the strategy decision in force (arrears.contexts.strategy): written by the daily run and on events
    stage = models.CharField(_("催收阶段"), max_length=16, blank=True, default="", db_default="")
    stage_since = models.DateField(_("进入阶段日"), null=True, blank=True)
    strategy_version = models.CharField(_("策略版本"), max_length=64, blank=True, default="", db_default="")
    segment = models.CharField(_("客群"), max_length=32, blank=True, default="", db_default="")
    arm = models.CharField(_("实验组"), max_length=32, blank=True, default="", db_default="")
    rule_id = models.CharField(_("命中规则"), max_length=64, blank=True, default="", db_default="")
    action = models.CharField(_("催收动作"), max_length=24, blank=True, default="", db_default="")
    action_params = models.CharField(_("动作参数"), max_length=255, blank=True, default="", db_default="")
    decision_on = models.DateField(_("决策日"), null=True, blank=True)
    next_review_on = models.DateField(_("复评日"), null=True, blank=True)

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = pgettext_lazy("plural", "案件")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(closed_on__isnull=True), name="one_open_case_per_customer"
            )
        ]
        # the desk lists cases by worst DPD first (keyset pagination on max_dpd, id) under filters
        indexes = [
            models.Index(fields=["max_dpd", "id"], name="case_dpd"),
            models.Index(fields=["bucket", "max_dpd", "id"], name="case_bucket_dpd"),
            models.Index(fields=["status", "max_dpd", "id"], name="case_status_dpd"),
            models.Index(fields=["status", "bucket", "max_dpd", "id"], name="case_status_bucket_dpd"),
            models.Index(fields=["assigned_to", "status", "max_dpd", "id"], name="case_assignee"),
            models.Index(fields=["team", "status"], name="case_team_status"),
        ]

    def __str__(self) -> str:
        return f"C{self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED


class CaseEvent(models.Model):
    """One entry of a case's timeline. Append-only: the application never updates or deletes it.

    ``reason`` holds a message id (Chinese source text) that the desk translates when it shows it.
    """

    class Kind(models.TextChoices):
        OPENED = "opened", _("立案")
        STATUS_CHANGED = "status_changed", _("状态变更")
        BUCKET_CHANGED = "bucket_changed", _("账龄变化")
        ASSIGNED = "assigned", _("分案")
        NOTE = "note", _("备注")
        CONTACT_BLOCKED = "contact_blocked", _("联络被拦截")
        CONTACT_ATTEMPT = "contact_attempt", _("联络记录")
        STAGE_CHANGED = "stage_changed", _("阶段变化")
        PLACED = "placed", _("委外")
        RECALLED = "recalled", _("撤案")
        RETAINED = "retained", _("留案")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("案件"))
    at = models.DateTimeField(_("时间"))
    as_of = models.DateField(_("业务日期"), null=True, blank=True)
    #: one of :class:`Kind` or a kind another context declared (:mod:`arrears.contexts.casework.events`);
    #: written only by :func:`arrears.contexts.casework.services.record_case_event` / ``record_case_events``
    kind = models.CharField(_("类型"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=24, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              verbose_name=_("操作人"))
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("案件事件")
        verbose_name_plural = pgettext_lazy("plural", "案件事件")
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]


def register_event_kinds(kinds: dict[str, object]) -> None:
    """Declare timeline event kinds of another context: see
    :func:`arrears.contexts.casework.events.register_event_kinds` (other contexts call it through
    :mod:`arrears.contexts.casework.facade`)."""
    from .events import register_event_kinds as register

    register(kinds)

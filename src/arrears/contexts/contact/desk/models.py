"""The phone desk's tables: the work queue, the calls, and the status of each phone number.

* :class:`QueueItem`: one row per open case the strategy sends to the phone (``action == "call"``),
  with its sort key denormalised (class, due time, priority, score rank, DPD) so that get-next is
  one index seek under ``SELECT … FOR UPDATE SKIP LOCKED``. Derived data: :func:`services.sync_queue`
  rebuilds it from the cases; ``state`` moves only through :func:`services._move_item`.
* :class:`Call`: one dial made through the desk (the gate's decision at the dial, the dialer's
  reference), completed by its outcome (action code, result code, notes, recording reference).
* :class:`NumberState`: valid / invalid (空号) / wrong party per phone contact, moved only through
  :func:`services.set_number_status` (declared map in :mod:`.vocabulary`).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .vocabulary import CALL_STATES, NUMBER_STATUSES, QUEUE_STATES

_ORDER = ["klass", "due_at", "priority", "score_rank", "-dpd", "case"]


class QueueItem(models.Model):
    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="desk_item",
                                verbose_name=_("案件"))
    team = models.ForeignKey("users.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("团队"))
    #: the agent the allocation gave the case to; ``None``: the team's pool (any member may take it)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("催收员"))
    state = models.CharField(_("状态"), max_length=8, choices=list(QUEUE_STATES.items()), default="ready")
    #: 0 callback due, 1 promise follow-up, 2 normal (vocabulary.KLASS_*)
    klass = models.PositiveSmallIntegerField(_("类别"), default=2)
    #: the callback / promise follow-up time (aware); ``None`` for normal work
    due_at = models.DateTimeField(_("约定时间"), null=True, blank=True)
    #: the strategy action's priority (1 most urgent … 9); 9 when the action gives none
    priority = models.PositiveSmallIntegerField(_("优先级"), default=9)
    #: the case's score band as a rank (1 best); 99 without a score
    score_rank = models.PositiveSmallIntegerField(_("评分排序"), default=99)
    dpd = models.IntegerField(_("逾期天数"), default=0)
    #: not offered before this time (a retry after no answer, a callback, a gate refusal)
    available_at = models.DateTimeField(_("可拨打时间"))
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("处理人"))
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    last_result = models.CharField(_("上次结果"), max_length=32, blank=True, default="")
    note = models.CharField(_("说明"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("电话队列")
        verbose_name_plural = pgettext_lazy("plural", "电话队列")
        indexes = [
            models.Index(fields=["agent", "state", *_ORDER], name="desk_q_agent"),
            models.Index(fields=["team", "state", *_ORDER], condition=Q(agent__isnull=True), name="desk_q_pool"),
            models.Index(fields=["claimed_by", "state"], name="desk_q_claimed"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state="ready", claimed_by__isnull=True)
                                   | Q(state="claimed", claimed_by__isnull=False), name="desk_q_claim_consistent"),
            # an agent works one case at a time: a second claim (double click, second tab) is refused
            models.UniqueConstraint(fields=["claimed_by"], condition=Q(state="claimed"), name="desk_q_one_claim"),
        ]

    def __str__(self) -> str:
        return f"C{self.case_id} ({self.state})"


class Call(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="desk_calls", verbose_name=_("案件"))
    contact = models.ForeignKey("portfolio.Contact", null=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("号码"))
    party = models.CharField(_("联系对象"), max_length=16)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="desk_calls",
                              verbose_name=_("催收员"))
    state = models.CharField(_("状态"), max_length=12, choices=list(CALL_STATES.items()), default="dialing")
    purpose = models.CharField(_("目的"), max_length=32, default="collect")
    dialed_at = models.DateTimeField(_("拨号时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # the gate's decision at the dial
    decision = models.CharField(_("合规结论"), max_length=16)
    rule_ids = models.JSONField(_("规则"), default=list, blank=True)
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    pack_version = models.CharField(_("规则包版本"), max_length=64, blank=True)
    dialer = models.CharField(_("拨号适配器"), max_length=32, blank=True)
    dialer_ref = models.CharField(_("拨号流水"), max_length=128, blank=True)
    script_version = models.CharField(_("话术版本"), max_length=64, blank=True)
    # the outcome
    action_code = models.CharField(_("行动码"), max_length=32, blank=True)
    result_code = models.CharField(_("结果码"), max_length=32, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    callback_at = models.DateTimeField(_("约定回电时间"), null=True, blank=True)
    promise = models.ForeignKey("payments.PromiseToPay", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("承诺还款"))
    attempt = models.ForeignKey("compliance.ContactAttempt", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("联络记录"))
    # recording reference (CN-REC-01: kept ≥ 2 years; CN-REC-02: an oral agreement until settled)
    recording_id = models.CharField(_("录音编号"), max_length=128, blank=True)
    recording_seconds = models.PositiveIntegerField(_("录音时长(秒)"), null=True, blank=True)
    retain_until = models.DateField(_("录音保存至"), null=True, blank=True)
    retain_until_settled = models.BooleanField(_("保存至结清"), default=False)

    class Meta:
        ordering = ["-dialed_at", "-id"]
        verbose_name = _("通话")
        verbose_name_plural = pgettext_lazy("plural", "通话")
        indexes = [
            models.Index(fields=["agent", "dialed_at"], name="desk_call_agent_at"),
            models.Index(fields=["case", "dialed_at"], name="desk_call_case_at"),
            models.Index(fields=["agent", "state"], name="desk_call_agent_state"),
        ]
        constraints = [
            # one call without its outcome per agent: a second dial is refused until the outcome is posted
            models.UniqueConstraint(fields=["agent"], condition=Q(state="dialing"), name="desk_call_one_open"),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} C{self.case_id}"


class NumberState(models.Model):
    contact = models.OneToOneField("portfolio.Contact", primary_key=True, on_delete=models.CASCADE,
                                   related_name="desk_state", verbose_name=_("号码"))
    status = models.CharField(_("号码状态"), max_length=16, choices=list(NUMBER_STATUSES.items()),
                              default="unverified")
    since = models.DateTimeField(_("自"))
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("号码状态")
        verbose_name_plural = pgettext_lazy("plural", "号码状态")

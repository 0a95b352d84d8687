"""Reads for the SMS pages: the case panel (outbox, reply tasks, flagged numbers, what an agent
may send) and the template list. Phone numbers are shown masked; bodies hold masked values only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import get_language

from arrears.domain.masking import mask_phone

from .models import InboundSms, NumberFlag, OutboundSms, SmsReplyTask, SmsTemplate

__all__ = ["case_panel", "template_rows", "template_version", "template_names", "CasePanel"]


@dataclass(frozen=True)
class SmsRow:
    id: int
    template_code: str
    send_day: object
    status: str
    status_label: str
    origin_label: str
    body: str
    parts: int
    language: str
    language_fallback: str
    not_before_local: str
    submitted_local: str
    final_local: str
    error: str
    deferred_reason: str
    in_doubt: bool
    #: the template's name in the page's language (its code when it has no name)
    template_name: str = ""


@dataclass(frozen=True)
class TaskRow:
    id: int
    received_local: str
    sender: str
    text: str
    status: str
    status_label: str
    assigned_to: str


@dataclass(frozen=True)
class FlagRow:
    id: int
    number: str
    reason: str
    since_local: str


@dataclass
class CasePanel:
    case_id: int
    timezone: str
    rows: list[SmsRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    flags: list[FlagRow] = field(default_factory=list)
    templates: list[tuple[str, str]] = field(default_factory=list)


def _loc(dt: datetime | None, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else ""


def template_names(language: str | None = None) -> dict[str, str]:
    """Template code → its name in ``language`` (default: the page's): the active version's name in
    that language, else the active version's name in another language, else the newest version's."""
    from .templating import normalize_language

    wanted = normalize_language(language or get_language() or "zh-hans")
    rank: dict[str, tuple] = {}
    names: dict[str, str] = {}
    for code, lang, status, version, name in SmsTemplate.objects.values_list("code", "language", "status", "version",
                                                                          "name"):
        key = (lang == wanted, status == SmsTemplate.Status.ACTIVE, version)
        if name and (code not in rank or key > rank[code]):
            rank[code], names[code] = key, name
    return names


def case_panel(case, limit: int = 20) -> CasePanel:
    """The SMS panel of a case the caller may already see (scope is checked by the view)."""
    tzname = case.customer.timezone or "Asia/Shanghai"
    tz = ZoneInfo(tzname)
    panel = CasePanel(case.pk, tzname)
    names = template_names()
    for s in OutboundSms.objects.filter(case=case).order_by("-created_at", "-id")[:limit]:
        panel.rows.append(SmsRow(
            s.pk, s.template_code, s.send_day, s.status, str(s.get_status_display()), str(s.get_origin_display()),
            s.body, s.parts, s.language, s.language_fallback, _loc(s.not_before, tz), _loc(s.submitted_at, tz),
            _loc(s.final_at, tz), s.error, s.deferred_reason, s.in_doubt, names.get(s.template_code) or s.template_code))
    for t in SmsReplyTask.objects.filter(case=case).select_related("inbound", "assigned_to").order_by("-created_at")[:limit]:
        panel.tasks.append(TaskRow(t.pk, _loc(t.inbound.received_at, tz), mask_phone(t.inbound.sender), t.inbound.text,
                                   t.status, str(t.get_status_display()),
                                   t.assigned_to.username if t.assigned_to_id else ""))
    for f in NumberFlag.objects.filter(contact__customer_id=case.customer_id, cleared_at__isnull=True) \
            .select_related("contact"):
        panel.flags.append(FlagRow(f.pk, mask_phone(f.contact.value), f.reason, _loc(f.since, tz)))
    active = set(SmsTemplate.objects.filter(status=SmsTemplate.Status.ACTIVE).values_list("code", flat=True))
    panel.templates = sorted((code, name) for code, name in names.items() if code in active)
    return panel


def template_rows() -> list[SmsTemplate]:
    """Every version, newest first per code and language."""
    return list(SmsTemplate.objects.select_related("created_by").order_by("code", "language", "-version"))


def template_version(code: str | None, language: str | None) -> SmsTemplate | None:
    """The active (else newest) version of ``code`` in ``language``, to prefill the editor."""
    if not code:
        return None
    qs = SmsTemplate.objects.filter(code=code, language=language or "zh-hans")
    return qs.filter(status=SmsTemplate.Status.ACTIVE).first() or qs.order_by("-version").first()


def unmatched_replies(limit: int = 50) -> list[InboundSms]:
    return list(InboundSms.objects.filter(outcome=InboundSms.Outcome.UNMATCHED)[:limit])

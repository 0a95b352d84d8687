"""A case's contact history: every call, SMS, visit and other recorded contact attempt, and the
agents' notes, newest first — what the call workspace and the case page list.

Each row says, in the page's language: when (the debtor's local time, their zone named), who
(the agent, or the system), how (channel), whom (party and the masked number or address), what
came of it (the result in words — never a code), the notes, the promise taken and the recording
reference (a link when the call recorder's address is configured: ``ARREARS_RECORDING_URL``).

The sources are the contact context's own records: the desk's calls (with their outcome), the
SMS outbox, the field visits (with their report), the compliance ledger's other attempts (voice
robot, agencies, letters, inbound calls — the calls, messages and visits are listed from their
own rows, not twice) and the ``note`` events of the case timeline (casework facade).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from arrears.contexts.casework import facade as casework
from arrears.contexts.money import facade as money
from arrears.contexts.portfolio import facade as portfolio
from arrears.core import settings as arrears_settings
from arrears.domain.money import format_money

from arrears.contexts.contact.words import CHANNEL_LABELS, OUTCOME_LABELS, PARTY_LABELS, label

from . import vocabulary as V

#: how many rows the history shows (newest first)
HISTORY_LIMIT = 100

KIND_LABELS = {"call": _("电话"), "sms": _("短信"), "visit": _("外访"), "attempt": _("联络记录"), "note": _("备注")}
#: at the same instant, which row is shown first (higher first)
_SAME_INSTANT_ORDER = {"note": 4, "attempt": 3, "call": 2, "sms": 1, "visit": 0}
CALL_STATE_LABELS = {"dialing": _("通话中，尚未登记结果"), "failed": _("拨号失败")}


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    #: the time in the debtor's zone, ``2026-12-07 20:31``
    local: str
    #: ``call``, ``sms``, ``visit``, ``attempt`` (another ledger entry) or ``note``
    kind: str
    channel: str
    agent: str
    party: str
    #: the masked number (a phone), or the district of an address
    contact: str
    result: str
    notes: str = ""
    promise: str = ""
    recording: str = ""
    recording_url: str = ""
    #: the call's id (calls only), for the page's anchors
    call_id: int | None = None


@dataclass(frozen=True)
class History:
    timezone: str
    rows: list[HistoryRow]


def recording_url(reference: str) -> str:
    """The call recorder's address of a recording (``ARREARS_RECORDING_URL`` with ``{ref}``), or
    ``""`` when none is configured or there is no reference."""
    template = arrears_settings.recording_url_template()
    return template.replace("{ref}", reference) if template and reference else ""


def _language() -> str:
    return get_language() or "zh-hans"


def _promise_text(amount, currency: str, on: date | None) -> str:
    if amount is None:
        return ""
    text = format_money(amount, currency, _language())
    return f"{text} · {on.isoformat()}" if on else text


def _calls(case_id: int, tz: ZoneInfo, limit: int) -> tuple[list[HistoryRow], set[int]]:
    from .models import Call

    rows, attempts = [], set()
    calls = (Call.objects.filter(case_id=case_id).select_related("agent", "contact", "promise")
             .order_by("-dialed_at", "-id")[:limit])
    for c in calls:
        if c.attempt_id:
            attempts.add(c.attempt_id)
        if c.state == "completed":
            result = [label({k: r.label for k, r in V.RESULT_CODES.items()}, c.result_code)]
            if c.callback_at:
                result.append(gettext("约定回电 %(at)s") % {"at": c.callback_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")})
            result = " · ".join(result)
        else:
            result = label(CALL_STATE_LABELS, c.state)
        contact = portfolio.mask_contact_value(c.contact.kind, c.contact.value) if c.contact_id else ""
        p = c.promise
        rows.append(HistoryRow(
            c.dialed_at, c.dialed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "call", str(KIND_LABELS["call"]),
            c.agent.get_username(), label(PARTY_LABELS, c.party), contact, result, c.notes,
            _promise_text(p.amount, p.currency, p.promised_on) if p is not None else "", c.recording_id,
            recording_url(c.recording_id), c.pk))
    return rows, attempts


def _sms(case_id: int, tz: ZoneInfo, limit: int) -> list[HistoryRow]:
    from arrears.contexts.contact.sms.selectors import template_names

    from arrears.contexts.contact.sms.models import OutboundSms

    names = template_names(_language())
    rows = []
    for s in (OutboundSms.objects.filter(case_id=case_id).select_related("created_by", "contact")
              .order_by("-created_at", "-id")[:limit]):
        at = s.submitted_at or s.final_at or s.not_before
        contact = portfolio.mask_contact_value(s.contact.kind, s.contact.value) if s.contact_id else ""
        rows.append(HistoryRow(
            at, at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "sms", str(KIND_LABELS["sms"]),
            s.created_by.get_username() if s.created_by_id else gettext("系统"), label(PARTY_LABELS, "debtor"),
            contact, str(s.get_status_display()), names.get(s.template_code) or s.template_code))
    return rows


def _visits(case_id: int, tz: ZoneInfo, limit: int) -> list[HistoryRow]:
    from arrears.contexts.contact.fieldwork.models import FieldVisit, VisitReport

    rows = []
    visits = (FieldVisit.objects.filter(case_id=case_id).select_related("agent", "contact")
              .order_by("-scheduled_on", "-id")[:limit])
    reports = {r.visit_id: r for r in VisitReport.objects.filter(visit__in=[v.pk for v in visits])}
    currencies = money.promise_currencies([r.promise_id for r in reports.values() if r.promise_id])
    for v in visits:
        at = v.checkin_at or datetime.combine(v.scheduled_on, time(0), tzinfo=tz)
        local = v.checkin_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if v.checkin_at else v.scheduled_on.isoformat()
        rep = reports.get(v.pk)
        if rep is not None:
            result = " · ".join(x for x in (str(rep.get_met_display()), str(rep.get_result_display())) if x)
            notes = rep.notes or ""
            currency = currencies.get(rep.promise_id)
            promise = _promise_text(rep.promise_amount, currency, rep.promise_date) if currency else ""
        else:
            result, notes, promise = str(v.get_status_display()), "", ""
        contact = portfolio.mask_contact_value(v.contact.kind, v.contact.value) if v.contact_id else ""
        rows.append(HistoryRow(at, local, "visit", str(KIND_LABELS["visit"]),
                               v.agent.get_username() if v.agent_id else "–", label(PARTY_LABELS, "debtor"),
                               contact, result, notes, promise,
                               rep.recording_ref if rep is not None else ""))
    return rows


def _other_attempts(case_id: int, tz: ZoneInfo, skip: set[int], limit: int) -> list[HistoryRow]:
    """The ledger's attempts not listed from their own rows: not the desk's calls, not SMS, not
    visits — voice robot, agencies' calls, letters, e-mail, inbound calls."""
    from arrears.contexts.contact.compliance.models import ContactAttempt

    rows = []
    attempts = (ContactAttempt.objects.filter(case_id=case_id).exclude(pk__in=skip)
                .exclude(channel__in=["sms", "field_visit"]).select_related("actor", "contact")
                .order_by("-at", "-id")[:limit])
    for a in attempts:
        who = a.actor.get_username() if a.actor_id else (a.caller or gettext("系统"))
        if a.caller_kind != "bank":
            who = f"{who} · {a.get_caller_kind_display()}"
        contact = portfolio.mask_contact_value(a.contact.kind, a.contact.value) if a.contact_id else ""
        channel = label(CHANNEL_LABELS, a.channel)
        if a.direction == "inbound":
            channel = f"{channel} · {a.get_direction_display()}"
        rows.append(HistoryRow(a.at, a.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "attempt", channel, who,
                               label(PARTY_LABELS, a.party), contact, label(OUTCOME_LABELS, a.outcome)))
    return rows


def _notes(case_id: int, tz: ZoneInfo, limit: int) -> list[HistoryRow]:
    rows = []
    for e in casework.case_timeline(case_id, limit, kinds=("note",)):
        rows.append(HistoryRow(e.at, e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "note",
                               str(KIND_LABELS["note"]), e.actor or gettext("系统"), "", "", "",
                               str((e.data or {}).get("text", ""))))
    return rows


def contact_history(case_id: int, customer_id: int, limit: int = HISTORY_LIMIT) -> History:
    """The case's contact history (see the module docstring), newest first, at most ``limit`` rows.
    No scope check: the caller read the case through the user's data scope."""
    tzname = portfolio.customer_timezone(customer_id) or "Asia/Shanghai"
    tz = ZoneInfo(tzname)
    calls, listed = _calls(case_id, tz, limit)
    rows = [*calls, *_sms(case_id, tz, limit), *_visits(case_id, tz, limit),
            *_other_attempts(case_id, tz, listed, limit), *_notes(case_id, tz, limit)]
    # newest first; at the same instant a note (written about what happened) before the rest
    rows.sort(key=lambda r: (r.at, _SAME_INSTANT_ORDER.get(r.kind, 0)), reverse=True)
    return History(tzname, rows[:limit])

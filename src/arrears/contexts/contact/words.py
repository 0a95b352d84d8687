"""The contact context's codes in words, and its timeline events in words.

Channels, parties, the ledger's outcomes and the gate's decisions are open vocabularies stored as
codes; pages show them through :func:`label` (an unknown code reads "其他（code）", never bare).
The describers say what each of the context's timeline events means (registered with the case
timeline from the apps' ``ready``: :func:`arrears.contexts.casework.facade.register_event_describer`),
so the timeline reads "呼出本人 · 承诺还款 · 录音 REC-desk-call-7", not "通话结果" or a code.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from arrears.domain.money import format_money

#: the compliance ledger's channels
CHANNEL_LABELS = {
    "phone": _("电话"), "sms": _("短信"), "email": _("电子邮件"), "letter": _("信函"), "field_visit": _("外访"),
    "voice_robot": _("智能语音"), "voicemail": _("语音留言"),
}
#: the ledger's outcomes (an open vocabulary: arrears.domain.compliance.model)
OUTCOME_LABELS = {
    "rpc": _("本人接听（有效联络）"), "conversation": _("通话"), "connected": _("已接通"),
    "unanswered": _("无人接听"), "no_answer": _("无人接听"), "busy": _("占线"), "powered_off": _("关机"),
    "voicemail": _("语音留言"), "sent": _("已发送"), "delivered": _("已送达"), "failed": _("失败"),
    "refused": _("拒绝沟通"), "do_not_contact_requested": _("要求勿再联系"), "invalid_number": _("空号/停机"),
    "not_in_service": _("空号/停机"), "wrong_number": _("错号/非本人"), "met_debtor": _("见到本人"),
    "met_family": _("见到家属"), "nobody": _("无人"), "moved": _("已搬离"),
}
#: who was contacted
PARTY_LABELS = {"debtor": _("本人"), "guarantor": _("担保人"), "emergency": _("紧急联系人"),
                "other": _("其他第三人")}
#: the gate's decisions
DECISION_LABELS = {"allow": _("允许"), "allow_flagged": _("允许（有提示）"), "escalate": _("需主管审批"),
                   "deny": _("禁止")}
#: why a third party was phoned (CN-WHO-03)
PURPOSE_LABELS = {"collect": _("催收"), "locate": _("询问债务人联系方式"), "relay": _("请其转告债务人与我行联系")}
#: a collection hold's kind
HOLD_LABELS = {"dispute": _("争议"), "complaint": _("投诉"), "payment_plan": _("分期协议"), "plan": _("分期协议"),
               "litigation": _("诉讼"), "deceased": _("本人身故"), "bankruptcy": _("破产")}
#: a restriction on a contact point
RESTRICTION_LABELS = {"do_not_contact": _("勿再联系"), "refused": _("第三人要求勿再联系"), "opted_out": _("已退订")}


def label(labels: dict, code: str | None) -> str:
    """A code in words in the active language (``""`` for no code; an unknown one as "其他（code）")."""
    if not code:
        return ""
    found = labels.get(code)
    return str(found) if found is not None else gettext("其他（%(code)s）") % {"code": code}


def _local(iso: str | None, tz: str = "") -> str:
    """An instant stored as ISO text, in the debtor's zone ``tz``: ``2026-12-07T12:31:00+00:00`` →
    ``2026-12-07 20:31`` (Asia/Shanghai); without a zone or an offset, the text's own wall time."""
    text = str(iso or "")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text[:16].replace("T", " ")
    if tz and at.tzinfo is not None:
        at = at.astimezone(ZoneInfo(tz))
    return at.strftime("%Y-%m-%d %H:%M")


def _join(*parts) -> str:
    return " · ".join(str(p) for p in parts if p)


# ---- the gate's own kinds (written by arrears.contexts.contact.compliance) --------------------


def describe_contact_attempt(f) -> str:
    d = f.data
    return _join(label(CHANNEL_LABELS, d.get("channel")), label(OUTCOME_LABELS, d.get("outcome")),
                 gettext("合规结论：%(decision)s") % {"decision": label(DECISION_LABELS, d.get("decision"))}
                 if d.get("decision") not in (None, "", "allow") else "")


def describe_contact_blocked(f) -> str:
    d = f.data
    rules = ", ".join(d.get("rule_ids") or [])
    return _join(label(CHANNEL_LABELS, d.get("channel")), label(DECISION_LABELS, d.get("decision")), rules)


# ---- the phone desk's kinds ------------------------------------------------------------------


def _queue_state(code: str) -> str:
    from .desk.vocabulary import QUEUE_STATES

    return label(QUEUE_STATES, code)


def describe_desk_move(f) -> str:
    """A queue move (claimed, released, deferred): its states in words and why."""
    from .desk.vocabulary import RESULT_CODES

    d = f.data
    moved = f"{_queue_state(f.from_status)} → {_queue_state(f.to_status)}" if f.from_status and f.to_status else ""
    if f.kind == "desk_claimed":
        return _join(moved, gettext("取自团队池") if d.get("pool") else "")
    if f.kind == "desk_deferred":
        return _join(moved, ", ".join(d.get("rule_ids") or []),
                     gettext("顺延至 %(at)s") % {"at": _local(d.get("until"), f.timezone)} if d.get("until") else "")
    result = RESULT_CODES.get(d.get("result_code") or "")
    return _join(moved, result.label if result else "",
                 gettext("下次可拨 %(at)s") % {"at": _local(d.get("next"), f.timezone)} if d.get("next") else "",
                 d.get("reason") or "")


def describe_desk_dialed(f) -> str:
    d = f.data
    return _join(label(PARTY_LABELS, d.get("party")),
                 label(PURPOSE_LABELS, d.get("purpose")) if d.get("purpose") not in (None, "", "collect") else "",
                 gettext("合规结论：%(decision)s") % {"decision": label(DECISION_LABELS, d.get("decision"))},
                 ", ".join(d.get("rule_ids") or []))


def describe_desk_outcome(f) -> str:
    from .desk.vocabulary import ACTION_CODES, RESULT_CODES

    d = f.data
    if d.get("dial_failed") is not None or "result_code" not in d:
        return gettext("拨号失败")
    action = ACTION_CODES.get(d.get("action_code") or "")
    result = RESULT_CODES.get(d.get("result_code") or "")
    return _join(action.label if action else "", result.label if result else label({}, d.get("result_code")),
                 gettext("约定回电 %(at)s") % {"at": _local(d.get("callback_at"), f.timezone)} if d.get("callback_at") else "",
                 gettext("录音 %(ref)s") % {"ref": d["recording_id"]} if d.get("recording_id") else "",
                 d.get("notes") or "")


def describe_desk_number_status(f) -> str:
    from .desk.vocabulary import NUMBER_STATUSES

    if not (f.from_status or f.to_status):
        return ""
    return f"{label(NUMBER_STATUSES, f.from_status)} → {label(NUMBER_STATUSES, f.to_status)}"


def describe_desk_restriction(f) -> str:
    return label(RESTRICTION_LABELS, f.data.get("kind"))


def describe_desk_hold(f) -> str:
    return label(HOLD_LABELS, f.data.get("kind"))


def format_amount(amount: str, currency: str) -> str:
    """An amount stored as text with its currency, by the one money formatter (``""`` for none)."""
    if not amount or not currency:
        return str(amount or "")
    return format_money(amount, currency, get_language() or "zh-hans")


DESK_DESCRIBERS = {
    "desk_claimed": describe_desk_move, "desk_released": describe_desk_move, "desk_deferred": describe_desk_move,
    "desk_dialed": describe_desk_dialed, "desk_outcome": describe_desk_outcome,
    "desk_number_status": describe_desk_number_status, "desk_restriction": describe_desk_restriction,
    "desk_hold": describe_desk_hold,
}
GATE_DESCRIBERS = {"contact_attempt": describe_contact_attempt, "contact_blocked": describe_contact_blocked}

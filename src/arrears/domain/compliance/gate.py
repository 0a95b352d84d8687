"""The compliance gate: one pure decision before every contact.

:func:`decide` takes the proposed action, the facts, the indexed contact history, a rule pack and
``now`` and returns a :class:`~.model.Decision`. It runs the *checks* registered below; each check
implements one or more rule ids and runs only if the pack contains (and enables) one of them, with
that pack's parameters. The packs' ``enforced_by`` lists name these checks, and a test keeps the
two in step.

Combining: any ``block`` → ``deny``; otherwise any ``soft_block`` → ``escalate``; otherwise any
``flag`` → ``allow_flagged``; otherwise ``allow``. Every rule that fired is a reason. When waiting
would help (every blocking reason is time-bound), ``next_allowed_at`` is found by re-evaluating
at the latest of their "allowed again at" times until nothing blocks.

Local time decides: windows are evaluated in the debtor's zone — in *every* candidate zone when
the location is ambiguous — and daily caps use the debtor's local calendar day.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from ..errors import DomainError
from . import content as _content
from .history import ContactHistory, next_local_midnight, ordinal_start
from .model import (
    CALL_CHANNELS,
    Consent,
    Decision,
    Facts,
    MediumBlock,
    ProposedAction,
    Reason,
    channel_medium,
    combine,
    normalize_purpose,
    outcome_connected_to_number,
    outcome_conversation,
    outcome_failed,
    outcome_number_invalid,
    outcome_reached,
)
from .pack import RulePack, hhmm_seconds
from .timewin import in_window, next_in_all_windows, sod, zone

__all__ = ["decide", "CHECKS", "check_names", "Finding"]


class Finding:
    """A rule that fired while evaluating one action."""

    __slots__ = ("rule_id", "severity", "zh", "en", "next_at", "evidence")

    def __init__(self, rule_id: str, severity: str, zh: str, en: str, next_at: datetime | None,
                 evidence: tuple[str, ...]) -> None:
        self.rule_id, self.severity, self.zh, self.en = rule_id, severity, zh, en
        self.next_at, self.evidence = next_at, evidence


class _Ctx:
    __slots__ = ("action", "facts", "history", "pack", "now", "at", "is_contact", "outbound", "zones", "zone",
                 "local", "ordinal", "party", "role", "point", "purpose", "purpose_given", "findings", "notes",
                 "details", "channel", "is_call", "reeval")

    def __init__(self, action: ProposedAction, facts: Facts, history: ContactHistory, pack: RulePack,
                 now: datetime, reeval: bool = False) -> None:
        self.action, self.facts, self.history, self.pack, self.now = action, facts, history, pack, now
        self.reeval = reeval  # re-evaluating at a later time for next_allowed_at: content cannot change
        self.at = action.ts if action.ts is not None else now
        self.is_contact = action.ts is not None
        self.outbound = action.direction == "outbound"
        self.zones = tuple(zone(tz) for tz in facts.timezones)
        self.zone = self.zones[0]
        self.local = self.at.astimezone(self.zone)
        self.ordinal = self.local.toordinal()
        self.party = facts.parties.get(action.party)
        if self.party is not None:
            self.role = self.party.role
        elif action.role:
            self.role = action.role
        else:
            self.role = "debtor" if action.party == facts.debtor_id else "third_party"
        self.point = facts.contact_points.get(action.contact_point) if action.contact_point else None
        self.purpose_given = action.purpose is not None
        self.purpose = normalize_purpose(action.purpose)
        self.channel = action.channel
        self.is_call = action.channel in CALL_CHANNELS
        self.findings: list[Finding] = []
        self.notes: list[Reason] = []
        self.details: dict[str, Any] = {}

    def p(self, rule_id: str, name: str, default: Any = None) -> Any:
        return self.pack.p(rule_id, name, default)

    def fire(self, rule_id: str, zh: str, en: str, *, severity: str | None = None, next_at: datetime | None = None,
             evidence: tuple[str, ...] = ()) -> None:
        sev = severity or self.pack.rules[rule_id].severity
        self.findings.append(Finding(rule_id, sev, zh, en, next_at, evidence))

    def note(self, rule_id: str, zh: str, en: str, evidence: tuple[str, ...] = ()) -> None:
        r = self.pack.rules.get(rule_id)
        self.notes.append(Reason(rule_id, r.citation if r else "", zh, en, "info", r.layer if r else None, evidence))

    def has(self, rule_id: str) -> bool:
        return self.pack.has(rule_id)


# ---- registry ---------------------------------------------------------------------------------
#: ``"gate.<name>" → (rule ids it implements, function, generic)``, in evaluation order.
CHECKS: dict[str, tuple[tuple[str, ...], Callable[[_Ctx], None], bool]] = {}


def _check(name: str, *rule_ids: str, generic: bool = False):
    """Register a gate check. ``generic`` checks also serve any pack rule that names them in
    ``enforced_by`` (e.g. every hold rule, every prohibited-acts rule)."""

    def deco(fn: Callable[[_Ctx], None]) -> Callable[[_Ctx], None]:
        CHECKS[f"gate.{name}"] = (rule_ids, fn, generic)
        return fn

    return deco


def check_names() -> set[str]:
    return set(CHECKS)


def _rules_naming(pack: RulePack, check: str) -> tuple[str, ...]:
    return pack.cached(("naming", check), lambda: tuple(
        rid for rid, r in pack.rules.items() if check in r.enforced_by and r.enabled))


def _active_checks(pack: RulePack) -> tuple[Callable[[_Ctx], None], ...]:
    def build():
        out = []
        for name, (ids, fn, generic) in CHECKS.items():
            if any(pack.has(r) for r in ids) or (generic and _rules_naming(pack, name)):
                out.append(fn)
        return tuple(out)

    return pack.cached("active_checks", build)


# ---- small helpers ------------------------------------------------------------------------------
def _fmt_local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def _roles(pack: RulePack, rule_id: str, name: str) -> frozenset[str]:
    return pack.cached(("set", rule_id, name), lambda: frozenset(pack.p(rule_id, name) or ()))


def _secs(pack: RulePack, rule_id: str, name: str) -> int:
    return pack.cached(("secs", rule_id, name), lambda: hhmm_seconds(pack.p(rule_id, name)))


def _consent_covers(c: Consent, at: datetime, zones, channel: str) -> bool:
    """Does consent ``c`` cover a contact at ``at`` on ``channel`` (window, expiry, channel)?"""
    if c.given_at is not None and at < c.given_at:
        return False
    if c.revoked_at is not None and at >= c.revoked_at:
        return False
    if c.expires_at is not None and at >= c.expires_at:
        return False
    if c.channels and channel not in c.channels and channel_medium(channel) not in c.channels:
        return False
    covered = False
    if c.window_start is not None or c.window_end is not None:
        if (c.window_start is None or at >= c.window_start) and (c.window_end is None or at <= c.window_end):
            covered = True
        else:
            return False
    if c.daily_from is not None and c.daily_until is not None:
        loc = at.astimezone(zones[0]).time()
        covered = c.daily_from <= loc <= c.daily_until if c.daily_from <= c.daily_until else (
            loc >= c.daily_from or loc <= c.daily_until)
    return covered


def _agreed(ctx: _Ctx, kinds, recipients=None) -> tuple[Consent | None, Consent | None]:
    """``(valid, rejected)``: a consent of ``kinds`` covering this contact and accepted, and one that
    covers it but was given to a party the rule does not accept (e.g. the creditor)."""
    valid = rejected = None
    for c in ctx.facts.consents:
        if c.kind not in kinds or c.given_by != "debtor":
            continue
        if not _consent_covers(c, ctx.at, ctx.zones, ctx.channel):
            continue
        if recipients is not None and c.given_to not in recipients:
            rejected = rejected or c
            continue
        valid = valid or c
    return valid, rejected


def _ev(c: Consent | None) -> tuple[str, ...]:
    return (c.evidence,) if c is not None and c.evidence else ()


# ================================================================================================
# checks (evaluation order = registration order)
# ================================================================================================
@_check("case_state", "POL-CASE-01")
def _case_state(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound):
        return
    rid = "POL-CASE-01"
    closed = _roles(ctx.pack, rid, "closed_states")
    if ctx.facts.case_state in closed and ctx.purpose == "collect":
        ctx.fire(rid, f"案件状态为“{ctx.facts.case_state}”，不得继续催收。",
                 f"The case is {ctx.facts.case_state}; no further collection contact.")
    a = ctx.facts.assignment
    if ctx.action.caller_kind == "agency":
        if ctx.facts.case_state == "recalled":
            ctx.fire(rid, "案件已撤案，委外机构不得再联系。", "The case was recalled; the agency may no longer contact.")
        elif a is not None and ctx.action.caller and a.agency != ctx.action.caller:
            ctx.fire(rid, f"案件未委派给 {ctx.action.caller}。", f"The case is not placed with {ctx.action.caller}.")


@_check("holds", "CN-PLAN-01", generic=True)
def _holds(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound) or not ctx.facts.holds:
        return
    by_kind: dict[str, list[str]] = ctx.pack.cached("holds_by_kind", lambda: _hold_rules(ctx.pack))
    for h in ctx.facts.holds:
        if not h.active_at(ctx.at):
            continue
        for rid in by_kind.get(h.kind, by_kind.get("*", [])):
            if ctx.purpose in _roles(ctx.pack, rid, "exempt_purposes"):
                continue
            if ctx.role not in _roles(ctx.pack, rid, "applies_to_roles") and "*" not in _roles(ctx.pack, rid, "applies_to_roles"):
                continue
            label = h.kind if not h.reference else f"{h.kind} {h.reference}"
            ctx.fire(rid, f"存在暂停催收事项（{label}），暂停催收联系。",
                     f"Collection is on hold ({label}); no collection contact while it is open.",
                     next_at=h.until, evidence=(h.reference,) if h.reference else ())


def _hold_rules(pack: RulePack) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rid in _rules_naming(pack, "gate.holds"):
        kind = pack.p(rid, "hold_kind")
        if kind:
            out.setdefault(kind, []).append(rid)
    return out


@_check("do_not_contact", "CN-WHO-04", "US-REGF-14H-01", "US-REGF-6C-01", "POL-DNC-01")
def _do_not_contact(ctx: _Ctx) -> None:
    if not ctx.outbound:
        return
    party, f = ctx.party, ctx.facts
    third = ctx.role not in _roles(ctx.pack, "CN-WHO-01", "obligor_roles") if ctx.has("CN-WHO-01") else False
    refused = party is not None and (party.refused_at is not None and party.refused_at <= ctx.at)
    if not refused and ctx.is_contact:
        refused = ctx.history.refused_before(ctx.action.party, ctx.at)
    if ctx.has("CN-WHO-04") and third and (refused or (party is not None and party.do_not_contact)):
        ctx.fire("CN-WHO-04", "该第三人已明确拒绝或要求不得再联系，停止一切后续联系。",
                 "This third party refused or asked not to be contacted again: no further contact on any channel.")
    elif ctx.has("POL-DNC-01") and party is not None and party.do_not_contact:
        ctx.fire("POL-DNC-01", "联系对象标记为勿扰（不得联系）。", "The target is flagged do-not-contact.")
    consumer_roles = _roles(ctx.pack, "US-REGF-6D-01", "consumer_roles") or frozenset({"debtor"})
    if ctx.has("US-REGF-6C-01") and f.cease_notice_received_at is not None and ctx.role in consumer_roles:
        if ctx.at >= f.cease_notice_received_at and ctx.purpose not in _roles(ctx.pack, "US-REGF-6C-01", "exempt_purposes"):
            ctx.fire("US-REGF-6C-01", "消费者已书面要求停止联系或拒绝还款（通知自收到时生效）。",
                     "The consumer's written refusal to pay / cease request has been received: no further "
                     "communication except the exceptions of §1006.6(c)(2).")
    if ctx.has("US-REGF-14H-01"):
        _medium_blocks(ctx)


def _medium_blocks(ctx: _Ctx) -> None:
    rid = "US-REGF-14H-01"
    medium = channel_medium(ctx.channel)
    addr = ctx.point.address if ctx.point is not None and ctx.point.address else ctx.action.contact_point
    blocks = list(ctx.facts.medium_blocks)
    # consumer statements such as "stop calling" are requests too (comment 14(h)(1)-3.i)
    phrases = ctx.pack.p(rid, "medium_block_phrases") or []
    for ts, text in ctx.facts.statements:
        for med, pat in _medium_phrases(ctx.pack, phrases):
            if pat.search(text):
                blocks.append(MediumBlock(med, ts))
    for b in blocks:
        if b.medium != medium or b.since > ctx.at:
            continue
        if b.address is not None and b.address != addr:
            continue
        since = ctx.history.for_party_before(ctx.action.party, ctx.at) if ctx.is_contact else []
        after = [r for r in since if r.ts >= b.since and channel_medium(r.channel) == medium]
        if (ctx.action.content_type or "").startswith("opt_out_confirmation") and not any(
                (r.content_type or "").startswith("opt_out_confirmation") for r in after if r.direction == "outbound"):
            ctx.note(rid, "退订确认：可发送一次仅含确认内容的消息（§1006.14(h)(2)(i)）。",
                     "One confirmation of the opt-out is allowed (§1006.14(h)(2)(i)).")
            continue
        inbound = [r for r in after if r.direction == "inbound"]
        if inbound and not any(r.direction == "outbound" and r.ts > inbound[-1].ts for r in after):
            ctx.note(rid, "消费者通过该媒介主动联系，可答复一次（§1006.14(h)(2)(ii)）。",
                     "The consumer initiated contact through this medium: one response is allowed.")
            continue
        if ctx.purpose == "required_by_law":
            continue
        where = f" ({b.address})" if b.address else ""
        ctx.fire(rid, f"消费者已要求不得通过该媒介（{medium}{where}）联系。",
                 f"The consumer asked not to be contacted by {medium}{where}.")
        return


def _medium_phrases(pack: RulePack, raw: list[str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``"phone=stop calling"`` → (``"phone"``, compiled pattern)."""
    def build():
        out = []
        for item in raw:
            med, _, pat = item.partition("=")
            out.append((med.strip(), re.compile(pat.strip(), re.IGNORECASE)))
        return tuple(out)

    return pack.cached(("medium_phrases",), build)


@_check("who", "CN-WHO-01", "CN-WHO-02", "CN-WHO-03", "US-REGF-6D-01", "US-REGF-6B2-01", "US-REGF-6B3-01")
def _who(ctx: _Ctx) -> None:
    if not ctx.outbound:
        return
    if ctx.has("CN-WHO-01"):
        _cn_who(ctx)
    if ctx.has("US-REGF-6D-01"):
        _us_third_party(ctx)
    consumer_roles = _roles(ctx.pack, "US-REGF-6D-01", "consumer_roles") or frozenset({"debtor"})
    att = ctx.facts.attorney
    if (ctx.has("US-REGF-6B2-01") and att is not None and att.known and att.name_address_known
            and att.responds_in_time and not att.consented_to_direct_contact and ctx.role in consumer_roles):
        ctx.fire("US-REGF-6B2-01", "已知消费者就该债务委托律师，应与律师联系。",
                 "The consumer is represented by an attorney for this debt (name and address known): "
                 "communicate with the attorney, not the consumer.")
    if ctx.has("US-REGF-6B3-01") and ctx.is_contact:
        rid = "US-REGF-6B3-01"
        kind = ctx.point.kind if ctx.point is not None else None
        if kind in _roles(ctx.pack, rid, "workplace_kinds"):
            prohibited = ctx.facts.workplace_contact_prohibited
            if not prohibited:
                pats = _content.patterns(ctx.pack, rid, "prohibition_patterns")
                prohibited = any(ts <= ctx.at and _content.matches(text, pats) for ts, text in ctx.facts.statements)
            if prohibited:
                ctx.fire(rid, "已知或有理由知道雇主禁止其在工作场所接听此类联系。",
                         "The collector knows or has reason to know the employer prohibits such "
                         "communications at the consumer's place of employment.")


def _cn_who(ctx: _Ctx) -> None:
    pack = ctx.pack
    obligors = _roles(pack, "CN-WHO-01", "obligor_roles")
    third = ctx.role not in obligors
    volunteered = ctx.party is not None and ctx.party.volunteered_to_repay
    if ctx.purpose == "collect":
        if third and volunteered:
            pass  # the contact offered to repay: repayment information may be given (CN-WHO-03 exception)
        elif third:
            ctx.fire("CN-WHO-01", f"只能向债务人本人及担保人催收；“{ctx.role}”是与债务无关的第三人。",
                     f"Only the debtor and the guarantor may be asked to pay; {ctx.role} is a third party.")
        elif (ctx.role in _roles(pack, "CN-WHO-01", "evidence_required_roles")
              and (ctx.party is None or not ctx.party.evidence)):
            ctx.fire("CN-WHO-01", f"向“{ctx.role}”催收需有合同或裁判文书等依据，请核实。",
                     f"Collecting from a {ctx.role} needs evidence of the role (contract, court finding): verify.",
                     severity="soft_block")
    if not third:
        return
    if ctx.has("CN-WHO-03"):
        allowed = set(pack.p("CN-WHO-03", "permitted_purposes") or ())
        if volunteered:
            allowed |= set(pack.p("CN-WHO-03", "purposes_when_volunteered") or ())
        if ctx.purpose != "collect" and ctx.purpose not in allowed:
            ctx.fire("CN-WHO-03", "联系第三人只能询问债务人联系方式或请其转告。",
                     "A third party may only be asked for the debtor's contact details or to pass on a message.")
        if not volunteered and (ctx.action.conveys_debt_info or (
                ctx.action.content is not None
                and _content.matches(ctx.action.content, _content.patterns(pack, "CN-WHO-03", "debt_detail_patterns")))):
            ctx.fire("CN-WHO-03", "不得向第三人透露欠款金额、欠款时间等欠款信息。",
                     "Do not disclose the debt (amount, overdue time, details) to a third party.")
        elif volunteered:
            ctx.note("CN-WHO-03", "联系人明确表示愿意代为还款，可提供还款所需必要信息。",
                     "The contact expressly offered to repay: the information needed for repayment may be given.",
                     (ctx.party.evidence,) if ctx.party and ctx.party.evidence else ())
    if ctx.has("CN-WHO-02") and ctx.is_contact:
        _cn_third_party_trigger(ctx)


def _cn_third_party_trigger(ctx: _Ctx) -> None:
    rid = "CN-WHO-02"
    pack = ctx.pack
    last, since = ctx.history.role_since_last_success("debtor", ctx.at)
    calls = [r for r in since if r.channel in CALL_CHANNELS and r.direction == "outbound"]
    # (a) the debtor's own number is invalid (空号)
    if any(outcome_number_invalid(r.outcome) for r in calls) or any(
            cp.invalid for cp in ctx.facts.contact_points.values()
            if cp.party_id == ctx.facts.debtor_id and cp.kind in (None, "mobile")):
        ctx.note(rid, "触发条件(a)：债务人本人号码无效。", "Trigger (a): the debtor's own number is invalid.")
        return
    failures = [r for r in calls if outcome_failed(r.outcome)]
    n_b = int(pack.p(rid, "consecutive_failed_calls", 3))
    next_at = None
    if len(failures) >= n_b:
        third = failures[n_b - 1]
        third_day = ctx.history.local_ordinal(third.ts)
        if ctx.ordinal > third_day:
            ctx.note(rid, f"触发条件(b)：连续{n_b}次未联系上本人，次日起可联系第三人。",
                     f"Trigger (b): {n_b} consecutive failed calls to the debtor; third parties from the next day.",
                     tuple(r.ts.isoformat() for r in failures[:n_b]))
            return
        next_at = next_local_midnight(third.ts, ctx.zone)
    n_c = int(pack.p(rid, "consecutive_failed_days", 3))
    days: dict[int, datetime] = {}
    for r in failures:
        days.setdefault(ctx.history.local_ordinal(r.ts), r.ts)
    for o, first_ts in days.items():
        if all((o - k) in days for k in range(1, n_c)) and ctx.at >= first_ts:
            ctx.note(rid, f"触发条件(c)：连续{n_c}日未联系上本人，可直接联系第三人。",
                     f"Trigger (c): the debtor unreachable on {n_c} consecutive days; third parties may be contacted.")
            return
    reached = f"（上次联系上本人：{_fmt_local(last.ts.astimezone(ctx.zone))}）" if last else ""
    reached_en = f" (debtor last reached {_fmt_local(last.ts.astimezone(ctx.zone))})" if last else ""
    ctx.fire(rid, f"债务人未失联，不得联系第三人：需本人号码无效、连续{n_b}次未接通（次日起）或连续{n_c}日未联系上{reached}。",
             f"The debtor is not unreachable: third parties only after an invalid number, {n_b} consecutive "
             f"failed calls (from the next day) or {n_c} days without reaching the debtor{reached_en}.",
             next_at=next_at)


def _us_third_party(ctx: _Ctx) -> None:
    rid = "US-REGF-6D-01"
    pack = ctx.pack
    if ctx.role in _roles(pack, rid, "consumer_roles") or ctx.role in _roles(pack, rid, "permitted_roles"):
        return
    if ctx.facts.third_party_contact_court_permission:
        ctx.note(rid, "经法院许可。", "Court permission.")
        return
    valid, _ = _agreed(ctx, {"third_party_contact"}, {"collector"})
    if valid is not None:
        ctx.note(rid, "消费者直接向催收方给予的事先同意。", "The consumer's prior consent, given directly.", _ev(valid))
        return
    locate = ctx.purpose == "locate" or (not ctx.purpose_given and ctx.role in _roles(pack, rid, "location_roles"))
    conveys = bool(ctx.action.conveys_debt_info) or (
        ctx.action.content is not None
        and _content.matches(ctx.action.content, _content.patterns(pack, rid, "debt_mention_patterns")))
    if not locate:
        ctx.fire(rid, f"不得就债务与第三人（{ctx.role}）沟通（仅限获取位置信息等例外）。",
                 f"No communication about the debt with a third party ({ctx.role}); only location information "
                 "(§1006.10), with consent or court permission.")
        return
    if conveys:
        ctx.fire(rid, "联系第三人获取位置信息时不得提及消费者欠债。",
                 "A location contact must not state that the consumer owes any debt (§1006.10(b)).")
    if ctx.is_contact:
        limit = int(pack.p(rid, "max_location_communications", 1))
        talked = sum(1 for r in ctx.history.for_party_before(ctx.action.party, ctx.at) if outcome_conversation(r.outcome))
        if talked >= limit and not (ctx.party is not None and ctx.party.communication_requested):
            ctx.fire(rid, "与同一第三人就位置信息的沟通仅限一次（除非对方要求）。",
                     "Only one location communication with this person unless they asked for more (§1006.10(c)).")


@_check("identity", "CN-PROHIBIT-03", "CN-PROHIBIT-07", "CN-OUT-01", "CN-OUT-02", "CN-FIELD-01")
def _identity(ctx: _Ctx) -> None:
    if ctx.action.caller_kind != "agency" or not ctx.outbound:
        return
    f = ctx.facts
    if ctx.has("CN-OUT-01") and ctx.is_contact and f.assignment is not None:
        if f.outsourcing_notice_at is None or f.outsourcing_notice_at > ctx.at:
            ctx.fire("CN-OUT-01", "委托外部机构催收前，应以适当方式告知债务人；尚无委外告知记录。",
                     "Before an agency collects, the debtor must be told of the outsourcing; no notice is on file.")
    if ctx.has("CN-OUT-02") and f.agency_whitelisted is False:
        ctx.fire("CN-OUT-02", "该外部催收机构不在已公示的白名单中。",
                 "This agency is not on the bank's published whitelist.")
    if ctx.has("CN-PROHIBIT-07") and ctx.channel in _roles(ctx.pack, "CN-PROHIBIT-07", "private_channels") \
            and not f.private_channel_approved:
        ctx.fire("CN-PROHIBIT-07", "外部催收机构未经银行同意，不得使用私人手机或社交软件联系债务人。",
                 "An agency may not use private phones or social apps without the bank's approval.")
    text = ctx.action.content
    if ctx.has("CN-PROHIBIT-03") and text is not None:
        claim = _content.first_match(text, _content.patterns(ctx.pack, "CN-PROHIBIT-03", "bank_claim_patterns"))
        if claim and not _content.matches(text, _content.patterns(ctx.pack, "CN-PROHIBIT-03", "agency_disclosure_patterns")):
            ctx.fire("CN-PROHIBIT-03", f"外部机构不得以银行名义催收（“{claim.group(0)}”），应表明自身身份、委托银行和工号。",
                     "An external agency may not collect under the bank's identity; it must state its own name, "
                     "the entrusting bank and the staff number.", evidence=(claim.group(0),))


@_check("acts", "CN-PROHIBIT-06", "CN-PROHIBIT-08", "CN-PROHIBIT-11", "CN-FIELD-01", generic=True)
def _acts(ctx: _Ctx) -> None:
    if not ctx.action.acts:
        return
    for rid in _rules_naming(ctx.pack, "gate.acts"):
        banned = _roles(ctx.pack, rid, "prohibited_acts")
        hit = [a for a in ctx.action.acts if a in banned]
        if not hit:
            continue
        kind = ctx.p(rid, "exception_consent_kind")
        if kind:
            valid, _ = _agreed(ctx, {kind})
            if valid is not None:
                ctx.note(rid, "已取得同意。", "Consent on file.", _ev(valid))
                continue
        r = ctx.pack.rules[rid]
        ctx.fire(rid, f"禁止的行为：{', '.join(hit)}（{r.title_zh}）。", f"Prohibited act: {', '.join(hit)} ({r.title_en}).")


@_check("provenance", "CN-PIPL-03", "CN-PROHIBIT-09")
def _provenance(ctx: _Ctx) -> None:
    pt = ctx.point
    if pt is None or pt.provenance is None or not ctx.outbound:
        return
    if pt.provenance not in _roles(ctx.pack, "CN-PIPL-03", "permitted_provenance"):
        ctx.fire("CN-PIPL-03", f"联系方式来源“{pt.provenance}”不在六类合法渠道之内。",
                 f"The contact point came from {pt.provenance!r}, not one of the six permitted sources.")


@_check("recording", "CN-REC-01", "CN-FIELD-01")
def _recording(ctx: _Ctx) -> None:
    if not ctx.is_contact or ctx.facts.recording_on is not False or not ctx.has("CN-REC-01"):
        return
    if ctx.channel in _roles(ctx.pack, "CN-REC-01", "recorded_channels"):
        ctx.fire("CN-REC-01", "催收过程应全程录音/记录，当前录音未开启。",
                 "The collection process must be recorded; recording is off.")


@_check("hours", "CN-HOURS-01", "US-REGF-6B1-01", "US-REGF-6B1-02", "US-REGF-6B4-01", "CN-FIELD-01", "CN-PIPL-04",
        generic=True)
def _hours(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound):
        return
    pack = ctx.pack
    for rid in _rules_naming(pack, "gate.hours"):
        base = pack.p(rid, "window_rule") or rid
        if not pack.has(base) or pack.p(base, "allowed_from") is None:
            continue
        if ctx.channel in _roles(pack, base, "exempt_channels"):
            continue
        frm, until = _secs(pack, base, "allowed_from"), _secs(pack, base, "allowed_until")
        incl = bool(pack.p(base, "until_inclusive", False))
        which = pack.p(rid, "zones", "all")
        zones = ctx.zones if which == "all" else (ctx.zones[:1] if which == "primary" else ctx.zones[1:])
        if not zones:
            continue
        bad = []
        for z in zones:
            loc = ctx.local if z is ctx.zone else ctx.at.astimezone(z)
            if not in_window(sod(loc), frm, until, incl):
                bad.append((z, loc))
        if (len(ctx.zones) > 1 or rid != base) and "local_times" not in ctx.details:
            ctx.details["local_times"] = {str(z): ctx.at.astimezone(z).isoformat() for z in ctx.zones}
        if not bad:
            continue
        consent_rule = pack.p(base, "consent_rule") or base
        recipients = _roles(pack, consent_rule, "accepted_recipients") or None
        valid, rejected = _agreed(ctx, _roles(pack, base, "consent_kinds"), recipients)
        if valid is not None:
            ctx.note(base, "债务人同意/事先约定的联系时间，适用例外。",
                     "The debtor agreed to this contact time (consent / prior agreement).", _ev(valid))
            continue
        windows = [(z, frm, until, incl) for z in zones]
        nxt = next_in_all_windows(ctx.at, windows)
        f_s, u_s = pack.p(base, "allowed_from"), pack.p(base, "allowed_until")
        where = "、".join(f"{z.key} {_fmt_local(loc)}" for z, loc in bad)
        where_en = ", ".join(f"{z.key} {_fmt_local(loc)}" for z, loc in bad)
        ctx.fire(rid, f"当地时间不在允许的联系时段（{f_s}–{u_s}）内：{where}。",
                 f"Local time is outside the allowed contact hours ({f_s}–{u_s}): {where_en}.", next_at=nxt)
        if rejected is not None and pack.has(consent_rule) and consent_rule != base:
            ctx.fire(consent_rule, f"该同意系向“{rejected.given_to}”作出，不能作为催收方的例外依据。",
                     f"The consent was given to the {rejected.given_to}, not directly to the debt collector; "
                     "it does not make this time convenient.", next_at=nxt, evidence=_ev(rejected))


@_check("designated_inconvenient", "US-REGF-6B1-03")
def _designated(ctx: _Ctx) -> None:
    if not ctx.outbound:
        return
    rid = "US-REGF-6B1-03"
    f = ctx.facts
    cp = ctx.action.contact_point
    for place in f.inconvenient_places:
        if cp is not None and cp in place.contact_points:
            ctx.fire(rid, f"消费者已指定“{place.place}”为不便联系的地点（{cp}）。",
                     f"The consumer designated {place.place} as an inconvenient place ({cp} is tied to it).")
            return
    if not ctx.is_contact or not f.inconvenient_times or ctx.channel in _roles(ctx.pack, "US-REGF-6B1-01", "exempt_channels"):
        return
    loc = ctx.local
    period = _designated_period(f.inconvenient_times, loc)
    if period is None:
        return
    start, end = period
    medium = channel_medium(ctx.channel)
    recent = [r for r in ctx.history.for_party_before(ctx.action.party, ctx.at)
              if r.ts >= start and channel_medium(r.channel) == medium]
    inbound = [r for r in recent if r.direction == "inbound"]
    if inbound and not any(r.direction == "outbound" and r.ts > inbound[-1].ts for r in recent):
        ctx.note(rid, "消费者在其指定的不便时间主动联系，可通过同一媒介答复一次。",
                 "The consumer initiated contact at a designated inconvenient time: one response through the same medium.")
        return
    ctx.fire(rid, f"消费者已指定该时间为不便联系时间（当地 {_fmt_local(loc)}）。",
             f"The consumer designated this time as inconvenient (local {_fmt_local(loc)}).", next_at=end)


def _designated_period(rules, loc: datetime) -> tuple[datetime, datetime] | None:
    """The designated-inconvenient period containing local time ``loc``: ``(start, end)``."""
    wd, t, d = loc.weekday(), loc.time(), loc.date()
    for r in rules:
        if wd not in r.weekdays or (r.until is not None and d > r.until):
            continue
        if r.all_day:
            z = loc.tzinfo
            start = datetime(d.year, d.month, d.day, tzinfo=z)
            return start, next_local_midnight(loc, z)  # type: ignore[arg-type]
        if r.start is not None and r.end is not None and r.start <= t < r.end:
            z = loc.tzinfo
            return (datetime.combine(d, r.start, tzinfo=z), datetime.combine(d, r.end, tzinfo=z))
    return None


@_check("media", "US-REGF-22F-01", "US-REGF-6D-02")
def _media(ctx: _Ctx) -> None:
    if not ctx.outbound:
        return
    a, pt = ctx.action, ctx.point
    if ctx.has("US-REGF-22F-01"):
        rid = "US-REGF-22F-01"
        if a.format == "postcard" or ctx.channel == "postcard":
            ctx.fire(rid, "不得使用明信片联系。", "No communication by postcard (§1006.22(f)(1)).")
        if ctx.channel == "social_media" and a.format in ("public", "viewable_by_contacts"):
            ctx.fire(rid, "不得通过公众或其联系人可见的社交媒体沟通。",
                     "No social-media communication viewable by the public or the person's contacts (§1006.22(f)(4)).")
        if (ctx.channel == "email" and pt is not None and pt.employer_provided
                and (pt.email_basis or "") not in set(ctx.p(rid, "employer_email_allowed_bases") or ())):
            ctx.fire(rid, "不得向已知由雇主提供的电子邮箱发送（除非符合 §1006.6(d)(4)(i)/(iii)）。",
                     "No e-mail to an address known to be employer-provided unless §1006.6(d)(4)(i) or (iii) applies.")
    if ctx.has("US-REGF-6D-02") and pt is not None:
        if ctx.channel == "email":
            _email_procedure(ctx)
        elif ctx.channel == "sms":
            _text_procedure(ctx)


def _email_procedure(ctx: _Ctx) -> None:
    rid = "US-REGF-6D-02"
    pt = ctx.point
    assert pt is not None
    if not (pt.email_basis or "").endswith("(ii)"):
        return
    day = ctx.local.date()
    problems = []
    if pt.creditor_notice_sent is None:
        problems.append(("债权人未发送转让通知", "the creditor sent no notice"))
    else:
        min_deadline = pt.creditor_notice_sent + timedelta(days=int(ctx.p(rid, "min_opt_out_days", 35)))
        ctx.details["min_deadline"] = min_deadline.isoformat()
        if pt.creditor_opt_out_deadline is None or pt.creditor_opt_out_deadline < min_deadline:
            problems.append((f"退订期限须不早于 {min_deadline}", f"the opt-out deadline must be on or after {min_deadline}"))
        elif day <= pt.creditor_opt_out_deadline:
            problems.append(("退订期限尚未届满", "the opt-out period has not expired"))
    if pt.address and "@" in pt.address:
        domain = pt.address.rsplit("@", 1)[1].lower()
        if domain not in _roles(ctx.pack, rid, "public_email_domains"):
            problems.append((f"邮箱域名 {domain} 非公众可用", f"the domain {domain} is not available to the general public"))
    if problems:
        ctx.fire(rid, "该邮箱不满足 §1006.6(d)(4)(ii) 程序：" + "；".join(p[0] for p in problems) + "。",
                 "The e-mail address does not meet the §1006.6(d)(4)(ii) procedure: " + "; ".join(p[1] for p in problems) + ".")


def _text_procedure(ctx: _Ctx) -> None:
    rid = "US-REGF-6D-02"
    pt = ctx.point
    assert pt is not None
    known = [d for d in (pt.last_consumer_text, pt.text_eligibility_checked, pt.last_reassigned_db_check) if d is not None]
    if pt.last_consumer_text is None and pt.text_eligibility_basis is None and pt.last_reassigned_db_check is None:
        return
    limit = int(ctx.p(rid, "text_recency_days", 60))
    day = ctx.local.date()
    if not known or (day - max(known)).days > limit:
        ctx.fire(rid, f"短信号码在过去{limit}日内既无消费者新的使用/同意，也未查询号码重新分配数据库。",
                 f"Neither condition of §1006.6(d)(5)(i) holds: no consumer activity or consent and no "
                 f"reassigned-number check within {limit} days.")


@_check("content", "CN-PROHIBIT-05", "US-REGF-26-01", "US-REGF-6E-01", "US-REGF-2J-01", "US-REGF-14-OTHER",
        "CN-PROHIBIT-01", "CN-PROHIBIT-02", "CN-PROHIBIT-04", "CN-PROHIBIT-09", "CN-PROHIBIT-10", "CN-PROHIBIT-11",
        "CN-WHO-03")
def _content_rules(ctx: _Ctx) -> None:
    if ctx.reeval:
        return  # wording does not change with time; the first evaluation already judged it
    a, pack = ctx.action, ctx.pack
    text = a.content
    if ctx.has("US-REGF-26-01"):
        wanted = set(a.debts)
        barred = [d for d in ctx.facts.debts if d.time_barred and (not wanted or d.debt_id in wanted)]
        if barred and (ctx.purpose == "litigation" or (
                text is not None and _content.matches(text, _content.patterns(pack, "US-REGF-26-01", "legal_threat_patterns")))):
            ids = ", ".join(d.debt_id for d in barred)
            ctx.fire("US-REGF-26-01", f"已过诉讼时效的债务（{ids}）不得起诉或威胁起诉。",
                     f"No legal action, or threat of it, on a time-barred debt ({ids}).")
    if text is None or not ctx.outbound:
        return
    if ctx.has("CN-PROHIBIT-05"):
        m = _content.first_match(text, _content.patterns(pack, "CN-PROHIBIT-05", "patterns"))
        if m:
            ctx.fire("CN-PROHIBIT-05", f"不得以催收名义收取额外费用或诱导借新还旧（“{m.group(0)}”）。",
                     "No extra fees in the name of collection, and no inducing new borrowing to repay.",
                     evidence=(m.group(0),))
    if ctx.has("US-REGF-6E-01") and ctx.channel in _roles(pack, "US-REGF-6E-01", "channels") \
            and not (a.content_type or "").startswith("opt_out_confirmation"):
        if not _content.matches(text, _content.patterns(pack, "US-REGF-6E-01", "opt_out_patterns")):
            ctx.fire("US-REGF-6E-01", "电子消息须包含清晰、简单的退订方式说明。",
                     "Every electronic message must state a clear, simple way to opt out (§1006.6(e)).")
    if ctx.has("US-REGF-2J-01") and ctx.channel in ("voicemail", "ringless_voicemail"):
        consumer_roles = _roles(pack, "US-REGF-6D-01", "consumer_roles") or frozenset({"debtor"})
        ok, problems = _content.limited_content_message(text, ctx.role in consumer_roles, pack)
        ctx.details["is_limited_content_message"] = ok
        if not ok:
            ctx.fire("US-REGF-2J-01", "语音留言不符合“有限内容留言”要求：" + "；".join(problems),
                     "The voicemail is not a limited-content message: " + "; ".join(problems))
    _screen(ctx, text)


def _screen(ctx: _Ctx, text: str) -> None:
    screen = _content.get_screen()
    if screen is None:
        ctx.notes.append(Reason("CONTENT-SCREENING", "", "内容筛查模块尚未就绪，内容类规则待定。",
                                "Content screening is not available yet: content rules are pending.", "info"))
        return
    third = ctx.role not in (_roles(ctx.pack, "CN-WHO-01", "obligor_roles") | _roles(ctx.pack, "US-REGF-6D-01", "consumer_roles")
                             | frozenset({"debtor"}))
    if third and ctx.party is not None and ctx.party.volunteered_to_repay:
        third = False  # CN-WHO-03 exception: repayment information may be given
    lang = "zh" if ctx.pack.jurisdiction.lower() == "cn" else "en"
    try:
        found = screen(text, to_third_party=third, lang=lang)
    except TypeError:
        found = screen(text, to_third_party=third)
    seen = set()
    for m in found:
        rid = getattr(m, "rule_id", None) or "CONTENT"
        if rid in seen:
            continue
        seen.add(rid)
        rule = ctx.pack.rules.get(rid)
        if rule is not None and not rule.enabled:
            continue
        sev = rule.severity if rule is not None else "block"
        span = getattr(m, "text", "")
        cat = getattr(m, "category", "")
        ctx.findings.append(Finding(rid, sev, f"内容筛查命中（{cat}）：“{span}”。", f"Content screening matched ({cat}): {span!r}.",
                                    None, (span,) if span else ()))


@_check("frequency_cn", "CN-FREQ-01", "CN-FREQ-02", "CN-FREQ-03", "CN-FREQ-04", "CN-PIPL-04")
def _frequency_cn(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound):
        return
    pack, h = ctx.pack, ctx.history
    today = h.on_day(ctx.ordinal)
    midnight = None
    if ctx.is_call and ctx.has("CN-FREQ-01") and ctx.action.contact_point is not None:
        rid = "CN-FREQ-01"
        on_point = [r for r in h.for_point_on_day(ctx.action.contact_point, ctx.ordinal)
                    if r.direction == "outbound" and r.channel in CALL_CHANNELS]
        answered = any(outcome_reached(r.outcome) for r in on_point)
        n = len(on_point) if (pack.p(rid, "count_answered_attempts", True) or not answered) else 0
        limit = int(pack.p(rid, "max_attempts_per_contact_per_day", 6))
        ctx.details["attempts_today_on_contact"] = len(on_point)
        if n >= limit:
            valid, _ = _agreed(ctx, _roles(pack, rid, "consent_kinds"))
            if valid is not None:
                ctx.note(rid, "与债务人另有约定。", "Another arrangement agreed with the debtor.", _ev(valid))
            else:
                midnight = midnight or next_local_midnight(ctx.at, ctx.zone)
                ctx.fire(rid, f"同一联系方式当天已尝试拨打{len(on_point)}次，不宜超过{limit}次。",
                         f"{len(on_point)} attempts on this number today; no more than {limit} a day.", next_at=midnight)
    if ctx.is_call and ctx.has("CN-FREQ-02") and ctx.role == "debtor" and _gbt_applies(ctx):
        rid = "CN-FREQ-02"
        counted = _cn_connected_counter(pack)
        n = sum(1 for r in today if r.direction == "outbound" and r.channel in CALL_CHANNELS
                and r.role == "debtor" and counted(r.outcome))
        limit = int(pack.p(rid, "max_connected_calls_per_debtor_per_day", 3))
        ctx.details["connected_calls_today"] = n
        if n >= limit:
            valid, _ = _agreed(ctx, _roles(pack, rid, "consent_kinds"))
            if valid is not None:
                ctx.note(rid, "与债务人另有约定的除外。", "Another arrangement agreed with the debtor.", _ev(valid))
            else:
                midnight = midnight or next_local_midnight(ctx.at, ctx.zone)
                callers = sorted({r.caller or r.caller_kind for r in today if r.role == "debtor"})
                ctx.fire(rid, f"今日银行及合作机构（含智能语音）已拨通该债务人{n}次，合计不应超过{limit}次。",
                         f"The bank and its agencies (robots included) already got through to the debtor {n} "
                         f"times today; at most {limit} a day in total.", next_at=midnight, evidence=tuple(callers))
    if ctx.has("CN-FREQ-03") and ctx.action.contact_point is not None:
        rid = "CN-FREQ-03"
        same = [r for r in h.for_point_on_day(ctx.action.contact_point, ctx.ordinal)
                if r.direction == "outbound" and r.ts <= ctx.at]
        if ctx.is_call:
            calls = [r for r in same if r.channel in CALL_CHANNELS]
            mins = float(pack.p(rid, "rapid_window_minutes", 5))
            # the rule's proxy (RULES.md CN-FREQ-03, the US factor): two calls to the same number
            # within the window after the first went unanswered — one call, or a call back after a
            # conversation, is no pattern
            if calls and ctx.at - calls[-1].ts <= timedelta(minutes=mins) and not outcome_reached(calls[-1].outcome):
                ctx.fire(rid, f"{mins:g}分钟内再次拨打刚才未接通的同一号码（疑似“呼死你”式频繁致电）。",
                         f"Calling the same number again within {mins:g} minutes of an unanswered call "
                         "(call-bombing pattern).")
            if len(calls) + 1 >= int(pack.p(rid, "calls_per_day_flag", 7)):
                ctx.fire(rid, f"当日拨打同一号码已达{len(calls) + 1}次。", f"{len(calls) + 1} calls to the same number today.")
        elif ctx.channel in ("sms", "enterprise_wechat_message", "wechat", "im"):
            msgs = [r for r in same if r.channel == ctx.channel]
            if len(msgs) + 1 > int(pack.p(rid, "messages_per_day_flag", 5)):
                ctx.fire(rid, f"当日向同一联系方式发送消息已达{len(msgs) + 1}条。",
                         f"{len(msgs) + 1} messages to the same contact today (high volume).")
    if ctx.has("CN-FREQ-04") and ctx.purpose == "collect":
        rid = "CN-FREQ-04"
        gap = int(pack.p(rid, "min_interval_days", 7))
        prior = [r for r in h.on_days(ctx.ordinal - gap + 1, ctx.ordinal) if r[1].direction == "outbound"
                 and r[1].role == "debtor" and r[1].ts < ctx.at]
        if prior:
            last_day = prior[-1][0]
            ctx.fire(rid, f"催收间隔不宜少于{gap}个自然日。", f"Collection intervals should be at least {gap} days.",
                     next_at=ordinal_start(last_day + gap, ctx.zone))


def _gbt_applies(ctx: _Ctx) -> bool:
    g = ctx.facts.gbt_applies
    if g is not None:
        return g
    return ctx.facts.product in _roles(ctx.pack, "CN-FREQ-02", "applies_to_products")


def _cn_connected_counter(pack: RulePack):
    mode = pack.p("CN-FREQ-02", "count", "rang_through")
    return outcome_connected_to_number if mode == "rang_through" else outcome_reached


@_check("frequency_us", "US-REGF-14B-01", "US-REGF-14B-02", "US-REGF-14B-03", "US-REGF-14B-04", "US-REGF-14B-05")
def _frequency_us(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound and ctx.is_call):
        return
    pack = ctx.pack
    if ctx.role in _roles(pack, "US-REGF-14B-03", "excluded_roles"):
        return
    party, D, at = ctx.action.party, ctx.ordinal, ctx.at
    h = ctx.history
    recs = [(o, r) for o, r in h.on_days(D - 6, D + 6) if r.party == party]
    consents = _additional_call_consents(ctx, recs)
    debts = ctx.action.debts or ctx.facts.debt_ids or ("*",)
    excluded_now = [c for c in consents if c[0] <= D <= c[1] and c[2] <= at < c[3]]
    limit = int(pack.p("US-REGF-14B-01", "max_calls_per_7_days", 7))
    block_findings: list[tuple[str, str, str, datetime | None]] = []
    by_debt: dict[str, int] = {}
    history_state: dict[str, dict[str, int]] = {}
    all_debts = list(dict.fromkeys((*debts, *ctx.facts.debt_ids))) if debts != ("*",) else list(debts)
    # classify each record once: (day, counted call?, conversation before now in the window?, its debts)
    counted_calls: list[tuple[int, tuple[str, ...]]] = []
    conversations: list[tuple[int, tuple[str, ...]]] = []
    for o, r in recs:
        if r.channel not in CALL_CHANNELS:
            continue
        if r.direction == "outbound" and outcome_connected_to_number(r.outcome) and r.excluded_reason is None \
                and not (consents and any(c[0] <= o <= c[1] and c[2] <= r.ts < c[3] for c in consents)):
            counted_calls.append((o, r.debts))
        if D - 6 <= o <= D and r.ts < at and outcome_conversation(r.outcome):
            conversations.append((o, r.conversation_debts()))
    for debt in all_debts:
        proposed = debt in debts
        per_day: dict[int, int] = {}
        for o, ds in counted_calls:
            if debt == "*" or not ds or debt in ds:
                per_day[o] = per_day.get(o, 0) + 1
        conv_days = [o for o, ds in conversations if debt == "*" or not ds or debt in ds]
        convs = len(conv_days)
        last_conv = max(conv_days) if conv_days else None
        in_window = sum(n for o, n in per_day.items() if D - 6 <= o <= D)
        by_debt[debt] = in_window + (1 if proposed and not excluded_now else 0)
        history_state[debt] = {"calls": in_window, "conversations": convs}
        if excluded_now or not proposed:
            continue
        if ctx.has("US-REGF-14B-01"):
            worst = max(sum(per_day.get(o, 0) for o in range(s, s + 7)) for s in range(D - 6, D + 1)) + 1
            if worst > limit:
                nd = D + 1
                while nd <= D + 14 and max(sum(per_day.get(o, 0) for o in range(s, s + 7))
                                           for s in range(nd - 6, nd + 1)) + 1 > limit:
                    nd += 1
                block_findings.append(("US-REGF-14B-01",
                                       f"债务 {debt}：连续7日内第{worst}次通话，超过{limit}次（推定违规）。",
                                       f"Debt {debt}: this would be call {worst} within seven consecutive days "
                                       f"(more than {limit}: presumed violation).",
                                       ordinal_start(nd, ctx.zone)))
        if ctx.has("US-REGF-14B-02") and last_conv is not None:
            block_findings.append(("US-REGF-14B-02",
                                   f"债务 {debt}：{date.fromordinal(last_conv)} 已与该人通话，其后7日内（含当日）不得致电。",
                                   f"Debt {debt}: a telephone conversation on {date.fromordinal(last_conv)}; no call "
                                   "within seven consecutive days (that day is day 1).",
                                   ordinal_start(last_conv + 7, ctx.zone)))
    ctx.details["counted_calls_in_window"] = by_debt[debts[0]]
    if len(debts) > 1 or debts[0] != "*":
        ctx.details["counted_calls_in_window_by_debt"] = by_debt
        ctx.details["history_by_debt"] = history_state
    ctx.details["counts_toward_frequency"] = not excluded_now
    if excluded_now:
        c = excluded_now[0]
        ctx.note("US-REGF-14B-03", "本次通话在消费者事先同意的期间内，不计入通话次数。",
                 "This call is within the consumer's prior consent period and is excluded from the count.",
                 _ev(c[4]))
    rebuttal = _rebuttal(ctx, recs)
    for rid, zh, en, nxt in block_findings:
        if rebuttal:
            ctx.fire(rid, zh, en, severity="soft_block", next_at=nxt)
        else:
            ctx.fire(rid, zh, en, next_at=nxt)
    if block_findings and rebuttal and ctx.has("US-REGF-14B-05"):
        ctx.fire("US-REGF-14B-05", f"推定违规，但存在可反驳因素（{rebuttal}）：需主管批准并记录理由。",
                 f"Presumed violation with a documented rebuttal factor ({rebuttal}): supervisor approval and a "
                 "logged justification are required.", severity="soft_block")
    if ctx.has("US-REGF-14B-05"):
        _us_flags(ctx)


def _additional_call_consents(ctx: _Ctx, recs) -> list[tuple[int, int, datetime, datetime, Consent]]:
    """Consents under §1006.14(b)(3)(i): ``(first_day, last_day, from, until, consent)``; each ends
    early at a later conversation about the debt, an expiry or a revocation."""
    out = []
    far = datetime.max.replace(tzinfo=ctx.at.tzinfo)
    max_days = int(ctx.p("US-REGF-14B-03", "max_consent_days", 7))
    for c in ctx.facts.consents:
        if c.kind != "additional_calls" or c.given_to != "collector" or c.given_at is None:
            continue
        first = ctx.history.local_ordinal(c.given_at)
        last = first + min(c.window_days or max_days, max_days) - 1
        until = min([t for t in (c.expires_at, c.revoked_at) if t is not None] or [far])
        for _, r in recs:
            if r.ts > c.given_at and outcome_conversation(r.outcome) and r.ts < until:
                until = r.ts
                break
        out.append((first, last, c.given_at, until, c))
    return out


def _rebuttal(ctx: _Ctx, recs) -> str | None:
    """A recognised rebuttal factor for a presumed violation: a documented one on the action, or a
    call-back right after a dropped conversation (time-critical, outside the collector's control)."""
    recognised = _roles(ctx.pack, "US-REGF-14B-05", "recognised_rebuttal_factors")
    for f in ctx.action.rebuttal_factors:
        if f in recognised:
            return f
    mins = ctx.p("US-REGF-14B-05", "dropped_call_callback_minutes")
    if mins and "dropped_call" in recognised:
        prior = [r for _, r in recs if r.ts < ctx.at]
        if prior and prior[-1].outcome == "conversation_dropped" and ctx.at - prior[-1].ts <= timedelta(minutes=float(mins)):
            return "dropped_call"
    return None


def _us_flags(ctx: _Ctx) -> None:
    rid = "US-REGF-14B-05"
    cp = ctx.action.contact_point
    if cp is None:
        return
    same = [r for r in ctx.history.for_point_on_day(cp, ctx.ordinal)
            if r.direction == "outbound" and r.channel in CALL_CHANNELS and r.ts < ctx.at]
    flags = []
    win = timedelta(minutes=float(ctx.p(rid, "rapid_window_minutes", 5)))
    if same and ctx.at - same[-1].ts <= win and not outcome_reached(same[-1].outcome):
        flags.append("rapid_succession_5min")
        ctx.fire(rid, "五分钟内两次拨打同一号码未接通，可能推翻合规推定。",
                 "Two unanswered calls to the same number within five minutes may rebut the presumption of compliance.",
                 severity="flag")
    if len(same) + 1 >= int(ctx.p(rid, "calls_per_number_per_day_flag", 7)):
        flags.append("seven_calls_same_number_one_day")
        ctx.fire(rid, "一天内拨打同一号码达七次。", "Seven calls to the same number within one day.", severity="flag")
    if flags:
        ctx.details["flags"] = flags


@_check("cumulative", "US-REGF-14A-01")
def _cumulative(ctx: _Ctx) -> None:
    if not (ctx.is_contact and ctx.outbound):
        return
    rid = "US-REGF-14A-01"
    pack = ctx.pack
    ignored = _roles(pack, rid, "ignored_channels")
    if ctx.channel in ignored:
        return
    days = int(pack.p(rid, "window_days", 7))
    D = ctx.ordinal
    per_day: dict[int, dict[str, int]] = {}
    for o, r in ctx.history.on_days(D - days + 1, D):
        if r.party != ctx.action.party or r.direction != "outbound" or r.solicited or r.channel in ignored or r.ts >= ctx.at:
            continue
        m = channel_medium(r.channel)
        per_day.setdefault(o, {}).setdefault(m, 0)
        per_day[o][m] += 1
    media: dict[str, int] = {}
    for counts in per_day.values():
        for m, n in counts.items():
            media[m] = media.get(m, 0) + n
    me = channel_medium(ctx.channel)
    media[me] = media.get(me, 0) + 1
    total = sum(media.values())
    ctx.details["contact_pressure"] = {"total": total, "by_medium": media}
    if len(media) >= int(pack.p(rid, "min_media", 2)) and total >= int(pack.p(rid, "threshold", 14)):
        nd = D + 1
        while nd <= D + days and sum(n for o, c in per_day.items() if nd - days + 1 <= o <= nd for n in c.values()) + 1 \
                >= int(pack.p(rid, "threshold", 14)):
            nd += 1
        ctx.fire(rid, f"{days}日内跨渠道主动联系已达{total}次（{', '.join(f'{k} {v}' for k, v in media.items())}），可能构成骚扰，需人工复核。",
                 f"{total} unsolicited contacts across media in {days} days "
                 f"({', '.join(f'{k} {v}' for k, v in media.items())}): cumulative pressure may be harassment; review.",
                 next_at=ordinal_start(nd, ctx.zone))


@_check("validation_notice", "US-REGF-34-01")
def _validation(ctx: _Ctx) -> None:
    f = ctx.facts
    if not (ctx.is_contact and ctx.outbound) or f.initial_communication_at is None or ctx.purpose == "validation_notice":
        return
    if f.validation_info_given_orally or f.validation_notice_sent_on is not None or f.consumer_paid:
        return
    due = f.initial_communication_at.astimezone(ctx.zone).date() + timedelta(days=int(ctx.p("US-REGF-34-01", "vn_deadline_days", 5)))
    if ctx.local.date() > due:
        ctx.fire("US-REGF-34-01", f"验证通知应于 {due} 前发出，尚未发送。",
                 f"The validation notice was due by {due} and has not been sent.", severity="flag")


# ================================================================================================
def _evaluate(action: ProposedAction, facts: Facts, history: ContactHistory, pack: RulePack, now: datetime,
              reeval: bool = False) -> _Ctx:
    ctx = _Ctx(action, facts, history, pack, now, reeval)
    roles = pack.applies_to_institution_roles
    if roles is not None and facts.institution_role is not None and facts.institution_role not in roles:
        ctx.notes.append(Reason("SCOPE", "", f"规则包 {pack.name} 不适用于机构角色“{facts.institution_role}”。",
                                f"Pack {pack.name} does not apply to institution role {facts.institution_role!r}.", "info"))
        return ctx
    for fn in _active_checks(pack):
        fn(ctx)
    return ctx


def decide(action: ProposedAction, facts: Facts, history: ContactHistory | None, pack: RulePack,
           now: datetime) -> Decision:
    """Decide whether ``action`` may happen. Pure: everything comes in as arguments.

    ``history`` should be indexed in the debtor's primary zone (``facts.timezones[0]``); another
    zone is re-indexed here (slower). ``now`` must be aware; an action without ``ts`` (a script or
    template review) is judged at ``now`` and only by content, media and conduct rules.
    """
    if now is None or now.tzinfo is None or now.utcoffset() is None:
        raise DomainError("decide: now must be a timezone-aware datetime")
    if history is None:
        history = ContactHistory((), facts.timezones[0])
    elif history.tz != facts.timezones[0]:
        history = ContactHistory(history.records, facts.timezones[0])
    ctx = _evaluate(action, facts, history, pack, now)
    verdict = combine(f.severity for f in ctx.findings)
    next_at = _next_allowed(action, facts, history, pack, now, ctx) if verdict in ("deny", "escalate") else None
    rules = pack.rules
    reasons = []
    for f in ctx.findings:
        r = rules.get(f.rule_id)
        reasons.append(Reason(f.rule_id, r.citation if r else "", f.zh, f.en, f.severity, r.layer if r else None,
                              f.evidence))
    return Decision(verdict, reasons, next_at, pack.version_label, ctx.notes, ctx.details)


def _next_allowed(action: ProposedAction, facts: Facts, history: ContactHistory, pack: RulePack,
                  now: datetime, ctx: _Ctx) -> datetime | None:
    if action.ts is None:
        return None
    blocking = [f for f in ctx.findings if f.severity in ("block", "soft_block")]
    t = action.ts
    for _ in range(16):
        if not blocking or any(f.next_at is None for f in blocking):
            return None
        t2 = max(f.next_at for f in blocking)  # type: ignore[type-var]
        if t2 <= t:
            return None
        t = t2
        c2 = _evaluate(replace(action, ts=t), facts, history, pack, now, reeval=True)
        blocking = [f for f in c2.findings if f.severity in ("block", "soft_block")]
        if not blocking:
            return t
    return None


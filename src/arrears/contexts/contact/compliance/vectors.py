"""Translate compliance test vectors (the ``vectors.json`` format) into gate inputs and decide them.

A vector is ``{id, rule_id, description, inputs, expected, source}``. This module reads *only*
``inputs`` (and the catalogue prefix of ``rule_id`` to pick the jurisdiction when the inputs do not
say); it never looks at ids, descriptions or expected values. What kind of question a vector asks
is read from the shape of its inputs: a ``proposed_action`` with a ``type`` (delete a recording,
assign a case, send a validation notice …), an artefact (``letter_fields``, ``plan``, ``fee`` …) or,
by default, a contact for the gate.

The vector format names parties and numbers loosely (``"debtor_mobile_M1"``, ``"consumer_mobile"``,
``"work_number"``, ``"reserved_contact"``); :func:`_party_of` and :func:`_point_kind` map those
names onto parties and contact-point kinds. Free-text consent scopes (``"phone callback 2026-03-04
22:30-23:00"``, ``"callback 17:00 today"``, ``"calls at 07:00"``) are parsed into windows.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from arrears.domain.compliance import artifacts as art
from arrears.domain.compliance.gate import decide
from arrears.domain.compliance.history import ContactHistory
from arrears.domain.compliance.model import (
    Assignment,
    Attorney,
    Consent,
    ContactPoint,
    ContactRecord,
    Debt,
    Decision,
    Facts,
    Hold,
    InconvenientPlace,
    InconvenientTime,
    MediumBlock,
    Party,
    ProposedAction,
    normalize_channel,
)
from arrears.domain.compliance.pack import RulePack, apply_overlay
from arrears.domain.compliance.timewin import zone

__all__ = ["evaluate_vector", "pack_for", "output_line"]

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_ROLE_ALIASES = {"location_information_source": "location_source", "consumer": "debtor", "cardholder": "debtor"}
#: callback consent given as a single time ("callback 17:00 today") covers this long after it
CALLBACK_GRACE = timedelta(minutes=30)
_PARENTHETICAL = re.compile(r"[（(]\s*(caller is[^）)]*)[）)]", re.IGNORECASE)


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {value!r}")
    return dt


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def pack_for(vector: Mapping[str, Any], packs: Mapping[str, RulePack]) -> RulePack:
    """The pack for a vector: ``inputs.jurisdiction`` if given, else the catalogue prefix of its
    ``rule_id`` (CN-… → cn, US-… → us_regf)."""
    jur = (vector.get("inputs") or {}).get("jurisdiction") or str(vector.get("rule_id", "")).split("-", 1)[0]
    key = {"cn": "cn", "us": "us_regf"}.get(jur.lower(), jur.lower())
    return packs[key]


def _policy_overlay(pack: RulePack, policy: Mapping[str, Any]) -> RulePack:
    """Inputs may carry an institution policy (``{"field_visit_min_staff": 2, …}``): apply it as an
    overlay on the rules that have those parameters (so it may tighten, never loosen)."""
    rules: dict[str, dict[str, Any]] = {}
    for key, value in policy.items():
        for rid, rule in pack.rules.items():
            if key in rule.params:
                rules.setdefault(rid, {"parameters": {}})["parameters"][key] = value
    return apply_overlay(pack, {"name": "vector-policy", "version": "1", "rules": rules}, "vector policy")


# ---- parties and contact points -------------------------------------------------------------
def _is_debtor_point(to: str, known: set[str]) -> bool:
    t = to.lower()
    return (t.startswith(("debtor", "consumer", "home_", "work_", "cardholder")) or "@" in t or to in known
            or t in ("home_landline", "work_number", "home_mailing_address"))


def _party_of(to: str | None, known_debtor_points: set[str]) -> str:
    if to is None:
        return "debtor"
    return "debtor" if _is_debtor_point(to, known_debtor_points) else to


def _point_kind(to: str, channel: str) -> str | None:
    t = to.lower()
    if "@" in t or channel == "email":
        return "email"
    if "work" in t:
        return "work"
    if "landline" in t:
        return "home_landline"
    if "mailing" in t or "address" in t:
        return "home_mail"
    if "mobile" in t or t.startswith("1"):
        return "mobile"
    return None


def _role(raw: str | None) -> str | None:
    if raw is None:
        return None
    return _ROLE_ALIASES.get(raw, raw)


# ---- consents ---------------------------------------------------------------------------------
_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_TIMES_RE = re.compile(r"(\d{1,2}:\d{2})(?:\s*[-–~至]\s*(\d{1,2}:\d{2}))?")


def _consent(c: Mapping[str, Any], tz: str) -> Consent:
    given_at = _ts(c.get("ts") or c.get("received_ts") or c.get("given_at"))
    given_to = c.get("given_to") or ("collector" if c.get("given_directly_to_collector", True) else "creditor")
    evidence = c.get("evidence")
    if c.get("type") == "prior_consent_additional_calls":
        return Consent("additional_calls", given_at=given_at, given_by=c.get("given_by", "debtor"), given_to=given_to,
                       window_days=c.get("window_days"), expires_at=_ts(c.get("expired_at")), evidence=evidence)
    kind = {"third_party_contact": "third_party_contact", "enter_premises": "enter_premises"}.get(c.get("type", ""), "agreed_contact")
    scope = str(c.get("scope", ""))
    z = zone(tz)
    day = _date(_DATE_RE.search(scope).group(1)) if _DATE_RE.search(scope) else None
    if day is None and "today" in scope.lower() and given_at is not None:
        day = given_at.astimezone(z).date()
    m = _TIMES_RE.search(_DATE_RE.sub("", scope))
    start = end = None
    daily_from = daily_until = None
    if m:
        t1 = time.fromisoformat(m.group(1).zfill(5))
        t2 = time.fromisoformat(m.group(2).zfill(5)) if m.group(2) else None
        if day is not None:
            start = datetime.combine(day, t1, tzinfo=z)
            end = datetime.combine(day, t2, tzinfo=z) if t2 else start + CALLBACK_GRACE
        else:
            daily_from = t1
            daily_until = t2 or (datetime.combine(date(2000, 1, 1), t1) + CALLBACK_GRACE).time()
    return Consent(kind, given_at=given_at, given_by=c.get("given_by", "debtor"), given_to=given_to,
                   window_start=start, window_end=end, daily_from=daily_from, daily_until=daily_until,
                   expires_at=_ts(c.get("expired_at")), evidence=evidence)


# ---- the gate ---------------------------------------------------------------------------------
def _zones(inputs: Mapping[str, Any], pa: Mapping[str, Any], pack: RulePack) -> tuple[str, ...]:
    person = inputs.get("debtor") or inputs.get("consumer") or {}
    zs: list[str] = []
    if person.get("timezone"):
        zs.append(person["timezone"])
    for loc in person.get("candidate_locations") or ():
        if loc.get("timezone") and loc["timezone"] not in zs:
            zs.append(loc["timezone"])
    if not zs and pa.get("tz"):
        zs.append(pa["tz"])
    if not zs and pa.get("ts"):
        off = _ts(pa["ts"]).utcoffset()  # type: ignore[union-attr]
        hours = int(off.total_seconds() // 3600) if off is not None else 0
        if off is not None and off.total_seconds() % 3600 == 0:
            zs.append("UTC" if hours == 0 else f"Etc/GMT{-hours:+d}")
    if not zs:
        zs.append(pack.default_timezone or "UTC")
    return tuple(zs)


def _content(pa: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(content, caller annotation)``: the text fields of the action joined, without stage
    directions such as ``（caller is an external agency employee）``."""
    keys = [k for k in ("text", "script", "content", "body", "body_suffix") if k in pa]
    if not keys:
        return None, None
    text = " ".join(str(pa[k]) for k in keys if pa.get(k))
    m = _PARENTHETICAL.search(text)
    note = m.group(1) if m else None
    return _PARENTHETICAL.sub("", text).strip(), note


def _gate(inputs: Mapping[str, Any], pack: RulePack) -> Decision:
    pa = inputs.get("proposed_action") or {}
    person = inputs.get("debtor") or inputs.get("consumer") or {}
    zs = _zones(inputs, pa, pack)
    primary = zs[0]
    channel = normalize_channel(pa.get("channel") or "phone")

    contact_points: dict[str, ContactPoint] = {}
    known_debtor_points: set[str] = set()
    cp_in = inputs.get("contact_point")
    if cp_in:
        known_debtor_points.add(cp_in["value"])
        contact_points[cp_in["value"]] = ContactPoint(cp_in["value"], "debtor", _point_kind(cp_in["value"], channel),
                                                      provenance=cp_in.get("provenance"))
    to = pa.get("to")
    if to is None and channel in ("email", "sms"):
        to = f"{channel}_address"
        known_debtor_points.add(to)
    target_in = inputs.get("target_party") or inputs.get("third_party") or {}
    party_id = _party_of(to, known_debtor_points)
    parties: dict[str, Party] = {"debtor": Party("debtor", "debtor")}
    if party_id != "debtor":
        parties[party_id] = Party(party_id, _role(target_in.get("role")) or "third_party", evidence=target_in.get("evidence"),
                                  volunteered_to_repay=bool(target_in.get("expressly_volunteered_to_repay")),
                                  do_not_contact=bool(target_in.get("do_not_contact")),
                                  refused_at=_ts(target_in.get("refused_at")))
    elif target_in.get("role") and _role(target_in["role"]) != "debtor":
        # a target described without a distinct number (e.g. a script to a reserved contact)
        party_id = _role(target_in["role"]) or "third_party"
        parties[party_id] = Party(party_id, party_id, evidence=target_in.get("evidence"),
                                  volunteered_to_repay=bool(target_in.get("expressly_volunteered_to_repay")))

    # e-mail / text facts of the contact point used
    email_in = inputs.get("email")
    cn_in = inputs.get("creditor_notice") or {}
    tn_in = inputs.get("text_number") or {}
    if to is not None:
        address = email_in if isinstance(email_in, str) else (to if "@" in to else None)
        employer = email_in.get("employer_provided_known") if isinstance(email_in, Mapping) else None
        basis = pa.get("basis") or (email_in.get("basis") if isinstance(email_in, Mapping) else None)
        contact_points.setdefault(to, ContactPoint(
            to, party_id, _point_kind(to, channel), address=address, employer_provided=employer, email_basis=basis,
            creditor_notice_sent=_date(cn_in.get("sent")), creditor_opt_out_deadline=_date(cn_in.get("opt_out_deadline")),
            last_consumer_text=_date(tn_in.get("last_consumer_text")),
            last_reassigned_db_check=_date(tn_in.get("last_reassigned_db_check")),
            text_eligibility_basis=pa.get("number_eligibility_basis"),
            text_eligibility_checked=_date(pa.get("eligibility_checked_on"))))

    history_recs = []
    for h in inputs.get("contact_history") or ():
        hto = h.get("to")
        hparty = _party_of(hto, known_debtor_points)
        hrole = "debtor" if hparty == "debtor" else (parties[hparty].role if hparty in parties else "third_party")
        caller = h.get("caller")
        debts = (h["counted_toward"],) if h.get("counted_toward") else tuple(h.get("debt_ids") or ())
        history_recs.append(ContactRecord(
            ts=_ts(h["ts"]), channel=h.get("channel", "phone"), direction=h.get("direction", "outbound"),  # type: ignore[arg-type]
            party=hparty, role=hrole, contact_point=hto, outcome=h.get("outcome"), caller=caller,
            caller_kind="agency" if str(caller or "").startswith("agency") else "bank", voice_type=h.get("voice_type"),
            debts=debts, discussed_debts=tuple(h["discussed_debt_ids"]) if "discussed_debt_ids" in h else None,
            excluded_reason=h.get("excluded_reason"), solicited=bool(h.get("in_reply_to")),
            content_type=h.get("content_type")))

    holds = [Hold(str(x.get("kind")), since=_ts(x.get("since")), until=_ts(x.get("until")), reference=x.get("reference"))
             for x in inputs.get("holds") or ()]
    plan = inputs.get("plan")
    if plan and str(plan.get("status", "")).upper() == "SIGNED":
        holds.append(Hold("payment_plan", breached=bool(plan.get("breach")), reference=plan.get("id")))

    statements = tuple((_ts(s["ts"]), s["text"]) for s in person.get("statements") or ())
    blocks = [MediumBlock(b["medium"], _ts(b["ts"])) for b in person.get("medium_blocks") or ()]  # type: ignore[arg-type]
    blocks += [MediumBlock(b["medium"], _ts(b["ts"]), b.get("address")) for b in person.get("address_blocks") or ()]  # type: ignore[arg-type]
    times = []
    for r in person.get("inconvenient_rules") or ():
        times.append(InconvenientTime(
            frozenset(_WEEKDAYS[d.lower()[:3]] for d in r.get("days", ())),
            start=time.fromisoformat(r["from"]) if r.get("from") else None,
            end=time.fromisoformat(r["to"]) if r.get("to") else None,
            all_day=bool(r.get("all_day")), until=_date(r.get("until")), source=r.get("source")))
    places = [InconvenientPlace(p["place"], frozenset(p.get("media_associated") or ()), p.get("source"))
              for p in person.get("inconvenient_places") or ()]
    att = person.get("attorney")
    attorney = Attorney(bool(att.get("known", True)), bool(att.get("name_address_known", True)),
                        bool(att.get("responsive", True)), bool(att.get("consented_to_direct_contact", False))) if att else None
    debts = [Debt(d["id"], d.get("type")) for d in inputs.get("debts") or ()]
    if inputs.get("debt"):
        d = inputs["debt"]
        debts.append(Debt(d["id"], d.get("type"), bool(d.get("statute_of_limitations_expired"))))
    assignment = inputs.get("assignment")
    collector = inputs.get("collector") or {}
    content, annotation = _content(pa)
    caller = pa.get("caller") or collector.get("employer")
    caller_kind = "agency" if (str(caller or "").startswith("agency") or (annotation and "agency" in annotation.lower())) else "bank"
    whitelist = inputs.get("whitelist")
    cease = inputs.get("cease_notice") or {}
    facts = Facts(
        timezones=zs, product=person.get("product"), institution_role=person.get("institution_role"),
        gbt_applies=person.get("gbt_applies"),
        consents=tuple(_consent(c, primary) for c in inputs.get("consents") or ()),
        holds=tuple(holds), parties=parties, contact_points=contact_points, debts=tuple(debts),
        cease_notice_received_at=_ts(cease.get("ts_received")), medium_blocks=tuple(blocks),
        inconvenient_times=tuple(times), inconvenient_places=tuple(places), attorney=attorney, statements=statements,
        assignment=Assignment(assignment["agency"], _ts(assignment["ts"])) if assignment else None,  # type: ignore[arg-type]
        outsourcing_notice_at=_ts((inputs.get("outsourcing_notice") or {}).get("ts")),
        agency_whitelisted=(caller in whitelist.get("agencies", ())) if (whitelist and caller_kind == "agency") else None,
        private_channel_approved=bool(collector.get("channel_approved_by_bank", False)),
        recording_on=inputs.get("recording_on"),
    )
    acts = tuple(a for a in (pa.get("act"),) if a) + tuple(pa.get("acts") or ())
    action = ProposedAction(
        ts=_ts(pa.get("ts")), channel=channel, party=party_id, direction=pa.get("direction", "outbound"),
        contact_point=to, purpose=pa.get("purpose"), content=content, caller_kind=caller_kind, caller=caller,
        debts=tuple(pa.get("debt_ids") or ()), acts=acts, rebuttal_factors=tuple(pa.get("rebuttal_factors") or ()),
        content_type=pa.get("content_type"), format=pa.get("format"), conveys_debt_info=pa.get("content_conveys_debt_info"),
        in_reply_to=pa.get("in_reply_to"))
    history = ContactHistory(history_recs, primary)
    stamps = [action.ts] if action.ts else [r.ts for r in history_recs]
    now = max(stamps) if stamps else datetime(2026, 1, 1, tzinfo=timezone.utc)
    return decide(action, facts, history, pack, now)


# ---- artefacts --------------------------------------------------------------------------------
def _artifact(inputs: Mapping[str, Any], pack: RulePack) -> Decision | None:
    pa = inputs.get("proposed_action") or {}
    kind = pa.get("type")
    if "letter_fields" in inputs:
        return art.check_letter(inputs["letter_fields"], pack)
    if "plan" in inputs and "term_months" in inputs["plan"] and not pa:
        p = inputs["plan"]
        el = p.get("eligibility") or {}
        return art.check_plan(int(p["term_months"]), p.get("content_items") or (), pack,
                              debt_exceeds_capacity=el.get("debt_exceeds_capacity"), willing_to_repay=el.get("willing_to_repay"))
    if "message" in inputs and "daily_rate_shown" in inputs["message"]:
        m = inputs["message"]
        return art.check_rate_display(m.get("daily_rate_shown"), m.get("annualized_rate_shown"), _date(m.get("date")) or date.min, pack)
    if "fee" in inputs:
        f = inputs["fee"]
        return art.check_fee(f["type"], _date(f["date"]) or date.min, pack, interest_on_fee=bool(f.get("interest_on_fee")))
    if "principal" in inputs and "charges" in inputs:
        return art.check_litigation_charges(Decimal(str(inputs["principal"])), Decimal(str(inputs["charges"]["total"])),
                                            int(inputs["days"]), pack)
    if "objection" in inputs:
        return art.credit_objection_due(_date(inputs["objection"]["received"]), pack)  # type: ignore[arg-type]
    if "complaint" in inputs:
        return art.complaint_due_dates(_date(inputs["complaint"]["received"]), pack)  # type: ignore[arg-type]
    if "export" in inputs:
        return art.check_export(inputs["export"]["fields"], pack, whitelist=inputs.get("purpose_whitelist"))
    if "data" in inputs and "category" in inputs["data"]:
        d = inputs["data"]
        return art.check_sensitive_processing(d["category"], pack, separate_consent=bool(d.get("separate_consent")),
                                              necessity_assessment_id=d.get("necessity_assessment_id"), pia_id=d.get("pia_id"))
    if "agency_kpi" in inputs:
        k = inputs["agency_kpi"]
        return art.check_kpi(Decimal(str(k.get("recovery_amount_weight", 0))),
                             Decimal(str(k.get("compliance_weight", 0))), pack)
    if "field_visit" in inputs:
        v = inputs["field_visit"]
        return art.check_field_visit_plan(int(v.get("staff_count", 1)), bool(v.get("av_recording")), pack,
                                          id_badge=bool(v.get("id_badge", True)))
    if kind == "delete_recording":
        rec = inputs.get("recording") or {}
        when = rec.get("recorded_at") or rec.get("call_date")
        return art.check_recording_purge(_date(when), _date(pa["date"]), pack, holds=rec.get("holds") or (),  # type: ignore[arg-type]
                                         open_oral_agreement=bool(rec.get("oral_agreement_open")),
                                         settlement_date=_date(rec.get("settlement_date")))
    if kind == "close_agency_case":
        c = inputs.get("agency_case") or {}
        return art.check_agency_case_close(bool(c.get("records_delivered")), pack,
                                           data_returned_or_deleted=c.get("data_returned_or_deleted"))
    if kind == "assign_case":
        w = inputs.get("whitelist") or {}
        return art.check_assignment(pa["agency"], w.get("agencies") or (), pack, published_url=w.get("published_url"),
                                    published_on=_date(w.get("published_on")), assigned_on=_date(pa.get("date")))
    if "voicemail" in inputs:
        v = inputs["voicemail"]
        return art.check_limited_content_message(
            v["text"], pack, left_for_consumer=str(v.get("left_for", "consumer")) in ("consumer", "debtor"),
            business_name_indicates_debt_collection=v.get("business_name_indicates_debt_collection"))
    if kind == "send_validation_notice":
        ic = inputs.get("initial_communication") or {}
        return art.check_validation_notice(_ts(ic["ts"]).date(), _date(pa["date"]), pack,  # type: ignore[union-attr,arg-type]
                                           given_orally=bool(ic.get("validation_info_given_orally")),
                                           consumer_paid=bool(inputs.get("consumer_paid_before_deadline")))
    if "validation_notice" in inputs or "validation_notices" in inputs:
        notices = inputs.get("validation_notices") or [inputs["validation_notice"]]
        live = [n for n in notices if n.get("status", "sent") not in ("returned_undeliverable", "undeliverable")]
        hol = next((v for k, v in inputs.items() if k.startswith("federal_holidays")), None)
        return art.validation_period(_date(live[-1]["sent"]), pack,  # type: ignore[arg-type]
                                     holidays=[_date(x) for x in hol] if hol else None)  # type: ignore[misc]
    if kind == "furnish_to_cra":
        recs = [ContactRecord(_ts(h["ts"]), h.get("channel", "phone"), h.get("direction", "outbound"),  # type: ignore[arg-type]
                              outcome=h.get("outcome")) for h in inputs.get("contact_history") or ()]
        return art.check_credit_furnishing(recs, _date(pa["date"]), pack)  # type: ignore[arg-type]
    return None


def evaluate_vector(vector: Mapping[str, Any], packs: Mapping[str, RulePack]) -> tuple[Decision, RulePack]:
    """Decide one vector; returns the decision and the pack (with any policy overlay) used."""
    inputs = vector.get("inputs") or {}
    pack = pack_for(vector, packs)
    if inputs.get("policy"):
        pack = _policy_overlay(pack, inputs["policy"])
    d = _artifact(inputs, pack)
    if d is None:
        d = _gate(inputs, pack)
    return d, pack


def output_line(vector: Mapping[str, Any], d: Decision, *, details: bool = False) -> dict[str, Any]:
    """The JSON line for a vector: ``{"id", "decision", "rule_ids"}``, the pack version, when
    contact becomes allowed, and for ``compute`` decisions the computed values."""
    out: dict[str, Any] = {"id": vector.get("id"), "decision": d.decision, "rule_ids": d.rule_ids,
                           "pack_version": d.pack_version}
    if d.next_allowed_at is not None:
        out["next_allowed_at"] = d.next_allowed_at.isoformat()
    if d.decision == "compute":
        out.update(d.details)
    if details:
        out["details"] = d.details
        out["reasons"] = d.to_dict()["reasons"]
        out["notes"] = d.to_dict()["notes"]
    return out

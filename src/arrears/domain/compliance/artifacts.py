"""Checks on things other than a contact: letters, plans, fees, rates, recordings, data feeds,
agency assignments, KPIs, validation notices — and the deadlines the catalogue defines.

Each ``check_*`` returns a :class:`~.model.Decision` (reasons, the pack version, computed
``details``); each ``*_due``/``validation_period`` computation returns the computed dates in a
``compute`` decision's details. All take the pack explicitly and read their parameters from it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ..money import format_money, money
from .dates import add_business_days, add_years, cn_period_end
from . import content as _content
from .history import ContactHistory
from .model import CALL_CHANNELS, ContactRecord, Decision, Reason, combine, outcome_conversation
from .pack import RulePack

__all__ = [
    "check_recording_purge", "check_agency_case_close", "check_letter", "check_assignment", "check_plan",
    "check_installment", "check_rate_display", "rate_regime", "check_fee", "check_litigation_charges",
    "limitation_end", "credit_objection_due", "check_negative_report", "complaint_due_dates", "check_export",
    "check_data_feed", "check_sensitive_processing", "check_kpi", "check_staff_vetting", "check_field_visit_plan",
    "pre_due_reminder_needed", "check_limited_content_message", "check_validation_notice", "validation_period",
    "check_credit_furnishing", "check_litigation_referral", "check_electronic_template", "ARTIFACT_CHECKS",
]


class _Out:
    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.reasons: list[Reason] = []
        self.notes: list[Reason] = []
        self.details: dict = {}

    def fire(self, rule_id: str, zh: str, en: str, severity: str | None = None, evidence: tuple[str, ...] = ()) -> None:
        r = self.pack.rules.get(rule_id)
        if r is None or not r.enabled:
            return
        self.reasons.append(Reason(rule_id, r.citation, zh, en, severity or r.severity, r.layer, evidence))

    def decision(self, compute: bool = False) -> Decision:
        verdict = "compute" if compute and not self.reasons else combine(r.severity for r in self.reasons)
        return Decision(verdict, self.reasons, None, self.pack.version_label, self.notes, self.details)


def _d(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# ---- recordings and records ---------------------------------------------------------------------
def check_recording_purge(recorded_on: date | datetime, purge_on: date, pack: RulePack, *, holds: Iterable[str] = (),
                          open_oral_agreement: bool = False, settlement_date: date | None = None) -> Decision:
    """May a call recording be deleted on ``purge_on``? CN: kept at least 2 years from the
    recording (CN-REC-01) and, under an oral repayment agreement, until the debt is settled
    (CN-REC-02); US: 3 years after the call (US-REGF-100-01). Any hold (litigation, complaint …)
    keeps it. ``details["retain_until"]``."""
    out = _Out(pack)
    rec = _d(recorded_on)
    rid = "CN-REC-01" if pack.has("CN-REC-01") else "US-REGF-100-01"
    years = int(pack.p(rid, "min_retention_years", 2 if rid == "CN-REC-01" else 3))
    until = add_years(rec, years)
    if open_oral_agreement and pack.has("CN-REC-02"):
        if settlement_date is None:
            out.fire("CN-REC-02", "存在口头还款协议且欠款尚未结清，录音不得删除。",
                     "An oral repayment agreement is open and the debt is not settled: keep the recording.")
        else:
            until = max(until, settlement_date)
    out.details["retain_until"] = until.isoformat()
    if purge_on < until:
        out.fire(rid, f"录音须保存至 {until}，不得提前删除。", f"The recording must be kept until {until}.")
    for h in holds:
        out.fire(rid, f"存在保全事项（{h}），录音不得删除。", f"A hold ({h}) keeps the recording.")
    return out.decision()


def check_agency_case_close(records_delivered: bool, pack: RulePack, *, data_returned_or_deleted: bool | None = None) -> Decision:
    """Closing a recalled agency case: the agency must have delivered complete collection records
    (CN-REC-01) and returned or deleted the personal data (CN-OUT-05)."""
    out = _Out(pack)
    if not records_delivered:
        out.fire("CN-REC-01", "外部催收机构尚未向银行移交完整的催收记录（含录音）。",
                 "The agency has not delivered complete collection records (recordings included).")
    if data_returned_or_deleted is False:
        out.fire("CN-OUT-05", "委托结束后受托人应返还或删除个人信息。",
                 "When the entrustment ends the agency must return or delete the personal data.")
    return out.decision()


# ---- letters, plans -------------------------------------------------------------------------
def check_letter(fields: Mapping[str, object], pack: RulePack) -> Decision:
    """A collection letter (催收函) must disclose every field of CN-LETTER-01; each non-empty."""
    out = _Out(pack)
    required = list(pack.p("CN-LETTER-01", "required_fields") or ())
    missing = [f for f in required if not fields.get(f)]
    out.details["missing_fields"] = missing
    if missing:
        out.fire("CN-LETTER-01", "催收函缺少必须披露的内容：" + "、".join(missing),
                 "The collection letter lacks mandatory disclosures: " + ", ".join(missing))
    return out.decision()


def _keyed(items: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for item in items:
        key, _, pat = item.partition("=")
        out.append((key.strip(), re.compile(pat.strip())))
    return out


def check_plan(term_months: int, content_items: Sequence[str], pack: RulePack, *,
               debt_exceeds_capacity: bool | None = True, willing_to_repay: bool | None = True) -> Decision:
    """A personalised instalment agreement (个性化分期, CN-PLAN-01): term ≤ 60 months, the six
    content items, eligibility (debt beyond the capacity to repay, willing to repay)."""
    out = _Out(pack)
    rid = "CN-PLAN-01"
    max_term = int(pack.p(rid, "max_term_months", 60))
    if term_months > max_term:
        out.fire(rid, f"个性化分期期限{term_months}个月，超过最长{max_term}个月。",
                 f"A {term_months}-month term exceeds the {max_term}-month maximum.")
    text = "\n".join(content_items)
    missing = [k for k, pat in _keyed(pack.p(rid, "required_content") or ()) if not pat.search(text)]
    out.details["missing_content"] = missing
    if missing:
        out.fire(rid, "分期协议缺少必备内容：" + "、".join(missing), "The agreement lacks required content: " + ", ".join(missing))
    if debt_exceeds_capacity is False or willing_to_repay is False:
        out.fire(rid, "不符合个性化分期的适用条件（欠款超出还款能力且仍有还款意愿）。",
                 "Not eligible: the debt must exceed the capacity to repay and the cardholder must be willing to repay.")
    return out.decision()


def check_installment(term_months: int, pack: RulePack, *, min_amount: Decimal | None = None,
                      max_amount: Decimal | None = None, cost_shown_as: str = "interest",
                      apr_displayed: bool = True) -> Decision:
    """An ordinary card instalment (CN-PLAN-02): term ≤ 5 years, minimum and maximum amounts set,
    cost shown as interest (not a fee), highest annualised rate displayed."""
    out = _Out(pack)
    rid = "CN-PLAN-02"
    max_term = int(pack.p(rid, "max_term_months", 60))
    if term_months > max_term:
        out.fire(rid, f"分期期限不得超过{max_term}个月。", f"Instalment terms may not exceed {max_term} months.")
    if min_amount is None or max_amount is None:
        out.fire(rid, "应设定分期起始金额和最高金额。", "Minimum and maximum instalment amounts must be set.")
    if cost_shown_as != "interest":
        out.fire(rid, "分期资金使用成本应统一以利息形式展示。", "The cost of an instalment must be shown as interest.")
    if not apr_displayed:
        out.fire(rid, "应以明显方式展示最高年化利率。", "The highest annualised rate must be displayed prominently.")
    return out.decision()


# ---- rates and fees -------------------------------------------------------------------------
def rate_regime(accrual_date: date, pack: RulePack) -> dict:
    """The card overdraft rate regime on ``accrual_date`` (CN-RATE-01): the 2017–2020 cap/floor
    (0.05 % / 0.035 % a day) or, from 2021-01-01, agreed rates."""
    free_from = _d(pack.p("CN-RATE-01", "market_rates_from", "2021-01-01"))
    capped_from = _d(pack.p("CN-RATE-01", "cap_regime_from", "2017-01-01"))
    if accrual_date >= free_from:
        return {"regime": "agreed", "daily_cap": None, "daily_floor": None}
    if accrual_date >= capped_from:
        return {"regime": "cap_floor", "daily_cap": Decimal(str(pack.p("CN-RATE-01", "daily_cap", 0.0005))),
                "daily_floor": Decimal(str(pack.p("CN-RATE-01", "daily_floor", 0.00035)))}
    return {"regime": "before_2017", "daily_cap": None, "daily_floor": None}


def check_rate_display(daily_rate_shown: str | None, annualized_rate_shown: str | None, on: date,
                       pack: RulePack) -> Decision:
    """A rate shown to a debtor must include the annualised rate (CN-RATE-01, from 2021-01-01)."""
    out = _Out(pack)
    out.details["regime"] = rate_regime(on, pack)["regime"]
    if on >= _d(pack.p("CN-RATE-01", "annualized_display_required_from", "2021-01-01")) and daily_rate_shown \
            and not annualized_rate_shown:
        out.fire("CN-RATE-01", "仅展示日利率而未以明显方式展示年化利率。",
                 "Only the daily rate is shown; the annualised rate must be shown prominently.")
    return out.decision()


def check_fee(fee_type: str, on: date, pack: RulePack, *, interest_on_fee: bool = False) -> Decision:
    """Fee engine guard (CN-RATE-02): no 滞纳金 / over-limit fee from 2017-01-01, no interest on
    service fees."""
    out = _Out(pack)
    rid = "CN-RATE-02"
    if on >= _d(pack.p(rid, "abolished_from", "2017-01-01")) and fee_type in (pack.p(rid, "abolished_fee_types") or ()):
        out.fire(rid, f"“{fee_type}”自2017-01-01起已取消（改为约定违约金）。",
                 f"{fee_type!r} was abolished from 2017-01-01 (replaced by an agreed 违约金).")
    if interest_on_fee:
        out.fire(rid, "不得对服务费用计收利息。", "No interest may be charged on service fees.")
    return out.decision()


def check_litigation_charges(principal: Decimal, charges_total: Decimal, days: int, pack: RulePack,
                             currency: str = "CNY") -> Decision:
    """Before filing suit (CN-RATE-03): the annualised all-in charge rate on overdue principal
    ``charges / principal × 365 / days``; above the court-reduction threshold (24 %, configurable)
    the case is flagged and the claim capped at the threshold is the litigation estimate (in the
    account's ``currency``, written by the one money formatter)."""
    out = _Out(pack)
    rid = "CN-RATE-03"
    p, c = money(principal), money(charges_total)
    if p <= 0 or days <= 0:
        raise ValueError("check_litigation_charges: principal and days must be positive")
    thr = Decimal(str(pack.p(rid, "court_reduction_threshold", 0.24)))
    rate = c / p * Decimal(365) / Decimal(days)
    capped = min(c, (p * thr * Decimal(days) / Decimal(365)).quantize(Decimal("0.01"), ROUND_HALF_UP))
    out.details["annualized_all_in_rate"] = float(rate.quantize(Decimal("0.0001"), ROUND_HALF_UP))
    out.details["litigation_estimate_capped_charges"] = float(capped)
    if rate > thr:
        out.fire(rid, f"年化综合费率 {rate:.2%} 超过 {thr:.0%}，诉讼中可能被调减；诉请估算按 "
                 f"{format_money(capped, currency, 'zh')}。",
                 f"All-in annualised rate {rate:.2%} exceeds {thr:.0%}: a court may reduce it; estimate the claim "
                 f"at {format_money(capped, currency, 'en')}.")
    return out.decision()


# ---- limitation, credit reporting, complaints ----------------------------------------------
def limitation_end(last_interruption: date, pack: RulePack, *, as_of: date | None = None,
                   holidays: Iterable[date] = ()) -> Decision:
    """CN-LIMIT-01: the 3-year limitation restarts at each interruption (a collection message to a
    reserved contact point); flagged when ``as_of`` is within the warning window of its end."""
    out = _Out(pack)
    rid = "CN-LIMIT-01"
    end = cn_period_end(last_interruption, years=int(pack.p(rid, "limitation_years", 3)), holidays=holidays)
    out.details["limitation_end"] = end.isoformat()
    if as_of is not None and as_of >= end - timedelta(days=int(pack.p(rid, "warn_days_before", 90))):
        out.fire(rid, f"诉讼时效将于 {end} 届满，请转法务评估。", f"The limitation period ends on {end}: refer to legal.")
        return out.decision()
    return out.decision(compute=True)


def credit_objection_due(received: date, pack: RulePack) -> Decision:
    """CN-CREDIT-01: reply to a credit-report objection within 20 days of receipt (start day not
    counted)."""
    out = _Out(pack)
    out.details["due_date"] = cn_period_end(received, days=int(pack.p("CN-CREDIT-01", "objection_reply_days", 20))).isoformat()
    return out.decision(compute=True)


def check_negative_report(prior_notice_given: bool, pack: RulePack) -> Decision:
    """CN-CREDIT-01: negative information may be reported only after telling the person."""
    out = _Out(pack)
    if not prior_notice_given:
        out.fire("CN-CREDIT-01", "报送不良信息前应事先告知信息主体本人。",
                 "The person must be told before negative information is reported.")
    return out.decision()


def complaint_due_dates(received: date, pack: RulePack) -> Decision:
    """CN-CMPL-01: decision due 15 days after receipt; extendable to 30; a further 30 with senior
    approval (start day not counted)."""
    out = _Out(pack)
    rid = "CN-CMPL-01"
    out.details["due_simple"] = cn_period_end(received, days=int(pack.p(rid, "simple_days", 15))).isoformat()
    out.details["due_complex_extended"] = cn_period_end(received, days=int(pack.p(rid, "complex_days", 30))).isoformat()
    out.details["due_max_with_senior_approval"] = cn_period_end(
        received, days=int(pack.p(rid, "complex_days", 30)) + int(pack.p(rid, "further_extension_days", 30))).isoformat()
    return out.decision(compute=True)


# ---- personal information -------------------------------------------------------------------
def check_export(fields: Sequence[str], pack: RulePack, *, whitelist: Sequence[str] | None = None) -> Decision:
    """CN-PIPL-01: an export (e.g. the data feed to an agency) may contain only the purpose's
    whitelisted fields; some fields (the debtor's phone address book) are never exported."""
    out = _Out(pack)
    rid = "CN-PIPL-01"
    allowed = set(whitelist if whitelist is not None else pack.p(rid, "default_field_whitelist") or ())
    never = set(pack.p(rid, "never_export") or ())
    extra = [f for f in fields if f not in allowed or f in never]
    out.details["fields_outside_whitelist"] = extra
    if extra:
        out.fire(rid, "导出字段超出目的所需的最小范围：" + "、".join(extra),
                 "Fields beyond the minimum necessary for the purpose: " + ", ".join(extra))
    return out.decision()


def check_data_feed(fields: Sequence[str], pack: RulePack, *, whitelist: Sequence[str] | None = None,
                    contract: Mapping[str, object] | None = None, pia_id: str | None = None,
                    sub_entrustment: bool = False, sub_entrustment_approved: bool = False) -> Decision:
    """A data feed to an agency: whitelisted fields (CN-PIPL-01), an entrusted-processing contract
    naming purpose, period, fields and protections (CN-OUT-05), a PIA on file (CN-REC-03), and no
    sub-entrustment without approval (CN-OUT-05)."""
    base = check_export(fields, pack, whitelist=whitelist)
    out = _Out(pack)
    out.reasons.extend(base.reasons)
    out.details.update(base.details)
    missing = [k for k in (pack.p("CN-OUT-05", "contract_terms") or ()) if not (contract or {}).get(k)]
    if missing:
        out.fire("CN-OUT-05", "委托处理合同缺少约定：" + "、".join(missing), "The entrustment contract lacks: " + ", ".join(missing))
    if sub_entrustment and not sub_entrustment_approved:
        out.fire("CN-OUT-05", "未经同意不得转委托处理个人信息。", "No sub-entrustment without the bank's approval.")
    if not pia_id:
        out.fire("CN-REC-03", "委托处理个人信息前应进行个人信息保护影响评估。",
                 "A personal-information impact assessment is required before entrusting processing.")
    return out.decision()


def check_sensitive_processing(category: str, pack: RulePack, *, separate_consent: bool,
                               necessity_assessment_id: str | None, pia_id: str | None) -> Decision:
    """CN-PIPL-02: sensitive personal information (行踪轨迹, financial accounts, health …) only with a
    specific purpose and sufficient necessity, a separate consent and a PIA."""
    out = _Out(pack)
    rid = "CN-PIPL-02"
    if category not in (pack.p(rid, "sensitive_categories") or ()):
        return out.decision()
    problems = []
    if not separate_consent:
        problems.append(("无单独同意", "no separate consent"))
    if not necessity_assessment_id:
        problems.append(("无必要性评估", "no documented necessity"))
    if not pia_id:
        problems.append(("无影响评估", "no impact assessment"))
    if problems:
        out.fire(rid, f"处理敏感个人信息（{category}）：" + "、".join(p[0] for p in problems),
                 f"Sensitive personal information ({category}): " + ", ".join(p[1] for p in problems))
    return out.decision()


# ---- agencies and staff ---------------------------------------------------------------------
def check_assignment(agency: str, whitelist: Iterable[str], pack: RulePack, *, published_url: str | None = None,
                     published_on: date | None = None, assigned_on: date | None = None) -> Decision:
    """CN-OUT-02: cases go only to agencies on the whitelist published on the bank's website
    (before the assignment)."""
    out = _Out(pack)
    rid = "CN-OUT-02"
    if agency not in set(whitelist):
        out.fire(rid, f"{agency} 不在已公示的外部催收机构白名单中。", f"{agency} is not on the published agency whitelist.")
    if not published_url:
        out.fire(rid, "白名单未在官网等渠道公示。", "The whitelist is not published.")
    elif published_on is not None and assigned_on is not None and published_on > assigned_on:
        out.fire(rid, "白名单公示晚于委案日期。", "The whitelist was published after the assignment.")
    return out.decision()


def check_kpi(recovery_weight: Decimal, compliance_weight: Decimal, pack: RulePack) -> Decision:
    """CN-OUT-04: collectors may not be assessed on recovered amounts alone; compliance needs a
    positive weight (flag for configuration review). Weights are shares of the assessment
    (``Decimal``, e.g. ``Decimal("0.3")``)."""
    out = _Out(pack)
    min_w = Decimal(str(pack.p("CN-OUT-04", "min_compliance_weight", 0)))
    if compliance_weight <= min_w or (recovery_weight > 0 and compliance_weight == 0):
        out.fire("CN-OUT-04", "考核不得单一以回收金额为依据，应包含合规指标。",
                 "Collector assessment may not rest on recovered amounts alone; include compliance metrics.")
    return out.decision()


def check_staff_vetting(attestations: Mapping[str, date | None], as_of: date, pack: RulePack) -> Decision:
    """CN-OUT-03: agency collectors need current attestations (no criminal record, not a dishonest
    judgment debtor), each within ``max_age_months``."""
    out = _Out(pack)
    rid = "CN-OUT-03"
    months = int(pack.p(rid, "max_age_months", 12))
    for kind in pack.p(rid, "required_attestations") or ():
        d = attestations.get(kind)
        if d is None or (as_of - d).days > months * 31:
            out.fire(rid, f"缺少或已过期的人员审查证明：{kind}", f"Missing or stale staff attestation: {kind}")
    return out.decision()


def check_field_visit_plan(staff_count: int, av_recording: bool, pack: RulePack, *, id_badge: bool = True) -> Decision:
    """A scheduled field visit: the bank policy of CN-FIELD-02 (two staff, ID shown, audio/video)
    and the recording duty of CN-REC-01."""
    out = _Out(pack)
    rid = "CN-FIELD-02"
    need = int(pack.p(rid, "field_visit_min_staff", 2))
    if staff_count < need:
        out.fire(rid, f"外访至少需{need}人，当前{staff_count}人。", f"Field visits need at least {need} staff; {staff_count} scheduled.")
    if pack.p(rid, "require_id_badge", True) and not id_badge:
        out.fire(rid, "外访人员须出示工作证件。", "Field staff must show ID.")
    if not av_recording:
        if pack.p(rid, "require_av_recording", True):
            out.fire(rid, "外访须佩戴执法记录仪全程录音录像。", "Field visits need body-worn audio/video recording.")
        out.fire("CN-REC-01", "外访催收过程须全程记录。", "The whole field visit must be recorded.")
    return out.decision()


def pre_due_reminder_needed(due_date: date, as_of: date, pack: RulePack, *, reminded: bool = False,
                            contact_invalid_by_cardholder: bool = False) -> Decision:
    """CN-REMIND-01: remind the cardholder of an upcoming repayment date (flag when due within the
    lead time and no reminder was sent), unless the cardholder gave false or changed contact data."""
    out = _Out(pack)
    lead = int(pack.p("CN-REMIND-01", "lead_days", 3))
    if not reminded and not contact_invalid_by_cardholder and as_of <= due_date <= as_of + timedelta(days=lead):
        out.fire("CN-REMIND-01", f"到期还款日 {due_date} 临近，应及时提醒持卡人。",
                 f"The repayment date {due_date} is near: remind the cardholder.")
    return out.decision()


# ---- US ---------------------------------------------------------------------------------------
def check_limited_content_message(text: str, pack: RulePack, *, left_for_consumer: bool = True,
                                  business_name_indicates_debt_collection: bool | None = None) -> Decision:
    """US-REGF-2J-01: is the voicemail a limited-content message? ``details["is_limited_content_message"]``."""
    out = _Out(pack)
    ok, problems = _content.limited_content_message(text, left_for_consumer, pack, business_name_indicates_debt_collection)
    out.details["is_limited_content_message"] = ok
    if not ok:
        out.fire("US-REGF-2J-01", "不是“有限内容留言”：" + "；".join(problems), "Not a limited-content message: " + "; ".join(problems))
    return out.decision()


def check_electronic_template(text: str, pack: RulePack) -> Decision:
    """US-REGF-6E-01: every e-mail / SMS template carries an opt-out statement."""
    out = _Out(pack)
    if not _content.matches(text, _content.patterns(pack, "US-REGF-6E-01", "opt_out_patterns")):
        out.fire("US-REGF-6E-01", "电子消息模板缺少退订说明。", "The template has no opt-out statement.")
    return out.decision()


def check_validation_notice(initial_communication_on: date, sent_on: date, pack: RulePack, *,
                            given_orally: bool = False, consumer_paid: bool = False) -> Decision:
    """US-REGF-34-01: the validation notice goes in the initial communication or within five days
    of it (calendar days, conservatively) unless given orally or the consumer paid."""
    out = _Out(pack)
    deadline = initial_communication_on + timedelta(days=int(pack.p("US-REGF-34-01", "vn_deadline_days", 5)))
    out.details["deadline"] = deadline.isoformat()
    if not (given_orally or consumer_paid) and sent_on > deadline:
        out.fire("US-REGF-34-01", f"验证通知应于 {deadline} 前发出。", f"The validation notice had to be sent by {deadline}.")
    return out.decision()


def validation_period(sent_on: date, pack: RulePack, *, holidays: Iterable[date] | None = None) -> Decision:
    """US-REGF-34-01: assumed receipt = 5 business days after sending (no Saturdays, Sundays or
    federal holidays); the validation period ends 30 days after receipt."""
    out = _Out(pack)
    rid = "US-REGF-34-01"
    receipt = add_business_days(sent_on, int(pack.p(rid, "assumed_receipt_business_days", 5)), holidays)
    out.details["assumed_receipt_date"] = receipt.isoformat()
    out.details["validation_period_end"] = (receipt + timedelta(days=int(pack.p(rid, "validation_period_days", 30)))).isoformat()
    return out.decision(compute=True)


def check_credit_furnishing(history: ContactHistory | Iterable[ContactRecord], on: date, pack: RulePack) -> Decision:
    """US-REGF-30A-01: no furnishing to a consumer reporting agency before speaking to the consumer
    (in person or by phone) or sending a letter / electronic message and waiting a reasonable time
    for an undeliverable notice (``wait_days``, configurable)."""
    out = _Out(pack)
    rid = "US-REGF-30A-01"
    wait = int(pack.p(rid, "wait_days", 14))
    spoke = sent_ok = False
    for r in history:
        d = r.ts.date()
        if d > on or r.role != "debtor":
            continue
        if r.channel in CALL_CHANNELS | {"field_visit"} and outcome_conversation(r.outcome):
            spoke = True
        if r.direction == "outbound" and r.channel in ("letter", "email", "sms") and r.outcome not in ("undeliverable", "bounced") \
                and (on - d).days >= wait:
            sent_ok = True
    if not (spoke or sent_ok):
        out.fire(rid, f"报送征信前须先与消费者通话，或发信后等待{wait}日确认未被退回。",
                 f"Speak to the consumer, or send a letter/electronic message and wait {wait} days for an "
                 "undeliverable notice, before furnishing.")
    return out.decision()


def check_litigation_referral(time_barred: bool, pack: RulePack) -> Decision:
    """US-REGF-26-01: no legal action (referral) on a time-barred debt."""
    out = _Out(pack)
    if time_barred:
        out.fire("US-REGF-26-01", "已过诉讼时效，不得起诉。", "The debt is time-barred: no legal action.")
    return out.decision()


#: Names used in the packs' ``enforced_by`` (``artifact.<name>``) → (function, rule ids it decides).
ARTIFACT_CHECKS: dict[str, tuple[object, tuple[str, ...]]] = {
    "artifact.recording_purge": (check_recording_purge, ("CN-REC-01", "CN-REC-02", "US-REGF-100-01")),
    "artifact.agency_case_close": (check_agency_case_close, ("CN-REC-01", "CN-OUT-05")),
    "artifact.letter": (check_letter, ("CN-LETTER-01",)),
    "artifact.assignment": (check_assignment, ("CN-OUT-02",)),
    "artifact.plan": (check_plan, ("CN-PLAN-01",)),
    "artifact.installment": (check_installment, ("CN-PLAN-02",)),
    "artifact.rate_display": (check_rate_display, ("CN-RATE-01",)),
    "artifact.fee": (check_fee, ("CN-RATE-02",)),
    "artifact.litigation_charges": (check_litigation_charges, ("CN-RATE-03",)),
    "artifact.limitation": (limitation_end, ("CN-LIMIT-01",)),
    "artifact.credit_objection": (credit_objection_due, ("CN-CREDIT-01",)),
    "artifact.negative_report": (check_negative_report, ("CN-CREDIT-01",)),
    "artifact.complaint_due": (complaint_due_dates, ("CN-CMPL-01",)),
    "artifact.export": (check_export, ("CN-PIPL-01",)),
    "artifact.data_feed": (check_data_feed, ("CN-PIPL-01", "CN-OUT-05", "CN-REC-03")),
    "artifact.sensitive": (check_sensitive_processing, ("CN-PIPL-02",)),
    "artifact.kpi": (check_kpi, ("CN-OUT-04",)),
    "artifact.staff_vetting": (check_staff_vetting, ("CN-OUT-03",)),
    "artifact.field_visit_plan": (check_field_visit_plan, ("CN-FIELD-02", "CN-REC-01", "CN-FIELD-01")),
    "artifact.pre_due_reminder": (pre_due_reminder_needed, ("CN-REMIND-01",)),
    "artifact.lcm": (check_limited_content_message, ("US-REGF-2J-01",)),
    "artifact.electronic_template": (check_electronic_template, ("US-REGF-6E-01",)),
    "artifact.validation_notice": (check_validation_notice, ("US-REGF-34-01",)),
    "artifact.validation_period": (validation_period, ("US-REGF-34-01",)),
    "artifact.credit_furnishing": (check_credit_furnishing, ("US-REGF-30A-01",)),
    "artifact.litigation_referral": (check_litigation_referral, ("US-REGF-26-01",)),
}

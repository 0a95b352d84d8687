"""The compliance gate beyond the vectors: local time across zones and DST, next_allowed_at,
caps across bank, agencies and robots, third parties, holds, scope, content, the history index."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from arrears.domain.compliance import (
    Consent,
    ContactHistory,
    ContactPoint,
    ContactRecord,
    Facts,
    Hold,
    Party,
    ProposedAction,
    decide,
)
from arrears.domain.compliance import content as content_mod
from arrears.domain.errors import DomainError
from arrears.rules.compliance_packs import load_compliance_pack

CN = load_compliance_pack("cn")
US = load_compliance_pack("us_regf")
SH, NY, LA, LON = (ZoneInfo(z) for z in ("Asia/Shanghai", "America/New_York", "America/Los_Angeles", "Europe/London"))
UTC = timezone.utc


def cn_facts(**kw) -> Facts:
    return Facts(("Asia/Shanghai",), product="credit_card", **kw)


def call(ts, point="M1", party="debtor", **kw) -> ProposedAction:
    return ProposedAction(ts, "phone", party=party, contact_point=point, **kw)


def rec(ts, outcome="unanswered", point="M1", party="debtor", role="debtor", channel="phone", **kw) -> ContactRecord:
    return ContactRecord(ts, channel, party=party, role=role, contact_point=point, outcome=outcome, **kw)


def test_naive_times_are_refused():
    with pytest.raises(DomainError):
        ProposedAction(datetime(2026, 3, 3, 10), "phone")
    with pytest.raises(DomainError):
        decide(call(datetime(2026, 3, 3, 10, tzinfo=SH)), cn_facts(), None, CN, datetime(2026, 3, 3))


def test_quiet_hours_next_allowed_at_is_the_local_morning():
    d = decide(call(datetime(2026, 3, 3, 23, 30, tzinfo=SH)), cn_facts(), None, CN, datetime(2026, 3, 3, tzinfo=SH))
    assert d.decision == "deny" and d.next_allowed_at == datetime(2026, 3, 4, 8, 0, tzinfo=SH)
    early = decide(call(datetime(2026, 3, 4, 7, 59, 59, tzinfo=SH)), cn_facts(), None, CN, datetime(2026, 3, 3, tzinfo=SH))
    assert early.decision == "deny" and early.next_allowed_at == datetime(2026, 3, 4, 8, 0, tzinfo=SH)
    assert decide(call(datetime(2026, 3, 4, 8, 0, tzinfo=SH)), cn_facts(), None, CN, datetime(2026, 3, 3, tzinfo=SH)).allowed
    r = d.reasons[0]
    assert r.rule_id == "CN-HOURS-01" and "22:00" in r.zh and r.en and "未经债务人同意" in r.citation
    assert d.pack_version == "cn@2026.11"


def test_local_time_follows_daylight_saving():
    facts = Facts(("America/New_York",))
    # 12:30 UTC is 07:30 EST on Sat 7 March 2026 and 08:30 EDT on Sun 8 March (DST starts)
    before = decide(call(datetime(2026, 3, 7, 12, 30, tzinfo=UTC)), facts, None, US, datetime(2026, 3, 7, tzinfo=UTC))
    after = decide(call(datetime(2026, 3, 8, 12, 30, tzinfo=UTC)), facts, None, US, datetime(2026, 3, 8, tzinfo=UTC))
    assert before.decision == "deny" and before.next_allowed_at == datetime(2026, 3, 7, 8, 0, tzinfo=NY)
    assert after.decision == "allow"


def test_every_candidate_zone_must_allow_and_next_time_is_in_all():
    facts = Facts(("America/New_York", "America/Los_Angeles"))
    d = decide(call(datetime(2020, 6, 15, 9, 0, tzinfo=NY)), facts, None, US, datetime(2020, 6, 15, tzinfo=NY))
    assert d.decision == "deny" and d.rule_ids == ["US-REGF-6B1-02"]
    assert d.next_allowed_at == datetime(2020, 6, 15, 11, 0, tzinfo=NY)  # 08:00 in Los Angeles
    # a CN debtor abroad in London: both Shanghai and London must be inside 08:00–22:00
    cn = Facts(("Asia/Shanghai", "Europe/London"))
    d2 = decide(call(datetime(2026, 6, 1, 9, 0, tzinfo=SH)), cn, None, CN, datetime(2026, 6, 1, tzinfo=SH))
    assert d2.decision == "deny"  # 02:00 in London
    assert d2.next_allowed_at == datetime(2026, 6, 1, 15, 0, tzinfo=SH)  # 08:00 BST
    assert set(d2.details["local_times"]) == {"Asia/Shanghai", "Europe/London"}


def test_cn_attempt_cap_per_number_is_a_soft_block_until_tomorrow_morning():
    day = datetime(2026, 3, 5, 9, 0, tzinfo=SH)
    hist = ContactHistory([rec(day + timedelta(hours=i)) for i in range(6)], "Asia/Shanghai")
    d = decide(call(day + timedelta(hours=7)), cn_facts(), hist, CN, day)
    assert d.decision == "escalate" and d.rule_ids == ["CN-FREQ-01", "CN-FREQ-03"]  # 7th call: also flagged
    assert d.next_allowed_at == datetime(2026, 3, 6, 8, 0, tzinfo=SH)
    assert decide(call(day + timedelta(hours=7), point="M2"), cn_facts(), hist, CN, day).decision == "allow"


def test_cn_connected_calls_count_bank_agencies_and_robots_together():
    day = datetime(2026, 3, 5, 9, 0, tzinfo=SH)
    hist = ContactHistory([
        rec(day, "connected", caller="team1"),
        rec(day + timedelta(hours=1), "connected", point="M2", caller="agency_A", caller_kind="agency"),
        rec(day + timedelta(hours=2), "connected", channel="voice_robot", caller="robot", caller_kind="robot", voice_type="ai_voice"),
    ], "Asia/Shanghai")
    loan = Facts(("Asia/Shanghai",), product="internet_consumer_loan")
    d = decide(call(day + timedelta(hours=5), point="M3", caller_kind="agency", caller="agency_B"), loan, hist, CN, day)
    assert d.decision == "deny" and "CN-FREQ-02" in d.rule_ids and d.details["connected_calls_today"] == 3
    assert d.next_allowed_at == datetime(2026, 3, 6, 8, 0, tzinfo=SH)
    # a credit card: GB/T scope is a flag — off by default, on with the bank's overlay
    card = cn_facts()
    assert decide(call(day + timedelta(hours=5), point="M3"), card, hist, CN, day).decision == "allow"
    strict = load_compliance_pack("cn", overlay="example_bank")
    assert decide(call(day + timedelta(hours=5), point="M3"), card, hist, strict, day).decision == "deny"
    # "另有约定": an agreed callback lifts the cap
    agreed = Consent("agreed_contact", given_at=day, window_start=day + timedelta(hours=5), window_end=day + timedelta(hours=6), evidence="REC-9")
    ok = decide(call(day + timedelta(hours=5), point="M3"), Facts(("Asia/Shanghai",), product="internet_consumer_loan", consents=(agreed,)), hist, CN, day)
    assert ok.decision == "allow" and any("REC-9" in n.evidence for n in ok.notes)


def _third(role="reserved_contact", **kw):
    return {"debtor": Party("debtor", "debtor"), "friend": Party("friend", role, **kw)}


def test_third_party_only_after_the_debtor_is_unreachable_and_never_after_refusal():
    d1 = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    fails = [rec(d1 + timedelta(days=i)) for i in range(3)]  # one failed call on each of 3 days
    hist = ContactHistory(fails, "Asia/Shanghai")
    facts = cn_facts(parties=_third())
    relay = dict(party="friend", point="F1", purpose="ask_to_relay_message")
    # trigger (c): 3 consecutive days → allowed on the third day after that day's failure
    assert decide(call(d1 + timedelta(days=2, hours=2), **relay), facts, hist, CN, d1).decision == "allow"
    # the debtor was reached since: third-party contact stops
    hist.add(rec(d1 + timedelta(days=2, hours=3), "connected"))
    back = decide(call(d1 + timedelta(days=2, hours=4), **relay), facts, hist, CN, d1)
    assert back.decision == "deny" and back.rule_ids == ["CN-WHO-02"] and back.next_allowed_at is None
    # a third party who refused is never contacted again, on any channel
    refused = cn_facts(parties=_third(refused_at=d1))
    for channel in ("phone", "sms", "field_visit"):
        a = ProposedAction(d1 + timedelta(days=5, hours=1), channel, party="friend", contact_point="F1", purpose="ask_debtor_contact")
        d = decide(a, refused, ContactHistory(fails, "Asia/Shanghai"), CN, d1)
        assert d.decision == "deny" and "CN-WHO-04" in d.rule_ids
    # …also when the refusal is only in the ledger
    ledger = ContactHistory([*fails, rec(d1 + timedelta(days=3), "refused", point="F1", party="friend", role="reserved_contact")], "Asia/Shanghai")
    assert "CN-WHO-04" in decide(call(d1 + timedelta(days=5, hours=1), **relay), facts, ledger, CN, d1).rule_ids


def test_third_parties_are_not_asked_to_pay_nor_told_the_debt():
    t = datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    hist = ContactHistory([rec(t - timedelta(days=k)) for k in (3, 2, 1)], "Asia/Shanghai")
    facts = cn_facts(parties=_third())
    pay = decide(call(t, party="friend", point="F1", purpose="demand_repayment"), facts, hist, CN, t)
    assert "CN-WHO-01" in pay.rule_ids
    told = decide(call(t, party="friend", point="F1", purpose="ask_to_relay_message", content="请转告他欠款5000元已逾期"),
                  facts, hist, CN, t)
    assert told.decision == "deny" and "CN-WHO-03" in told.rule_ids


@pytest.mark.parametrize("kind,decision", [("dispute", "deny"), ("complaint", "escalate"), ("litigation", "escalate"),
                                           ("deceased", "deny"), ("bankruptcy", "deny"), ("payment_plan", "deny")])
def test_holds(kind, decision):
    t = datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    d = decide(call(t), cn_facts(holds=(Hold(kind, reference="H1"),)), None, CN, t)
    assert d.decision == decision
    # a breached plan lifts its hold; an exempt purpose passes; a dated hold says when it ends
    assert decide(call(t), cn_facts(holds=(Hold("payment_plan", breached=True),)), None, CN, t).decision == "allow"
    assert decide(call(t, purpose="dispute_verification"), cn_facts(holds=(Hold("dispute"),)), None, CN, t).decision == "allow"
    until = decide(call(t), cn_facts(holds=(Hold("dispute", until=t + timedelta(days=2)),)), None, CN, t)
    assert until.next_allowed_at == t + timedelta(days=2)


def test_reg_f_binds_debt_collectors_only():
    t = datetime(2026, 3, 3, 22, 0, tzinfo=NY)
    assert decide(call(t), Facts(("America/New_York",), institution_role="bank"), None, US, t).decision == "allow"
    assert decide(call(t), Facts(("America/New_York",), institution_role="agency"), None, US, t).decision == "deny"


def test_seven_in_seven_rolls_to_the_day_the_window_allows():
    mon = datetime(2020, 4, 6, 10, 0, tzinfo=NY)
    hist = ContactHistory([rec(mon + timedelta(days=i), "unanswered_ring", point="C") for i in range(7)], "America/New_York")
    d = decide(call(mon + timedelta(days=6, hours=3), point="C"), Facts(("America/New_York",)), hist, US, mon)
    assert d.decision == "deny" and "US-REGF-14B-01" in d.rule_ids
    # the oldest call (Mon 6 Apr) leaves the window on Mon 13 Apr
    assert d.next_allowed_at == datetime(2020, 4, 13, 8, 0, tzinfo=NY)
    again = decide(call(d.next_allowed_at, point="C"), Facts(("America/New_York",)), hist, US, mon)
    assert again.allowed


def test_content_screening_pending_when_the_module_is_missing(monkeypatch):
    monkeypatch.setattr(content_mod, "_SCREEN", [None])
    t = datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    d = decide(ProposedAction(t, "sms", content="您好，请尽快还款。"), cn_facts(), None, CN, t)
    assert d.decision == "allow" and any(n.rule_id == "CONTENT-SCREENING" for n in d.notes)


def test_screening_findings_become_reasons_when_available():
    if content_mod.get_screen() is None:
        pytest.skip("arrears.domain.screening is not there yet")
    t = datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    d = decide(ProposedAction(t, "sms", content="再不还钱就让你坐牢"), cn_facts(), None, CN, t)
    assert d.decision == "deny" and any(r.rule_id.startswith("CN-PROHIBIT") for r in d.reasons)
    ok = decide(ProposedAction(t, "sms", content="您好，您的账单已到期，如有疑问请致电客服。"), cn_facts(), None, CN, t)
    assert ok.decision == "allow"


def test_contact_point_provenance_and_recording_duty():
    t = datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    broker = cn_facts(contact_points={"N": ContactPoint("N", "debtor", "mobile", provenance="data_broker")})
    assert decide(call(t, point="N"), broker, None, CN, t).rule_ids == ["CN-PIPL-03"]
    assert decide(call(t), cn_facts(recording_on=False), None, CN, t).rule_ids == ["CN-REC-01"]
    assert decide(ProposedAction(t, "sms"), cn_facts(recording_on=False), None, CN, t).decision == "allow"


def test_history_index_handles_out_of_order_records():
    t = datetime(2026, 3, 5, 10, 0, tzinfo=SH)
    h = ContactHistory([rec(t), rec(t + timedelta(hours=2), "connected")], "Asia/Shanghai")
    h.add(rec(t + timedelta(hours=1)))          # older than the newest: re-indexed
    h.add(rec(t + timedelta(hours=3)))          # in order: appended
    assert [r.ts for r in h] == sorted(r.ts for r in h)
    last, since = h.role_since_last_success("debtor", t + timedelta(hours=4))
    assert last is not None and last.outcome == "connected" and len(since) == 1
    assert len(h.on_day(h.local_ordinal(t))) == 4

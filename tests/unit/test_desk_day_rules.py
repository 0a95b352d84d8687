"""The rules behind the collector's day (issue 15), without a database.

* CN-FREQ-03 (call bombing, "呼死你"): derived from the rule text — RULES.md "flag rapid-succession
  patterns; the US factors are a reasonable operational proxy: 2 calls within 5 minutes, or 7 or
  more in one day, to the same number; flag high SMS volume" and the US factor it names, "two
  unanswered telephone calls to the same telephone number within five minutes" (12 CFR 1006
  Supp. I 14(b)(2)(i)-2). Boundaries (the window's edge, the 7th call, the 6th message) and
  neighbours (another number, an answered call, yesterday), in the gate and the daily batch alike.
* The card named by the last four digits of its number; money labelled by the one formatter.
* Authority limits in yuan: another currency only at a recorded, dated, sourced rate, else refused.
* The bank's own facts from one source: every call script and every SMS template carries the one
  hotline; the SMS signature is the bank's name.
* The default dialer issues the recording reference.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from django.utils import translation

from arrears.domain.compliance import ContactHistory, ContactRecord, Facts, ProposedAction, decide
from arrears.engines.compliance import check_planned_contacts
from arrears.rules.compliance_packs import load_compliance_pack

SH = ZoneInfo("Asia/Shanghai")
CN = load_compliance_pack("cn")
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=SH)


# ---- CN-FREQ-03 -----------------------------------------------------------------------------------

def _gate(proposed: datetime, history: list[tuple[datetime, str, str, str]], *, channel="phone", point="M1"):
    """The gate's rule ids for a call/SMS at ``proposed`` after ``history`` of (ts, channel, point, outcome)."""
    recs = [ContactRecord(ts, ch, "outbound", contact_point=p, outcome=o) for ts, ch, p, o in history]
    d = decide(ProposedAction(proposed, channel, contact_point=point), Facts(("Asia/Shanghai",), product="credit_card"),
               ContactHistory(recs, "Asia/Shanghai"), CN, proposed)
    return d


def _batch(proposed: datetime, history, *, channel="phone", point="M1") -> list[str]:
    con = duckdb.connect()
    con.execute("CREATE TABLE planned (contact_id BIGINT, debtor_id BIGINT, ts TIMESTAMPTZ, tz VARCHAR, channel VARCHAR,"
                " contact_point VARCHAR, product VARCHAR, debt_id VARCHAR)")
    con.execute("CREATE TABLE ledger (debtor_id BIGINT, ts TIMESTAMPTZ, channel VARCHAR, direction VARCHAR,"
                " contact_point VARCHAR, outcome VARCHAR, debt_id VARCHAR)")
    con.execute("INSERT INTO planned VALUES (1, 7, ?, 'Asia/Shanghai', ?, ?, 'credit_card', 'D1')",
                [proposed, channel, point])
    for ts, ch, p, o in history:
        con.execute("INSERT INTO ledger VALUES (7, ?, ?, 'outbound', ?, ?, 'D1')", [ts, ch, p, o])
    ((_cid, _decision, ids),) = check_planned_contacts(con, "planned", "ledger", CN).fetchall()
    return sorted(ids)


def flagged(proposed, history, **kw) -> bool:
    gate = "CN-FREQ-03" in _gate(proposed, history, **kw).rule_ids
    batch = "CN-FREQ-03" in _batch(proposed, history, **kw)
    assert gate == batch, ("the gate and the daily batch disagree", gate, batch)
    return gate


@pytest.mark.parametrize("gap, outcome, expected", [
    (timedelta(minutes=1), "unanswered", True),       # 2 calls within 5 minutes, the first unanswered
    (timedelta(minutes=5), "unanswered", True),       # the window's edge is in
    (timedelta(minutes=5, seconds=1), "unanswered", False),
    (timedelta(minutes=1), "busy", True),             # not answered either
    (timedelta(minutes=1), "rpc", False),             # one conversation, then a call back: no pattern
    (timedelta(minutes=1), "conversation", False),
    (timedelta(minutes=1), None, True),               # an outcome not recorded yet counts as unanswered
])
def test_rapid_succession_needs_a_second_call_within_the_window_after_an_unanswered_one(gap, outcome, expected):
    assert flagged(T0 + gap, [(T0, "phone", "M1", outcome)]) is expected


def test_a_first_call_is_never_call_bombing():
    assert not flagged(T0, [])
    assert not flagged(T0 + timedelta(minutes=1), [(T0, "phone", "M2", "unanswered")])  # another number
    assert not flagged(T0, [(T0 - timedelta(days=1), "phone", "M1", "unanswered")])   # yesterday's call


def test_the_seventh_call_to_a_number_in_a_day_is_flagged_not_the_sixth():
    day = [(T0 + timedelta(hours=i), "phone", "M1", "rpc") for i in range(5)]
    assert not flagged(T0 + timedelta(hours=6), day)                                             # 6th call
    assert flagged(T0 + timedelta(hours=7), day + [(T0 + timedelta(hours=6), "phone", "M1", "rpc")])  # 7th


def test_the_sixth_message_of_a_day_is_flagged_not_the_fifth():
    sms = [(T0 + timedelta(minutes=10 * i), "sms", "M1", "sent") for i in range(4)]
    assert "CN-FREQ-03" not in _gate(T0 + timedelta(hours=2), sms, channel="sms").rule_ids               # 5th
    more = sms + [(T0 + timedelta(minutes=50), "sms", "M1", "sent")]
    assert "CN-FREQ-03" in _gate(T0 + timedelta(hours=2), more, channel="sms").rule_ids                 # 6th


def test_the_flag_says_what_holds_in_both_languages():
    d = _gate(T0 + timedelta(minutes=2), [(T0, "phone", "M1", "unanswered")])
    (r,) = [r for r in d.reasons if r.rule_id == "CN-FREQ-03"]
    assert "5分钟内再次拨打刚才未接通的同一号码" in r.zh and "within 5 minutes of an unanswered call" in r.en
    assert d.allowed  # a flag, not a block


# ---- the card and money -----------------------------------------------------------------------------

@pytest.mark.parametrize("number, last4", [
    ("UCI00028-01", "2801"), ("6222 0212 3456 7890", "7890"), ("6222-0212-3456-7890", "7890"),
    ("62220212345678901", "8901"), ("A-12", "12"), ("", ""), (None, ""),
])
def test_a_card_is_named_by_the_last_four_digits_of_its_number(number, last4):
    from arrears.domain.masking import card_last4

    assert card_last4(number) == last4


def test_new_taiwan_dollars_are_labelled_by_their_code_in_both_languages():
    from arrears.domain.money import format_amounts, format_money

    assert format_money(Decimal("1234.5"), "TWD", "zh-hans") == "1,234.50 TWD"
    assert format_money(Decimal("1234.5"), "TWD", "en") == "TWD 1,234.50"
    assert format_amounts({"TWD": Decimal("10")}, "zh") == "10.00 TWD"


# ---- authority limits in yuan -----------------------------------------------------------------------

def test_amounts_in_another_currency_are_converted_only_at_a_recorded_rate():
    from arrears.domain.settlements import ExchangeRate, NoExchangeRate, amount_in

    old = ExchangeRate("TWD", "CNY", "0.2000", date(2026, 1, 2), "old")
    new = ExchangeRate("TWD", "CNY", "0.2250", date(2026, 11, 1), "new")
    assert amount_in(Decimal("100.00"), "CNY", "CNY") == Decimal("100.00")
    assert amount_in(Decimal("10000.00"), "TWD", "CNY", [old, new]) == Decimal("2250.00")  # the latest rate
    assert amount_in(Decimal("0.03"), "TWD", "CNY", [new]) == Decimal("0.01")  # rounded once, half up
    with pytest.raises(NoExchangeRate) as e:
        amount_in(Decimal("1.00"), "TWD", "CNY", [ExchangeRate("USD", "CNY", "7.1", date(2026, 1, 1), "x")])
    assert e.value.code == "no_exchange_rate" and e.value.field == "currency"
    with pytest.raises(ValueError):
        ExchangeRate("TWD", "CNY", "0", date(2026, 1, 1), "zero")


def test_the_authority_limit_compares_the_converted_amount():
    from arrears.domain.settlements import AuthorityLimit, ExchangeRate, NoExchangeRate, authority_problems

    limits = {"team_leader": AuthorityLimit("team_leader", "2000.00", "0.30")}
    rate = [ExchangeRate("TWD", "CNY", "0.2000", date(2026, 11, 1), "test")]
    # 10,000.00 TWD = 2,000.00 CNY: exactly the limit, allowed; one cent of CNY more is not
    assert authority_problems(["team_leader"], limits, Decimal("40000.00"), Decimal("10000.00"), currency="TWD",
                              rates=rate) == []
    (problem,) = authority_problems(["team_leader"], limits, Decimal("40000.00"), Decimal("10000.05"),
                                    currency="TWD", rates=rate)
    assert "TWD 10,000.05 (= CNY 2,000.01)" in problem and "CNY 2,000.00" in problem
    # without a rate the yuan limit is never compared with New Taiwan dollars
    with pytest.raises(NoExchangeRate):
        authority_problems(["team_leader"], limits, Decimal("40000.00"), Decimal("10.00"), currency="TWD")
    # in yuan nothing changes
    assert authority_problems(["team_leader"], limits, Decimal("10000.00"), Decimal("2000.00")) == []


def test_the_shipped_rates_record_no_twd_rate_and_a_bad_file_lists_every_problem(tmp_path):
    from arrears.domain.errors import RuleDataError
    from arrears.rules.exchange_rates import load_exchange_rates

    assert not [r for r in load_exchange_rates() if r.from_currency == "TWD"]
    good = tmp_path / "ok.yaml"
    good.write_text('version: "1"\nrates:\n  - {from: TWD, to: CNY, rate: "0.2250", as_of: 2026-12-01, '
                    'source: "BOC 外汇牌价"}\n', encoding="utf-8")
    (r,) = load_exchange_rates(good)
    assert (r.from_currency, r.to_currency, r.rate, r.as_of) == ("TWD", "CNY", Decimal("0.2250"), date(2026, 12, 1))
    bad = tmp_path / "bad.yaml"
    bad.write_text('version: "1"\nrates:\n  - {from: TWD, to: CNY, rate: "0.2", as_of: 2026-12-01, source: "a b"}\n'
                   '  - {from: TWD, to: CNY, rate: "0.3", as_of: 2026-12-01, source: "a b"}\n'
                   '  - {from: CNY, to: CNY, rate: "1", as_of: 2026-12-01, source: "a b"}\n', encoding="utf-8")
    with pytest.raises(RuleDataError) as e:
        load_exchange_rates(bad)
    text = "\n".join(e.value.errors)
    assert "given twice" in text and "to itself" in text
    worse = tmp_path / "worse.yaml"
    worse.write_text('version: "1"\nrates:\n  - {from: twd, to: CNY, rate: "-1", as_of: "yesterday"}\n',
                     encoding="utf-8")
    with pytest.raises(RuleDataError) as e:
        load_exchange_rates(worse)
    assert len(e.value.errors) >= 3  # pattern of from, rate, as_of, the missing source: all listed


# ---- the bank's own facts -----------------------------------------------------------------------

def test_the_bank_facts_are_one_validated_source(tmp_path):
    from arrears.domain.errors import RuleDataError
    from arrears.rules.bank import bank_facts, load_bank_facts

    bank = bank_facts()
    assert re.fullmatch(r"[0-9][0-9-]+", bank.hotline)
    assert bank.signature("zh-hans") == f"【{bank.name['zh-hans']}】" and bank.signature("en") == f"【{bank.name['en']}】"
    assert bank.repayment_channels_in("zh-hans") and len(bank.repayment_channels_in("en")) == len(bank.repayment_channels)
    bad = tmp_path / "bank.yaml"
    bad.write_text('version: "1"\nname: {zh-hans: 【X】}\nhotline: "call us"\n', encoding="utf-8")
    with pytest.raises(RuleDataError) as e:
        load_bank_facts(bad)
    text = "\n".join(e.value.errors)
    assert "card_centre" in text and "hotline" in text and "repayment_channels" in text and "en" in text


def _values(language: str) -> dict[str, str]:
    zh = language == "zh-hans"
    return {"agent_name": "陈静", "agent_id": "000017", "customer_surname": "王",
            "customer_title": "王先生/女士" if zh else "Mr/Ms Wang", "card_last4": "2801", "dpd": "35",
            "overdue_amount": "100.00 TWD" if zh else "TWD 100.00", "amount_owed": "1,200.00 TWD" if zh else "TWD 1,200.00",
            "minimum_due": "30.00 TWD" if zh else "TWD 30.00", "oldest_due_date": "2026-10-26",
            "balance_explanation": "截至今日欠款1,200.00 TWD。" if zh else "You owe TWD 1,200.00."}


def test_every_call_script_and_sms_template_carries_the_one_hotline():
    from arrears.contexts.contact.desk.callscripts import AUDIENCES, SCRIPTS_DIR, load_scripts, render
    from arrears.contexts.contact.sms import templating
    from arrears.contexts.contact.sms.policy import TEMPLATES_FILE, policy
    from arrears.rules.bank import bank_facts

    bank = bank_facts()
    phone_numbers = re.compile(r"(?<!\d)(?:\d{3}-\d{3}-\d{4}|95\d{3})(?!\d)")
    rendered = 0
    for stage in load_scripts():
        for language in ("zh-hans", "en"):
            for audience in AUDIENCES:
                script = render(stage, language, audience, _values(language))
                text = " ".join(s.text for s in script.sections)
                assert bank.hotline in text, (stage, language, audience)
                assert set(phone_numbers.findall(text)) == {bank.hotline}, (stage, language, audience)
                assert bank.card_centre_in(language) in text, (stage, language, audience)
                rendered += 1
    assert rendered >= 4 * len(load_scripts())
    # the script files name neither the bank nor a number of their own
    for path in SCRIPTS_DIR.glob("*.yaml"):
        source = path.read_text(encoding="utf-8")
        assert not phone_numbers.search(source) and "hotline:" not in source and "institution:" not in source, path
    p = policy()
    assert p.hotline == bank.hotline
    templates = yaml.safe_load(TEMPLATES_FILE.read_text(encoding="utf-8"))["templates"]
    for t in templates:
        for language, body in t["bodies"].items():
            variables = sorted(set(re.findall(r"{{\s*(\w+)", body)))
            context = templating.sample_context(language, p.hotline)
            msg = templating.render(body, variables, language, context, p)
            assert bank.hotline in msg.text, (t["code"], language)
            assert set(phone_numbers.findall(msg.text)) == {bank.hotline}, (t["code"], language)
            assert msg.text.startswith(bank.signature(language)), (t["code"], language)


# ---- the dialer and the scripts' refusals -----------------------------------------------------------

def test_the_default_dialer_issues_the_recording_reference_the_same_on_a_retry():
    from arrears.adapters.dialer import DialRequest, RecordingOnlyDialer

    req = DialRequest("desk-call-42", 1, 2, "13900000000", "agent", T0)
    first, again = RecordingOnlyDialer().dial(req), RecordingOnlyDialer().dial(req)
    assert first.recording_ref == "REC-desk-call-42" == again.recording_ref and first.status == "manual"


def test_a_refused_script_says_which_words_and_which_rule_in_the_pages_language():
    from arrears.contexts.contact.desk.callscripts import ScriptRefused, render

    values = {**_values("en"), "agent_name": "collector", "agent_id": "collector"}
    with pytest.raises(ScriptRefused) as e:
        render("phone", "en", "third_party", values)
    assert "“collector”" in e.value.message("en") and "US-REGF-6D-01" in e.value.message("en")
    assert "不得使用" in e.value.message("zh-hans") and "US-REGF-6D-01" in e.value.message("zh-hans")
    missing = {k: v for k, v in _values("zh-hans").items() if k != "agent_name"}
    with pytest.raises(ScriptRefused) as e:
        render("phone", "zh-hans", "debtor", missing)
    assert "催收员姓名" in e.value.message("zh-hans") and "the collector's name" in e.value.message("en")


def test_an_agent_names_themselves_by_name_and_staff_number_never_the_login():
    from types import SimpleNamespace

    from arrears.contexts.contact.desk.selectors import agent_identity

    def user(pk, username, first="", last=""):
        return SimpleNamespace(pk=pk, first_name=first, last_name=last, get_username=lambda: username)

    assert agent_identity(user(17, "collector", "静", "陈")) == ("陈静", "000017")
    assert agent_identity(user(3, "jwang", "Jing", "Wang")) == ("Jing Wang", "000003")
    assert agent_identity(user(5, "collector")) == ("collector", "000005")  # no name recorded: the login


def test_describers_put_the_desks_events_in_words():
    from arrears.contexts.casework.events import EventFacts
    from arrears.contexts.contact import words

    facts = EventFacts("desk_outcome", {"call": 7, "action_code": "call_debtor", "result_code": "promise_to_pay",
                                        "recording_id": "REC-desk-call-7", "callback_at": None, "notes": ""},
                       timezone="Asia/Shanghai")
    with translation.override("zh-hans"):
        assert words.describe_desk_outcome(facts) == "呼出本人 · 承诺还款 · 录音 REC-desk-call-7"
        moved = EventFacts("desk_released", {"result_code": "no_answer", "next": "2026-11-30T04:00:00+00:00"},
                           "claimed", "ready", timezone="Asia/Shanghai")
        assert words.describe_desk_move(moved) == "处理中 → 待拨打 · 无人接听 · 下次可拨 2026-11-30 12:00"
    with translation.override("en"):
        assert words.describe_desk_outcome(facts) == "Call to the debtor · Promise to pay · Recording REC-desk-call-7"

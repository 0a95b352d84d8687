"""Non-contact compliance checks and deadlines (arrears.domain.compliance.artifacts, .dates)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from arrears.domain.compliance import ContactRecord
from arrears.domain.compliance import artifacts as art
from arrears.domain.compliance.dates import add_business_days, cn_period_end, us_federal_holidays
from arrears.rules.compliance_packs import load_compliance_pack

CN = load_compliance_pack("cn")
US = load_compliance_pack("us_regf")
VECTORS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "compliance_vectors.json").read_text(encoding="utf-8"))


def test_us_federal_holidays_match_the_vector_calendar():
    given = next(v for v in VECTORS if "federal_holidays_2026" in v["inputs"])["inputs"]["federal_holidays_2026"]
    assert sorted(us_federal_holidays(2026)) == [date.fromisoformat(d) for d in given]
    assert date(2021, 12, 31) in us_federal_holidays(2021)  # New Year 2022 falls on a Saturday
    assert add_business_days(date(2026, 1, 15), 5) == date(2026, 1, 23)  # skips MLK Day


def test_cn_periods_start_the_next_day_and_skip_holidays():
    assert cn_period_end(date(2026, 3, 2), days=20) == date(2026, 3, 22)
    assert cn_period_end(date(2026, 4, 21), days=10, holidays=[date(2026, 5, 1), date(2026, 5, 2)]) == date(2026, 5, 3)
    assert art.limitation_end(date(2026, 3, 2), CN).details["limitation_end"] == "2029-03-02"
    assert art.limitation_end(date(2026, 3, 2), CN, as_of=date(2029, 1, 1)).decision == "allow_flagged"


def test_recordings():
    assert art.check_recording_purge(date(2024, 9, 1), date(2026, 8, 31), CN).decision == "deny"
    assert art.check_recording_purge(date(2024, 9, 1), date(2026, 9, 1), CN).decision == "allow"
    assert art.check_recording_purge(date(2024, 9, 1), date(2027, 1, 1), CN, open_oral_agreement=True).decision == "deny"
    ok = art.check_recording_purge(date(2024, 9, 1), date(2027, 1, 1), CN, open_oral_agreement=True,
                                   settlement_date=date(2026, 12, 1))
    assert ok.decision == "allow"
    assert art.check_recording_purge(date(2024, 9, 1), date(2030, 1, 1), CN, holds=["litigation"]).decision == "deny"
    assert art.check_recording_purge(date(2025, 3, 10), date(2028, 3, 10), US).decision == "allow"


def test_plans_fees_rates():
    items = ["欠款余额、结构、币种", "还款周期、方式", "是否计收年费、利息", "不得向任何银行申领信用卡", "权利义务", "其他事项"]
    assert art.check_plan(60, items, CN).decision == "allow"
    d = art.check_plan(36, items[:-1], CN, willing_to_repay=False)
    assert d.decision == "deny" and d.details["missing_content"] == ["other"] and len(d.reasons) == 2
    assert art.check_installment(72, CN, min_amount=Decimal(100), max_amount=Decimal(1000)).decision == "deny"
    assert art.check_installment(24, CN, min_amount=Decimal(100), max_amount=Decimal(1000)).decision == "allow"
    assert art.check_fee("违约金", date(2026, 2, 1), CN).decision == "allow"
    assert art.check_fee("滞纳金", date(2016, 6, 1), CN).decision == "allow"  # before the abolition
    assert art.check_rate_display("0.05%", "18.25%", date(2026, 3, 5), CN).decision == "allow"
    assert art.rate_regime(date(2019, 1, 1), CN)["daily_cap"] == Decimal("0.0005")
    low = art.check_litigation_charges(Decimal(10000), Decimal(500), 180, CN)
    assert low.decision == "allow" and low.details["annualized_all_in_rate"] == 0.1014


def test_data_agencies_staff_visits_reminders():
    feed = art.check_data_feed(["name", "mobile"], CN, contract={"purpose": "x"}, pia_id=None, sub_entrustment=True)
    assert feed.decision == "deny" and set(feed.rule_ids) == {"CN-OUT-05", "CN-REC-03"}
    full = {k: "…" for k in CN.p("CN-OUT-05", "contract_terms")}
    assert art.check_data_feed(["name", "mobile"], CN, contract=full, pia_id="PIA-1").decision == "allow"
    assert art.check_export(["name", "phone_address_book"], CN).decision == "deny"
    assert art.check_assignment("agency_A", ["agency_A"], CN, published_url="https://b", published_on=date(2026, 1, 1),
                                assigned_on=date(2026, 3, 1)).decision == "allow"
    assert art.check_assignment("agency_A", ["agency_A"], CN, published_url=None).decision == "deny"
    fresh = {k: date(2026, 1, 1) for k in CN.p("CN-OUT-03", "required_attestations")}
    assert art.check_staff_vetting(fresh, date(2026, 6, 1), CN).decision == "allow"
    assert art.check_staff_vetting({**fresh, "no_criminal_record": date(2024, 1, 1)}, date(2026, 6, 1), CN).decision == "deny"
    assert art.check_field_visit_plan(2, True, CN).decision == "allow"
    assert art.pre_due_reminder_needed(date(2026, 3, 10), date(2026, 3, 8), CN).decision == "allow_flagged"
    assert art.pre_due_reminder_needed(date(2026, 3, 10), date(2026, 3, 8), CN, reminded=True).decision == "allow"
    assert art.check_sensitive_processing("行踪轨迹", CN, separate_consent=True, necessity_assessment_id="N1",
                                          pia_id="P1").decision == "allow"


def test_us_templates_and_furnishing():
    assert art.check_electronic_template("Pay now.", US).decision == "deny"
    assert art.check_electronic_template("Pay now. Reply STOP to opt out.", US).decision == "allow"
    ny = ZoneInfo("America/New_York")
    letter = ContactRecord(datetime(2026, 2, 1, 10, tzinfo=ny), "letter", outcome="sent")
    assert art.check_credit_furnishing([letter], date(2026, 2, 10), US).decision == "deny"   # too soon
    assert art.check_credit_furnishing([letter], date(2026, 2, 20), US).decision == "allow"
    spoke = ContactRecord(datetime(2026, 2, 1, 10, tzinfo=ny), "phone", outcome="conversation")
    assert art.check_credit_furnishing([spoke], date(2026, 2, 1) + timedelta(days=1), US).decision == "allow"
    assert art.check_litigation_referral(True, US).decision == "deny"
    lcm = "Hello, this is Robin Smith from ABC Inc. Please call me at 1-800-555-1212. Thank you."
    assert art.check_limited_content_message(lcm, US).details["is_limited_content_message"] is True
    assert art.check_limited_content_message(lcm + " It is about your account.", US).decision == "deny"

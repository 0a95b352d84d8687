"""The strategy as data: loading with every error listed, the default ladder's stages, guards,
review dates, champion/challenger arms by a stable hash (hand-worked cases)."""
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from arrears.domain.errors import RuleDataError
from arrears.domain.strategy import CaseFacts, arm_slot, evaluate, match
from arrears.rules.strategy_loader import DEFAULT_STRATEGY, load_strategy, parse_strategy

AS_OF = date(2026, 11, 29)
S = load_strategy()


def facts(**kw) -> CaseFacts:
    base = dict(case_id=1, customer_id=1, bucket="M1", dpd=10, balance=Decimal("5000.00"))
    base.update(kw)
    return CaseFacts(**base)


def champion_customer(segment="all", arm="champion") -> int:
    """A customer id whose stable slot falls in ``arm`` of ``segment`` (found by search)."""
    seg = next(s for s in S.segments if s.name == segment)
    for cid in range(1, 10_000):
        slot, upper = arm_slot(S.salt, cid), 0
        for a in seg.arms:
            upper += a.share_bp
            if slot < upper:
                if a.name == arm:
                    return cid
                break
    raise AssertionError("no customer found")


CHAMP = champion_customer()


def decide(**kw):
    return evaluate(S, facts(customer_id=CHAMP, **kw), AS_OF)


def test_packaged_default_loads_with_documented_thresholds():
    assert S.key == "default@2026.11.1"
    assert [s.name for s in S.stages] == ["phone", "sms", "field", "legal", "agency"]
    assert S.parameters["field_after_attempts"] == 6
    assert S.parameters["field_balance_min"] == "10000.00"
    # every parameter is documented in the file (a comment on its line)
    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    for name in S.parameters:
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{name}:"))
        assert "#" in line, name


def test_arm_slot_is_stable_and_matches_md5():
    import hashlib

    assert arm_slot("default-2026", 12345) == int(hashlib.md5(b"default-2026:12345").hexdigest()[:8], 16) % 10000
    counts = {"champion": 0, "challenger_call_first": 0, "holdout": 0}
    for cid in range(20_000):
        counts[match(S, facts(customer_id=cid))[1].name] += 1
    assert 17_600 < counts["champion"] < 18_400          # 90 %
    assert 800 < counts["holdout"] < 1_200               # 5 %
    assert 800 < counts["challenger_call_first"] < 1_200


def test_new_m1_case_gets_a_call_and_enters_the_phone_stage():
    d = decide(bucket="M1", dpd=12)
    assert (d.rule_id, d.action, d.stage, d.stage_since) == ("call-early", "call", "phone", AS_OF)
    assert d.action_params == '{"priority":3,"queue":"early"}'
    assert d.next_review_on == AS_OF + timedelta(days=1) and d.decided and d.stage_changed


def test_early_reminder_is_an_sms_in_the_phone_stage():
    d = decide(bucket="M1", dpd=3)
    assert (d.rule_id, d.action, d.stage) == ("reminder", "sms", "phone")


def test_no_stage_is_skipped_a_new_m4_case_starts_with_phone():
    d = decide(bucket="M4", dpd=100, balance=Decimal("80000.00"))
    assert (d.rule_id, d.stage) == ("call-late", "phone")


def test_field_visit_after_n_failed_attempts_only_from_the_sms_stage_after_its_minimum_stay():
    base = dict(bucket="M1", dpd=20, attempts_without_contact=6)
    # from phone: the field rule would skip sms → the sms rule takes it
    assert decide(stage="phone", days_in_stage=5, **base).rule_id == "sms-no-contact"
    # in sms for 4 days (< 5 minimum stay): stays in sms
    assert decide(stage="sms", days_in_stage=4, **base).stage == "sms"
    d = decide(stage="sms", days_in_stage=5, **base)
    assert (d.rule_id, d.action, d.stage) == ("field-no-contact", "field_visit", "field")


def test_field_from_m2_with_a_high_balance():
    d = decide(bucket="M2", dpd=40, balance=Decimal("10000.00"), stage="sms", days_in_stage=9)
    assert d.rule_id == "field-m2-balance"
    assert decide(bucket="M2", dpd=40, balance=Decimal("9999.99"), stage="sms", days_in_stage=9).rule_id == "sms-m2"


def test_legal_from_m4_after_field_and_agency_below_the_threshold():
    d = decide(bucket="M4", dpd=95, balance=Decimal("50000.00"), stage="field", days_in_stage=14)
    assert (d.rule_id, d.action, d.stage) == ("legal-m4", "legal_referral", "legal")
    d = decide(bucket="M5", dpd=125, balance=Decimal("3000.00"), stage="phone", days_in_stage=3)
    assert (d.rule_id, d.action, d.stage) == ("agency-m4", "agency_placement", "agency")  # explicit skip
    assert d.action_params == '{"pool":"standard"}'


def test_legal_after_a_broken_plan_and_failed_visits():
    d = decide(bucket="M2", dpd=45, plan_broken=True, failed_visits=2, stage="field", days_in_stage=20)
    assert d.rule_id == "legal-broken-plan"


def test_a_payment_that_moves_the_oldest_unpaid_due_date_moves_the_schedule():
    before = decide(bucket="M2", dpd=45, balance=Decimal("20000.00"), stage="sms", days_in_stage=10)
    assert before.rule_id == "field-m2-balance"
    # a payment cleared the two oldest instalments: DPD drops to 5 → early treatment again
    after = decide(bucket="M1", dpd=5, balance=Decimal("14000.00"), stage="sms", days_in_stage=10)
    assert (after.rule_id, after.stage) == ("reminder", "phone")


def test_hold_is_immediate_and_a_decision_is_kept_until_its_review_date():
    prior = dict(segment="all", arm="champion", rule_id="sms-m2", action="sms", stage="sms",
                 action_params='{"template":"overdue_notice"}', next_review_on=AS_OF + timedelta(days=2),
                 strategy_version=S.key, stage_since=AS_OF - timedelta(days=1), days_in_stage=1)
    kept = decide(bucket="M2", dpd=40, **prior)
    assert not kept.decided and kept.rule_id == "sms-m2"
    held = decide(bucket="M2", dpd=40, hold=True, hold_kind="complaint", **prior)
    assert held.decided and (held.rule_id, held.action, held.stage) == ("hold", "hold", "sms")
    forced = evaluate(S, replace(facts(customer_id=CHAMP, bucket="M1", dpd=3, **prior), forced=True), AS_OF)
    assert forced.decided and forced.rule_id == "reminder"
    due = decide(bucket="M2", dpd=40, **{**prior, "next_review_on": AS_OF})
    assert due.decided


def test_holdout_arm_gets_no_treatment():
    cid = champion_customer(arm="holdout")
    d = evaluate(S, facts(customer_id=cid, bucket="M3", dpd=70), AS_OF)
    assert (d.arm, d.rule_id, d.action) == ("holdout", "holdout.holdout", "none")


def test_invalid_file_lists_every_error(tmp_path):
    data = yaml.safe_load(DEFAULT_STRATEGY.read_text(encoding="utf-8"))
    data["ladders"]["standard"]["rules"][2]["when"]["bucket"] = {"min": "M9"}
    data["ladders"]["standard"]["rules"][3]["action"] = {"type": "call"}           # no queue/priority
    data["ladders"]["standard"]["rules"][4]["when"]["colour"] = {"in": ["red"]}     # unknown field
    data["segments"][1]["arms"][0]["share"] = 80                                    # 85 % in all
    data["ladders"]["standard"]["rules"][5]["when"]["attempts_without_contact"] = {"min": "$nope"}
    with pytest.raises(RuleDataError) as exc:
        parse_strategy(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    text = "\n".join(exc.value.errors)
    assert exc.value.source == "bad.yaml"
    assert "queue" in text and "colour" in text
    assert len(exc.value.errors) >= 3


def test_semantic_errors_all_listed():
    data = yaml.safe_load(DEFAULT_STRATEGY.read_text(encoding="utf-8"))
    data["ladders"]["standard"]["rules"][2]["when"]["bucket"] = {"min": "M9"}
    data["segments"][1]["arms"][0]["share"] = 80
    data["ladders"]["standard"]["rules"][5]["when"]["attempts_without_contact"] = {"min": "$nope"}
    data["segments"][1]["arms"][1]["ladder"] = "missing"
    data["ladders"]["standard"]["rules"][6]["id"] = "hold"
    with pytest.raises(RuleDataError) as exc:
        parse_strategy(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    text = "\n".join(exc.value.errors)
    for needle in ("M9", "90 %", "$nope", "missing", "'hold' is already used"):
        assert needle in text, (needle, text)


def test_not_yaml_and_not_a_mapping(tmp_path):
    with pytest.raises(RuleDataError, match="not valid YAML"):
        parse_strategy("a: [", "x")
    with pytest.raises(RuleDataError):
        parse_strategy("- 1\n- 2\n", "x")
    p = tmp_path / "missing.yaml"
    with pytest.raises(RuleDataError, match="cannot read"):
        load_strategy(p)

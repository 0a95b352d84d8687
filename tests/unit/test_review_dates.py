"""Fault 6f: a review date is never later than the day the next DPD threshold of the strategy is
reached (oldest unpaid due date + threshold); per case and set-based alike."""
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from arrears.engines.strategy import decide
from arrears.domain.strategy import CaseFacts, evaluate, next_review
from arrears.rules.strategy_loader import load_strategy, parse_strategy

FIVE_DAY = """
name: five-day
version: "1"
stages:
  - {name: phone, rank: 1, min_stay_days: 0}
  - {name: sms, rank: 2, min_stay_days: 0}
ladders:
  main:
    rules:
      - {id: late, when: {dpd: {min: 5}}, action: {type: sms, template: t}, stage: sms, skip_allowed: true, reevaluate_after_days: 5, reason: {zh-hans: 逾期五天, en: five days}}
    otherwise: {id: wait, action: {type: none}, reevaluate_after_days: 5, reason: {zh-hans: 无, en: none}}
segments:
  - name: all
    arms: [{name: champion, share: 100, ladder: main}]
"""


def _facts(dpd, **kw):
    return CaseFacts(case_id=1, customer_id=1, bucket="M1" if dpd else "M0", dpd=dpd, balance=Decimal("1000.00"), **kw)


def test_6f_oldest_unpaid_0602_gets_the_dpd5_action_on_0607_not_later():
    s = parse_strategy(FIVE_DAY)
    oldest = date(2025, 6, 2)
    # first decision on 06-03 (DPD 1): nothing matches, regular review 5 days later = 06-08 (DPD 6)
    d1 = evaluate(s, _facts(1), date(2025, 6, 3))
    assert d1.rule_id == "wait"
    assert d1.next_review_on == oldest + timedelta(days=5) == date(2025, 6, 7)
    # run only on review dates: on 06-07 the DPD ≥ 5 rule applies
    d2 = evaluate(s, _facts(5, rule_id=d1.rule_id, segment=d1.segment, arm=d1.arm, action=d1.action,
                            action_params=d1.action_params, stage=d1.stage, next_review_on=d1.next_review_on,
                            strategy_version=d1.strategy_version), d1.next_review_on)
    assert d2.decided and d2.rule_id == "late"


def test_review_is_the_regular_one_past_the_last_threshold():
    s = parse_strategy(FIVE_DAY)
    assert next_review(s, s.rules()["late"], 30, date(2025, 7, 1)) == date(2025, 7, 6)


@pytest.mark.parametrize("dpd", range(0, 200, 7))
def test_default_strategy_never_reviews_after_the_next_threshold(dpd):
    s = load_strategy()
    as_of = date(2026, 11, 29)
    d = evaluate(s, _facts(dpd), as_of)
    nxt = next((t for t in s.dpd_thresholds() if t > dpd), None)
    if nxt is not None:
        assert d.next_review_on <= as_of + timedelta(days=nxt - dpd)
    # set-based: the same date
    con = duckdb.connect()
    from devtools.strategy_synthetic import facts_table

    table = facts_table(50, as_of, seed=dpd, prior_rules=list(s.rules()), segments=["all"], arms=["champion"],
                        version=s.key)
    got = decide(con, con.from_arrow(table), s, as_of).to_arrow_table().to_pylist()
    for row, g in zip(table.to_pylist(), got):
        assert evaluate(s, CaseFacts(**row), as_of).next_review_on == g["next_review_on"]

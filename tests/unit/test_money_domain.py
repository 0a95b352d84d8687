"""Money domain, hand-worked: product terms, waterfall (R03), balance explanation, notices (R06,
R07, R18), promises, plans (R15, R22, R23), settlements authority. No database."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from arrears.domain import plans, promises, settlements
from arrears.domain.balance import GraceStatement, Adjustment, ClaimLine, claim, explain, render_notice
from arrears.domain.delinquency import DueItem, PaymentEvent
from arrears.domain.errors import DomainError, IllegalTransition, RuleDataError
from arrears.domain.payments import Components, allocate
from arrears.domain.products import MinimumPaymentTerms, PenaltyTerms, check_allocation_order
from arrears.rules.products import UnknownProduct, load_product, load_product_file

CARD = load_product("CARD")


# ---------------------------------------------------------------- product terms
def test_card_terms_show_annual_rate():
    assert CARD.daily_rate == D("0.0005") and CARD.annual_rate == D("0.1825")  # 0.0005 × 365
    assert CARD.rate_display("zh") == "年化利率 18.25%（日利率 0.05%）"
    assert CARD.rate_display("en") == "annual rate 18.25% (daily 0.05%)"
    full = load_product("CARD-FULL")
    assert full.annual_rate == D("0.1825") and full.daily_rate == D("0.0005")


def test_penalty_and_minimum_payment_hand_worked():
    p = PenaltyTerms(rate="0.05", minimum="10.00", maximum="500.00")
    assert p.amount(D("300.00")) == D("15.00")     # 5 % of 300.00
    assert p.amount(D("40.00")) == D("10.00")      # 2.00 → the 10.00 minimum
    assert p.amount(D("20000.00")) == D("500.00")  # 1,000.00 → capped at 500.00
    assert p.amount(D("0.00")) == D("0.00")        # nothing unpaid, no penalty
    m = MinimumPaymentTerms(principal_rate="0.10", floor="100.00")
    # 10 % × 2,000.00 + 30.00 + 15.00 + 0 = 245.00
    assert m.amount(D("2000.00"), D("30.00"), D("15.00"), D("0.00")) == D("245.00")
    assert m.amount(D("50.00"), D("0"), D("0"), D("0")) == D("50.00")  # floor 100 but only 50 owed


def test_bad_product_file_lists_every_error(tmp_path):
    f = tmp_path / "BAD.yaml"
    f.write_text("code: BAD\nversion: '1'\nname_zh: x\nname_en: x\ncurrency: cny\nsource: s\n"
                 "interest: {daily_rate: 0.0005, basis: actual/999, method: unpaid_portion, interest_free_days: 50}\n"
                 "penalty: {rate: '0.05', minimum: '10.00'}\nminimum_payment: {principal_rate: '0.1', floor: '1'}\n"
                 "allocation_order: [fees, fees, interest, principal]\n", encoding="utf-8")
    with pytest.raises(RuleDataError) as e:
        load_product_file(f)
    text = "; ".join(e.value.errors)
    assert "currency" in text and "daily_rate" in text and "basis" in text and "allocation_order" in text
    with pytest.raises(UnknownProduct):
        load_product("NO-SUCH")
    with pytest.raises(DomainError):
        check_allocation_order(["fees", "interest", "principal"])


# ---------------------------------------------------------------- waterfall (R03)
def test_r03_waterfall_both_orders():
    owed = Components(principal=D("100.00"), fees=D("5.00"), interest=D("0.25"))
    a = allocate(D("50.00"), owed, ["fees", "interest", "penalty", "principal"])
    assert (a.applied.fees, a.applied.interest, a.applied.principal) == (D("5.00"), D("0.25"), D("44.75"))
    assert a.remaining == Components(principal=D("55.25"))
    b = allocate(D("50.00"), owed, ["principal", "fees", "interest", "penalty"])
    assert b.applied.principal == D("50.00") and b.remaining.total == D("55.25")
    c = allocate(D("200.00"), owed, CARD.allocation_order)
    assert c.credit == D("94.75") and c.remaining.total == D("0.00")  # overpayment kept as credit
    with pytest.raises(TypeError):
        allocate(50.0, owed, CARD.allocation_order)


# ---------------------------------------------------------------- explanation
def test_explain_interest_penalty_payment_and_waiver():
    exp = explain(Components(principal=D("1000.00")), date(2025, 3, 1), CARD, date(2025, 3, 21),
                  due_items=[DueItem("m1", date(2025, 3, 5), D("300.00"))],
                  payments=[PaymentEvent("p1", date(2025, 3, 11), D("100.00"))],
                  adjustments=[Adjustment("w1", date(2025, 3, 21), Components(interest=D("4.60")))])
    # 1,000 × 0.0005 × 5 = 2.50 (1–6 Mar), 2.50 (6–11 Mar); 违约金 15.00 on 6 Mar (5 % × 300.00)
    # 11 Mar: 100.00 → penalty 15.00, interest 5.00, principal 80.00; 920 × 0.0005 × 10 = 4.60; waived 4.60
    assert [p.amount for p in exp.interest_periods] == [D("2.50"), D("2.50"), D("4.60")]
    assert exp.closing == Components(principal=D("920.00"))
    assert exp.adjustments[0].amounts.total == D("4.60")
    assert "违约金15.00元" in exp.paragraph("zh")


def test_explain_unpaid_portion_vs_full_balance():
    pay = [PaymentEvent("p", date(2025, 1, 11), D("500.00"))]
    unpaid = explain(Components(principal=D("1000.00")), date(2025, 1, 1), CARD, date(2025, 1, 21), payments=pay)
    # 1,000 × 0.0005 × 10 = 5.00; pay 500 → interest 5.00, principal 495.00; 505 × 0.0005 × 10 = 2.525 → 2.53
    assert [p.amount for p in unpaid.interest_periods] == [D("5.00"), D("2.53")]
    full = explain(Components(principal=D("1000.00")), date(2025, 1, 1), load_product("CARD-FULL"),
                   date(2025, 1, 21), payments=pay)
    # full balance: base stays 1,000.00 while principal is unpaid: 5.00 + 5.00; order principal first
    assert [p.base for p in full.interest_periods] == [D("1000.00"), D("1000.00")]
    assert full.closing == Components(principal=D("500.00"), interest=D("10.00"))


def test_explain_refuses_payment_before_opening():
    with pytest.raises(DomainError):
        explain(Components(principal=D("1.00")), date(2025, 3, 1), CARD, date(2025, 3, 2),
                payments=[PaymentEvent("p", date(2025, 2, 28), D("1.00"))])


# ---------------------------------------------------------------- notices R06 R07 R18
def test_r06_zero_rate_keeps_fixed_fee():
    line = [ClaimLine("S", date(2025, 3, 1), D("1000.00"))]
    c0 = claim(line, date(2025, 3, 21), "0", "50.00")          # DPD 20
    assert (c0.interest, c0.fee, c0.total, c0.lines[0][2]) == (D("0.00"), D("50.00"), D("1050.00"), 20)
    c10 = claim(line, date(2025, 3, 21), "0.10", "50.00")
    # 1,000 × 0.10 × 20 / 365 = 5.479… → 5.48; 1,000 + 5.48 + 50 = 1,055.48
    assert (c10.interest, c10.total) == (D("5.48"), D("1055.48"))


def test_r07_consolidated_notice_lines_keep_own_amount_and_dpd():
    lines = [ClaimLine("S1", date(2025, 2, 1), D("300.00")), ClaimLine("S2", date(2025, 3, 1), D("500.00"))]
    c = claim(lines, date(2025, 3, 20), CARD.annual_rate)
    # S1: 300 × 0.0005 × 47 = 7.05; S2: 500 × 0.0005 × 19 = 4.75
    assert c.lines == (("S1", D("300.00"), 47, D("7.05")), ("S2", D("500.00"), 19, D("4.75")))
    assert c.outstanding == D("800.00")
    one_by_one = [claim([ln], date(2025, 3, 20), CARD.annual_rate).lines[0] for ln in lines]
    assert tuple(one_by_one) == c.lines


def test_r18_notice_uses_ledger_values_and_refuses_unknown_placeholders():
    from arrears.domain.delinquency import delinquency

    d = delinquency([DueItem("b", date(2025, 3, 1), D("1000.00"))], [PaymentEvent("p", date(2025, 3, 5), D("400.00"))],
                    date(2025, 3, 10))
    values = {"amount_due": d.outstanding_amount, "original_amount": D("1000.00"), "paid_to_date": D("400.00"),
              "due_date": date(2025, 3, 1), "dpd": d.dpd, "fees": D("0.00")}
    text = render_notice("应还{amount_due}，原欠{original_amount}，已还{paid_to_date}，逾期{dpd}天", values)
    assert text == "应还600.00元，原欠1,000.00元，已还400.00元，逾期9天"
    with pytest.raises(DomainError, match="amount_owed"):
        render_notice("{amount_owed}", values)
    with pytest.raises(DomainError, match="missing"):
        render_notice("{fees}", {**values, "fees": None})


# ---------------------------------------------------------------- promises
def test_promise_rule_and_map():
    kw = dict(grace_days=2, tolerance=D("1.00"))
    assert promises.evaluate(D("500.00"), date(2025, 3, 10), D("499.50"), date(2025, 3, 5), **kw) == "kept"
    assert promises.evaluate(D("500.00"), date(2025, 3, 10), D("0"), date(2025, 3, 12), **kw) == "open"
    assert promises.evaluate(D("500.00"), date(2025, 3, 10), D("0"), date(2025, 3, 13), **kw) == "broken"
    assert promises.evaluate(D("500.00"), date(2025, 3, 10), D("200.00"), date(2025, 3, 13), **kw) == "partly_kept"
    with pytest.raises(IllegalTransition):
        promises.check_transition("broken", "kept")


# ---------------------------------------------------------------- plans R15 R22 R23
def test_r15_schedule_from_anchor_and_exact_sum():
    s = plans.schedule(D("1000.00"), 6, date(2021, 1, 31))
    assert [i.due_date for i in s] == [date(2021, 1, 31), date(2021, 2, 28), date(2021, 3, 31), date(2021, 4, 30),
                                       date(2021, 5, 31), date(2021, 6, 30)]
    # 1,000.00 / 6 = 166.66 × 5 + 166.70
    assert [i.amount for i in s] == [D("166.66")] * 5 + [D("166.70")] and sum(i.amount for i in s) == D("1000.00")
    leap = plans.schedule(D("1300.00"), 14, date(2024, 2, 29))
    assert leap[12].due_date == date(2025, 2, 28) and leap[13].due_date == date(2025, 3, 29)
    assert plans.add_months(date(2024, 2, 29), 1, "end_of_month") == date(2024, 3, 31)
    with pytest.raises(DomainError):
        plans.schedule(D("1000.00"), 61, date(2025, 1, 1))


def test_plan_six_contents_and_eligibility():
    problems = plans.check_plan(D("100.00"), plans.schedule(D("100.00"), 1, date(2025, 1, 1)),
                                {"balance": "x"}, 1)
    assert len([p for p in problems if "missing" in p]) == 5
    assert plans.eligibility(hardship_confirmed=False, willing_to_repay=True, overdue_amount=D("1"),
                             has_active_plan=False)
    assert plans.eligibility(hardship_confirmed=True, willing_to_repay=True, overdue_amount=D("1"),
                             has_active_plan=False) == []


def test_r22_amount_due_now_skips_paid_instalments():
    inst = [plans.Instalment(1, date(2025, 2, 1), D("100.00")), plans.Instalment(2, date(2025, 3, 1), D("100.00")),
            plans.Instalment(3, date(2025, 4, 1), D("100.00"))]
    paid = [PaymentEvent("i1", date(2025, 2, 1), D("100.00"))]
    p = plans.position(inst, paid, date(2025, 3, 5))
    assert (p.amount_due_now, p.first_unpaid, p.dpd) == (D("100.00"), (2, date(2025, 3, 1), D("100.00")), 4)
    assert p.next_instalment == (3, date(2025, 4, 1), D("100.00"))
    p = plans.position(inst, paid + [PaymentEvent("i2", date(2025, 3, 3), D("40.00"))], date(2025, 3, 5))
    assert p.amount_due_now == D("60.00")


def test_r23_missed_instalment_counts_from_its_own_due_date():
    inst = [plans.Instalment(1, date(2025, 3, 15), D("500.00")), plans.Instalment(2, date(2025, 3, 31), D("500.00"))]
    p = plans.position(inst, [], date(2025, 3, 20), grace_days=3)
    assert (p.overdue_amount, p.dpd, p.missed, p.breached) == (D("500.00"), 5, True, True)
    assert p.outstanding - p.overdue_amount == D("500.00")  # not yet due, not overdue
    p = plans.position(inst, [], date(2025, 4, 5))
    assert (p.overdue_amount, p.dpd) == (D("1000.00"), 21)


# ---------------------------------------------------------------- settlements
def test_waiver_authority_amount_and_percent():
    limits = {"team_leader": settlements.AuthorityLimit("team_leader", "2000.00", "0.30")}
    assert settlements.authority_problems(["team_leader"], limits, D("1000.00"), D("300.00")) == []
    assert settlements.authority_problems(["team_leader"], limits, D("1000.00"), D("300.01"))
    assert settlements.authority_problems(["team_leader"], limits, D("10000.00"), D("2500.00"))  # > 2,000.00
    assert settlements.authority_problems(["collector"], limits, D("1000.00"), D("1.00"))
    assert settlements.outcome(D("700.00"), D("700.00"), date(2025, 3, 31), date(2025, 3, 20)) == "paid"
    assert settlements.outcome(D("700.00"), D("600.00"), date(2025, 3, 31), date(2025, 4, 1)) == "void"
    assert settlements.outcome(D("700.00"), D("600.00"), date(2025, 3, 31), date(2025, 3, 31)) is None
    with pytest.raises(IllegalTransition):
        settlements.check_transition("void", "paid")


def test_settlement_payoff_day_and_waiver_of_everything_left():
    pays = [(date(2025, 3, 20), D("300.00")), (date(2025, 3, 18), D("400.00"))]
    assert settlements.payoff_reached_on(pays, D("700.00"), date(2025, 3, 31)) == date(2025, 3, 20)
    assert settlements.payoff_reached_on(pays, D("700.01"), date(2025, 3, 31)) is None
    assert settlements.payoff_reached_on(pays, D("700.00"), date(2025, 3, 19)) is None  # late part
    # 1,000.00 owed, agreed waiver 300.00; 2.50 interest + 0.40 违约金 accrued before the 700.00
    # payoff: left 302.90 = principal 300.00 + interest 2.50 + penalty 0.40 → all waived, 2.90 beyond
    left = Components(principal=D("300.00"), interest=D("2.50"), penalty=D("0.40"))
    waiver, beyond = settlements.settlement_waiver(left, D("300.00"))
    assert (waiver, waiver.total, beyond) == (left, D("302.90"), D("2.90"))
    assert settlements.settlement_waiver(Components(), D("300.00")) == (Components(), D("0.00"))


# ---------------------------------------------------------------- interest-free period (免息还款期)
STMT = [GraceStatement("s1", date(2025, 2, 10), date(2025, 3, 5), D("1000.00"), D("1000.00"))]
MIN = [DueItem("m1", date(2025, 3, 5), D("300.00"))]


def test_interest_free_period_kept_when_paid_in_full_by_due_date():
    exp = explain(Components(principal=D("1000.00")), date(2025, 3, 1), CARD, date(2025, 3, 16), due_items=MIN,
                  payments=[PaymentEvent("p", date(2025, 3, 5), D("1000.00"))], statements=STMT)
    assert exp.interest_periods == () and exp.penalties == () and exp.closing.total == D("0.00")
    assert exp.interest_free[0].kept is True and exp.interest_free[0].interest == D("0.00")
    # while the period runs nothing accrues on the statement's principal either
    running = explain(Components(principal=D("1000.00")), date(2025, 3, 1), CARD, date(2025, 3, 5), statements=STMT)
    assert running.interest_periods == () and running.interest_free[0].kept is None
    assert "免息至2025年3月5日" in running.paragraph("zh")


def test_interest_free_period_lost_unpaid_portion_hand_worked():
    # 400.00 paid 04 Mar < 1,000.00: lost. Charged 06 Mar back to the statement date on the unpaid part:
    # 10 Feb → 04 Mar 22 days × 1,000.00 × 0.0005 = 11.00; 04 → 06 Mar 2 days × 600.00 × 0.0005 = 0.60.
    # Minimum 300.00 was paid by its due date → no 违约金. 06 → 16 Mar: 10 × 600.00 × 0.0005 = 3.00.
    exp = explain(Components(principal=D("1000.00")), date(2025, 3, 1), CARD, date(2025, 3, 16), due_items=MIN,
                  payments=[PaymentEvent("p", date(2025, 3, 4), D("400.00"))], statements=STMT)
    assert [(p.start, p.days, p.base, p.amount, p.kind) for p in exp.interest_periods] == [
        (date(2025, 2, 10), 22, D("1000.00"), D("11.00"), "free_period_lost"),
        (date(2025, 3, 4), 2, D("600.00"), D("0.60"), "free_period_lost"),
        (date(2025, 3, 6), 10, D("600.00"), D("3.00"), "daily")]
    assert exp.penalties == ()
    assert exp.closing == Components(principal=D("600.00"), interest=D("14.60"))
    g = exp.interest_free[0]
    assert (g.kept, g.paid_by_due, g.interest, g.decided_on) == (False, D("400.00"), D("11.60"), date(2025, 3, 6))


def test_interest_free_period_lost_full_balance_and_revolving_principal():
    # CARD-FULL (全额计息): lost → 24 days on the whole 1,000.00 = 12.00, then 10 days on 1,000.00 = 5.00
    full = explain(Components(principal=D("1000.00")), date(2025, 3, 1), load_product("CARD-FULL"),
                   date(2025, 3, 16), payments=[PaymentEvent("p", date(2025, 3, 4), D("400.00"))], statements=STMT)
    assert [(p.base, p.amount, p.kind) for p in full.interest_periods] == [
        (D("1000.00"), D("12.00"), "free_period_lost"), (D("1000.00"), D("5.00"), "daily")]
    # revolving principal 500.00 bears interest during the period; the statement's 1,000.00 does not:
    # 01 → 05 Mar 4 days × 500 × 0.0005 = 1.00; 1,500.00 paid 05 Mar = interest 1.00 + 1,499.00 principal
    # (statement 1,000.00 + amount 1,500.00 needed: 1,500.00 ≥ 1,500.00 → kept); 1.00 principal left,
    # 05 → 10 Mar 5 × 1.00 × 0.0005 = 0.0025 → 0.00 (listed as a period of 0.00)
    stmt = [GraceStatement("s2", date(2025, 2, 10), date(2025, 3, 5), D("1500.00"), D("1000.00"))]
    mixed = explain(Components(principal=D("1500.00")), date(2025, 3, 1), CARD, date(2025, 3, 10),
                    payments=[PaymentEvent("p", date(2025, 3, 5), D("1500.00"))], statements=stmt)
    assert [(p.days, p.base, p.amount) for p in mixed.interest_periods][0] == (4, D("500.00"), D("1.00"))
    assert mixed.interest_free[0].kept is True
    assert mixed.closing.principal == D("1.00")
    # a statement whose period ended before the opening is the card system's business: ignored
    old = [GraceStatement("s0", date(2025, 1, 10), date(2025, 2, 5), D("1000.00"), D("1000.00"))]
    plain = explain(Components(principal=D("1000.00")), date(2025, 3, 1), CARD, date(2025, 3, 11), statements=old)
    assert plain.interest_free == () and plain.interest_periods[0].amount == D("5.00")

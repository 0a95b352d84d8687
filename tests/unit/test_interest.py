"""Interest day counts (R16: leap day in a period that crosses into a leap year; R06: 0 % rate)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.interest import BASES, interest, year_fraction

D = date
M = Decimal
BAL, APR = M("10000.00"), M("0.12")
P1 = (D(2023, 12, 1), D(2024, 3, 1))  # 91 days, contains 2024-02-29
P2 = (D(2024, 12, 1), D(2025, 3, 1))  # 90 days, no leap day


def close(d: Decimal, exact: Fraction) -> bool:
    """year_fraction works at 50 significant digits: equal to the exact ratio within 1e-45."""
    return abs(Fraction(d) - exact) < Fraction(1, 10**45)


def test_periods_have_the_stated_lengths():
    assert (P1[1] - P1[0]).days == 91
    assert (P2[1] - P2[0]).days == 90


def test_r16_contains_leap_rule_uses_366_for_the_whole_period():
    assert interest(BAL, APR, *P1, basis="actual/actual_contains_leap") == M("298.36")
    assert interest(BAL, APR, *P1, basis="actual/365") == M("299.18")  # the buggy /365 answer


def test_r16_contains_leap_rule_second_period_uses_365():
    assert interest(BAL, APR, *P2, basis="actual/actual_contains_leap") == M("295.89")
    assert interest(BAL, APR, *P2, basis="actual/365") == M("295.89")


def test_r16_split_by_calendar_year():
    # 31 days of 2023 / 365 + 60 days of 2024 / 366
    assert close(year_fraction(*P1, basis="actual/actual_split"), Fraction(31, 365) + Fraction(60, 366))
    assert interest(BAL, APR, *P1, basis="actual/actual_split") == M("298.64")
    # second period: 31 days of (leap) 2024 / 366 + 59 days of 2025 / 365
    assert interest(BAL, APR, *P2, basis="actual/actual_split") == M("295.61")


def test_actual_360_and_result_shape():
    result = interest(BAL, APR, *P1, basis="actual/360")
    assert result == M("303.33")
    assert isinstance(result, Decimal) and result.as_tuple().exponent == -2


def test_rounded_once_at_the_end_not_per_piece():
    # 0.50 × 0.18 × (1/366 + 1/365): each piece is 0.000246 → 0.00 if rounded separately
    assert interest(M("0.50"), M("0.18"), D(2024, 12, 31), D(2025, 1, 2), "actual/actual_split") == M("0.00")
    assert interest(M("100.00"), M("0.1825"), D(2024, 12, 31), D(2025, 1, 2), "actual/actual_split") == M("0.10")
    # an exact half cent rounds up (money rule): 2.50 × 0.73 × 1/365 = 0.005
    assert interest(M("2.50"), M("0.73"), D(2025, 3, 1), D(2025, 3, 2)) == M("0.01")
    # 1000.00 at 万分之五 a day (18.25 % a year, actual/365) for 10 days = 5.00
    assert interest(M("1000.00"), M("0.1825"), D(2025, 3, 1), D(2025, 3, 11)) == M("5.00")


def test_zero_rate_and_empty_period_give_zero():
    assert interest(M("1000.00"), M("0"), *P1, basis="actual/365") == M("0.00")  # R06: no short circuit surprises
    assert interest(M("1000.00"), M("0.12"), D(2025, 1, 1), D(2025, 1, 1)) == M("0.00")


def test_leap_day_at_the_edges_of_the_half_open_period():
    # [2024-02-29, 2024-03-01) contains the leap day; [2024-01-01, 2024-02-29) does not
    assert close(year_fraction(D(2024, 2, 29), D(2024, 3, 1), "actual/actual_contains_leap"), Fraction(1, 366))
    assert close(year_fraction(D(2024, 1, 1), D(2024, 2, 29), "actual/actual_contains_leap"), Fraction(59, 365))
    assert year_fraction(D(2024, 1, 1), D(2025, 1, 1), "actual/actual_split") == 1
    assert year_fraction(D(2023, 1, 1), D(2025, 1, 1), "actual/actual_split") == 2


def test_errors():
    with pytest.raises(TypeError):
        interest(10000.0, APR, *P1)
    with pytest.raises(TypeError):
        interest(BAL, 0.12, *P1)
    with pytest.raises(ValueError, match="basis"):
        interest(BAL, APR, *P1, basis="30/360")
    with pytest.raises(ValueError, match="before"):
        interest(BAL, APR, P1[1], P1[0])
    with pytest.raises(DomainError):
        interest(M("-1.00"), APR, *P1)
    with pytest.raises(DomainError):
        interest(BAL, M("-0.01"), *P1)
    assert interest("10000.00", "0.12", *P1, basis="actual/actual_contains_leap") == M("298.36")


@given(
    st.decimals(min_value=M("0"), max_value=M("1000000"), places=2),
    st.decimals(min_value=M("0"), max_value=M("0.5"), places=4),
    st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 1, 1)),
    st.integers(min_value=0, max_value=800),
    st.sampled_from(BASES),
)
def test_property_interest_is_additive_within_a_cent_per_split_and_monotone(balance, rate, start, n, basis):
    end = start + timedelta(days=n)
    whole = interest(balance, rate, start, end, basis)
    assert whole >= 0 and whole.as_tuple().exponent == -2
    if basis in ("actual/365", "actual/360", "actual/actual_split") and n >= 2:
        mid = start + timedelta(days=n // 2)
        parts = interest(balance, rate, start, mid, basis) + interest(balance, rate, mid, end, basis)
        assert abs(parts - whole) <= M("0.01")
    assert interest(balance, rate, start, end + timedelta(days=1), basis) >= whole or basis == "actual/actual_contains_leap"

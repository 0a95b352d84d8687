"""Money: Decimal only, one rounding rule (ROUND_HALF_UP to 0.01), plain-string parsing, display."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.money import CENT, MINOR_UNITS, ZERO, money, quantize


def test_cent_is_one_fen():
    assert CENT == Decimal("0.01")
    assert ZERO == Decimal("0.00") and str(ZERO) == "0.00"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("1234.5"), "1234.50"),
        (1234, "1234.00"),
        ("1234.50", "1234.50"),
        ("-3", "-3.00"),
        ("0.1", "0.10"),
        ("1.500", "1.50"),  # trailing zeros are not extra precision
        ("+7.01", "7.01"),
    ],
)
def test_money_accepts_decimal_int_and_plain_strings(raw, expected):
    result = money(raw)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize("raw", [1234.5, 0.1, float("nan"), True, None, [1], b"12"])
def test_money_refuses_float_and_non_amount_types(raw):
    with pytest.raises(TypeError):
        money(raw)


@pytest.mark.parametrize("raw", ["1,234.50", "¥12", "12 ", " 12", "", "1e3", "1E+3", "12.3.4", "NaN", "Infinity", "１２", "12\n", "1.", ".5", "-"])
def test_money_refuses_non_plain_strings(raw):
    with pytest.raises(DomainError):
        money(raw)


@pytest.mark.parametrize("raw", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_money_refuses_non_finite_decimals(raw):
    with pytest.raises(DomainError):
        money(raw)


def test_money_refuses_more_than_two_decimals_unless_asked_to_round():
    with pytest.raises(DomainError, match="more than 2 decimal"):
        money("1.005")
    with pytest.raises(DomainError):
        money(Decimal("0.001"))
    assert money("1.005", round_=True) == Decimal("1.01")
    assert money("1.004", round_=True) == Decimal("1.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2.345", "2.35"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),  # half away from zero
        ("0.005", "0.01"),
        ("-0.004", "0.00"),  # never "-0.00"
        ("298.3606557377", "298.36"),
    ],
)
def test_quantize_rounds_half_up_to_cents(raw, expected):
    assert str(quantize(Decimal(raw))) == expected


def test_quantize_minor_units_and_type_checks():
    assert quantize(Decimal("1234.5"), MINOR_UNITS["JPY"]) == Decimal("1235")
    assert quantize(7) == Decimal("7.00")
    with pytest.raises(TypeError):
        quantize(1.5)


def test_minor_units():
    assert MINOR_UNITS["CNY"] == MINOR_UNITS["TWD"] == MINOR_UNITS["USD"] == 2


# display formatting (format_money / format_amounts): tests/unit/test_money_format.py


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False))
def test_money_round_trips_two_decimal_values(d):
    assert money(d) == d
    assert money(str(d)) == d
    assert money(d).as_tuple().exponent == -2


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False))
def test_quantize_is_within_half_a_cent_and_idempotent(d):
    q = quantize(d)
    assert abs(q - d) <= Decimal("0.005")
    assert quantize(q) == q

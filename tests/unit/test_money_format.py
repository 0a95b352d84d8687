"""The one money formatter (issue 14, fault 6g): an amount always shows its currency, the same
currency is labelled the same way everywhere (pages, SMS, call scripts, boards, exports), and
amounts in different currencies are listed side by side — never added up."""
from __future__ import annotations

from decimal import Decimal

import pytest

from arrears.domain.money import format_amounts, format_money, sum_by_currency

D = Decimal


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        (D("1234.5"), "CNY", "zh-hans", "1,234.50元"),
        (D("1234.5"), "CNY", "zh", "1,234.50元"),
        (D("1234.5"), "CNY", "en", "CNY 1,234.50"),
        (D("50"), "USD", "zh-hans", "50.00 USD"),
        (D("50"), "USD", "en", "USD 50.00"),
        (D("56789.12"), "TWD", "zh-Hans", "56,789.12 TWD"),
        (D("56789.12"), "TWD", "en-US", "TWD 56,789.12"),
        (D("1234.5"), "JPY", "en", "JPY 1,235"),  # the currency's own minor units, half up
        (D("-1234567.891"), "CNY", "zh", "-1,234,567.89元"),
        (D("-12"), "USD", "en", "USD -12.00"),
        (D("0"), "CNY", "en", "CNY 0.00"),
        (D("-0.001"), "CNY", "zh", "0.00元"),  # never "-0.00"
        ("600", "CNY", "zh", "600.00元"),  # a Decimal string as stored in Case.amounts
        (7, "CNY", "zh", "7.00元"),
        (D("999.995"), "CNY", "zh", "1,000.00元"),
        (D("10"), "XAF", "en", "XAF 10.00"),  # any ISO 4217 code, two decimals unless known otherwise
    ],
)
def test_format_money(amount, currency, language, expected):
    assert format_money(amount, currency, language) == expected


def test_format_money_refuses_float_bad_currency_and_language():
    with pytest.raises(TypeError):
        format_money(1234.5, "CNY", "en")  # never a float
    for bad in ("", "cny", "¥", "CN", "CNYY", None):
        with pytest.raises(ValueError):
            format_money(D("1"), bad, "zh")
    with pytest.raises(ValueError):
        format_money(D("1"), "CNY", "fr")


def test_format_amounts_lists_every_currency_and_never_adds_them_up():
    two = {"CNY": D("100.00"), "USD": D("50.00")}
    assert format_amounts(two, "zh-hans") == "100.00元、50.00 USD"
    assert format_amounts(two, "en") == "CNY 100.00, USD 50.00"
    # the order given is kept (callers put the case's primary currency first)
    assert format_amounts([("USD", D("50")), ("CNY", "100.00")], "en") == "USD 50.00, CNY 100.00"
    assert format_amounts({"CNY": D("1200")}, "zh") == "1,200.00元"
    for language in ("zh-hans", "en"):
        assert "150.00" not in format_amounts(two, language)


def test_format_amounts_leaves_out_zero_currencies_unless_all_are_zero():
    assert format_amounts({"CNY": D("100.00"), "USD": D("0.00")}, "zh") == "100.00元"
    assert format_amounts({"USD": D("0"), "CNY": D("0")}, "en") == "USD 0.00"
    assert format_amounts({}, "en") == ""


def test_format_amounts_refuses_a_currency_twice():
    with pytest.raises(ValueError):
        format_amounts([("CNY", D("1")), ("CNY", D("2"))], "zh")


def test_sum_by_currency_totals_each_currency_apart():
    rows = [("CNY", D("100.00")), ("USD", D("50.00")), ("CNY", D("0.50")), ("USD", "1.25")]
    assert sum_by_currency(rows) == {"CNY": D("100.50"), "USD": D("51.25")}
    assert sum_by_currency([]) == {}
    with pytest.raises(TypeError):
        sum_by_currency([("CNY", 1.5)])

"""Money: :class:`~decimal.Decimal` amounts, one rounding rule, one display format.

The house rule for money (used everywhere: balances, interest, fees, allocation):

* Amounts are :class:`decimal.Decimal`, never ``float`` — a float is refused with ``TypeError``
  because binary floating point cannot hold 0.10 exactly.
* **Rounding rule:** ``ROUND_HALF_UP`` to the currency's minor unit — 2 decimal places for CNY
  (分 fen), TWD, USD, HKD, EUR (cent). ``0.005 → 0.01``, ``-0.005 → -0.01`` (half away from zero).
  Calculations (interest, pro-rating) keep full precision and round **once**, at the end.
* Amounts arriving from outside (extract files, forms, APIs) are plain decimal strings such as
  ``"1234.50"``; grouped ("1,234.50"), currency-prefixed ("¥12"), exponent ("1E+3") or blank
  strings are refused, so a mis-parsed column cannot silently become a different amount.
* **Display:** :func:`format_money` is the only formatter of an amount for people (pages, SMS, call
  scripts, boards, exports): ``1,234.50元`` / ``50.00 USD`` in Chinese, ``CNY 1,234.50`` /
  ``USD 50.00`` in English. Amounts in different currencies are never added up: they are
  totalled per currency (:func:`sum_by_currency`) and shown side by side (:func:`format_amounts`:
  ``100.00元、50.00 USD`` / ``CNY 100.00, USD 50.00``).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import DomainError

__all__ = [
    "CENT",
    "ROUNDING",
    "MINOR_UNITS",
    "ZERO",
    "money",
    "quantize",
    "to_decimal",
    "format_money",
    "format_amounts",
    "sum_by_currency",
]

#: One minor unit (fen / cent) for two-decimal currencies.
CENT = Decimal("0.01")
#: The single rounding mode for money.
ROUNDING = ROUND_HALF_UP
#: Zero, with two decimals.
ZERO = Decimal("0.00")

#: ISO 4217 minor units (digits after the decimal point) of the currencies Arrears knows.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "TWD": 2,
    "HKD": 2,
    "MOP": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "SGD": 2,
    "JPY": 0,
    "KRW": 0,
}

_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")  # ASCII digits only; used with fullmatch


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """Convert a Decimal / int / plain decimal string to an unrounded Decimal (rates, factors).

    Raises ``TypeError`` for float, bool or other types; :class:`DomainError` for a non-plain or
    non-finite string/value. ``what`` names the value in the message.
    """
    if isinstance(value, bool):
        raise TypeError(f"{what}: bool is not an amount")
    if isinstance(value, float):
        raise TypeError(f"{what}: float is not accepted for money (got {value!r}); pass a Decimal or a string")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise DomainError(
                f"{what}: {value!r} is not a plain decimal string (expected e.g. '1234.50'; "
                "no grouping separators, currency symbols, spaces or exponents)"
            )
        try:
            d = Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
            raise DomainError(f"{what}: {value!r} is not a decimal number") from exc
    else:
        raise TypeError(f"{what}: expected Decimal, int or str, got {type(value).__name__}")
    if not d.is_finite():
        raise DomainError(f"{what}: {value!r} is not a finite number")
    return d


def quantize(d: Decimal, minor_units: int = 2) -> Decimal:
    """Round ``d`` with the money rule (``ROUND_HALF_UP``) to ``minor_units`` decimals.

    ``d`` is a Decimal (int accepted); a float raises ``TypeError``. Returns a Decimal with exactly
    ``minor_units`` decimal places, e.g. ``quantize(Decimal("2.345")) == Decimal("2.35")``.
    """
    if isinstance(d, bool) or isinstance(d, float) or not isinstance(d, (Decimal, int)):
        raise TypeError(f"quantize: expected Decimal, got {type(d).__name__}")
    d = Decimal(d)
    if not d.is_finite():
        raise DomainError(f"quantize: {d!r} is not a finite number")
    exp = Decimal(1).scaleb(-minor_units)
    q = d.quantize(exp, rounding=ROUNDING)
    return q.copy_abs() if q.is_zero() else q  # never "-0.00"


def money(value: Decimal | int | str, *, round_: bool = False) -> Decimal:
    """Parse/validate an amount and return it as a 2-decimal Decimal (e.g. ``Decimal("1234.50")``).

    Accepts a :class:`Decimal`, an ``int`` or a plain decimal string: ASCII digits, optional sign,
    optional point with digits on both sides (``"1234.50"``, ``"-3"``; not ``".5"`` or ``"1."``).

    Raises:
        TypeError: ``value`` is a float, a bool or another non-amount type.
        DomainError: (a ``ValueError``) the string is not plain (``"1,234.50"``, ``"¥5"``, ``"1e3"``,
            ``""``), the value is NaN/infinite, or it has more than 2 significant decimals
            (``"1.005"``) and ``round_`` is false. With ``round_=True`` such a value is rounded with
            the money rule instead. Trailing zeros are not "more decimals": ``"1.500"`` is 1.50.
    """
    d = to_decimal(value)
    q = quantize(d)
    if q != d and not round_:
        raise DomainError(
            f"amount {value!r} has more than 2 decimal places; round it explicitly (round_=True)"
        )
    return q


#: The unit written after an amount in Chinese; every other currency is written by its ISO code.
_ZH_UNITS: dict[str, str] = {"CNY": "元"}
#: How several currencies are joined: "100.00元、50.00 USD" / "CNY 100.00, USD 50.00".
_SEPARATORS: dict[str, str] = {"zh": "、", "en": ", "}
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def _language(language: str) -> str:
    lang = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower() if isinstance(language, str) else ""
    if lang not in _SEPARATORS:
        raise ValueError(f"format_money: unsupported language {language!r} (use 'zh', 'zh-hans', 'en', 'en-US' …)")
    return lang


def _currency(currency: str) -> str:
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"format_money: {currency!r} is not an ISO 4217 currency code (e.g. 'CNY', 'USD')")
    return currency


def format_money(amount: Decimal | int | str, currency: str, language: str) -> str:
    """An amount with its currency, for people: the one money formatter of Arrears.

    Pages, template filters, SMS, call scripts, balance explanations, boards and exports all
    format money here, so the same currency is labelled the same way everywhere:

    * Chinese (``zh``, ``zh-hans`` …): the number, then the unit — ``元`` for CNY, the ISO code
      (after a space) for any other currency: ``1,234.50元``, ``50.00 USD``, ``-12.00元``.
    * English (``en``, ``en-US`` …): the ISO code, a space, the number: ``CNY 1,234.50``,
      ``USD 50.00``, ``CNY -12.00``.
    * Both: groups of three digits with ",", "." as decimal point, rounded (display only) with the
      money rule to the currency's minor units (:data:`MINOR_UNITS`; two for a code not listed
      there): ``JPY 1,235``. Never ``-0.00``.

    ``amount`` is a Decimal, an int or a plain decimal string (as stored in ``Case.amounts``).
    Raises ``TypeError`` for a float, ``ValueError`` for a currency that is not a three-letter ISO
    4217 code or a language other than Chinese or English, :class:`DomainError` for a non-plain
    string.
    """
    lang = _language(language)
    code = _currency(currency)
    units = MINOR_UNITS.get(code, 2)
    q = quantize(to_decimal(amount), units)
    body = f"{q:,.{units}f}"
    if lang == "zh":
        unit = _ZH_UNITS.get(code)
        return f"{body}{unit}" if unit else f"{body} {code}"
    return f"{code} {body}"


def format_amounts(
    amounts: Mapping[str, Decimal | int | str] | Iterable[tuple[str, Decimal | int | str]], language: str
) -> str:
    """Amounts in several currencies, each formatted by :func:`format_money`, side by side — never
    added up: ``{"CNY": 100, "USD": 50}`` → ``100.00元、50.00 USD`` (zh, joined by "、") /
    ``CNY 100.00, USD 50.00`` (en, joined by ", ").

    ``amounts`` maps currency → amount, or is a sequence of ``(currency, amount)`` pairs; the order
    given is kept (callers put the case's primary currency first). A currency whose amount is zero
    is left out when another one is not (``逾期金额100.00元``, not ``100.00元、0.00 USD``); when
    every amount is zero, the first currency's zero is shown. No amounts at all: ``""``. A currency
    given twice raises ``ValueError`` (total it first with :func:`sum_by_currency`).
    """
    lang = _language(language)
    pairs = list(amounts.items() if isinstance(amounts, Mapping) else amounts)
    seen: set[str] = set()
    for currency, _ in pairs:
        if currency in seen:
            raise ValueError(f"format_amounts: currency {currency!r} given twice; total it first")
        seen.add(currency)
    values = [(c, to_decimal(a)) for c, a in pairs]
    shown = [(c, a) for c, a in values if not a.is_zero()] or values[:1]
    return _SEPARATORS[lang].join(format_money(a, c, language) for c, a in shown)


def sum_by_currency(items: Iterable[tuple[str, Decimal | int | str]]) -> dict[str, Decimal]:
    """Totals per currency of ``(currency, amount)`` pairs: ``{"CNY": Decimal("100.50"), "USD": …}``,
    currencies in order of first appearance. Amounts in different currencies are never added
    together; a float raises ``TypeError``."""
    out: dict[str, Decimal] = {}
    for currency, amount in items:
        out[currency] = out.get(currency, ZERO) + to_decimal(amount)
    return out

"""Money: :class:`~decimal.Decimal` amounts, one rounding rule, display formatting.

The house rule for money (used everywhere: balances, interest, fees, allocation):

* Amounts are :class:`decimal.Decimal`, never ``float`` — a float is refused with ``TypeError``
  because binary floating point cannot hold 0.10 exactly.
* **Rounding rule:** ``ROUND_HALF_UP`` to the currency's minor unit — 2 decimal places for CNY
  (分 fen), TWD, USD, HKD, EUR (cent). ``0.005 → 0.01``, ``-0.005 → -0.01`` (half away from zero).
  Calculations (interest, pro-rating) keep full precision and round **once**, at the end.
* Amounts arriving from outside (extract files, forms, APIs) are plain decimal strings such as
  ``"1234.50"``; grouped ("1,234.50"), currency-prefixed ("¥12"), exponent ("1E+3") or blank
  strings are refused, so a mis-parsed column cannot silently become a different amount.
"""
from __future__ import annotations

import re
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
    "format_amount",
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

# Currency symbols by language. CNY is "¥" in both: Arrears is a mainland-China system and its
# English screens are read by the same staff; JPY is written "JP¥" so the two never look alike.
_SYMBOLS: dict[str, dict[str, str]] = {
    "zh": {
        "CNY": "¥", "TWD": "NT$", "HKD": "HK$", "MOP": "MOP$", "USD": "US$", "EUR": "€",
        "GBP": "£", "SGD": "S$", "JPY": "JP¥", "KRW": "₩",
    },
    "en": {
        "CNY": "¥", "TWD": "NT$", "HKD": "HK$", "MOP": "MOP$", "USD": "$", "EUR": "€",
        "GBP": "£", "SGD": "S$", "JPY": "JP¥", "KRW": "₩",
    },
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


def _language(locale: str) -> str:
    lang = re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower() if isinstance(locale, str) else ""
    if lang not in _SYMBOLS:
        raise ValueError(f"format_amount: unsupported locale {locale!r} (use 'zh', 'zh-Hans', 'en', 'en-US' …)")
    return lang


def format_amount(d: Decimal | int | str, currency: str = "CNY", locale: str = "zh") -> str:
    """Format an amount for display: ``format_amount(Decimal("1234.5"), "CNY") == "¥1,234.50"``.

    ``currency`` is an ISO 4217 code from :data:`MINOR_UNITS`; ``locale`` a language tag whose
    language is ``zh`` or ``en`` (``"zh-Hans"``, ``"en_US"`` …). Both languages group thousands with
    "," and use "." as decimal point; they differ only in a few symbols (USD: "US$" in zh, "$" in
    en). Negative amounts print as ``-¥1,234.50``. The amount is rounded to the currency's minor
    units with the money rule (display only).

    Raises ``TypeError`` for a float, ``ValueError`` for an unknown currency or locale, and
    :class:`DomainError` for a non-plain string.
    """
    lang = _language(locale)
    if currency not in MINOR_UNITS:
        raise ValueError(f"format_amount: unknown currency {currency!r}")
    q = quantize(to_decimal(d), MINOR_UNITS[currency])
    sign = "-" if q < 0 else ""
    body = f"{abs(q):,.{MINOR_UNITS[currency]}f}"
    return f"{sign}{_SYMBOLS[lang][currency]}{body}"

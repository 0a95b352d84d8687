"""PRC resident identity card numbers (居民身份证号码), 18 characters, GB 11643-1999.

Layout: ``AAAAAA YYYYMMDD SSS C``

* ``AAAAAA`` — administrative area code (GB/T 2260) of the place of registration; the first two
  digits are the province-level code (11 Beijing … 65 Xinjiang, 71 Taiwan, 81 Hong Kong, 82 Macao;
  83 is used on residence permits for Hong Kong, Macao and Taiwan residents).
* ``YYYYMMDD`` — date of birth.
* ``SSS`` — sequence (顺序码); its last digit is **odd for men, even for women**.
* ``C`` — check character, ISO 7064 MOD 11-2 over the first 17 digits: ``0``–``9`` or ``X`` (= 10).

Validation errors never echo the number or its birth date (PII); they say which part is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from .errors import DomainError

__all__ = ["ParsedId", "PROVINCE_CODES", "check_digit", "make_id", "validate", "is_valid"]

Sex = Literal["M", "F"]

#: Province-level prefixes of GB/T 2260 (plus 83 for HK/Macao/Taiwan residence permits).
PROVINCE_CODES: frozenset[str] = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)

# ISO 7064 MOD 11-2 weights for positions 1..17: 2**(17 - i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_MIN_BIRTH_YEAR = 1800


@dataclass(frozen=True, slots=True)
class ParsedId:
    """A valid ID's parts: ``area`` (6-digit code), ``birth_date``, ``sex`` (``"M"``/``"F"``),
    ``sequence`` (0–999) and ``normalized`` (the 18 characters with an upper-case ``X``)."""

    area: str
    birth_date: date
    sex: Sex
    sequence: int
    normalized: str


def check_digit(first17: str) -> str:
    """The check character (``"0"``–``"9"`` or ``"X"``) for the first 17 digits.

    ``check_digit("11010519491231002") == "X"``. Raises :class:`DomainError` unless ``first17`` is
    exactly 17 ASCII digits.
    """
    if not isinstance(first17, str) or len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise DomainError("check_digit: expected exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def _check_area(area: str) -> None:
    if not isinstance(area, str) or len(area) != 6 or not area.isascii() or not area.isdigit():
        raise DomainError("area code must be exactly 6 digits")
    if area[:2] not in PROVINCE_CODES:
        raise DomainError(f"area code: unknown province code {area[:2]!r}")


def make_id(area_code: str, birth: date, sequence: int, sex: Sex | str) -> str:
    """Build a valid 18-character ID (for test data and synthetic portfolios).

    ``sequence`` (0–999) is adjusted to match ``sex`` when its last digit has the wrong parity:
    male → ``sequence | 1`` (an even sequence goes up by one), female → ``sequence & ~1`` (an odd one
    goes down by one); the result stays in 0–999. Example:
    ``make_id("110105", date(1949, 12, 31), 2, "F") == "11010519491231002X"``.

    Raises :class:`DomainError` for a malformed area code or unknown province, ``sequence`` outside
    0–999, ``sex`` not ``"M"``/``"F"``, or a birth year before 1800; ``TypeError`` if ``birth`` is
    not a date.
    """
    _check_area(area_code)
    if not isinstance(birth, date):
        raise TypeError(f"make_id: birth must be a date, got {type(birth).__name__}")
    if birth.year < _MIN_BIRTH_YEAR:
        raise DomainError(f"make_id: birth year must be ≥ {_MIN_BIRTH_YEAR}")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 999:
        raise DomainError(f"make_id: sequence must be an int 0–999, got {sequence!r}")
    if sex == "M":
        sequence |= 1
    elif sex == "F":
        sequence &= ~1
    else:
        raise DomainError(f"make_id: sex must be 'M' or 'F', got {sex!r}")
    first17 = f"{area_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + check_digit(first17)


def validate(id_number: str, *, as_of: date | None = None) -> ParsedId:
    """Check an 18-character ID and return its parts as :class:`ParsedId`.

    A lower-case ``x`` check character is accepted (``ParsedId.normalized`` has ``X``); surrounding
    spaces are not. If ``as_of`` is given, a birth date after it is refused.

    Raises :class:`DomainError` with the reason: not a string, wrong length, non-digits in the first
    17 characters, bad check character position, unknown province code, impossible birth date,
    birth year before 1800 or after ``as_of``, or check character mismatch.
    """
    if not isinstance(id_number, str):
        raise DomainError(f"ID number must be a string, got {type(id_number).__name__}")
    if len(id_number) != 18:
        raise DomainError(f"ID number must have 18 characters, has {len(id_number)}")
    body, last = id_number[:17], id_number[17].upper()
    if not body.isascii() or not body.isdigit():
        raise DomainError("ID number: the first 17 characters must be digits")
    if last not in "0123456789X":
        raise DomainError("ID number: the last character must be a digit or X")
    _check_area(body[:6])
    y, m, d = int(body[6:10]), int(body[10:12]), int(body[12:14])
    try:
        birth = date(y, m, d)
    except ValueError as exc:
        raise DomainError("ID number: the birth date (characters 7–14) is not a valid date") from exc
    if y < _MIN_BIRTH_YEAR:
        raise DomainError(f"ID number: the birth year is before {_MIN_BIRTH_YEAR}")
    if as_of is not None and birth > as_of:
        raise DomainError(f"ID number: the birth date is after {as_of.isoformat()}")
    expected = check_digit(body)
    if last != expected:
        raise DomainError("ID number: check character does not match (mistyped digit?)")
    seq = int(body[14:17])
    return ParsedId(
        area=body[:6],
        birth_date=birth,
        sex="M" if seq % 2 else "F",
        sequence=seq,
        normalized=body + last,
    )


def is_valid(id_number: str, *, as_of: date | None = None) -> bool:
    """True if :func:`validate` accepts ``id_number``."""
    try:
        validate(id_number, as_of=as_of)
    except DomainError:
        return False
    return True

"""Masking of personal data for display (脱敏).

Screens show masked values unless a role needs more (DESIGN.md §4). Every function here is pure:
it takes the stored value and returns the text a screen may show. Each one:

- returns ``""`` for an empty or ``None`` value (nothing to show, nothing to hide);
- never reveals more than its stated rule, whatever the input looks like (odd lengths, spaces,
  separators, Latin or Chinese text);
- masks with ``*``. Where the length of the hidden part would itself reveal something (addresses,
  e-mail local parts) a fixed ``****`` is used instead of one star per character.
"""
from __future__ import annotations

import re

STAR = "*"
FIXED = "****"

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_CN_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86(?=1\d{10}$)")


def _digits_masked(digits: str, keep_head: int, keep_tail: int) -> str:
    hidden = len(digits) - keep_head - keep_tail
    return digits[:keep_head] + STAR * hidden + (digits[len(digits) - keep_tail:] if keep_tail else "")


def mask_phone(value: str | None) -> str:
    """Mask a telephone number.

    Rule: spaces, hyphens, dots and brackets are dropped; a mainland country code (``+86``,
    ``0086`` or ``86`` in front of an 11-digit mobile number) is kept as ``+86 ``. Of the
    remaining characters:

    - 11 or more: the first 3 and the last 4 are shown (``13812345678`` → ``138****5678``);
    - 7 to 10: only the last 4 are shown (``83456789`` → ``****6789``);
    - 1 to 6: only the last 2 are shown (``12345`` → ``***45``).

    A leading ``+`` of a foreign number is kept; everything between the shown parts is one ``*``
    per digit, so the length stays recognisable as a phone number.
    """
    if not value:
        return ""
    compact = _PHONE_SEPARATORS.sub("", str(value))
    prefix = ""
    cn = _CN_COUNTRY_CODE.match(compact)
    if cn:
        prefix, compact = "+86 ", compact[cn.end():]
    elif compact.startswith("+"):
        prefix, compact = "+", compact[1:]
    n = len(compact)
    if n == 0:
        return ""
    if n >= 11:
        return prefix + _digits_masked(compact, 3, 4)
    if n >= 7:
        return prefix + _digits_masked(compact, 0, 4)
    return prefix + _digits_masked(compact, 0, min(2, n - 1))


def mask_national_id(value: str | None) -> str:
    """Mask an identity document number (身份证号 and others).

    Rule: spaces are dropped. With 12 or more characters the first 4 (province and city of issue)
    and the last 4 are shown (``440304199001011234`` → ``4403**********1234``; the old 15-digit
    cards the same way). With 6 to 11 characters (passports, permits) the first and the last 2
    are shown (``E12345678`` → ``E******78``). Anything shorter is masked completely. The birth
    date inside a 身份证号 is never shown.
    """
    if not value:
        return ""
    compact = re.sub(r"\s", "", str(value))
    n = len(compact)
    if n >= 12:
        return compact[:4] + STAR * (n - 8) + compact[-4:]
    if n >= 6:
        return compact[:1] + STAR * (n - 3) + compact[-2:]
    return STAR * n


_NAME_SEPARATORS = "·•・.-' "


def mask_name(value: str | None) -> str:
    """Mask a person's name.

    Rule: the first character of each word is shown, every other letter becomes ``*``.

    - A Chinese name is one word: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``. Separator dots of
      transliterated names are kept (``阿依古丽·买买提`` → ``阿***·***``: only the very first
      character is shown).
    - A name written with spaces (Latin script) keeps the initial of every word:
      ``John Smith`` → ``J*** S****``.
    - A one-character name is masked completely (``王`` → ``*``), since showing its first
      character would show all of it.
    """
    if not value:
        return ""
    text = " ".join(str(value).split())
    if " " in text:
        return " ".join(_mask_word(w) for w in text.split(" "))
    if len([c for c in text if c not in _NAME_SEPARATORS]) <= 1:
        return "".join(c if c in _NAME_SEPARATORS else STAR for c in text)
    return text[0] + "".join(c if c in _NAME_SEPARATORS else STAR for c in text[1:])


def _mask_word(word: str) -> str:
    if len(word) <= 1:
        return word
    return word[0] + "".join(c if c in _NAME_SEPARATORS else STAR for c in word[1:])


# Administrative divisions of a Chinese address: province level, prefecture (city) level, county
# (district) level. A division name is short and never contains street/building words or digits.
_DIV_CHAR = r"[^\d\s,，路街道巷弄号號栋棟楼樓室单元座村镇鎮乡鄉]"
_PROVINCE = rf"(?:{_DIV_CHAR}{{2,7}}?(?:省|自治区|特别行政区)|(?:北京|上海|天津|重庆)市)"
_CITY = rf"{_DIV_CHAR}{{1,8}}?(?:市|自治州|地区|盟)"
_COUNTY = rf"{_DIV_CHAR}{{1,6}}?(?:区|县|市|旗)"
_CN_ADDRESS = re.compile(rf"^\s*(?P<province>{_PROVINCE})?(?P<city>{_CITY})?(?P<county>{_COUNTY})?")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def mask_address(value: str | None) -> str:
    """Mask a postal address, keeping only the area.

    Rule for Chinese addresses: the province (省/自治区/直辖市), the city (市/自治州/地区/盟) and
    the district or county (区/县/县级市/旗) at the start of the address are shown, everything after
    them (street, number, building, room) becomes a fixed ``****``:
    ``广东省深圳市南山区科技园路1号2栋301室`` → ``广东省深圳市南山区****``;
    ``北京市朝阳区建国路88号`` → ``北京市朝阳区****``.

    Rule for other addresses (no Chinese characters): written smallest part first and separated
    by commas; the last two parts (e.g. city, state/postcode) are shown and everything before
    them becomes ``****``: ``1 Main St, Springfield, IL 62704`` → ``****, Springfield, IL 62704``.

    When no area can be recognised the whole address is ``****``.
    """
    if not value:
        return ""
    text = " ".join(str(value).split())
    if _HAN.search(text):
        m = _CN_ADDRESS.match(text)
        area = "".join(p for p in (m.group("province"), m.group("city"), m.group("county")) if p) if m else ""
        return area + FIXED
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return FIXED
    kept = parts[-2:] if len(parts) > 2 else parts[-1:]
    return ", ".join([FIXED, *kept])


def mask_email(value: str | None) -> str:
    """Mask an e-mail address.

    Rule: the first character of the local part and the whole domain are shown; the rest of the
    local part becomes a fixed ``****`` (``zhangsan@example.com`` → ``z****@example.com``). A value
    without ``@`` is treated as invalid and fully masked (``****``).
    """
    if not value:
        return ""
    text = str(value).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return FIXED
    return local[0] + FIXED + "@" + domain


def card_last4(number: str | None) -> str:
    """How a card is named to its holder (script, SMS, letter): the last four digits of its number.

    Only the digits count — separators and letters of an account number are skipped, so
    ``6222 0212 3456 7890`` → ``7890`` and the UCI demo's ``UCI00028-01`` → ``2801`` (never a
    slice like ``8-01``). A number with fewer than four digits gives the digits it has; ``""`` for
    none. The one rule for the call script and the SMS alike."""
    digits = re.sub(r"\D", "", number or "")
    return digits[-4:]

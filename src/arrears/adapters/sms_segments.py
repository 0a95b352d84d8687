"""SMS encoding, segment counting and splitting (3GPP TS 23.038 / 23.040). Pure: no Django, no I/O.

A message is sent in the GSM 7-bit default alphabet when every character is in it (the extension
table's ``^{}\\[~]|€`` and form feed take two septets each: ESC + code), else in UCS-2 (UTF-16,
what every Chinese message uses; a character outside the BMP takes two UTF-16 code units).

==========  ==================  ==================================================
encoding    one-part message    each part of a concatenated message (6-octet UDH)
==========  ==================  ==================================================
GSM-7       160 septets         153 septets
UCS-2       70 code units       67 code units
==========  ==================  ==================================================

:func:`split` never cuts an escape sequence (GSM-7) or a surrogate pair (UCS-2) in two, which a
naive split by octets does (the handset then shows garbage). :func:`encode_parts` gives the octets
of each part for SMPP ``short_message``: with a concatenation UDH (``05 00 03 ref total seq``,
``esm_class`` UDHI 0x40) or bare (for the ``sar_*`` optional parameters). GSM-7 is sent unpacked,
one septet per octet (SMPP ``data_coding`` 0, the SMSC default alphabet).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GSM7", "UCS2", "Segments", "count", "split", "encode_parts", "is_gsm7", "septets",
           "GSM7_SINGLE", "GSM7_PART", "UCS2_SINGLE", "UCS2_PART", "MAX_PARTS", "DATA_CODING"]

GSM7, UCS2 = "gsm7", "ucs2"
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
MAX_PARTS = 255
#: SMPP data_coding per encoding: 0 = SMSC default alphabet (GSM-7), 8 = UCS-2 (ISO/IEC-10646)
DATA_CODING = {GSM7: 0x00, UCS2: 0x08}

# GSM 03.38 default alphabet (position = code) and the extension table (after ESC 0x1B)
_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
          "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_EXT = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40,
        "€": 0x65}
_CODE = {ch: i for i, ch in enumerate(_BASIC) if ch != "\x1b"}


def is_gsm7(text: str) -> bool:
    """Every character of ``text`` is in the GSM 7-bit default alphabet or its extension table."""
    return all(ch in _CODE or ch in _EXT for ch in text)


def _units(text: str, encoding: str) -> list[int]:
    """Length of each character in the encoding's units (septets or UTF-16 code units)."""
    if encoding == GSM7:
        return [2 if ch in _EXT else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def septets(text: str) -> int:
    """GSM-7 length of ``text`` in septets (extension characters count two)."""
    return sum(_units(text, GSM7))


@dataclass(frozen=True)
class Segments:
    """``encoding`` (gsm7 | ucs2), ``units`` (septets or UTF-16 code units), ``parts`` (SMS billed),
    ``per_part`` (the limit that applied), ``remaining`` (units left in the last part)."""

    encoding: str
    units: int
    parts: int
    per_part: int
    remaining: int

    def to_dict(self) -> dict:
        return {"encoding": self.encoding, "units": self.units, "parts": self.parts, "per_part": self.per_part,
                "remaining": self.remaining}


def _encoding(text: str) -> str:
    return GSM7 if is_gsm7(text) else UCS2


def split(text: str, encoding: str | None = None) -> list[str]:
    """``text`` cut into the parts it is sent in (one part when it fits a single message)."""
    encoding = encoding or _encoding(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == GSM7 else (UCS2_SINGLE, UCS2_PART)
    units = _units(text, encoding)
    if sum(units) <= single:
        return [text]
    parts: list[str] = []
    start = used = 0
    for i, u in enumerate(units):
        if used + u > part:  # never cut a character (escape sequence, surrogate pair) in two
            parts.append(text[start:i])
            start, used = i, 0
        used += u
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:
        raise ValueError(f"message too long: {len(parts)} parts (at most {MAX_PARTS})")
    return parts


def count(text: str) -> Segments:
    """Encoding, length and number of parts of ``text`` (an empty text is one empty part)."""
    encoding = _encoding(text)
    units = sum(_units(text, encoding))
    single, part = (GSM7_SINGLE, GSM7_PART) if encoding == GSM7 else (UCS2_SINGLE, UCS2_PART)
    if units <= single:
        return Segments(encoding, units, 1, single, single - units)
    parts = split(text, encoding)
    last = sum(_units(parts[-1], encoding))
    return Segments(encoding, units, len(parts), part, part - last)


def _encode(text: str, encoding: str) -> bytes:
    if encoding == UCS2:
        return text.encode("utf-16-be")
    out = bytearray()
    for ch in text:
        if ch in _EXT:
            out += bytes((0x1B, _EXT[ch]))
        else:
            out.append(_CODE[ch])
    return bytes(out)


def decode(data: bytes, data_coding: int) -> str:
    """Text of a received ``short_message`` (UCS-2 for data_coding 8, GSM-7 unpacked for 0, else
    Latin-1, which is what 0x03 and most SMSC defaults for 0x01 mean)."""
    if data_coding == 0x08:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == 0x00:
        rev_ext = {v: k for k, v in _EXT.items()}
        out, esc = [], False
        for b in data:
            if esc:
                out.append(rev_ext.get(b, " "))
                esc = False
            elif b == 0x1B:
                esc = True
            elif b < len(_BASIC):
                out.append(_BASIC[b])
            else:
                out.append(chr(b))  # some SMSCs send ASCII/Latin-1 with data_coding 0
        return "".join(out)
    return data.decode("latin-1")


def encode_parts(text: str, *, ref: int, udh: bool = True) -> tuple[str, list[bytes]]:
    """``(encoding, octets of each part)``. With ``udh`` each part of a concatenated message starts
    with the 8-bit-reference concatenation header ``05 00 03 ref total seq``; without, the caller
    sends ``sar_msg_ref_num`` / ``sar_total_segments`` / ``sar_segment_seqnum`` instead. ``ref``
    identifies the message's parts on the handset (0–255)."""
    encoding = _encoding(text)
    parts = split(text, encoding)
    if len(parts) == 1:
        return encoding, [_encode(text, encoding)]
    total = len(parts)
    out = []
    for seq, p in enumerate(parts, start=1):
        body = _encode(p, encoding)
        out.append((bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq)) + body) if udh else body)
    return encoding, out

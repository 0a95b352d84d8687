"""Content checks the gate needs facts for, and the bridge to content screening.

General screening of wording (threats, 坐牢, impersonating courts or police, fake blacklists,
abuse, debt details to a third party) is :func:`arrears.domain.screening.screen`, written
separately; it is imported lazily so the gate works (and records the content rules as *pending*)
before it exists. The patterns here are pack data — a rule's ``*_patterns`` parameter — compiled
once per pack: they check what only the gate can judge, because it depends on facts (an agency
presenting itself as the bank, a lawsuit threatened on a time-barred debt, an opt-out notice in an
electronic message, a limited-content voicemail).
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

from .pack import RulePack

__all__ = ["patterns", "matches", "first_match", "get_screen", "limited_content_message"]

_SCREEN: list[Any] = []  # [callable] once imported, [None] if unavailable in this process


def get_screen():
    """``arrears.domain.screening.screen`` or ``None`` when that module is not there (yet)."""
    if not _SCREEN:
        try:
            mod = importlib.import_module("arrears.domain.screening")
            _SCREEN.append(getattr(mod, "screen", None))
        except ImportError:
            _SCREEN.append(None)
    return _SCREEN[0]


def patterns(pack: RulePack, rule_id: str, name: str) -> tuple[re.Pattern[str], ...]:
    """The compiled regular expressions of parameter ``name`` of ``rule_id`` (case-insensitive)."""
    def build() -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in (pack.p(rule_id, name) or ()))

    return pack.cached(("re", rule_id, name), build)


def first_match(text: str, pats: Sequence[re.Pattern[str]]) -> re.Match[str] | None:
    for p in pats:
        m = p.search(text)
        if m:
            return m
    return None


def matches(text: str, pats: Sequence[re.Pattern[str]]) -> bool:
    return first_match(text, pats) is not None


def limited_content_message(text: str, left_for_consumer: bool, pack: RulePack,
                            business_name_indicates_debt_collection: bool | None = None,
                            rule_id: str = "US-REGF-2J-01") -> tuple[bool, list[str]]:
    """Is ``text`` a limited-content message (Reg F §1006.2(j))? Returns ``(is_lcm, problems)``.

    Required: a business name that does not indicate debt collection, a request to reply, the name
    of a natural person to contact, a telephone number. Optional: a salutation, the date and time,
    suggested reply times, that any representative can help. **Nothing else**: the text is cut into
    the allowed segments (the pack's ``segment_patterns``); anything left over, or any
    ``disqualifying_patterns`` word (debt, credit card receivables …), disqualifies it. A message
    knowingly left for a third party is never an LCM (comment 2(j)-2).
    """
    problems: list[str] = []
    if not left_for_consumer:
        problems.append("left for a third party")
    if business_name_indicates_debt_collection:
        problems.append("the business name indicates debt collection")
    bad = first_match(text, patterns(pack, rule_id, "disqualifying_patterns"))
    if bad:
        problems.append(f"content beyond the limited content: {bad.group(0)!r}")
    rest = text
    found: dict[str, bool] = {}
    for name, pat in _segments(pack, rule_id):
        m = pat.search(rest)
        while m:
            found[name] = True
            for g, v in m.groupdict().items():
                if v:
                    found[g] = True
            rest = rest[: m.start()] + " " + rest[m.end():]
            m = pat.search(rest)
    for need in pack.p(rule_id, "required_elements") or ():
        if not found.get(need):
            problems.append(f"missing required element: {need}")
    leftover = re.sub(r"[\s,.;:!?'\"()-]+", "", rest)
    if leftover:
        problems.append(f"content beyond the limited content: {rest.strip()!r}")
    return (not problems), problems


def _segments(pack: RulePack, rule_id: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    def build():
        raw = pack.p(rule_id, "segment_patterns") or []
        out = []
        for item in raw:
            name, _, pat = item.partition("=")
            out.append((name.strip(), re.compile(pat.strip())))
        return tuple(out)

    return pack.cached(("segments", rule_id), build)

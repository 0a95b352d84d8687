"""Content screening of collection messages: SMS, letters, call scripts and call transcripts.

``screen(text)`` returns the spans of ``text`` that a collector must not say, each with the rule it
breaks (an id of the compliance catalogue, e.g. ``CN-PROHIBIT-01``, ``US-REGF-14-OTHER``) and a
category:

=========================  ==================================================================
``threat``                 arrest, jail, prosecution, violence, visits to home or work to shame
``impersonation``          claiming to be a court, the police, a procuratorate, a government
                           body or a lawyer; fake legal documents (传票, warrants, summons)
``fake_blacklist``         fictitious blacklists and "national debtor databases"
``exposure``               threats to expose the debt: 曝光, 爆通讯录, telling family, employer…
``abuse``                  insults and profanity (LDNOOBW ``zh`` list, an in-project English list)
``third_party_disclosure`` debt details (amounts, 欠款, 逾期, "owes", "past due"…) in a message
                           addressed to someone other than the debtor (``to_third_party=True``)
=========================  ==================================================================

The rules are data (``arrears/rules/screening/*.yaml``); :func:`compile_lexicon` turns their plain
content into a :class:`Lexicon` (every pattern joined into **one** compiled alternation, one named
group per rule). This module is pure: it reads no file and keeps no state; ``screen`` without a
``lexicon`` asks :func:`arrears.rules.lexicons.screening_lexicon` for the packaged one, which is read
once and cached.

How false positives are kept down (measured in ``tests/unit/test_screening.py``):

* word-list entries that are ordinary words or parts of them (``性`` in 一次性, ``柒`` the formal
  numeral seven, ``13点`` a time) are listed under ``skip`` and not matched on their own;
* ``allow`` lists ordinary words that contain a listed term (他妈妈, 今日你, 肥西县…): a match lying
  wholly inside an occurrence of one of them is dropped;
* English words match only on word boundaries (``ass`` does not match in "pass");
* a match of a *negatable* rule directly preceded by a negation (我们不会通知您的单位,
  "we will not contact your employer") is dropped.

Offsets are character offsets into the original text: ``text[m.start:m.end] == m.text``.
Full-width ASCII (ＡＢＣ１２３) is folded to ASCII before matching, which keeps every offset.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from arrears.domain.errors import RuleDataError

try:  # the regex parser and its opcodes (CPython), for the prefilter only: without them, no prefilter
    from re import _constants as _sre, _parser as _sre_parse
except ImportError:  # pragma: no cover
    _sre = _sre_parse = None  # type: ignore[assignment]

__all__ = [
    "CATEGORIES",
    "Match",
    "Entry",
    "Lexicon",
    "compile_lexicon",
    "screen",
    "trie_regex",
]

CATEGORIES: tuple[str, ...] = (
    "threat",
    "impersonation",
    "fake_blacklist",
    "exposure",
    "abuse",
    "third_party_disclosure",
)
#: Categories whose matches are dropped when directly preceded by a negation ("不会", "will not").
NEGATABLE_BY_DEFAULT = frozenset({"threat", "impersonation", "fake_blacklist", "exposure"})

# Full-width ASCII (U+FF01–FF5E) and the ideographic space fold to ASCII: same length, same offsets.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20


class Match(NamedTuple):
    """One screened span: ``text == original[start:end]``."""

    rule_id: str
    category: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Entry:
    """One screening rule: a local id, the catalogue rule it enforces, and its patterns."""

    id: str
    rule_id: str
    category: str
    pattern: str  # one regex (an alternation of the rule's patterns and words), no capturing groups
    negatable: bool
    description_zh: str = ""
    description_en: str = ""


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A compiled set of screening rules for one language."""

    lang: str
    version: str
    entries: tuple[Entry, ...]
    skipped: Mapping[str, str] = field(repr=False)  # word-list term → why it is not matched alone
    _debtor: re.Pattern[str] = field(repr=False)  # every rule except third-party disclosure
    _third_party: re.Pattern[str] = field(repr=False)  # every rule
    _allow: re.Pattern[str] | None = field(repr=False)
    _negation: re.Pattern[str] | None = field(repr=False)
    _by_group: Mapping[str, Entry] = field(repr=False)

    def entry(self, entry_id: str) -> Entry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(e.rule_id for e in self.entries)

    def describe(self, rule_id: str, category: str) -> tuple[str, str]:
        """(Chinese, English) description of the first entry with this rule id and category."""
        for e in self.entries:
            if e.rule_id == rule_id and e.category == category:
                return e.description_zh, e.description_en
        return "", ""


# ---------------------------------------------------------------------------------------------
# Building


def trie_regex(words: Iterable[str], *, ignore_case: bool = False) -> str:
    """One regex matching any of ``words`` (literals), factored as a trie so that the regex engine
    never tries more than one branch per character. Longer words win over their prefixes."""
    root: dict[str, Any] = {}
    for w in words:
        if not w:
            continue
        node = root
        for ch in w.lower() if ignore_case else w:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if len(branches) == 1 and not end:
            return branches[0]
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return (body if len(branches) > 1 else "(?:" + body + ")") + "?"
        return body

    return build(root)


_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


def _bounded(regex: str) -> str:
    """Wrap so that it matches only as a whole ASCII word (CJK neighbours are fine)."""
    return rf"(?<![A-Za-z0-9])(?:{regex})(?![A-Za-z0-9])"


def _words_regex(words: Sequence[str], *, word_boundaries: bool) -> str:
    if not words:
        return ""
    body = trie_regex(words, ignore_case=True)
    if not word_boundaries:
        return body
    # Only words made of ASCII letters/digits at their edges need boundaries; CJK words never do.
    edged = [w for w in words if _ASCII_WORD.match(w[0]) or _ASCII_WORD.match(w[-1])]
    edged_set = set(edged)
    plain = [w for w in words if w not in edged_set]
    parts = []
    if edged:
        parts.append(_bounded(trie_regex(edged, ignore_case=True)))
    if plain:
        parts.append(trie_regex(plain, ignore_case=True))
    return "|".join(parts)


def _first_chars(items: Any) -> tuple[list[str], bool]:
    """Character-class parts that can start a match of parsed regex ``items``, and whether the
    sequence can match the empty string. Raises ``ValueError`` for anything it does not model."""
    c = _sre
    if c is None:
        raise ValueError("no regex parser")
    out: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(re.escape(chr(av)))
            return out, False
        if op is c.IN:
            for o, a in av:
                if o is c.LITERAL:
                    out.append(re.escape(chr(a)))
                elif o is c.RANGE:
                    out.append(f"{re.escape(chr(a[0]))}-{re.escape(chr(a[1]))}")
                elif o is c.CATEGORY and a in (c.CATEGORY_DIGIT, c.CATEGORY_SPACE, c.CATEGORY_WORD):
                    out.append({c.CATEGORY_DIGIT: r"\d", c.CATEGORY_SPACE: r"\s", c.CATEGORY_WORD: r"\w"}[a])
                else:
                    raise ValueError(o)
            return out, False
        if op is c.SUBPATTERN:
            parts, nullable = _first_chars(av[3])
            out += parts
            if not nullable:
                return out, False
        elif op is c.BRANCH:
            any_nullable = False
            for branch in av[1]:
                parts, nullable = _first_chars(branch)
                out += parts
                any_nullable |= nullable
            if not any_nullable:
                return out, False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, _high, sub = av
            parts, nullable = _first_chars(sub)
            out += parts
            if low > 0 and not nullable:
                return out, False
        elif op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue  # zero-width: the next item supplies the first character
        else:
            raise ValueError(op)
    return out, True


def _with_prefilter(pattern: str, flags: int) -> re.Pattern[str]:
    """Compile ``pattern`` behind a one-character lookahead of every character that can start a
    match. Python's regex engine otherwise tries every branch of the alternation at every position;
    with it, most positions of an ordinary message fail on one set lookup (≈4× faster on Chinese).
    Falls back to the plain pattern when the pattern uses something the scan does not model."""
    plain = re.compile(pattern, flags)
    try:
        parts, nullable = _first_chars(_sre_parse.parse(pattern, flags).data)  # type: ignore[union-attr]
        if nullable or not parts:
            return plain
        return re.compile(f"(?=[{''.join(sorted(set(parts)))}])(?:{pattern})", flags)
    except (AttributeError, ValueError, re.error, RecursionError):
        return plain


def _check_regex(where: str, regex: str, errors: list[str]) -> None:
    try:
        compiled = re.compile(regex, re.IGNORECASE)
    except re.error as exc:
        errors.append(f"{where}: not a valid regular expression: {exc}")
        return
    if compiled.groups:
        errors.append(f"{where}: use (?:…) instead of capturing groups")
    if compiled.match(""):
        errors.append(f"{where}: matches the empty string")


def compile_lexicon(spec: Mapping[str, Any], *, prefilter: bool = True) -> Lexicon:
    """Compile the plain content of a screening rule file into a :class:`Lexicon`.

    ``spec``: ``{"lang", "version", "rules": [...], "wordlists": [...], "allow": [...],
    "negation": regex, "negation_gap": int, "word_boundaries": bool}`` — the YAML file's content, with
    each word list's ``terms`` already read (the loader reads ``file``). Raises ``ValueError`` listing
    every problem (bad regex, capturing group, duplicate id, unknown category) as a
    :class:`~arrears.domain.errors.RuleDataError`. ``prefilter=False`` compiles the bare alternation
    (same results, slower; kept for the equivalence test).
    """
    errors: list[str] = []
    lang = str(spec.get("lang", ""))
    word_boundaries = bool(spec.get("word_boundaries", lang != "zh"))
    entries: list[Entry] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()

    def add(raw: Mapping[str, Any], where: str, words: Sequence[str]) -> None:
        eid = str(raw.get("id", ""))
        category = str(raw.get("category", ""))
        if eid in seen:
            errors.append(f"{where}: duplicate id {eid!r}")
        seen.add(eid)
        if category not in CATEGORIES:
            errors.append(f"{where}: unknown category {category!r}")
        parts: list[str] = []
        for i, p in enumerate(raw.get("patterns") or ()):
            _check_regex(f"{where}.patterns[{i}]", p, errors)
            parts.append(p)
        w = _words_regex(list(words), word_boundaries=word_boundaries)
        if w:
            parts.append(w)
        if not parts:
            errors.append(f"{where}: no patterns or words")
            return
        entries.append(
            Entry(
                id=eid,
                rule_id=str(raw.get("rule_id", "")),
                category=category,
                pattern="|".join(f"(?:{p})" for p in parts),
                negatable=bool(raw.get("negatable", category in NEGATABLE_BY_DEFAULT)),
                description_zh=str(raw.get("description_zh", "")),
                description_en=str(raw.get("description_en", "")),
            )
        )

    for i, raw in enumerate(spec.get("rules") or ()):
        add(raw, f"rules[{i}]", list(raw.get("words") or ()))
    for i, raw in enumerate(spec.get("wordlists") or ()):
        skip = {str(s["term"]): str(s.get("reason", "")) for s in raw.get("skip") or ()}
        terms = [t for t in raw.get("terms") or () if t and t not in skip]
        unknown = sorted(set(skip) - set(raw.get("terms") or ()))
        if unknown:
            errors.append(f"wordlists[{i}].skip: not in the list: {', '.join(unknown)}")
        skipped.update(skip)
        add(raw, f"wordlists[{i}]", terms)

    allow = [a for a in spec.get("allow") or () if a]
    negation = spec.get("negation") or ""
    if negation:
        _check_regex("negation", negation, errors)
    if errors:
        raise RuleDataError(f"screening lexicon {lang or '?'}", errors)

    by_group = {f"r{i}": e for i, e in enumerate(entries)}

    def alternation(include_disclosure: bool) -> re.Pattern[str]:
        alts = [
            f"(?P<{g}>{e.pattern})"
            for g, e in by_group.items()
            if include_disclosure or e.category != "third_party_disclosure"
        ]
        pattern = "|".join(alts) or r"(?!x)x"
        if prefilter:
            return _with_prefilter(pattern, re.IGNORECASE)
        return re.compile(pattern, re.IGNORECASE)

    allow_re = None
    if allow:
        # Overlapping search: a lookahead finds every start; at each, the longest allowed word.
        allow_re = re.compile(f"(?=({trie_regex(allow, ignore_case=True)}))", re.IGNORECASE)
    negation_re = None
    if negation:
        gap = int(spec.get("negation_gap", 2))
        filler = r"[^\s,，。.;；!！?？]" if lang == "zh" else r"[A-Za-z'’]+\s+"
        negation_re = re.compile(rf"(?:{negation})\s*(?:{filler}){{0,{gap}}}$", re.IGNORECASE)

    return Lexicon(
        lang=lang,
        version=str(spec.get("version", "")),
        entries=tuple(entries),
        skipped=skipped,
        _debtor=alternation(False),
        _third_party=alternation(True),
        _allow=allow_re,
        _negation=negation_re,
        _by_group=by_group,
    )


# ---------------------------------------------------------------------------------------------
# Screening

#: How far back (characters) a negation is looked for before a negatable match.
_NEGATION_WINDOW = 40


_LEXICON_PROVIDER: list = []


def register_lexicon_provider(provider) -> None:
    """Set where :func:`screen` finds the packaged lexicon of a language when none is given:
    ``provider(lang) -> Lexicon``. The rule-data layer (``arrears.rules.lexicons``) registers its
    cached loader when imported; the domain itself reads no files."""
    _LEXICON_PROVIDER[:] = [provider]


def packaged_lexicon(lang: str) -> Lexicon:
    """The registered provider's lexicon for ``lang``; ``RuntimeError`` when none is registered
    (import ``arrears.rules.lexicons`` first, as the Django apps do at start-up)."""
    if not _LEXICON_PROVIDER:
        raise RuntimeError("no screening lexicon provider: import arrears.rules.lexicons (or pass lexicon=)")
    return _LEXICON_PROVIDER[0](lang)


def screen(
    text: str,
    *,
    to_third_party: bool = False,
    lang: str = "zh",
    lexicon: Lexicon | None = None,
) -> list[Match]:
    """Every prohibited span in ``text``, in order of position.

    ``to_third_party``: the message is addressed to someone other than the debtor (a contact, a
    relative, an employer); debt details are then prohibited too. ``lang``: ``"zh"`` or ``"en"``,
    which packaged lexicon to use when ``lexicon`` is not given (a given lexicon is used as is).
    An empty list means nothing was found — not that the message is approved: templates are also
    checked by the compliance gate (time, channel, party, purpose).
    """
    if lexicon is None:
        lexicon = packaged_lexicon(lang)
    if not text:
        return []
    folded = text.translate(_FOLD)
    regex = lexicon._third_party if to_third_party else lexicon._debtor
    found: list[Match] = []
    allow_spans: list[tuple[int, int]] | None = None
    by_group = lexicon._by_group
    for m in regex.finditer(folded):
        entry = by_group[m.lastgroup]  # type: ignore[index]
        start, end = m.span()
        if lexicon._allow is not None:
            if allow_spans is None:
                allow_spans = [(a.start(), a.start() + len(a.group(1))) for a in lexicon._allow.finditer(folded)]
            if any(a <= start and end <= b for a, b in allow_spans):
                continue
        if entry.negatable and lexicon._negation is not None and start:
            if lexicon._negation.search(folded, max(0, start - _NEGATION_WINDOW), start):
                continue
        found.append(Match(entry.rule_id, entry.category, start, end, text[start:end]))
    return found

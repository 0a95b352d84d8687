"""Is a page in its own language? A scan of what a person sees (the rendered, visible text).

:func:`language_problems` lists what should not be there:

* a raw code of the system's vocabularies (result codes, queue and case states, channels,
  parties, stages, template codes …, collected from the code itself — not a hand list): anywhere
  when it has an underscore (``promise_to_pay``), and otherwise as a label — the whole text of a
  cell, a caption, an option, a side of an arrow or a value after a colon (``phone``,
  ``队列: late``, ``ready → claimed``);
* on a Chinese page, Latin words; on an English page, Chinese characters.

Not words of the page's language, and so skipped: identifiers and figures set in the monospace
face (``.mono``: account and case numbers, masked phone numbers, rule ids, recording references,
strategy versions), the language switch's own names, rule ids (``CN-FREQ-03``), versions of rule
data (``cn@2026.11``), time zones,
currency codes, buckets, the brand, user names, and the people's and places' names of the data
the test passes in (``data``: masked customer names, staff names, team names, addresses).
"""
from __future__ import annotations

import re

#: what a Chinese page may show in Latin letters besides the caller's data
_LATIN_OK = re.compile(
    r"[A-Z]{2,}(?:-[A-Z0-9]+)+"           # rule ids: CN-FREQ-03, DESK-PROMISE-TODAY, US-REGF-6D-01
    r"|REC-[\w-]+"                         # recording references
    r"|\b[a-z_]+@[0-9][0-9.]*"             # versions of rule data: cn@2026.11, default@2026.11.1
    r"|UCI\d+(?:-[A-Z]?\d+)?"              # the UCI demo's customer / account numbers
    r"|[A-Z][a-z]+/[A-Za-z_]+"             # IANA time zones
    r"|\b(?:TWD|CNY|USD|HKD|EUR|JPY)\b"    # currency codes (the one formatter's)
    r"|\bM\d\+?|\bC\d+\b"                  # buckets, case numbers
    r"|\bArrears\b|\bEnglish\b"            # the brand; the language switch's own name
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def enum_codes() -> frozenset[str]:
    """Every code of the vocabularies a desk page could leak, read from the code."""
    from arrears.contexts.casework.events import declared_kinds
    from arrears.contexts.contact import words
    from arrears.contexts.contact.desk import vocabulary as V
    from arrears.contexts.contact.fieldwork.models import FieldVisit, VisitReport
    from arrears.contexts.contact.sms.models import OutboundSms
    from arrears.contexts.money.payments.models import PromiseToPay
    from arrears.contexts.money.servicing.models import PaymentPlan, Settlement
    from arrears.contexts.portfolio.models import Contact
    from arrears.domain.cases import CaseStatus
    from arrears.domain.strategy import ACTIONS
    from arrears.rules.strategy_loader import STRATEGIES_DIR, parse_strategy

    codes: set[str] = set()
    for vocabulary in (V.ACTION_CODES, V.RESULT_CODES, V.NUMBER_STATUSES, V.QUEUE_STATES, V.CALL_STATES,
                       V.THIRD_PARTY_PURPOSES, words.CHANNEL_LABELS, words.OUTCOME_LABELS, words.PARTY_LABELS,
                       words.DECISION_LABELS, words.HOLD_LABELS, words.RESTRICTION_LABELS, declared_kinds()):
        codes |= set(vocabulary)
    for choices in (CaseStatus, PromiseToPay.Status, PaymentPlan.Status, Settlement.Status, OutboundSms.Status,
                    OutboundSms.Origin, FieldVisit.Status, FieldVisit.Outcome, VisitReport.Result, Contact.Kind,
                    Contact.Party):
        codes |= {str(c.value) for c in choices}
    codes |= set(ACTIONS)
    strategy = parse_strategy((STRATEGIES_DIR / "default.yaml").read_text(encoding="utf-8"), "default")
    codes |= {s.name for s in strategy.stages}
    codes |= {"early", "late", "reminder", "overdue_notice", "ptp_broken", "zh-hans", "allow_flagged"}
    plain = {str(getattr(c, "value", c)) for c in codes}
    return frozenset(c for c in plain if c and re.fullmatch(r"[a-z][a-z0-9_-]*", c))


def visible_texts(page) -> list[str]:
    """The visible text of every element that holds text of its own (its own text nodes), with
    ``.mono`` elements (identifiers and figures) and the language switch left out."""
    return page.evaluate("""() => {
        const out = [];
        const skip = el => el.closest('.mono, code, .langswitch, script, style, [hidden]');
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
        for (let el = walker.currentNode; el; el = walker.nextNode()) {
            if (skip(el)) continue;
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            let own = '';
            for (const n of el.childNodes) if (n.nodeType === 3) own += n.textContent;
            if (el.tagName === 'OPTION' || el.tagName === 'BUTTON') own = el.textContent;
            own = own.replace(/\\s+/g, ' ').trim();
            if (own) out.push(own);
        }
        return out;
    }""")


def language_problems(page, language: str, *, data: tuple[str, ...] = ()) -> list[str]:
    """What on ``page`` is not in ``language`` (``zh`` or ``en``): raw codes, Latin words on a
    Chinese page, Chinese on an English one. ``data``: the data's own words (names, places)."""
    codes = enum_codes()
    problems = []
    for text in visible_texts(page):
        for d in sorted(data, key=len, reverse=True):
            if d:
                text = text.replace(d, " ")
        for code in codes:
            if "_" in code and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                problems.append(f"raw code {code!r} in {text!r}")
        # a single-word code as a label: the whole text of an element, a side of an arrow, or a
        # value after a colon ("队列: late", "合规结论: allow", "ready → claimed")
        parts = [text.strip(), *re.split(r"\s*(?:→|/)\s*", text.strip()),
                 *re.findall(r"[:：]\s*([a-z][a-z_-]*)", text)]
        leaked = sorted({p for p in parts if p in codes})
        if leaked:
            problems.append(f"raw code {leaked} in {text!r}")
        if language == "zh":
            rest = _LATIN_OK.sub(" ", text)
            words = _LATIN_WORD.findall(rest)
            if words:
                problems.append(f"English on a Chinese page: {words} in {text!r}")
        elif _CJK.search(text):
            problems.append(f"Chinese on an English page: {text!r}")
    return problems

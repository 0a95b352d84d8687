"""Differences between two strategy versions: the YAML text (unified diff) and what changed in
substance (rules added / removed / changed by id, rule order per ladder, parameters, stages,
segments and arms). Pure: takes two source texts and two parsed strategies."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from arrears.domain.strategy import Rule, Strategy

__all__ = ["DiffLine", "RuleChange", "StrategyDiff", "unified_diff", "structural_diff"]

#: Rule attributes compared, in the order a change is reported.
RULE_ATTRS = ("conditions", "action", "stage", "reevaluate_after_days", "skip_allowed", "ignore_min_stay",
              "immediate", "reason_zh", "reason_en")


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff; ``kind``: ``add``, ``del``, ``hunk``, ``file`` or ``ctx``."""

    kind: str
    text: str


@dataclass(frozen=True)
class RuleChange:
    rule_id: str
    ladder: str
    attrs: tuple[str, ...]


@dataclass
class StrategyDiff:
    rules_added: list[tuple[str, str]] = field(default_factory=list)      # (ladder, rule id)
    rules_removed: list[tuple[str, str]] = field(default_factory=list)
    rules_changed: list[RuleChange] = field(default_factory=list)
    order_changed: list[str] = field(default_factory=list)                 # ladder names
    ladders_added: list[str] = field(default_factory=list)
    ladders_removed: list[str] = field(default_factory=list)
    params_added: list[tuple[str, Any]] = field(default_factory=list)
    params_removed: list[tuple[str, Any]] = field(default_factory=list)
    params_changed: list[tuple[str, Any, Any]] = field(default_factory=list)
    stages_changed: list[str] = field(default_factory=list)
    segments_changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__)


def unified_diff(a_text: str, b_text: str, a_label: str, b_label: str, context: int = 3) -> list[DiffLine]:
    """``difflib.unified_diff`` of two YAML texts, each line tagged for display."""
    out = []
    for line in difflib.unified_diff(a_text.splitlines(), b_text.splitlines(), a_label, b_label,
                                      n=context, lineterm=""):
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append(DiffLine(kind, line))
    return out


def _rules_by_id(s: Strategy) -> dict[str, tuple[str, Rule]]:
    return {r.id: (name, r) for name, ladder in s.ladders.items() for r in (*ladder.rules, ladder.otherwise)}


def structural_diff(a: Strategy, b: Strategy) -> StrategyDiff:
    """What changed from ``a`` to ``b``, by rule id, ladder, parameter, stage and segment name."""
    d = StrategyDiff()
    ra, rb = _rules_by_id(a), _rules_by_id(b)
    d.rules_added = [(rb[i][0], i) for i in rb if i not in ra]
    d.rules_removed = [(ra[i][0], i) for i in ra if i not in rb]
    for i, (ladder, rule) in rb.items():
        if i not in ra:
            continue
        old_ladder, old = ra[i]
        attrs = tuple(x for x in RULE_ATTRS if getattr(old, x) != getattr(rule, x))
        if old_ladder != ladder:
            attrs = ("ladder", *attrs)
        if attrs:
            d.rules_changed.append(RuleChange(i, ladder, attrs))
    d.ladders_added = [n for n in b.ladders if n not in a.ladders]
    d.ladders_removed = [n for n in a.ladders if n not in b.ladders]
    for name, ladder in b.ladders.items():
        if name not in a.ladders:
            continue
        common = {r.id for r in a.ladders[name].rules} & {r.id for r in ladder.rules}
        if [r.id for r in a.ladders[name].rules if r.id in common] != [r.id for r in ladder.rules if r.id in common]:
            d.order_changed.append(name)
    pa, pb = a.parameters, b.parameters
    d.params_added = [(k, pb[k]) for k in pb if k not in pa]
    d.params_removed = [(k, pa[k]) for k in pa if k not in pb]
    d.params_changed = [(k, pa[k], pb[k]) for k in pb if k in pa and str(pa[k]) != str(pb[k])]
    sa, sb = {s.name: s for s in a.stages}, {s.name: s for s in b.stages}
    d.stages_changed = sorted(n for n in set(sa) | set(sb) if sa.get(n) != sb.get(n))
    ga, gb = {s.name: s for s in a.segments}, {s.name: s for s in b.segments}
    d.segments_changed = [n for n in [*ga, *(x for x in gb if x not in ga)] if ga.get(n) != gb.get(n)]
    if [s.name for s in a.segments] != [s.name for s in b.segments] and not d.segments_changed:
        d.segments_changed = [s.name for s in b.segments]
    return d

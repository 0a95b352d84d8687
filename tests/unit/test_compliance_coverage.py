"""Coverage of the rule catalogue: every rule RULES.md marks V-PRIMARY or V-SECONDARY is in a
pack, enabled, and enforced by a check that exists and implements it — so coverage cannot drop
silently. UNCERTAIN values are configurable defaults, not hard-coded law.

The catalogue is read from ``tests/fixtures/compliance_RULES.md`` (a copy of the shared file).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.domain.compliance.artifacts import ARTIFACT_CHECKS
from arrears.domain.compliance.gate import CHECKS
from arrears.rules.compliance_packs import PACKS, enforcement_problems, load_compliance_pack

RULES_MD = Path(__file__).resolve().parents[1] / "fixtures" / "compliance_RULES.md"
_ID = r"(?:CN|US)-[A-Z0-9]+(?:-[A-Z0-9]+)+"
_LABEL = re.compile(r"V-PRIMARY|V-SECONDARY|UNCERTAIN")
IN_SCOPE = {"V-PRIMARY", "V-SECONDARY"}


def catalogue() -> dict[str, set[str]]:
    """``{rule id: labels}`` from RULES.md: ``####`` rule headings (labels anywhere in the rule's
    text; section 2 is V-PRIMARY throughout) and table rows (labels in the row)."""
    text = RULES_MD.read_text(encoding="utf-8")
    # section 2 states once that every US rule in it is V-PRIMARY
    us_all_primary = "All US rules below are **V-PRIMARY**" in text
    rules: dict[str, set[str]] = {}
    section = ""
    current: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^(#{1,4})\s+(.*)$", line)
        if m:
            level = len(m.group(1))
            if level == 2:
                section = m.group(2)
            current = re.findall(_ID, m.group(2)) if level == 4 else []
            for rid in current:
                rules.setdefault(rid, set())
                if section.startswith("2.") and us_all_primary:
                    rules[rid].add("V-PRIMARY")
            continue
        row = re.match(rf"^\|\s*({_ID})\s*\|", line)
        if row:
            rules.setdefault(row.group(1), set()).update(_LABEL.findall(line))
            continue
        for rid in current:
            rules[rid].update(_LABEL.findall(line))
    return rules


CATALOGUE = catalogue()
PACK_RULES = {rid: (name, rule) for name in PACKS for rid, rule in load_compliance_pack(name).rules.items()}


def test_the_catalogue_parses():
    # guards the parser itself: a format change must not make coverage vacuous
    assert len(CATALOGUE) >= 60
    assert sum(1 for labels in CATALOGUE.values() if labels & IN_SCOPE) >= 60
    assert CATALOGUE["CN-HOURS-01"] >= {"V-SECONDARY"}
    assert CATALOGUE["US-REGF-14B-01"] == {"V-PRIMARY"}
    assert CATALOGUE["CN-FIELD-02"] == {"UNCERTAIN"}
    assert "US-REGF-6B3-01" in CATALOGUE  # two ids in one heading


@pytest.mark.parametrize("rule_id", sorted(r for r, labels in CATALOGUE.items() if labels & IN_SCOPE))
def test_every_verified_rule_is_in_a_pack_and_enforced(rule_id):
    assert rule_id in PACK_RULES, f"{rule_id} ({', '.join(sorted(CATALOGUE[rule_id]))}) is in no compliance pack"
    name, rule = PACK_RULES[rule_id]
    assert rule.enabled, f"{rule_id} is disabled in {name}"
    assert rule.enforced_by, f"{rule_id} names no check"
    assert rule.citations and all(c.text and c.source for c in rule.citations)
    assert rule.verification in ("V-PRIMARY", "V-SECONDARY")
    for check in rule.enforced_by:
        if check.startswith("gate."):
            ids, _, generic = CHECKS[check]
            assert rule_id in ids or generic
        else:
            assert rule_id in ARTIFACT_CHECKS[check][1]


def test_uncertain_only_rules_are_not_hard_coded():
    for rule_id, labels in CATALOGUE.items():
        if labels & IN_SCOPE or rule_id not in PACK_RULES:
            continue
        _, rule = PACK_RULES[rule_id]
        assert rule.verification == "UNCERTAIN"
        assert not rule.enabled or rule.layer == "policy", f"{rule_id} is UNCERTAIN yet enforced as law"


@pytest.mark.parametrize("rule_id,param", [
    ("CN-HOURS-01", "until_inclusive"), ("CN-FREQ-01", "count_answered_attempts"), ("CN-FREQ-02", "count"),
    ("CN-FREQ-02", "applies_to_products"), ("CN-FREQ-04", "min_interval_days"), ("CN-RATE-03", "court_reduction_threshold"),
    ("US-REGF-6B1-01", "until_inclusive"), ("US-REGF-14A-01", "threshold"), ("US-REGF-30A-01", "wait_days"),
    ("US-REGF-6D-02", "public_email_domains"),
])
def test_uncertain_values_are_configurable(rule_id, param):
    _, rule = PACK_RULES[rule_id]
    assert rule.param_specs[param].configurable


def test_every_pack_rule_names_real_checks():
    for name in PACKS:
        assert enforcement_problems(load_compliance_pack(name)) == []


def test_docs_list_every_pack_rule():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "compliance.md").read_text(encoding="utf-8")
    missing = [rid for rid in PACK_RULES if f"| {rid} |" not in docs]
    assert not missing, f"docs/compliance.md does not list {missing}"

"""Every compliance vector (tests/fixtures/compliance_vectors.json, a copy of the shared
vectors.json) gives its expected decision and computed values — through the domain and through
``arrears compliance_check``. The implementation reads rules, not cases: renaming ids and blanking
descriptions and expectations changes nothing."""
from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arrears.contexts.contact.compliance.vectors import evaluate_vector
from arrears.rules.compliance_packs import PACKS, load_compliance_pack

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "compliance_vectors.json"
VECTORS = json.loads(FIXTURE.read_text(encoding="utf-8"))
PACKS_LOADED = {name: load_compliance_pack(name) for name in PACKS}
NOT_VALUES = {"decision", "reason", "layer"}


def _matches(mine, expected) -> bool:
    if isinstance(expected, dict):
        return isinstance(mine, dict) and all(_matches(mine.get(k), v) for k, v in expected.items())
    return mine == expected


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector):
    d, pack = evaluate_vector(vector, PACKS_LOADED)
    exp = vector["expected"]
    assert d.decision == exp["decision"], [r.en for r in d.reasons]
    assert d.pack_version.startswith(pack.name + "@")
    if d.decision in ("deny", "escalate", "allow_flagged"):
        assert d.reasons and all(r.rule_id and r.zh and r.en for r in d.reasons)
        assert all(r.citation for r in d.reasons if r.rule_id in pack.rules)
    if d.decision == "allow":
        assert not d.reasons
    for key, value in exp.items():
        if key in NOT_VALUES:
            continue
        mine = d.details.get("history_by_debt") if key.startswith("state_after") else d.details.get(key)
        assert _matches(mine, value), f"{key}: {mine!r} != {value!r}"


def _family(rule_id: str) -> str:
    return rule_id.rsplit("-", 1)[0]  # US-REGF-14B-03 → US-REGF-14B


def test_vector_rule_family_is_among_the_reasons_when_it_fires():
    """When a vector is a violation, a rule of the family it illustrates fired (an accounting or
    exception rule — 14B-03 consent, 14B-04 per-debt counting — shows up as the 14B prohibition)."""
    missing = []
    for v in VECTORS:
        d, _ = evaluate_vector(v, PACKS_LOADED)
        if d.decision in ("deny", "escalate", "allow_flagged") and _family(v["rule_id"]) not in {_family(r) for r in d.rule_ids}:
            missing.append((v["id"], v["rule_id"], d.rule_ids))
    assert not missing, missing


def test_decisions_do_not_depend_on_ids_descriptions_or_expectations():
    for v in VECTORS:
        blind = copy.deepcopy(v)
        blind["id"] = "X-" + str(abs(hash(v["id"])))
        blind["description"] = ""
        blind["expected"] = {}
        blind["source"] = {}
        a, _ = evaluate_vector(v, PACKS_LOADED)
        b, _ = evaluate_vector(blind, PACKS_LOADED)
        assert (a.decision, a.rule_ids, a.details) == (b.decision, b.rule_ids, b.details), v["id"]


def test_command_prints_one_json_line_per_vector():
    out = io.StringIO()
    call_command("compliance_check", str(FIXTURE), stdout=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["id"] for x in lines] == [v["id"] for v in VECTORS]
    by_id = {v["id"]: v for v in VECTORS}
    for line in lines:
        exp = by_id[line["id"]]["expected"]
        assert {"id", "decision", "rule_ids"} <= set(line)
        assert line["decision"] == exp["decision"]
        if exp["decision"] == "compute":
            for k, val in exp.items():
                if k not in NOT_VALUES:
                    assert line[k] == val


def test_command_check_mode_and_details(tmp_path):
    err = io.StringIO()
    call_command("compliance_check", str(FIXTURE), "--check", "--details", stdout=io.StringIO(), stderr=err)
    assert f"all {len(VECTORS)} vectors match" in err.getvalue()
    wrong = copy.deepcopy(VECTORS[:2])
    wrong[0]["expected"]["decision"] = "allow" if wrong[0]["expected"]["decision"] != "allow" else "deny"
    path = tmp_path / "v.json"
    path.write_text(json.dumps(wrong), encoding="utf-8")
    with pytest.raises(CommandError, match="1 mismatch"):
        call_command("compliance_check", str(path), "--check", stdout=io.StringIO(), stderr=io.StringIO())


def test_command_with_overlay_records_it():
    out = io.StringIO()
    call_command("compliance_check", str(FIXTURE), "--overlay", "example_bank", stdout=out)
    lines = {json.loads(x)["id"]: json.loads(x) for x in out.getvalue().splitlines()}
    assert lines["CN-V-001"]["pack_version"] == "cn@2026.11+example_bank@1"
    # the bank's quiet hours start at 21:00: the 21:30 call of CN-V-001 is now refused
    assert lines["CN-V-001"]["decision"] == "deny"
    assert lines["US-V-001"]["pack_version"] == "us_regf@2026.11"

"""Compliance rule packs as data: schema and semantic validation with every error listed,
strictest-wins layering, overlays that may tighten but never loosen, the version on decisions."""
from __future__ import annotations

import copy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from arrears.domain.compliance import Facts, ProposedAction, decide
from arrears.domain.compliance.pack import apply_overlay, at_least_as_strict, build_pack, strictest
from arrears.domain.errors import RuleDataError
from arrears.rules import load_schema
from arrears.rules.compliance_packs import COMPLIANCE_DIR, load_compliance_pack, load_overlay

SH = ZoneInfo("Asia/Shanghai")


def cn_data() -> dict:
    return yaml.safe_load((COMPLIANCE_DIR / "cn.yaml").read_text(encoding="utf-8"))


def write(tmp_path, data, name="pack.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def test_packaged_packs_load_with_versions():
    cn, us = load_compliance_pack("cn"), load_compliance_pack("us_regf")
    assert cn.version_label == "cn@2026.11" and us.version_label == "us_regf@2026.11"
    assert cn.p("CN-HOURS-01", "allowed_until") == "22:00" and us.p("US-REGF-6B1-01", "allowed_until") == "21:00"
    assert cn.protected_layers == ("law", "regulation", "standard", "self_regulation")
    assert us.applies_to_institution_roles == ("agency", "debt_collector", "debt_buyer")
    assert not cn.has("CN-FREQ-04")  # UNCERTAIN: disabled by default
    assert load_schema("compliance_pack.schema.json")["title"]


def test_invalid_pack_lists_every_error(tmp_path):
    data = cn_data()
    rules = data["rules"]
    rules[0]["layer"] = "decree"                                   # schema + semantic
    rules[1]["severity"] = "maybe"
    rules[2]["citations"] = []
    rules[3]["enforced_by"] = ["gate.no_such_check"]
    rules[4]["parameters"] = {"max": {"value": "six", "stricter": "lower"}}
    rules.append(copy.deepcopy(rules[5]))                          # duplicate id
    data["version"] = 2026                                         # must be a string
    with pytest.raises(RuleDataError) as ei:
        load_compliance_pack(write(tmp_path, data))
    errors = "\n".join(ei.value.errors)
    for needle in ("decree", "maybe", "citations", "no_such_check", "'six'", "more than once", "version"):
        assert needle in errors, needle
    assert len(ei.value.errors) >= 7


def test_layers_that_disagree_on_an_unordered_parameter_are_refused():
    data = cn_data()
    data["rules"][0]["parameters"]["zones"]["also"] = [{"layer": "standard", "value": "primary", "source": "x"}]
    with pytest.raises(RuleDataError, match="layers disagree"):
        build_pack(data)


def test_strictest_layer_wins():
    data = cn_data()
    hours = data["rules"][0]["parameters"]
    hours["allowed_until"]["also"].append({"layer": "standard", "value": "21:30", "source": "a stricter standard"})
    hours["allowed_from"]["also"].append({"layer": "law", "value": "09:00", "source": "a stricter law"})
    pack = build_pack(data)
    assert pack.p("CN-HOURS-01", "allowed_until") == "21:30"
    assert pack.p("CN-HOURS-01", "allowed_from") == "09:00"
    assert strictest("lower", [6, 3, 9]) == 3 and strictest("higher", [2, 3]) == 3
    assert strictest("superset", [["a"], ["b", "a"]]) == ["a", "b"]
    assert strictest("subset", [["a", "b", "c"], ["c", "a"]]) == ["a", "c"]
    assert strictest("true", [False, True]) is True and strictest("false", [True, False]) is False
    assert at_least_as_strict("earlier", "21:00", "22:00") and not at_least_as_strict("earlier", "23:00", "22:00")


def test_overlay_tightens_and_is_recorded():
    pack = load_compliance_pack("cn", overlay="example_bank")
    assert pack.version_label == "cn@2026.11+example_bank@1"
    assert pack.p("CN-HOURS-01", "allowed_until") == "21:00"
    assert pack.p("CN-FREQ-01", "max_attempts_per_contact_per_day") == 5
    action = ProposedAction(datetime(2026, 3, 3, 21, 30, tzinfo=SH), "phone", contact_point="M1")
    d = decide(action, Facts(("Asia/Shanghai",)), None, pack, action.ts)
    assert d.decision == "deny" and d.rule_ids == ["CN-HOURS-01"] and d.pack_version == pack.version_label
    base = decide(action, Facts(("Asia/Shanghai",)), None, load_compliance_pack("cn"), action.ts)
    assert base.decision == "allow" and base.pack_version == "cn@2026.11"


def test_overlay_that_loosens_is_refused_with_every_error_listed():
    bad = {
        "name": "lax", "version": "1",
        "rules": {
            "CN-HOURS-01": {"parameters": {"allowed_until": "23:00", "allowed_from": "07:00"}},
            "CN-FREQ-02": {"parameters": {"max_connected_calls_per_debtor_per_day": 5}},
            "CN-WHO-01": {"enabled": False},
            "CN-REC-01": {"parameters": {"min_retention_years": 1}},
            "CN-WHO-04": {"severity": "flag"},
            "CN-NOPE-01": {},
            "CN-FREQ-01": {"parameters": {"no_such": 1, "max_attempts_per_contact_per_day": "six"}},
        },
    }
    with pytest.raises(RuleDataError) as ei:
        load_compliance_pack("cn", overlay=bad)
    text = "\n".join(ei.value.errors)
    for needle in ("'23:00' would loosen", "'07:00' would loosen", "5 would loosen", "cannot disable",
                   "1 would loosen", "cannot lower the severity", "CN-NOPE-01", "no_such", "'six'"):
        assert needle in text, needle


def test_overlay_may_set_configurable_and_policy_values_either_way():
    pack = load_compliance_pack("cn", overlay={"name": "b", "version": "2", "rules": {
        "CN-HOURS-01": {"parameters": {"until_inclusive": True}},          # UNCERTAIN boundary
        "CN-FREQ-02": {"parameters": {"count": "answered"}},                 # UNCERTAIN meaning of 拨通
        "CN-FIELD-02": {"parameters": {"field_visit_min_staff": 1}},        # the bank's own policy
        "CN-FREQ-04": {"enabled": True},                                     # enabling tightens
        "CN-OUT-04": {"severity": "block"},                                  # raising severity tightens
    }})
    assert pack.p("CN-HOURS-01", "until_inclusive") is True
    assert pack.p("CN-FREQ-02", "count") == "answered"
    assert pack.p("CN-FIELD-02", "field_visit_min_staff") == 1
    assert pack.has("CN-FREQ-04") and pack.rule("CN-OUT-04").severity == "block"


def test_us_overlay_cannot_loosen_regulation_but_can_tighten():
    with pytest.raises(RuleDataError, match="would loosen"):
        load_compliance_pack("us_regf", overlay={"name": "x", "version": "1", "rules": {
            "US-REGF-14B-01": {"parameters": {"max_calls_per_7_days": 8}}}})
    pack = load_compliance_pack("us_regf", overlay={"name": "x", "version": "1", "rules": {
        "US-REGF-14B-01": {"parameters": {"max_calls_per_7_days": 5}},
        "US-REGF-6B1-01": {"parameters": {"allowed_from": "09:00"}}}})
    assert pack.p("US-REGF-14B-01", "max_calls_per_7_days") == 5 and pack.p("US-REGF-6B1-01", "allowed_from") == "09:00"


def test_overlay_file_schema_errors_and_wrong_pack(tmp_path):
    p = write(tmp_path, {"name": "Bad Name", "version": 1, "rules": {"CN-HOURS-01": {"colour": "red"}}}, "o.yaml")
    with pytest.raises(RuleDataError) as ei:
        load_overlay(p)
    assert len(ei.value.errors) == 3
    with pytest.raises(RuleDataError, match="not 'us_regf'"):
        load_compliance_pack("us_regf", overlay="example_bank")


def test_apply_overlay_is_pure_and_stacks():
    base = load_compliance_pack("cn")
    one = apply_overlay(base, {"name": "a", "version": "1", "rules": {"CN-FREQ-01": {"parameters": {"max_attempts_per_contact_per_day": 5}}}})
    two = apply_overlay(one, {"name": "b", "version": "7", "rules": {"CN-FREQ-01": {"parameters": {"max_attempts_per_contact_per_day": 4}}}})
    assert base.p("CN-FREQ-01", "max_attempts_per_contact_per_day") == 6
    assert two.p("CN-FREQ-01", "max_attempts_per_contact_per_day") == 4
    assert two.version_label == "cn@2026.11+a@1+b@7"
    with pytest.raises(RuleDataError, match="would loosen"):
        apply_overlay(two, {"name": "c", "version": "1", "rules": {"CN-FREQ-01": {"parameters": {"max_attempts_per_contact_per_day": 6}}}})

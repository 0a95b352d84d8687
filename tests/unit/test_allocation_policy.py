"""Allocation policy rule data: the packaged file loads; invalid files list every error."""
from __future__ import annotations

from datetime import date

import pytest

from arrears.domain.allocation import keep_reason
from arrears.domain.errors import RuleDataError
from arrears.rules.allocation_loader import DEFAULT_ALLOCATION, load_allocation_policy, parse_allocation_policy


def test_default_policy_loads():
    p = load_allocation_policy()
    assert p.key == "allocation@2026.11.1" and p.sticky_days == 14
    assert [p.department_for(s) for s in ("none", "phone", "sms", "field", "legal", "agency")] == \
        ["collection", "collection", "collection", "field", "legal", "agency"]
    assert p.department_for("agency", "complaint") == "collection"
    assert p.department_for("agency", "payment_plan") == "agency"
    assert p.placement.recall_due_on(date(2026, 1, 1)) == date(2026, 4, 1)
    assert {"complaint", "dispute", "litigation", "deceased", "bankruptcy"} == p.recall.on_hold_kinds


def test_every_problem_is_listed():
    text = DEFAULT_ALLOCATION.read_text(encoding="utf-8")
    bad = (text.replace("sticky_days: 14", "sticky_days: -1")
               .replace("  agency: agency", "  agency: collection")
               .replace("term_days: 90", "term_days: 0")
               .replace("{field: balance, direction: desc}", "{field: dpd, direction: sideways}"))
    with pytest.raises(RuleDataError) as exc:
        parse_allocation_policy(bad, "bad.yaml")
    errs = exc.value.errors
    assert exc.value.source == "bad.yaml"
    assert any(e.startswith("sticky_days") for e in errs)
    assert any(e.startswith("placement.term_days") for e in errs)
    assert any(e.startswith("order[2].direction") for e in errs)
    with pytest.raises(RuleDataError) as exc:  # schema-valid but inconsistent: domain checks
        parse_allocation_policy(text.replace("  agency: agency", "  agency: collection")
                                    .replace("{field: balance, direction: desc}", "{field: dpd}"), "x")
    assert any("agency stage must map" in e for e in exc.value.errors)
    assert any("listed twice" in e for e in exc.value.errors)


def test_unreadable_and_not_yaml():
    with pytest.raises(RuleDataError):
        load_allocation_policy("/nonexistent/allocation.yaml")
    with pytest.raises(RuleDataError):
        parse_allocation_policy("version: [", "x")


def test_keep_reason():
    p = load_allocation_policy()
    d = date(2026, 11, 20)
    kw = dict(department="collection", agent_present=True, team_active=True, team_department="collection",
              team_eligible=False, assigned_on=date(2026, 11, 10))
    assert keep_reason(p, d, **kw) == (True, "sticky")
    assert keep_reason(p, d, **{**kw, "assigned_on": date(2026, 11, 1)}) == (False, "skill_changed")
    assert keep_reason(p, d, **{**kw, "assigned_on": date(2026, 11, 1), "team_eligible": True}) == (True, "still_eligible")
    assert keep_reason(p, d, **{**kw, "team_department": "field"}) == (False, "department_changed")
    assert keep_reason(p, d, **{**kw, "agent_present": False}) == (False, "absent")

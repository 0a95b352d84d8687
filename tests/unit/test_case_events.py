"""The case timeline has one write path, and its kinds are typed.

- No module but ``casework/services.py`` (``record_case_event`` / ``record_case_events``) writes
  ``CaseEvent``: no ``CaseEvent(...)``, no ``CaseEvent.objects.create / bulk_create / update …``,
  no raw SQL on ``cases_caseevent``, no use of its table name for a bulk insert.
- Every kind is declared with its data; data that does not fit is refused with an ``ArrearsError``
  listing every problem, before anything is written.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from arrears.core.errors import ArrearsError, ErrorCode

SRC = Path(__file__).resolve().parents[2] / "src"
WRITE_PATH = SRC / "arrears" / "contexts" / "casework" / "services.py"
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "update", "delete", "bulk_update", "save",
          "raw"}
SQL_WRITE = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+\"?cases_caseevent\b", re.I)


def _chain_root(node: ast.AST) -> str | None:
    """The name a chain of attributes and calls starts from (``CaseEvent`` in
    ``CaseEvent.objects.filter(...).update(...)``)."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def case_event_writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "CaseEvent":
                found.append(f"{where} CaseEvent(...)")
            elif isinstance(func, ast.Attribute) and func.attr in WRITES and _chain_root(func) == "CaseEvent":
                found.append(f"{where} CaseEvent….{func.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr == "db_table" and _chain_root(node) == "CaseEvent":
            found.append(f"{where} CaseEvent._meta.db_table")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_WRITE.search(node.value):
            found.append(f"{where} SQL writing cases_caseevent")
    return found


def all_writes() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or path == WRITE_PATH:
            continue
        out += case_event_writes(path)
    return out


def test_nothing_but_the_casework_write_path_writes_case_events():
    assert all_writes() == [], "write timeline events with arrears.contexts.casework.facade.record_case_event(s)"


def test_the_write_path_is_where_events_are_written():
    assert case_event_writes(WRITE_PATH), "the scan no longer sees the write path itself"


@pytest.mark.parametrize("code", [
    "CaseEvent.objects.create(case=c, at=now, kind='note')",
    "CaseEvent(case=c, at=now, kind='note').save()",
    "CaseEvent.objects.bulk_create(rows)",
    "CaseEvent.objects.filter(pk=1).update(kind='x')",
    "dbio.bulk_insert(CaseEvent._meta.db_table, cols, rows)",
    "cur.execute('INSERT INTO cases_caseevent (case_id) VALUES (%s)', [1])",
])
def test_the_scan_sees_a_direct_write(code):
    probe = SRC / "arrears" / "contexts" / "strategy" / "_probe_case_event_write.py"
    probe.write_text(code + "\n", encoding="utf-8")
    try:
        assert any("_probe_case_event_write.py" in w for w in all_writes())
    finally:
        probe.unlink()


# ---- kinds typed, data checked per kind ---------------------------------------------------------


def test_every_declared_kind_declares_its_data():
    from arrears.contexts.casework.events import declared_kinds

    kinds = declared_kinds()
    # the core kinds and what the money, contact and strategy contexts write
    for code in ("opened", "status_changed", "assigned", "contact_attempt", "payment_posted", "promise_broken",
                 "plan_active", "settlement_reopened", "desk_outcome", "sms_status", "field_visit"):
        assert code in kinds, code
    untyped = sorted(code for code, k in kinds.items() if not (k.required or k.optional))
    assert untyped == [], f"kinds registered without their data: {untyped}"


@pytest.mark.parametrize("kind, data, problem", [
    ("opened", {"bucket": "M1"}, "dpd: required"),
    ("opened", {"bucket": "M1", "dpd": "30"}, "dpd: int expected, got str"),
    ("opened", {"bucket": "M1", "dpd": True}, "dpd: int expected, got bool"),
    ("opened", {"bucket": "M1", "dpd": 30, "colour": "red"}, "colour: not declared for this kind"),
    ("bucket_changed", {"from": None, "to": 3, "dpd": 1}, "to: str expected, got int"),
    ("desk_hold", {"hold": 1, "kind": "dispute"}, "call: required"),
    ("payment_posted", {"payment": "P1", "amount": 100, "allocation": {}, "credit": "0.00", "order": []},
     "amount: str expected, got int"),
    ("opened", ["not", "an", "object"], "data must be a JSON object, not list"),
    ("no_such_kind", {}, "kind 'no_such_kind' is not declared"),
])
def test_data_that_does_not_fit_its_kind_is_refused(kind, data, problem):
    from arrears.contexts.casework.events import InvalidCaseEvent, check_event

    with pytest.raises(InvalidCaseEvent) as info:
        check_event(kind, data)
    err = info.value
    assert isinstance(err, ArrearsError) and err.code == ErrorCode.INVALID_EVENT
    assert problem in err.details["problems"]


def test_an_open_kind_takes_other_json_values_but_not_non_json_ones():
    from decimal import Decimal

    from arrears.contexts.casework.events import InvalidCaseEvent, check_event

    data = {"visit": 1, "from": "planned", "to": "in_progress", "distance_m": 12.5, "gate": "allow"}
    assert check_event("field_visit", data).open
    with pytest.raises(InvalidCaseEvent, match="not JSON"):
        check_event("field_visit", {**data, "amount": Decimal("1.00")})


def test_a_shape_found_valid_once_does_not_let_its_neighbours_through():
    """The check remembers valid shapes (keys and value types) for speed; a neighbour of a valid
    shape — one key fewer, one more, one type changed, the same keys in another kind — is still
    checked and refused."""
    from arrears.contexts.casework.events import InvalidCaseEvent, check_event

    good = {"bucket": "M1", "dpd": 30}
    for _ in range(2):  # the second time from the remembered shape
        assert check_event("opened", dict(good)) is check_event("opened", {"bucket": "M2", "dpd": 61})
    for data, problem in [({"bucket": "M1"}, "dpd: required"),
                          ({**good, "dpd": True}, "dpd: int expected, got bool"),
                          ({**good, "dpd": "30"}, "dpd: int expected, got str"),
                          ({**good, "colour": "red"}, "colour: not declared for this kind")]:
        with pytest.raises(InvalidCaseEvent) as info:
            check_event("opened", data)
        assert problem in info.value.details["problems"]
    with pytest.raises(InvalidCaseEvent, match="required"):
        check_event("bucket_changed", dict(good))
    # values that need the JSON check are checked every time
    visit = {"visit": 1, "from": "planned", "to": "in_progress", "distance_m": 12.5}
    check_event("field_visit", visit)
    with pytest.raises(InvalidCaseEvent, match="not JSON"):
        check_event("field_visit", {**visit, "distance_m": float("nan")})


def test_every_problem_is_listed_at_once():
    from arrears.contexts.casework.events import InvalidCaseEvent, check_event

    with pytest.raises(InvalidCaseEvent) as info:
        check_event("stage_changed", {"from": 1, "rule": "R1"})
    assert sorted(info.value.details["problems"]) == [
        "from: str expected, got int", "to: required", "trigger: required"]


def test_audited_kinds_name_their_audit_action():
    from arrears.contexts.casework.events import audited_kinds, kind_of

    assert {"payment_posted", "waiver_recorded", "desk_restriction", "desk_hold", "plan_active",
            "settlement_paid", "assigned", "field_visit"} <= audited_kinds()
    assert "opened" not in audited_kinds() and "promise_broken" not in audited_kinds()
    assert kind_of("plan_breached").audit_action({"plan": 1}) == "servicing.plan_breached"
    # a kind audited only when its data says so
    assigned = kind_of("assigned")
    assert assigned.audit_action({"from": 1, "to": 2, "by": "desk_reassign"}) == "desk.reassign"
    assert assigned.audit_action({"from": 1, "to": 2, "by": "desk_get_next"}) is None
    assert assigned.audit_action({"to_agent": 2, "change": "assign", "why": "x", "policy": "p"}) is None
    alert = kind_of("field_safety_alert")
    assert alert.audit_action({"visit": 1, "alert": 2, "kind": "overdue", "status": "resolved",
                               "by": "leader"}) == "fieldwork.alert_resolved"
    assert alert.audit_action({"visit": 1, "alert": 2, "kind": "overdue", "status": "resolved"}) is None


def test_a_kind_is_declared_once():
    from django.utils.translation import gettext_lazy as _

    from arrears.contexts.casework.events import KindSpec, register_event_kinds

    with pytest.raises(ValueError):
        register_event_kinds({"opened": KindSpec(_("立案"), required={"bucket": str})})
    with pytest.raises(ValueError):
        register_event_kinds({"desk_hold": KindSpec(_("暂停催收事由"), required={"hold": int})})

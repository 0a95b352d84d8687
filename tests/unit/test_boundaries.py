"""Context boundaries (docs/architecture.md): no context's SQL names another context's table.

Models being private to their context is an import-linter contract (pyproject.toml, checked by
``test_architecture``); SQL strings are invisible to import-linter, so this test reads every string
constant of every module under ``arrears/contexts/<context>/`` and fails when one names a table
owned by another context. Tables and their owners come from Django's app registry (``db_table`` and
the model's module), so a renamed table or a moved model cannot slip past. What still crosses is
listed in ``tests/unit/boundaries_baseline.json``; that list may only shrink (a new crossing fails,
a crossing that is gone must be taken off the list)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "arrears"
BASELINE = Path(__file__).with_name("boundaries_baseline.json")


def _context_of_path(path: Path) -> str | None:
    rel = path.relative_to(SRC).parts
    return rel[1] if rel[0] == "contexts" and len(rel) > 2 else None


def _context_of_module(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["arrears", "contexts"] and len(parts) > 3 else None


def tables() -> dict[str, str]:
    """Table name → owning context (``casework``, ``money`` …), for every model of a context."""
    from django.apps import apps

    out = {}
    for model in apps.get_models(include_auto_created=True):
        ctx = _context_of_module(model.__module__)
        if ctx:
            out[model._meta.db_table] = ctx
    return out


def foreign_sql() -> set[str]:
    owners = tables()
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, owners), key=len, reverse=True)) + r")\b")
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        ctx = _context_of_path(path)
        if ctx is None or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for t in pattern.findall(node.value):
                    if owners[t] != ctx:
                        found.add(f"{path.relative_to(SRC)} -> {t}")
    return found


def test_no_context_sql_names_another_contexts_table():
    baseline = set(json.loads(BASELINE.read_text(encoding="utf-8"))["foreign_sql"])
    current = foreign_sql()
    new = sorted(current - baseline)
    gone = sorted(baseline - current)
    assert not new, f"SQL naming another context's table (ask that context's facade): {new}"
    assert not gone, f"crossing(s) removed — take them off {BASELINE.name}: {gone}"


def test_the_check_sees_a_crossing():
    owners = tables()
    assert owners["cases_case"] == "casework" and owners["payments_payment"] == "money"
    assert owners["desk_queueitem"] == "contact" and owners["users_team"] == "org"
    probe = SRC / "contexts" / "strategy" / "_probe_boundary.py"
    probe.write_text('SQL = "SELECT 1 FROM payments_payment"\n', encoding="utf-8")
    try:
        assert "contexts/strategy/_probe_boundary.py -> payments_payment" in foreign_sql()
    finally:
        probe.unlink()

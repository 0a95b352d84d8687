"""Context boundaries (docs/architecture.md): a context's models are imported only inside it, and
no context's SQL names another context's table. What still crosses is listed in
``tests/unit/boundaries_baseline.json``; that baseline may only shrink: a new crossing fails here,
and a crossing that is gone must be taken off the list (so the list stays true)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "arrears"
CONTEXTS = SRC / "apps"
BASELINE = Path(__file__).with_name("boundaries_baseline.json")


def _context_of(path: Path) -> str | None:
    rel = path.relative_to(SRC).parts
    return rel[1] if rel[0] == "apps" and len(rel) > 2 else None


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _tables() -> dict[str, str]:
    """Table name → owning context, from the models modules (Django's default ``<label>_<model>``)."""
    out = {}
    for ctx in CONTEXTS.iterdir():
        models = ctx / "models.py"
        if not models.exists():
            continue
        for node in ast.walk(ast.parse(models.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Attribute) and b.attr == "Model" for b in node.bases):
                out[f"{ctx.name}_{node.name.lower()}"] = ctx.name
    return out


def model_imports() -> set[str]:
    found = set()
    for path, tree in _modules():
        ctx = _context_of(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                m = re.match(r"arrears\.apps\.(\w+)\.models$", node.module)
                if m and m.group(1) != ctx:
                    found.add(f"{path.relative_to(SRC)} -> {node.module}")
    return found


def foreign_sql() -> set[str]:
    tables = _tables()
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, tables), key=len, reverse=True)) + r")\b")
    found = set()
    for path, tree in _modules():
        ctx = _context_of(path)
        if ctx is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for t in pattern.findall(node.value):
                    if tables[t] != ctx:
                        found.add(f"{path.relative_to(SRC)} -> {t}")
    return found


def test_context_boundaries_only_shrink():
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    now = {"model_imports": model_imports(), "foreign_sql": foreign_sql()}
    for kind, current in now.items():
        allowed = set(baseline[kind])
        new = sorted(current - allowed)
        gone = sorted(allowed - current)
        assert not new, f"{kind}: new crossing(s) of a context boundary (use the other context's facade): {new}"
        assert not gone, f"{kind}: crossing(s) removed — take them off {BASELINE.name}: {gone}"


def test_the_checks_see_known_crossings():
    tables = _tables()
    assert tables["cases_case"] == "cases" and tables["payments_payment"] == "payments"
    # the strategy's set-based reads still name the money tables: the checks must see them
    assert "apps/strategy/selectors.py -> payments_payment" in foreign_sql()
    assert any(m.startswith("pipeline/daily.py -> arrears.apps.cases.models") for m in model_imports())

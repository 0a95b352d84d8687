"""Write the generated part of ``docs/architecture.md`` from the code, so that it cannot drift.

``python -m devtools.architecture_doc`` rewrites the text between the two markers below; with
``--check`` it exits 1 (and prints a diff) when the file is stale, which is what
``tests/unit/test_architecture_doc.py`` runs. What is generated:

* the import-linter contracts (``pyproject.toml``), by name;
* the contexts in their import order (the "Contexts in order" layers contract), each with what it
  owns (its facade's module docstring), its Django apps (label) and every public name of its
  ``facade.py`` with the first sentence of its docstring;
* the daily pipeline's order: the facade calls ``arrears.pipeline.daily.run_daily`` makes, in the
  order it makes them (helpers of the module followed into).

Static reading only (``ast`` and ``tomllib``): nothing is imported, no Django needed.
"""
from __future__ import annotations

import ast
import difflib
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "arrears"
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- generated:begin — python -m devtools.architecture_doc; do not edit by hand -->"
END = "<!-- generated:end -->"


def _first_sentence(doc: str | None) -> str:
    if not doc:
        return ""
    text = " ".join(doc.strip().split())
    m = re.match(r"(.+?\.)(\s|$)", text)
    text = m.group(1) if m else text
    if len(text) > 220:
        text = text[:220].rsplit(" ", 1)[0] + " …"
    return text


def contracts() -> list[dict]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["importlinter"]["contracts"]


def context_order() -> list[str]:
    """Contexts from the lowest (imports no other) to the highest."""
    (layers,) = [c["layers"] for c in contracts() if c["name"].startswith("Contexts in order")]
    return [m.rsplit(".", 1)[1] for m in reversed(layers)]


def _apps(ctx: str) -> list[tuple[str, str]]:
    """(module, label) of the Django apps inside a context."""
    out = []
    for apps_py in sorted((SRC / "contexts" / ctx).rglob("apps.py")):
        tree = ast.parse(apps_py.read_text(encoding="utf-8"))
        name = label = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Constant):
                if node.targets[0].id == "name":
                    name = node.value.value
                elif node.targets[0].id == "label":
                    label = node.value.value
        if name:
            out.append((name, label or name.rsplit(".", 1)[1]))
    return out


def facade(ctx: str) -> tuple[str, list[tuple[str, str]]]:
    """(what the context owns, [(public name, first sentence)]) from ``contexts/<ctx>/facade.py``."""
    tree = ast.parse((SRC / "contexts" / ctx / "facade.py").read_text(encoding="utf-8"))
    owns = _first_sentence(ast.get_docstring(tree)).removeprefix(f"The {ctx} context owns ").rstrip(".")
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            names[node.name] = f"{kind}: {_first_sentence(ast.get_docstring(node))}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and not t.id.startswith("_"):
                    names.setdefault(t.id, "value")
        elif isinstance(node, ast.ImportFrom) and node.level >= 1:
            for alias in node.names:
                shown = alias.asname or alias.name
                if not shown.startswith("_"):
                    names[shown] = f"from `{'.' * node.level}{node.module or ''}`"
    return owns, sorted(names.items(), key=lambda kv: kv[0].lower())


def pipeline_order() -> list[str]:
    """The ``<context>.<function>`` facade calls of ``run_daily``, in the order they are made."""
    tree = ast.parse((SRC / "pipeline" / "daily.py").read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    contexts = set(context_order())
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("arrears.contexts."):
            ctx = node.module.split(".")[2]
            for alias in node.names:
                if alias.name == "facade":
                    aliases[alias.asname or ctx] = ctx
                elif node.module.endswith(".facade"):
                    aliases[f"@{alias.asname or alias.name}"] = f"{ctx}.{alias.name}"
    out: list[str] = []

    def visit(fn: ast.FunctionDef, seen: set[str]) -> None:
        calls = sorted((n for n in ast.walk(fn) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        for call in calls:
            f = call.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in aliases \
                    and aliases[f.value.id] in contexts:
                step = f"{aliases[f.value.id]}.{f.attr}"
            elif isinstance(f, ast.Name) and f"@{f.id}" in aliases:
                step = aliases[f"@{f.id}"]
            elif isinstance(f, ast.Name) and f.id in functions and f.id not in seen:
                visit(functions[f.id], seen | {f.id})
                continue
            else:
                continue
            if step not in out:
                out.append(step)

    visit(functions["run_daily"], {"run_daily"})
    return out


def render() -> str:
    lines = [BEGIN, "", "### Contracts (import-linter, `pyproject.toml`; none has an ignore list)", ""]
    lines += [f"- {c['name']}" for c in contracts()]
    order = context_order()
    lines += ["", "### Contexts, lowest first", "",
              "A context imports only the contexts to its left, and of them only their `facade.py`:", "",
              "**" + " < ".join(order) + "**", ""]
    for ctx in order:
        owns, names = facade(ctx)
        apps = ", ".join(f"`{label}`" for _, label in _apps(ctx))
        lines += [f"#### {ctx} — `arrears.contexts.{ctx}.facade`", "",
                  f"Owns {owns}. Django apps (label): {apps}.", ""]
        lines += [f"- `{name}` — {what}" if what else f"- `{name}`" for name, what in names]
        lines.append("")
    lines += ["### The daily pipeline's order (`arrears.pipeline.daily.run_daily`)", ""]
    lines += [f"{i}. `{step}`" for i, step in enumerate(pipeline_order(), 1)]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render() + text[end:]


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = rewrite(text)
    if "--check" in argv:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "docs/architecture.md",
                                                       "generated"))
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

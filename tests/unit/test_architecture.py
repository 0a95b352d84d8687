"""The layering contract of pyproject.toml ([tool.importlinter]) holds: arrears.domain imports no
Django, DuckDB, Polars, pandas or pyarrow."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    proc = subprocess.run([exe, str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


#: ignore_imports of all contracts: none (issue 14 brought the baseline of 58 to zero)
LAYER_IGNORES_BASELINE = 0


def test_layer_ignores_only_shrink():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = data["tool"]["importlinter"]["contracts"]
    ignores = sum(len(c.get("ignore_imports", [])) for c in contracts)
    assert ignores <= LAYER_IGNORES_BASELINE, f"{ignores} ignored imports; the baseline was {LAYER_IGNORES_BASELINE}"
    names = {c["name"] for c in contracts}
    assert any(n.startswith("Layers:") for n in names) and any("Adapters" in n for n in names)


def _context(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["arrears", "contexts"] and len(parts) > 2 else None


def cross_context_imports() -> list[tuple[str, str]]:
    """(importer, imported) for every direct import from one context — or the daily pipeline —
    into a context that is not that context's ``facade``. (``arrears.config``, the composition
    root, mounts each context's URLs and settings name each app's config: not counted.)"""
    import grimp

    graph = grimp.build_graph("arrears", include_external_packages=False)
    found = []
    for module in sorted(graph.modules):
        mine = _context(module)
        outside = module.startswith("arrears.pipeline")
        if mine is None and not outside:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            theirs = _context(imported)
            if theirs and theirs != mine and imported != f"arrears.contexts.{theirs}.facade" \
                    and imported != f"arrears.contexts.{theirs}" and not imported.endswith(".apps"):
                found.append((module, imported))
    return found


def test_other_contexts_and_the_pipeline_import_only_a_contexts_facade():
    """DESIGN §2: ``facade.py`` is the only module of a context that another context (or the daily
    pipeline) imports. (Its models are also protected by import-linter contracts; settings name
    the apps' configs, which is why ``apps`` modules are not counted.)"""
    bad = cross_context_imports()
    assert not bad, "import the other context's facade instead:\n" + "\n".join(f"{a} -> {b}" for a, b in bad)


def test_contexts_import_only_leftwards():
    """The order of docs/architecture.md: a context imports only contexts to its left."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (order,) = [c["layers"] for c in data["tool"]["importlinter"]["contracts"]
                if c["name"].startswith("Contexts in order")]
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = [m.rsplit(".", 1)[1] for m in reversed(order)]
    assert " < ".join(names) in doc, f"docs/architecture.md must state the order {' < '.join(names)}"

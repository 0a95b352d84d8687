"""Loading compliance rule packs (``compliance/<name>.yaml``) and institution overlays.

:func:`load_compliance_pack` validates the pack against ``schemas/compliance_pack.schema.json``
(every error collected), builds it with :func:`arrears.domain.compliance.pack.build_pack` (every
semantic problem collected), checks that each rule's ``enforced_by`` names an existing check, and
applies an overlay if one is given — refusing, with every problem listed, any overlay that would
loosen a protected (law / regulation …) value. All problems of one file come in one
:class:`~arrears.domain.errors.RuleDataError`.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from arrears.domain.compliance.artifacts import ARTIFACT_CHECKS
from arrears.domain.compliance.gate import CHECKS
from arrears.domain.compliance.pack import RulePack, apply_overlay, build_pack
from arrears.domain.errors import RuleDataError

from . import RULES_DIR, _location, load_rule_file, load_schema

__all__ = ["COMPLIANCE_DIR", "OVERLAYS_DIR", "PACKS", "pack_path", "load_compliance_pack", "load_overlay",
           "enforcement_problems"]

COMPLIANCE_DIR = RULES_DIR / "compliance"
OVERLAYS_DIR = COMPLIANCE_DIR / "overlays"
#: Packaged packs by short name.
PACKS = ("cn", "us_regf")


def pack_path(name_or_path: str | Path) -> Path:
    """``"cn"`` → the packaged ``compliance/cn.yaml``; anything with a suffix or a slash is a path."""
    s = str(name_or_path)
    if s in PACKS or ("/" not in s and not s.endswith((".yaml", ".yml"))):
        return COMPLIANCE_DIR / f"{s}.yaml"
    return Path(s)


def enforcement_problems(pack: RulePack | Mapping[str, Any]) -> list[str]:
    """Rules whose ``enforced_by`` names a check that does not exist or does not implement them
    (works on a built pack or on the raw pack data, so it can report alongside other errors)."""
    if isinstance(pack, RulePack):
        pairs = [(rid, rule.enforced_by) for rid, rule in pack.rules.items()]
    else:
        pairs = [(r.get("id"), r.get("enforced_by") or ()) for r in pack.get("rules") or () if isinstance(r, Mapping)]
    out = []
    for rid, names in pairs:
        for name in names:
            if not isinstance(name, str):
                continue
            if name.startswith("gate."):
                entry = CHECKS.get(name)
                if entry is None:
                    out.append(f"rule {rid}: enforced_by {name!r} is not a gate check")
                elif rid not in entry[0] and not entry[2]:
                    out.append(f"rule {rid}: gate check {name!r} does not implement this rule")
            else:
                entry2 = ARTIFACT_CHECKS.get(name)
                if entry2 is None:
                    out.append(f"rule {rid}: enforced_by {name!r} is not an artifact check")
                elif rid not in entry2[1]:
                    out.append(f"rule {rid}: artifact check {name!r} does not implement this rule")
    return out


def load_overlay(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Read and schema-check an overlay: a mapping, a path, or a packaged overlay name
    (``overlays/<name>.yaml``). Returns ``(data, source label)``; raises :class:`RuleDataError`."""
    if isinstance(source, Mapping):
        data, label = dict(source), f"overlay {source.get('name', '?')}"
        validator = Draft202012Validator(load_schema("compliance_overlay.schema.json"))
        errors = [f"{_location(e.absolute_path)}: {e.message}"
                  for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])]
    else:
        s = str(source)
        path = OVERLAYS_DIR / f"{s}.yaml" if ("/" not in s and not s.endswith((".yaml", ".yml"))) else Path(s)
        data, errors = load_rule_file(path, "compliance_overlay.schema.json")
        label = str(path)
    if errors:
        raise RuleDataError(label, errors)
    return data, label


@lru_cache(maxsize=32)
def _load_base(path_str: str) -> RulePack:
    data, errors = load_rule_file(path_str, "compliance_pack.schema.json")
    pack = None
    try:
        if isinstance(data, Mapping):
            pack = build_pack(data, path_str)
    except RuleDataError as exc:
        errors.extend(e for e in exc.errors if e not in errors)
    if isinstance(data, Mapping):
        errors.extend(e for e in enforcement_problems(pack if pack is not None else data) if e not in errors)
    if errors or pack is None:
        raise RuleDataError(path_str, errors or ["the file does not describe a compliance pack"])
    return pack


def load_compliance_pack(name_or_path: str | Path = "cn", overlay: str | Path | Mapping[str, Any] | None = None) -> RulePack:
    """Load, validate and (optionally) tighten a compliance pack.

    ``name_or_path``: ``"cn"``, ``"us_regf"`` or a YAML path. ``overlay``: an overlay mapping, a
    path, or the name of a packaged overlay (``compliance/overlays/<name>.yaml``). Returns the
    :class:`RulePack` (its ``version_label`` — e.g. ``cn@2026.11+bank-a@3`` — goes on every decision).
    Raises :class:`RuleDataError` listing every problem. Packs are cached per path (immutable).
    """
    path = pack_path(name_or_path)
    pack = _load_base(str(path))
    if overlay is None:
        return pack
    data, label = load_overlay(overlay)
    if data.get("pack") and data["pack"] != pack.name:
        raise RuleDataError(label, [f"pack: the overlay is for {data['pack']!r}, not {pack.name!r}"])
    return apply_overlay(pack, data, label)

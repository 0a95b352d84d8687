"""Loading the allocation policy (``rules/allocation.yaml``) — schema plus domain checks.

:func:`load_allocation_policy` / :func:`parse_allocation_policy` validate against
``schemas/allocation.schema.json`` collecting **every** error, build the
:class:`~arrears.domain.allocation.AllocationPolicy` where the structure allows and add its own
consistency problems (agency stage → agency department, duplicate order fields, …), then raise one
:class:`~arrears.domain.errors.RuleDataError` (``source`` = the file, ``errors`` = all problems).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from arrears.domain.allocation import AllocationPolicy, OrderKey, PlacementRules, RecallRules
from arrears.domain.errors import RuleDataError

from . import RULES_DIR, _location, load_schema

__all__ = ["DEFAULT_ALLOCATION", "parse_allocation_policy", "load_allocation_policy", "build_allocation_policy"]

DEFAULT_ALLOCATION = RULES_DIR / "allocation.yaml"


def build_allocation_policy(data: dict[str, Any]) -> AllocationPolicy:
    """The policy object from schema-valid data (no validation beyond construction)."""
    p, r = data["placement"], data["recall"]
    return AllocationPolicy(
        version=str(data["version"]),
        sticky_days=int(data["sticky_days"]),
        departments=tuple((str(k), str(v)) for k, v in data["departments"].items()),
        order=tuple(OrderKey(o["field"], o.get("direction", "asc") == "desc") for o in data["order"]),
        placement=PlacementRules(
            term_days=int(p["term_days"]), extension_days=int(p["extension_days"]),
            max_extensions=int(p["max_extensions"]), paid_within_days=int(p["paid_within_days"]),
            retain_on_open_promise=bool(p.get("retain_on_open_promise", True)),
            default_pool=str(p.get("default_pool", "standard")),
            held_department=str(p.get("held_department", "collection")),
            rotate_on_term_end=bool(p.get("rotate_on_term_end", True)),
        ),
        recall=RecallRules(
            on_case_closed=bool(r["on_case_closed"]), on_hold_kinds=frozenset(r["on_hold_kinds"]),
            at_term_end=bool(r["at_term_end"]), on_stage_left=bool(r["on_stage_left"]),
        ),
    )


def parse_allocation_policy(text: str, source: str = "allocation") -> AllocationPolicy:
    """A validated policy from YAML ``text``; ``source`` names it in errors. Raises
    :class:`RuleDataError` listing every schema violation and every consistency problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleDataError(source, [f"not valid YAML: {exc}"]) from exc
    validator = Draft202012Validator(load_schema("allocation.schema.json"))
    errors = [
        f"{_location(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    policy = None
    if isinstance(data, dict):
        try:  # the domain checks run whenever the structure allows, so one pass lists everything
            policy = build_allocation_policy(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            policy = None
    if policy is not None:
        errors += [e for e in policy.validate(raise_on_error=False) if e not in errors]
    if errors or policy is None:
        raise RuleDataError(source, errors or ["the file does not describe an allocation policy"])
    return policy


def load_allocation_policy(path: str | Path | None = None) -> AllocationPolicy:
    """Load ``path`` (default: the packaged ``rules/allocation.yaml``); see
    :func:`parse_allocation_policy`. Raises :class:`RuleDataError` when the file cannot be read or
    is invalid (every problem listed)."""
    path = Path(path) if path is not None else DEFAULT_ALLOCATION
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleDataError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_allocation_policy(text, str(path))

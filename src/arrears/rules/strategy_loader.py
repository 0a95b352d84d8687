"""Loading collection strategies (``rules/strategies/*.yaml``) — schema plus domain checks.

:func:`load_strategy` / :func:`parse_strategy` validate against ``schemas/strategy.schema.json``
collecting **every** error, then build the :class:`~arrears.domain.strategy.Strategy` (which checks
parameter references, bucket/stage/ladder names, unique rule ids, arm shares = 100 %, a catch-all
last segment) and raise one :class:`~arrears.domain.errors.RuleDataError` listing all problems.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from arrears.domain.buckets import BucketLadder
from arrears.domain.errors import RuleDataError
from arrears.domain.strategy import Strategy, build_strategy

from . import RULES_DIR, _location, load_bucket_ladder, load_schema

__all__ = ["STRATEGIES_DIR", "DEFAULT_STRATEGY", "parse_strategy", "load_strategy"]

STRATEGIES_DIR = RULES_DIR / "strategies"
DEFAULT_STRATEGY = STRATEGIES_DIR / "default.yaml"


def parse_strategy(text: str, source: str = "strategy", ladder: BucketLadder | None = None) -> Strategy:
    """A validated strategy from YAML ``text``; ``source`` names it in errors (a file name or an
    upload). Bucket names are checked against ``ladder`` (default: the packaged bucket ladder).
    Raises :class:`RuleDataError` with every problem found."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleDataError(source, [f"not valid YAML: {exc}"]) from exc
    validator = Draft202012Validator(load_schema("strategy.schema.json"))
    errors = [
        f"{_location(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    if not isinstance(data, dict):
        raise RuleDataError(source, errors or ["the file does not describe a strategy"])
    bucket_ladder = ladder or load_bucket_ladder()
    names = [b.name for b in bucket_ladder.buckets]
    try:
        strategy = build_strategy(data, names, source, tuple(b.min_dpd for b in bucket_ladder.buckets))\
            if not errors else None
    except (KeyError, TypeError, ValueError) as exc:  # malformed beyond what the schema caught
        if isinstance(exc, RuleDataError):
            raise RuleDataError(source, errors + exc.errors) from exc
        errors.append(f"cannot build the strategy: {exc}")
        strategy = None
    if errors or strategy is None:
        if not errors:
            errors = ["the file does not describe a strategy"]
        # the domain checks still run where the structure allows, so one pass lists everything
        try:
            build_strategy(data, names, source)
        except RuleDataError as exc:
            errors += [e for e in exc.errors if e not in errors]
        except Exception:  # noqa: BLE001 — structure too broken for the domain checks; schema errors stand
            pass
        raise RuleDataError(source, errors)
    return strategy


def load_strategy(path: str | Path | None = None, ladder: BucketLadder | None = None) -> Strategy:
    """Load ``path`` (default: the packaged ``rules/strategies/default.yaml``); see :func:`parse_strategy`."""
    path = Path(path) if path is not None else DEFAULT_STRATEGY
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleDataError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_strategy(text, str(path), ladder)

"""Versioned rule data (YAML) with JSON Schemas, and their loaders.

Each loader reads a YAML file, validates it against its schema in ``schemas/`` collecting **every**
error (``iter_errors``), then runs the domain object's own checks, and raises one
:class:`~arrears.domain.errors.RuleDataError` naming the file and listing all problems. Unlike
:mod:`arrears.domain`, this package may import ``yaml`` and ``jsonschema``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from arrears.domain.buckets import Bucket, BucketLadder
from arrears.domain.errors import RuleDataError

__all__ = [
    "RULES_DIR",
    "SCHEMAS_DIR",
    "DEFAULT_BUCKETS",
    "load_schema",
    "load_rule_file",
    "load_bucket_ladder",
]

RULES_DIR = Path(__file__).resolve().parent
SCHEMAS_DIR = RULES_DIR / "schemas"
DEFAULT_BUCKETS = RULES_DIR / "buckets.yaml"


@lru_cache(maxsize=None)
def _schema_text(name: str) -> str:
    return (SCHEMAS_DIR / name).read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``schemas/<name>`` as a dict (e.g. ``"buckets.schema.json"``)."""
    return json.loads(_schema_text(name))


def _location(path: Any) -> str:
    """``buckets[2].max_dpd`` from a jsonschema error path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_rule_file(path: str | Path, schema_name: str) -> tuple[Any, list[str]]:
    """Read YAML at ``path`` and validate it against ``schemas/<schema_name>``.

    Returns ``(data, errors)`` where ``errors`` lists every schema violation as
    ``"<location>: <message>"`` (empty when valid). Raises :class:`RuleDataError` (source = the file)
    only when the file cannot be read or is not valid YAML, since nothing more can be checked then.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleDataError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleDataError(source, [f"not valid YAML: {exc}"]) from exc
    validator = Draft202012Validator(load_schema(schema_name))
    errors = [
        f"{_location(e.absolute_path)}: {e.message}"
        for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    return data, errors


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _label(v: object) -> str:
    return v if isinstance(v, str) and v.strip() else "?"  # a bad label is the schema's to report


def _ladder_from_data(data: Any) -> BucketLadder | None:
    """Build a ladder if the data is structured enough to check its shape, else ``None``.

    Used even when the schema found errors, so shape problems (gaps, overlaps …) are reported in the
    same pass. Missing labels get a placeholder: the schema already reported them.
    """
    if not isinstance(data, dict) or not isinstance(data.get("buckets"), list):
        return None
    buckets = []
    for raw in data["buckets"]:
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("name"), str)
            and _is_int(raw.get("min_dpd"))
            and (raw.get("max_dpd") is None or _is_int(raw.get("max_dpd")))
            and "max_dpd" in raw
        ):
            return None
        buckets.append(
            Bucket(
                name=raw["name"],
                min_dpd=raw["min_dpd"],
                max_dpd=raw["max_dpd"],
                label_zh=_label(raw.get("label_zh")),
                label_en=_label(raw.get("label_en")),
            )
        )
    version = data.get("version")
    return BucketLadder(version=version if isinstance(version, str) else "?", buckets=tuple(buckets))


def load_bucket_ladder(path: str | Path | None = None) -> BucketLadder:
    """Load and validate a bucket ladder; default: the packaged ``arrears/rules/buckets.yaml``.

    Returns a validated :class:`BucketLadder` (``.version``, ``.buckets``, ``.bucket_for(dpd)``,
    ``.roll(prev, cur)``). Raises :class:`RuleDataError` with ``source`` = the file path and
    ``errors`` = every schema violation plus every ladder-shape problem (gap, overlap, first bucket
    not at 0, open-ended bucket missing/duplicated/not last, duplicate names), all in one go.
    """
    path = Path(path) if path is not None else DEFAULT_BUCKETS
    data, errors = load_rule_file(path, "buckets.schema.json")
    ladder = _ladder_from_data(data)
    if ladder is not None:
        for problem in ladder.validate(raise_on_error=False):
            if problem not in errors:
                errors.append(problem)
    if errors or ladder is None:
        raise RuleDataError(str(path), errors or ["the file does not describe a bucket ladder"])
    return ladder

"""The parameters of a strategy action (动作参数): the one reader of ``action_params``.

A strategy decision stores its action's parameters as canonical JSON
(:attr:`arrears.domain.strategy.Action.params_json`: sorted keys, no spaces), e.g.
``{"priority":3,"queue":"early"}``. Which parameter each action takes is declared in
:data:`arrears.domain.strategy.ACTIONS` (``call`` → queue, priority; ``field_visit`` → priority;
``sms`` → template; ``voice_robot`` → campaign; ``agency_placement`` → pool). Every reader — the
phone desk's queue, the field-visit requests, the SMS outbox, the allocation engine — reads them
here, per case with :func:`parse` and over the portfolio with :func:`sql` (DuckDB), side by side;
``tests/unit/test_action_params_parity.py`` runs both on the same sampled rows.

The rule, field by field (one default each, never an error: one unreadable decision must not stop
the daily run, and none of the old readers raised):

* the text is read as a JSON object; anything else — ``None``, ``""``, text that is not JSON, JSON
  that is not an object (``[1]``, ``3``, ``null``) — reads as ``{}``, so every field takes its
  default. A key given twice counts once, its first value (what DuckDB's reader does; canonical
  JSON never repeats a key). Keys that are not parameters are ignored.
* ``priority`` (1 most urgent … 9 least): a JSON number, truncated towards zero (``3.7`` → 3),
  between 1 and 9; anything else — absent, ``null``, a string (``"3"``), ``true``, 0, negative,
  above 9, ``NaN`` / ``Infinity`` — is :data:`DEFAULT_PRIORITY` = **9**, the least urgent. A
  decision whose urgency cannot be read never goes ahead of one that states it: the desk queue has
  always defaulted to 9, the strategy schema allows 1 … 9 only, and the allocation order already
  put a case without a priority behind every case with one (it now ties with the 9s).
* ``queue``, ``template``, ``campaign``, ``pool``: a non-empty JSON string, else ``None`` (the
  caller's own fallback applies: the allocation policy's ``default_pool``, the SMS outbox's
  ``bad_params`` count).

Input that DuckDB's JSON reader accepts but Python's refuses is outside the contract (trailing
commas, ``{"priority":2,}``: Python reads ``{}``, DuckDB reads 2) — decisions store canonical JSON
only. Pure: no Django, no DuckDB (the SQL is text), no I/O.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from dataclasses import dataclass, fields
from typing import Any

from .errors import DomainError

__all__ = ["DEFAULT_PRIORITY", "PRIORITY_MIN", "PRIORITY_MAX", "TEXT_FIELDS", "ActionParams", "decode", "parse",
           "problems", "sql"]

#: the most and least urgent priorities the strategy may give (``rules/schemas/strategy.schema.json``)
PRIORITY_MIN, PRIORITY_MAX = 1, 9
#: the priority of a decision that gives none (or an unreadable one): the least urgent
DEFAULT_PRIORITY = PRIORITY_MAX
#: the parameters that are text (a non-empty string or ``None``)
TEXT_FIELDS = ("queue", "template", "campaign", "pool")


@dataclass(frozen=True)
class ActionParams:
    """The typed parameters of one decision's action (see the module docstring for the rule).

    ``priority`` 1 (most urgent) … 9, :data:`DEFAULT_PRIORITY` when the action gives none;
    ``queue`` the call queue; ``template`` the SMS template code; ``campaign`` the voice-robot
    campaign; ``pool`` the agency pool — each ``None`` when not given."""

    priority: int = DEFAULT_PRIORITY
    queue: str | None = None
    template: str | None = None
    campaign: str | None = None
    pool: str | None = None


FIELDS = tuple(f.name for f in fields(ActionParams))


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def decode(raw: str | dict | None) -> dict[str, Any]:
    """``raw`` as a dict: a dict as given, JSON text of an object decoded (a repeated key keeps its
    first value), anything unreadable ``{}``. Raises :class:`DomainError` only for a value that is
    neither text, a dict nor ``None`` (a programming error, not data)."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise DomainError(f"action params must be JSON text, a dict or None, not {type(raw).__name__}")
    try:
        out = json.loads(raw, object_pairs_hook=_first_key_wins)
        # a lone UTF-16 surrogate (\ud800) is not text: DuckDB's reader refuses the whole document
        json.dumps(out, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        return {}
    return out if isinstance(out, dict) else {}


def _priority(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return DEFAULT_PRIORITY
    if isinstance(v, float) and not math.isfinite(v):
        return DEFAULT_PRIORITY
    p = math.trunc(v)
    return p if PRIORITY_MIN <= p <= PRIORITY_MAX else DEFAULT_PRIORITY


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def parse(raw: str | dict | None) -> ActionParams:
    """The :class:`ActionParams` of a decision's ``action_params`` (JSON text, or a dict already
    decoded). Never raises for data: each unreadable field takes its default. Example:
    ``parse('{"priority":3,"queue":"early"}')`` → ``ActionParams(priority=3, queue="early")``;
    ``parse("")`` → ``ActionParams()`` (priority 9). Text is read once per distinct value (a day's
    decisions carry a handful of distinct params: the run parses hundreds of thousands)."""
    if isinstance(raw, str):
        return _parse_text(raw)
    return _from_dict(decode(raw))


@lru_cache(maxsize=4096)
def _parse_text(raw: str) -> ActionParams:
    return _from_dict(decode(raw))


def _from_dict(d: dict[str, Any]) -> ActionParams:
    return ActionParams(priority=_priority(d.get("priority")), **{k: _text(d.get(k)) for k in TEXT_FIELDS})


def problems(params: dict[str, Any]) -> list[str]:
    """What :func:`parse` would not read as given in a strategy's action (``{name: value}``, after
    ``$parameter`` references are resolved): a priority that is not a whole number 1 … 9, a text
    parameter that is not a non-empty string, a name that is no parameter. The strategy loader
    reports them (:class:`~arrears.domain.errors.RuleDataError`), so a stored decision always
    parses to what the strategy says."""
    out = []
    for k, v in params.items():
        if k == "priority":
            if isinstance(v, bool) or not isinstance(v, int) or not PRIORITY_MIN <= v <= PRIORITY_MAX:
                out.append(f"priority must be a whole number {PRIORITY_MIN} … {PRIORITY_MAX}, got {v!r}")
        elif k in TEXT_FIELDS:
            if _text(v) is None:
                out.append(f"{k} must be a non-empty text, got {v!r}")
        else:
            out.append(f"{k!r} is not an action parameter (known: {', '.join(FIELDS)})")
    return out


def sql(field: str, column: str) -> str:
    """The set-based :func:`parse`: a DuckDB expression giving ``field`` of the JSON text in
    ``column`` (a column name or expression of type VARCHAR), with the same value and the same
    default — ``priority`` an INTEGER (never NULL), a text field a VARCHAR or NULL. Example:
    ``sql("priority", "c.action_params")``. No SQL on the Django database reads the params (the
    desk, field and SMS services read them per case), so DuckDB is the one dialect."""
    if field not in FIELDS:
        raise DomainError(f"unknown action parameter {field!r} (known: {', '.join(FIELDS)})")
    path = f"'$.{field}'"
    valid = f"json_valid({column})"
    if field == "priority":
        num = f"CAST(json_extract({column}, {path}) AS DOUBLE)"
        return (f"(CASE WHEN {valid} AND json_type({column}, {path}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
                f"AND isfinite({num}) AND trunc({num}) BETWEEN {PRIORITY_MIN} AND {PRIORITY_MAX} "
                f"THEN CAST(trunc({num}) AS INTEGER) ELSE {DEFAULT_PRIORITY} END)")
    return (f"(CASE WHEN {valid} AND json_type({column}, {path}) = 'VARCHAR' "
            f"THEN nullif(json_extract_string({column}, {path}), '') END)")

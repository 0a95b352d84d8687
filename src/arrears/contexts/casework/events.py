"""The case timeline's event kinds: each kind typed, its data declared, and whether it is audited.

A :class:`KindSpec` says what an event of that kind carries in ``CaseEvent.data`` (the keys it
must have and may have, with their JSON types) and which audit action, if any, is written with it
(:class:`AuditRule`). The core kinds (:class:`~arrears.contexts.casework.models.CaseEvent.Kind`)
are declared here; other contexts declare theirs with :func:`register_event_kinds` from their
``AppConfig.ready`` (desk calls, SMS, visits, payments …).

The one write path — :func:`arrears.contexts.casework.services.record_case_event` and its bulk form
``record_case_events`` — checks every event against its kind here (:func:`check_event`) and writes
the audit event of an audited kind in the same transaction. Nothing else writes ``CaseEvent``
(``tests/unit/test_case_events.py`` scans the sources).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from arrears.core.errors import ArrearsError, ErrorCode, log_unexpected

from .models import CaseEvent

NONE = type(None)
#: JSON value types a data key may be declared with (``int`` never accepts ``bool``).
JSON_TYPES = (str, int, float, bool, list, dict, NONE)


class InvalidCaseEvent(ArrearsError, ValueError):
    """An event of an unknown kind, or whose data does not match its kind's declaration;
    ``details.problems`` lists every problem found."""

    code = ErrorCode.INVALID_EVENT


def _types(spec) -> tuple[type, ...]:
    types = spec if isinstance(spec, tuple) else (spec,)
    for t in types:
        if t not in JSON_TYPES:
            raise TypeError(f"{t!r} is not a JSON type ({', '.join(t.__name__ for t in JSON_TYPES)})")
    return types


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: In :attr:`AuditRule.when`: the key is present (any value) / absent.
PRESENT = _Marker("PRESENT")
ABSENT = _Marker("ABSENT")


@dataclass(frozen=True)
class AuditRule:
    """The audit action written with an event of the kind — when its data matches ``when``
    (key → a value, a tuple of values, :data:`PRESENT` or :data:`ABSENT`; empty: always).
    ``action`` may name data keys in braces (``"fieldwork.alert_{status}"``)."""

    action: str
    when: Mapping[str, object] = field(default_factory=dict)

    def matches(self, data: Mapping) -> bool:
        for key, wanted in self.when.items():
            if wanted is PRESENT or wanted is ABSENT:
                if (key in data) != (wanted is PRESENT):
                    return False
                continue
            options = wanted if isinstance(wanted, tuple) else (wanted,)
            if key not in data or data[key] not in options:
                return False
        return True

    def action_for(self, data: Mapping) -> str:
        return self.action.format_map({k: v for k, v in data.items() if isinstance(v, (str, int))})


@dataclass(frozen=True)
class KindSpec:
    """One kind of timeline event.

    - ``label``: its name on the timeline (a lazily translated message id);
    - ``required`` / ``optional``: data key → JSON type or tuple of types (``(str, NONE)``: a
      string or null); a required key must be present, an optional one may be;
    - ``open``: other keys are allowed too (any JSON value) — for kinds that carry a caller's
      details (a visit's move, an SMS status); otherwise an undeclared key is refused;
    - ``audit``: the audit rules; the first that matches the data names the audit action written
      with the event in the same transaction (none: the kind is not audited).
    """

    label: object
    required: Mapping[str, object] = field(default_factory=dict)
    optional: Mapping[str, object] = field(default_factory=dict)
    open: bool = False
    audit: tuple[AuditRule, ...] = ()

    def __post_init__(self):
        for spec in (*self.required.values(), *self.optional.values()):
            _types(spec)
        clash = set(self.required) & set(self.optional)
        if clash:
            raise ValueError(f"keys both required and optional: {sorted(clash)}")

    @property
    def is_audited(self) -> bool:
        return bool(self.audit)

    def audit_action(self, data: Mapping) -> str | None:
        """The audit action of an event with ``data`` (``None``: not audited)."""
        for rule in self.audit:
            if rule.matches(data):
                return rule.action_for(data)
        return None

    def problems(self, data) -> list[str]:
        """What is wrong with ``data`` for this kind (empty: nothing)."""
        if not isinstance(data, dict):
            return [f"data must be a JSON object, not {type(data).__name__}"]
        out = []
        for key, spec in self.required.items():
            if key not in data:
                out.append(f"{key}: required")
        for key, value in data.items():
            if not isinstance(key, str):
                out.append(f"{key!r}: keys are strings")
                continue
            spec = self.required.get(key, self.optional.get(key))
            if spec is None:
                if not self.open:
                    out.append(f"{key}: not declared for this kind")
                continue
            types = _types(spec)
            ok = any(isinstance(value, t) and not (t is int and isinstance(value, bool)) for t in types) or (
                list in types and isinstance(value, tuple))  # a tuple is written as a JSON array
            if not ok:
                names = " or ".join("null" if t is NONE else t.__name__ for t in types)
                out.append(f"{key}: {names} expected, got {type(value).__name__}")
        if not out and not all(type(v) in _SCALARS for v in data.values()):
            out += _json_problems(data)  # lists, objects and floats: is the whole of it JSON?
        return out


#: values that are JSON as they are (no need to serialise the event twice to know it)
_SCALARS = frozenset({str, int, bool, type(None)})


def _json_problems(data) -> list[str]:
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [f"data is not JSON: {exc}"]
    return []


STR, INT, LIST = str, int, list
OPT_STR, OPT_INT = (str, NONE), (int, NONE)

K = CaseEvent.Kind

#: The core kinds (labels from :class:`~arrears.contexts.casework.models.CaseEvent.Kind`).
CORE_KINDS: Mapping[str, KindSpec] = MappingProxyType({
    # the daily run (casework.services.open_cases / update_positions / transition_many)
    K.OPENED: KindSpec(K.OPENED.label, required={"bucket": STR, "dpd": INT}),
    K.STATUS_CHANGED: KindSpec(K.STATUS_CHANGED.label, optional={"trigger": STR}),
    K.BUCKET_CHANGED: KindSpec(K.BUCKET_CHANGED.label, required={"from": OPT_STR, "to": STR, "dpd": INT}),
    # the allocation (strategy) or the desk (get-next from the team pool; a supervisor's reassignment,
    # audited as ``desk.reassign``)
    K.ASSIGNED: KindSpec(
        K.ASSIGNED.label,
        optional={"from": OPT_INT, "to": OPT_INT, "by": STR, "from_agent": OPT_INT, "to_agent": OPT_INT,
                  "from_team": OPT_INT, "to_team": OPT_INT, "change": STR, "why": OPT_STR, "policy": OPT_STR},
        audit=(AuditRule("desk.reassign", {"by": "desk_reassign"}),),
    ),
    # an agent's note on the case (casework.services.add_case_note): the text and where it was written
    K.NOTE: KindSpec(K.NOTE.label, required={"text": STR}, optional={"source": STR}),
    # the contact gate (contact.compliance)
    K.CONTACT_BLOCKED: KindSpec(K.CONTACT_BLOCKED.label, required={
        "channel": STR, "at": STR, "decision": STR, "rule_ids": LIST, "reasons": LIST, "next_allowed_at": OPT_STR,
        "pack_version": STR, "caller_kind": STR, "caller": STR}),
    K.CONTACT_ATTEMPT: KindSpec(K.CONTACT_ATTEMPT.label, required={
        "attempt": INT, "channel": STR, "direction": STR, "outcome": STR, "caller_kind": STR, "caller": STR,
        "decision": STR, "rule_ids": LIST, "pack_version": STR}),
    # the strategy and the allocation
    K.STAGE_CHANGED: KindSpec(K.STAGE_CHANGED.label,
                               required={"from": STR, "to": STR, "rule": STR, "trigger": STR}),
    **{kind: KindSpec(kind.label, required={"agency": OPT_INT, "pool": OPT_STR, "why": OPT_STR,
                                             "recall_due_on": OPT_STR, "extensions": INT})
       for kind in (K.PLACED, K.RECALLED, K.RETAINED)},
})

#: Kinds other contexts declared (:func:`register_event_kinds`): code → kind.
REGISTERED: dict[str, KindSpec] = {}

#: A kind registered with a label only (before kinds were typed): any JSON object of data.
_UNTYPED = dict(open=True)


def register_event_kinds(kinds: Mapping[str, object]) -> None:
    """Declare timeline event kinds of another context: code → :class:`KindSpec` (or a bare label,
    for a kind whose data is not declared: any JSON object). Call from the context's
    ``AppConfig.ready``; registering the same declaration again is a no-op. Raises ``ValueError``
    when a code is a core kind or already declared otherwise."""
    for code, spec in kinds.items():
        kind = spec if isinstance(spec, KindSpec) else KindSpec(spec, **_UNTYPED)
        old = REGISTERED.get(code)
        if code in CORE_KINDS or (old is not None and not _same(old, kind)):
            raise ValueError(f"event kind {code!r} is already declared")
        REGISTERED[code] = kind


def _same(a: KindSpec, b: KindSpec) -> bool:
    return (a.label is b.label or str(a.label) == str(b.label)) and (
        a.required, a.optional, a.open, a.audit) == (b.required, b.optional, b.open, b.audit)


def kind_of(code: str) -> KindSpec | None:
    """The declaration of a kind (``None``: not declared)."""
    return CORE_KINDS.get(code) or REGISTERED.get(code)


def kind_label(code: str) -> str:
    """The kind's name in the active language (its code when the kind is not declared)."""
    kind = kind_of(code)
    return str(kind.label) if kind is not None else code


def declared_kinds() -> dict[str, KindSpec]:
    """Every declared kind: the core kinds, then the registered ones."""
    return {**CORE_KINDS, **REGISTERED}


def audited_kinds() -> frozenset[str]:
    """The kinds written with an audit event (always, or when their data matches a rule)."""
    return frozenset(code for code, kind in declared_kinds().items() if kind.is_audited)


def check_event(code: str, data) -> KindSpec:
    """The kind's declaration when ``data`` fits it; :class:`InvalidCaseEvent` listing every
    problem otherwise (an unknown kind, a missing or undeclared key, a wrong type, not JSON)."""
    kind = kind_of(code)
    if kind is None:
        raise InvalidCaseEvent(f"unknown case event kind {code!r}", field="kind",
                               details={"kind": code, "problems": [f"kind {code!r} is not declared"]})
    # the daily run writes hundreds of thousands of events of a few shapes: a shape (keys and the
    # types of their values, all JSON scalars) already found valid for this kind is valid again
    shape = (id(kind), tuple(data), tuple(map(type, data.values()))) if type(data) is dict else None
    if shape is not None and shape in _VALID_SHAPES:
        return kind
    problems = kind.problems(data)
    if problems:
        raise InvalidCaseEvent(f"case event {code!r}: " + "; ".join(problems), field="data",
                               details={"kind": code, "problems": problems})
    if shape is not None and _SCALARS.issuperset(shape[2]):
        if len(_VALID_SHAPES) >= _MAX_SHAPES:
            _VALID_SHAPES.clear()
        _VALID_SHAPES.add(shape)
    return kind


#: shapes of valid event data (see :func:`check_event`); bounded (open kinds vary their keys)
_VALID_SHAPES: set[tuple] = set()
_MAX_SHAPES = 4096


# ---------------------------------------------------------------------------------------------
# an event in words
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFacts:
    """What a describer reads of one timeline event: its kind, data, ``from_status`` /
    ``to_status`` (the states the kind moves between — case statuses, queue states, number
    statuses …), ``currency``, the case's primary currency (for amounts stored without one), and
    ``timezone``, the debtor's (for times stored in the data)."""

    kind: str
    data: Mapping
    from_status: str = ""
    to_status: str = ""
    currency: str = ""
    #: the debtor's IANA time zone (times in the data are shown in it)
    timezone: str = ""


#: code → ``describer(EventFacts) -> str``: the event's data in words, in the active language.
DESCRIBERS: dict[str, Callable[[EventFacts], str]] = {}

#: The kinds whose ``from_status`` / ``to_status`` are case statuses (the page names them with
#: the case status labels); every other kind's states are its describer's to name.
CASE_STATUS_KINDS = frozenset({K.OPENED, K.STATUS_CHANGED})


def register_event_describer(code: str, describer: Callable[[EventFacts], str]) -> None:
    """Say how events of kind ``code`` read on the timeline: ``describer(facts)`` returns the
    event in words in the active language (results, amounts, states by their names — never a
    code). Any declared kind, core or registered (the context that writes it knows its words);
    call from ``AppConfig.ready``. The same describer again is a no-op; another one a ``ValueError``."""
    if DESCRIBERS.get(code, describer) is not describer:
        raise ValueError(f"event kind {code!r} already has a describer")
    DESCRIBERS[code] = describer


def describe_event(facts: EventFacts) -> str:
    """The event in words (``""``: the kind has no describer, or nothing to add). A describer that
    fails (old data of another shape) is logged with its traceback and the event shows its kind
    only — the rest of the timeline still shows."""
    describer = DESCRIBERS.get(facts.kind)
    if describer is None or not isinstance(facts.data, Mapping):
        return ""
    try:
        return str(describer(facts) or "")
    except Exception as exc:  # a bug in a describer must not take the case page down
        log_unexpected(exc, f"timeline describer of {facts.kind!r}")
        return ""


__all__ = ["AuditRule", "KindSpec", "InvalidCaseEvent", "NONE", "PRESENT", "ABSENT", "register_event_kinds", "kind_of", "kind_label",
           "declared_kinds", "audited_kinds", "check_event", "CORE_KINDS", "EventFacts", "register_event_describer",
           "describe_event", "CASE_STATUS_KINDS"]

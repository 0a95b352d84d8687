"""The casework context owns cases — one per delinquent customer — their lifecycle (open / update / close through the one declared transition map), the typed timeline with its audit in one write, each role's data scope (a registry the other contexts fill) and the case page with its panels (a registry).

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context
#
# The contact channels (compliance gate, phone desk, SMS, field visits) read a case's header facts,
# the day's strategy decisions, the queue's inputs and the timeline, and write timeline events and
# the case's assignee through these functions (model imports inside them: this module stays light).

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple


@dataclass(frozen=True)
class CaseHeader:
    """A case's header facts. ``amounts``: every currency's figures, the primary currency first
    (:func:`arrears.contexts.casework.selectors.case_amounts`: rows with ``currency``, ``overdue``,
    ``balance``, Decimal major units); ``total_balance`` / ``overdue_amount`` / ``currency`` are the
    primary currency's. ``stage`` / ``action`` / ``action_params`` / ``decision_on``: the strategy
    decision in force (``""`` / ``None`` without one)."""

    id: int
    customer_id: int
    status: str
    is_closed: bool
    bucket: str
    max_dpd: int
    currency: str
    total_balance: Decimal
    overdue_amount: Decimal
    amounts: tuple
    team_id: int | None
    assigned_to_id: int | None
    score_band: str
    stage: str
    action: str
    action_params: str
    decision_on: date | None
    last_run_as_of: date | None


def _header(c) -> CaseHeader:
    from .selectors import case_amounts

    return CaseHeader(c.pk, c.customer_id, c.status, c.is_closed, c.bucket, c.max_dpd, c.currency, c.total_balance,
                      c.overdue_amount, tuple(case_amounts(c)), c.team_id, c.assigned_to_id, c.score_band, c.stage,
                      c.action, c.action_params, c.decision_on, c.last_run_as_of)


def case_header(case_id: int) -> CaseHeader | None:
    """The header facts of case ``case_id`` (``None``: no such case). One query. No data scope:
    the caller has checked the user may see the case."""
    from .models import Case

    c = Case.objects.filter(pk=case_id).first()
    return _header(c) if c is not None else None


def open_cases_of(customer_ids: Iterable[int]) -> list[CaseHeader]:
    """The open cases (``closed_on`` not set) of these customers, by id. One query."""
    from .models import Case

    return [_header(c) for c in Case.objects.filter(customer_id__in=list(customer_ids), closed_on__isnull=True)
            .order_by("id")]


@dataclass(frozen=True)
class DecidedCase:
    """An open case whose strategy decision of the day is one action: its ``action_params`` as
    stored (JSON text) and the team the allocation gave it (``None``: none)."""

    id: int
    customer_id: int
    team_id: int | None
    action_params: str


def decided_cases(action: str, as_of: date) -> list[DecidedCase]:
    """The open cases whose strategy decision of business date ``as_of`` is ``action`` (``sms``,
    ``field_visit`` …), in no particular order. One query (set-based, for the daily run)."""
    from .models import Case

    return [DecidedCase(*row) for row in Case.objects.filter(action=action, decision_on=as_of, closed_on__isnull=True)
            .values_list("id", "customer_id", "team_id", "action_params").iterator(5000)]


class QueueFacts(NamedTuple):
    """What the phone desk's queue keeps of an open case: its team and agent (``None``: none), the
    strategy's ``action_params`` (JSON text), score band and worst DPD."""

    id: int
    team_id: int | None
    assigned_to_id: int | None
    action_params: str
    score_band: str
    max_dpd: int


def active_case_facts(*, action: str | None = None, case_ids: Iterable[int] | None = None) -> Iterator[QueueFacts]:
    """The open cases in an active status (:data:`arrears.domain.cases.ACTIVE_STATUSES`: not on hold),
    with strategy action ``action`` when given, among ``case_ids`` when given — streamed (read in
    chunks of 5,000 ids; set-based for the whole portfolio)."""
    from arrears.domain.cases import ACTIVE_STATUSES

    from .models import Case

    active = [s.value for s in ACTIVE_STATUSES]
    base = Case.objects.filter(closed_on__isnull=True, status__in=active)
    if action is not None:
        base = base.filter(action=action)
    cols = ("id", "team_id", "assigned_to_id", "action_params", "score_band", "max_dpd")
    if case_ids is None:
        yield from (QueueFacts(*r) for r in base.values_list(*cols).iterator(5000))
        return
    ids = list(case_ids)
    for i in range(0, len(ids), 5000):
        yield from (QueueFacts(*r) for r in base.filter(pk__in=ids[i:i + 5000]).values_list(*cols))


def case_assignee(case_id: int, *, lock: bool = False) -> int | None:
    """The user id the case is assigned to (``None``: nobody, or no such case); ``lock``: the case
    row is locked for the caller's transaction (``SELECT … FOR UPDATE``)."""
    from .models import Case

    qs = Case.objects.select_for_update() if lock else Case.objects
    return qs.filter(pk=case_id).values_list("assigned_to_id", flat=True).first()


def assign_case(case_id: int, agent_id: int, on: date, *, team_id: int | None = None) -> None:
    """Assign the case to user ``agent_id`` from local date ``on`` (and to team ``team_id`` when
    given). Writes no timeline event: the caller writes its own ``assigned`` event with its reason."""
    from .models import Case

    fields = {"assigned_to_id": agent_id, "assigned_on": on}
    if team_id is not None:
        fields["team_id"] = team_id
    Case.objects.filter(pk=case_id).update(**fields)


# record_case_event (one timeline event, with its audit event when the kind is audited) and
# register_event_kinds (a context's typed kinds): below, with the timeline's one write path.


@dataclass(frozen=True)
class TimelineEntry:
    """One timeline event: ``data`` as stored (a dict for the kinds written here), ``actor`` the
    username (``""``: the system)."""

    at: datetime
    kind: str
    data: dict
    actor: str


def case_timeline(case_id: int, limit: int = 60, *, kinds: Iterable[str] | None = None) -> list[TimelineEntry]:
    """The case's latest ``limit`` timeline events (of ``kinds`` when given), newest first. One query."""
    from .models import CaseEvent

    events = CaseEvent.objects.filter(case_id=case_id)
    if kinds is not None:
        events = events.filter(kind__in=list(kinds))
    events = events.select_related("actor").order_by("-at", "-id")[:limit]
    return [TimelineEntry(e.at, e.kind, e.data, e.actor.get_username() if e.actor_id else "") for e in events]



# ---------------------------------------------------------------- used by money and strategy
# (the case's strategy fields are written only here and by casework itself; the daily pipeline and
# the contact context reach cases through their own sections)

from .models import CaseEvent  # noqa: E402
from .services import EventRow, NewCase  # noqa: E402  (frozen dataclasses of the case writes)

#: the core timeline event kinds (a ``TextChoices``: each member equals its string, e.g. ``"stage_changed"``)
EventKind = CaseEvent.Kind

#: the columns of :func:`cases_sql`, in order
CASE_COLUMNS = (
    "case_id", "customer_id", "status", "opened_on", "closed_on", "bucket", "max_dpd", "total_balance",
    "overdue_amount", "currency", "score_band", "stage", "stage_since", "strategy_version", "segment", "arm",
    "rule_id", "action", "action_params", "decision_on", "next_review_on", "assigned_to_id", "team_id",
    "assigned_on",
)


def cases_sql() -> str:
    """Every case as a relation, for another context's set-based SQL (``FROM ({cases_sql()}) c``):
    a ``SELECT`` without parameters yielding :data:`CASE_COLUMNS` — ``case_id``, ``customer_id``,
    ``status`` (a :class:`arrears.domain.cases.CaseStatus` value), ``opened_on`` / ``closed_on``
    (dates; ``closed_on`` NULL while open), ``bucket``, ``max_dpd``, ``total_balance`` /
    ``overdue_amount`` (decimal, the primary currency's), ``currency``, ``score_band`` ('' when
    none), the strategy decision in force (``stage``, ``stage_since``, ``strategy_version``,
    ``segment``, ``arm``, ``rule_id``, ``action``, ``action_params``, ``decision_on``,
    ``next_review_on``; '' / NULL before the first decision) and the assignment
    (``assigned_to_id``: the agent's user id, ``team_id``, ``assigned_on``; NULL when unassigned)."""
    from .models import Case

    cols = ", ".join(("id AS case_id", *CASE_COLUMNS[1:]))
    return f"SELECT {cols} FROM {Case._meta.db_table}"


def record_events(events, at=None) -> int:
    """Append timeline events (:class:`EventRow`, bulk); ``at`` (aware instant) defaults to now.
    Returns the number written. The same write as :func:`record_case_events` (kinds checked, audit
    events of audited kinds written with them)."""
    from .services import record_case_events as record

    return record(events, at=at)


def open_cases(new, as_of, reason: str | None = None) -> int:
    """Open one case per :class:`NewCase` (status ``open``, an ``opened`` event each, with
    ``reason``: a message id). Returns the number opened. Call inside ``transaction.atomic``."""
    from .services import open_cases as open_

    return open_(new, as_of) if reason is None else open_(new, as_of, reason=reason)


def update_positions(rows, as_of) -> int:
    """Refresh open cases' figures: rows of ``(case_id, bucket, previous_bucket, max_dpd,
    total_balance, overdue_amount, currency, amounts_json)``; a bucket change writes a
    ``bucket_changed`` event. Returns the number of rows."""
    from .services import update_positions as update

    return update(rows, as_of)


def transition_many(cases, to_status, *, as_of=None, actor_id: int | None = None, reason: str = "",
                    data: dict | None = None) -> int:
    """Move each ``(case_id, current_status)`` to ``to_status`` through the declared map, with a
    ``status_changed`` event each (``IllegalTransition``, ``StaleCase``, ``DomainError`` as
    :func:`arrears.contexts.casework.services.transition_many`). Returns the number moved."""
    from .services import transition_many as move

    return move(cases, to_status, as_of=as_of, actor_id=actor_id, reason=reason, data=data)


def open_case_for_customer(customer_id: int, *, latest: bool = False):
    """The customer's open case as a :class:`~arrears.contexts.casework.selectors.CaseRef`
    (``id``, ``customer_id``, ``status``, ``bucket``, ``opened_on``, ``closed_on``, ``currency``,
    ``timezone``, ``is_closed``), or ``None``; with ``latest=True`` and none open, their latest
    closed case. No data scope: for services, not for users."""
    from .selectors import open_case_for_customer as find

    return find(customer_id, latest=latest)


def case_ref(case_id: int, user=None):
    """Case ``case_id`` as a ``CaseRef`` (see :func:`open_case_for_customer`), or ``None`` when
    there is no such case — or, with ``user``, when it is outside that user's data scope."""
    from .models import Case
    from .scope import visible_cases
    from .selectors import CaseRef

    qs = Case.objects.all() if user is None else visible_cases(user)
    row = (qs.filter(pk=case_id).values_list("id", "customer_id", "status", "bucket", "opened_on", "closed_on",
                                              "currency", "customer__timezone").first())
    return CaseRef(*row) if row else None


def case_position(case_id: int) -> dict | None:
    """The figures the case rule compares (:func:`arrears.domain.cases.case_action`):
    ``{"bucket", "max_dpd", "total_balance", "overdue_amount", "amounts"}`` of case ``case_id``,
    or ``None``."""
    from .models import Case

    return (Case.objects.filter(pk=case_id)
            .values("bucket", "max_dpd", "total_balance", "overdue_amount", "amounts").first())


def case_statuses(case_ids) -> dict[int, str]:
    """``{case_id: status}`` of these cases (unknown ids are left out); read in chunks."""
    from .models import Case

    ids = list(case_ids)
    out: dict[int, str] = {}
    for i in range(0, len(ids), 5000):
        out.update(Case.objects.filter(pk__in=ids[i:i + 5000]).values_list("pk", "status"))
    return out


def case_strategy_fields(case_id: int) -> dict | None:
    """The strategy decision in force on case ``case_id``: ``{"stage", "stage_since",
    "strategy_version", "segment", "arm", "rule_id", "action", "action_params", "decision_on",
    "next_review_on"}`` ('' / ``None`` before the first decision), or ``None`` for no such case."""
    from .models import Case

    return (Case.objects.filter(pk=case_id)
            .values("stage", "stage_since", "strategy_version", "segment", "arm", "rule_id", "action",
                    "action_params", "decision_on", "next_review_on").first())


#: the strategy fields :func:`write_decisions` writes, in the order of its rows
DECISION_COLUMNS = ("stage", "stage_since", "strategy_version", "segment", "arm", "rule_id", "action",
                    "action_params", "next_review_on")


def write_decisions(rows, as_of) -> int:
    """Write the strategy decision in force on cases, in bulk: rows of ``(case_id, *DECISION_COLUMNS)``
    (``stage`` '' for no stage; dates as ``date``); ``decision_on`` becomes ``as_of``. Call inside
    the caller's transaction. Returns the number of rows."""
    from arrears.core import dbio

    from .models import Case

    return dbio.bulk_update(Case._meta.db_table, "id", (*DECISION_COLUMNS, "decision_on"),
                            ((*r[:10], as_of) for r in rows))


def write_assignments(rows) -> int:
    """Assign cases in bulk: rows of ``(case_id, agent_id, team_id, assigned_on)`` (``None`` for
    unassigned). Writes no event (the caller records ``assigned`` events). Returns the row count."""
    from arrears.core import dbio

    from .models import Case

    return dbio.bulk_update(Case._meta.db_table, "id", ("assigned_to_id", "team_id", "assigned_on"), rows)


def open_case_actions() -> tuple:
    """The strategy's actions in force on open cases: ``(latest decision_on or None,
    {action: cases}, {(segment, arm): {action: cases}})``, over open cases with an action."""
    from django.db.models import Count, Max

    from .models import Case

    open_cases_ = Case.objects.filter(closed_on__isnull=True).exclude(action="")
    as_of = open_cases_.aggregate(d=Max("decision_on"))["d"]
    in_force = {r["action"]: r["n"] for r in open_cases_.values("action").annotate(n=Count("id")).order_by()}
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for r in open_cases_.values("segment", "arm", "action").annotate(n=Count("id")).order_by():
        cells.setdefault((r["segment"], r["arm"]), {})[r["action"]] = r["n"]
    return as_of, in_force, cells




# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


# -- the timeline: one write for the case event and, for an audited kind, its audit event


def record_case_event(case_id: int | None, kind: str, data: dict | None = None, *, as_of: date | None = None,
                      actor=None, actor_id: int | None = None, from_status: str = "", to_status: str = "",
                      reason: str = "", at: datetime | None = None, request=None, audit_obj=None,
                      audit_data: dict | None = None, audit_reason: str | None = None) -> int:
    """Write one timeline event and, when its kind is audited, its audit event, in one transaction
    (:func:`arrears.contexts.casework.services.record_case_event`). ``kind``: a declared kind;
    ``data`` must fit it (else :class:`InvalidCaseEvent`, nothing written); ``actor``: the user who
    acted (or only their id, ``actor_id``); ``at``: when (aware; default now). ``case_id`` ``None``:
    only the audit event of an audited kind. Returns the timeline events written (0 or 1)."""
    from .services import record_case_event as record

    return record(case_id, kind, data, as_of=as_of, actor=actor, actor_id=actor_id, from_status=from_status,
                  to_status=to_status, reason=reason, at=at, request=request, audit_obj=audit_obj,
                  audit_data=audit_data, audit_reason=audit_reason)


def record_case_events(events, at=None, *, request=None) -> int:
    """Write many timeline events set-based (:class:`EventRow` each), with the audit events of the
    audited ones, in one transaction; every event is checked first (:class:`InvalidCaseEvent`:
    nothing written). Returns the timeline events written."""
    from .services import record_case_events as record

    return record(events, at, request=request)


def register_event_describer(code: str, describer) -> None:
    """Say how events of kind ``code`` read on the timeline: ``describer(facts)`` (an
    :class:`EventFacts`: kind, data, from/to state, the case's currency) returns the event in words
    in the active language — never a code. From ``AppConfig.ready``
    (:func:`arrears.contexts.casework.events.register_event_describer`)."""
    from .events import register_event_describer as register

    register(code, describer)


def case_events(case_id: int, limit: int = 100) -> list:
    """The case's latest ``limit`` timeline events in words, newest first, as the case page shows
    them (``kind_label``, ``from_label`` / ``to_label``, ``detail``, ``actor``, ``reason``); one
    query, no scope check (the caller read the case through the user's scope)."""
    from .selectors import case_events as events

    return events(case_id, limit)


def add_case_note(user, case_id: int, text: str, *, source: str = "case_page", now: datetime | None = None) -> None:
    """An agent's note on a case: a ``note`` timeline event through the one write
    (:func:`arrears.contexts.casework.services.add_case_note`; ``CaseNotFound`` outside the user's
    scope, ``NoteRefused`` for an empty or too long note or a look-only role)."""
    from .services import add_case_note as add

    add(user, case_id, text, source=source, now=now)


def register_event_kinds(kinds: dict) -> None:
    """Declare the timeline event kinds a context writes: code → :class:`KindSpec` (its label, the
    data keys it must and may carry with their JSON types, and its audit rules, if audited). Call
    from ``AppConfig.ready`` (:func:`arrears.contexts.casework.events.register_event_kinds`)."""
    from .events import register_event_kinds as register

    register(kinds)


def audited_kinds() -> frozenset[str]:
    """The declared kinds written with an audit event (always, or when their data matches a rule)."""
    from .events import audited_kinds as audited

    return audited()


#: The kinds' declarations, loaded when first asked for: ``KindSpec`` and ``AuditRule`` (a kind's
#: data and audit rules; ``PRESENT`` / ``ABSENT`` in a rule's ``when``), ``InvalidCaseEvent`` (the
#: error), ``NONE`` (null, for a key's types). ``EventRow`` (one event for :func:`record_case_events`)
#: and ``NewCase`` are imported with the section above; ``EventKind`` there is the core kinds' enum.
_LAZY = {"KindSpec": "events", "AuditRule": "events", "InvalidCaseEvent": "events", "NONE": "events",
         "PRESENT": "events", "ABSENT": "events", "EventFacts": "events", "NoteRefused": "services",
         "NOTE_MAX_LENGTH": "services"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__package__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- what other contexts add to casework (from their AppConfig.ready)


def register_scope_rule(role: str, *, case_ids=None, customer_ids=None) -> None:
    """Widen ``role``'s data scope from the registering context's records: ``case_ids(user)`` /
    ``customer_ids(user)`` give the ids (a subquery or a list) of the cases, or of the customers
    whose cases, the user may see (:func:`arrears.contexts.casework.scope.register_scope_rule`)."""
    from .scope import register_scope_rule as register

    register(role, case_ids=case_ids, customer_ids=customer_ids)


def register_reveal_condition(role: str, kind: str, condition) -> None:
    """When ``role`` may reveal a ``kind`` of personal value in full on a case:
    ``condition(user, case_id, today) -> bool`` (a field agent: an address on the day of their own
    visit; :func:`arrears.contexts.casework.scope.register_reveal_condition`)."""
    from .scope import register_reveal_condition as register

    register(role, kind, condition)


def register_case_panel(name: str, provider) -> None:
    """Add a panel to the case page: ``provider(request, case_id)`` gives the value the page's
    template shows under ``name`` (:mod:`arrears.contexts.casework.panels`)."""
    from .panels import register_case_panel as register

    register(name, provider)


def register_case_payments(provider) -> None:
    """List payments on the case page: ``provider(account_ids, limit)`` returns at most ``limit``
    payments on those accounts, newest first, each with ``account_id``, ``external_id``,
    ``paid_at``, ``local_date``, ``amount`` (Decimal) and ``channel``
    (:func:`arrears.contexts.casework.panels.register_case_payments`)."""
    from .panels import register_case_payments as register

    register(provider)


# -- the daily run (arrears.pipeline.daily)

def read_open_cases():
    """The open cases as an Arrow table of :data:`arrears.engines.daily.OPEN_CASE_SCHEMA`
    (``case_id, customer_id, status, case_bucket, case_max_dpd, case_balance, case_overdue,
    case_amounts``; money as exact decimal text)."""
    from .selectors import read_open_cases as read

    return read()


def close_cured(cases, as_of: date) -> int:
    """Close ``(case_id, current_status)`` as ``closed_cured`` through the case state machine (the
    declared map; ``IllegalTransition`` / ``StaleCase``: nothing written), a ``status_changed``
    event each (the daily run's reason, translated on the desk). Returns the cases closed."""
    from arrears.domain.cases import CaseStatus

    from .services import REASON_CURED, transition_many

    return transition_many(cases, CaseStatus.CLOSED_CURED, as_of=as_of, reason=REASON_CURED)


def count_open_cases() -> int:
    """How many cases are open."""
    from .models import Case

    return Case.objects.filter(closed_on__isnull=True).count()


# -- retention and subject access (arrears.pipeline.retention / .subject)


@dataclass(frozen=True)
class ErasureCandidate:
    """A customer with no open case whose latest case closed before the cut-off (``last_closed_on``,
    a local date) and whose personal data was not purged since (or who came back after a purge)."""

    customer_id: int
    external_id: str
    last_closed_on: date


def erasure_candidates(closed_before: date, *, customer_id: int | None = None) -> list[ErasureCandidate]:
    """The customers due for erasure of their personal data: every case closed, the latest before
    ``closed_before``, and not purged yet — or purged before a later case (the customer came back
    and the card system sent their data again). Oldest closure first; only ``customer_id`` when
    given (a re-check inside the purge's transaction)."""
    from .selectors import erasure_candidates as candidates

    return candidates(closed_before, customer_id=customer_id)


def subject_records(customer_id: int) -> dict:
    """The customer's cases and case timeline for subject access, JSON-ready
    (:func:`arrears.core.privacy.export.row`): ``{"cases": [...], "case_events": [...],
    "_labels": {section: model label}}``."""
    from .selectors import subject_records as records

    return records(customer_id)

# ---------------------------------------------------------------- re-exported for other contexts
# (presentation helpers, the data scope, services another context calls as they are)
from .apis import CurrencyAmountsSerializer  # noqa: E402,F401
from .scope import declares_scope, scope_for, visible_cases  # noqa: E402,F401
from .selectors import CaseNotFound, amounts_of, case_amounts, case_detail, event_label, in_case_order  # noqa: E402,F401
from .views import desk_login_required  # noqa: E402,F401

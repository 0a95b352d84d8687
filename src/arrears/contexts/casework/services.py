"""Writes to cases. Every status change goes through :func:`transition_many` (or its one-case
form :func:`transition`), which checks the declared map in :mod:`arrears.domain.cases` and writes
the timeline event in the same transaction.

The timeline has one write path: :func:`record_case_event` (one event) and :func:`record_case_events`
(set-based, the daily run's). Each checks the event against its kind
(:mod:`arrears.contexts.casework.events`: kinds typed, data declared per kind) and writes the audit
event of an audited kind in the same transaction. No other module writes ``CaseEvent``.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from arrears.core import dbio
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.cases import CaseStatus, check_transition
from arrears.domain.errors import DomainError

from .models import Case, CaseEvent

EVENT_COLUMNS = ("case_id", "at", "as_of", "kind", "from_status", "to_status", "actor_id", "reason", "data")


#: Reasons the daily run records (message ids: the desk shows them translated).
REASON_DELINQUENT = gettext_noop("日终批处理：客户逾期，立案")
REASON_CURED = gettext_noop("日终批处理：全部账户恢复正常（出催）")


class StaleCase(ArrearsError, RuntimeError):
    """The case's status changed under us (another worker moved it first)."""

    code = ErrorCode.STALE_CASE


@dataclass(frozen=True)
class NewCase:
    customer_id: int
    bucket: str
    max_dpd: int
    total_balance: Decimal
    overdue_amount: Decimal
    currency: str
    #: per-currency figures, canonical JSON (:func:`arrears.domain.cases.amounts_json`)
    amounts: str = "{}"


@dataclass(frozen=True)
class EventRow:
    """One timeline event to write (:func:`record_case_events`).

    ``data`` must fit the kind's declaration (:mod:`arrears.contexts.casework.events`). For an
    audited kind the audit event is about ``audit_obj`` (default: the case) with ``audit_data``
    (default: ``data``) and ``audit_reason`` (default: ``reason``). ``case_id`` ``None``: there is
    no case to put it on — only the audit event of an audited kind is written."""

    case_id: int | None
    kind: str
    as_of: date | None = None
    from_status: str = ""
    to_status: str = ""
    actor_id: int | None = None
    reason: str = ""
    data: dict | None = None
    audit_obj: object = None
    audit_data: dict | None = None
    audit_reason: str | None = None


def record_case_event(
    case_id: int | None,
    kind: str,
    data: dict | None = None,
    *,
    as_of: date | None = None,
    actor=None,
    actor_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    at: datetime | None = None,
    request=None,
    audit_obj=None,
    audit_data: dict | None = None,
    audit_reason: str | None = None,
) -> int:
    """Write one timeline event and, when its kind is audited, its audit event — one call, one
    transaction: both are written or neither (:func:`record_case_events` for many).

    ``kind``: a declared kind (``CaseEvent.Kind`` or registered, :mod:`~arrears.contexts.casework.events`);
    ``data``: fits the kind (else :class:`~arrears.contexts.casework.events.InvalidCaseEvent`, nothing
    written); ``as_of``: the business date; ``actor``: the user who acted (or ``None``: the system;
    ``actor_id``: only their id — an audited kind then reads the user);
    ``at``: when (default now); ``request``: where from, for the audit event. ``audit_obj`` /
    ``audit_data`` / ``audit_reason``: what the audit event is about (default the case, ``data``,
    ``reason``). ``case_id`` ``None`` writes only the audit event of an audited kind. Returns the
    timeline events written (0 or 1)."""
    if actor is not None:
        actor_id = getattr(actor, "pk", None)
    row = EventRow(case_id, kind, as_of, from_status, to_status, actor_id, reason, data, audit_obj, audit_data,
                   audit_reason)
    actors = {actor.pk: actor} if getattr(actor, "pk", None) is not None else {}
    return _write_events([row], at, request, actors)


def record_case_events(events: Iterable[EventRow], at: datetime | None = None, *, request=None) -> int:
    """Write many timeline events set-based (one bulk insert) with the audit events of the audited
    ones, in one transaction. Every event is checked against its kind first: one bad event raises
    :class:`~arrears.contexts.casework.events.InvalidCaseEvent` and nothing is written. ``at``
    defaults to now (aware, UTC). Returns the timeline events written."""
    return _write_events(list(events), at, request, {})


#: The name before the one write path was typed (same function).
record_events = record_case_events


def _write_events(rows: list[EventRow], at: datetime | None, request, actors: dict) -> int:
    from arrears.contexts.audit import facade as audit

    from .events import check_event

    audited = []
    for e in rows:
        data = e.data or {}
        action = check_event(e.kind, data).audit_action(data)
        if action is not None:
            audited.append((e, action))
    timeline = [e for e in rows if e.case_id is not None]
    if not timeline and not audited:
        return 0
    at = at or timezone.now()
    # both or neither: inside the caller's transaction a failure marks it for rollback (no savepoint:
    # no extra round trips on the desk's hot requests); alone, a transaction of its own
    with transaction.atomic(savepoint=False):
        at_value, days = dbio.db_value(at), {}  # adapted once: one time and a few dates for many rows
        n = dbio.bulk_insert(
            CaseEvent._meta.db_table, EVENT_COLUMNS,
            ((e.case_id, at_value, days[e.as_of] if e.as_of in days else days.setdefault(e.as_of, dbio.db_value(e.as_of)),
              e.kind, e.from_status, e.to_status, e.actor_id, e.reason, json.dumps(e.data or {}))
             for e in timeline),
        ) if timeline else 0
        if audited:
            wanted = {e.actor_id for e, _ in audited if e.actor_id is not None} - set(actors)
            if wanted:
                from django.contrib.auth import get_user_model

                actors = {**actors, **get_user_model().objects.in_bulk(wanted)}
            for e, action in audited:
                audit.record_audit_event(
                    action, actor=actors.get(e.actor_id), request=request,
                    obj=e.audit_obj if e.audit_obj is not None else (
                        ("cases.case", e.case_id) if e.case_id is not None else None),
                    reason=e.audit_reason if e.audit_reason is not None else e.reason,
                    data=e.audit_data if e.audit_data is not None else (e.data or {}))
    return n


def open_cases(new: Sequence[NewCase], as_of: date, reason: str = REASON_DELINQUENT) -> int:
    """Open one case per customer in ``new`` (status ``open``) with an ``opened`` event each.

    The database's partial unique constraint refuses a second open case for a customer.
    Returns the number of cases opened. Call inside ``transaction.atomic``.
    """
    if not new:
        return 0
    table = Case._meta.db_table
    cols = ("customer_id", "status", "opened_on", "bucket", "max_dpd", "total_balance", "overdue_amount", "currency",
            "amounts", "last_run_as_of")
    dbio.bulk_insert(
        table,
        cols,
        ((n.customer_id, CaseStatus.OPEN.value, as_of, n.bucket, n.max_dpd, n.total_balance, n.overdue_amount,
          n.currency, n.amounts or "{}", as_of) for n in new),
    )
    wanted = {n.customer_id: n for n in new}
    # read the new ids completely before writing: a COPY cannot share the connection with a cursor
    ids = list(Case.objects.filter(opened_on=as_of, closed_on__isnull=True, status=CaseStatus.OPEN.value)
               .values_list("id", "customer_id"))
    events = (
        EventRow(cid, "opened", as_of, "", CaseStatus.OPEN.value, None, reason,
                 {"bucket": wanted[cust].bucket, "dpd": wanted[cust].max_dpd})
        for cid, cust in ids if cust in wanted
    )
    record_case_events(events)
    return len(new)


def update_positions(rows: Sequence[tuple[int, str, str | None, int, Decimal, Decimal, str, str]],
                     as_of: date) -> int:
    """Refresh open cases' figures: rows of ``(case_id, bucket, previous_bucket, max_dpd,
    total_balance, overdue_amount, currency, amounts)`` (the primary currency's figures and the
    per-currency JSON, :class:`arrears.domain.cases.CustomerPosition`). A bucket change also writes
    a ``bucket_changed`` event."""
    if not rows:
        return 0
    dbio.bulk_update(
        Case._meta.db_table,
        "id",
        ("bucket", "max_dpd", "total_balance", "overdue_amount", "currency", "amounts", "last_run_as_of"),
        ((r[0], r[1], r[3], r[4], r[5], r[6], r[7] or "{}", as_of) for r in rows),
    )
    record_case_events(
        EventRow(r[0], "bucket_changed", as_of, data={"from": r[2], "to": r[1], "dpd": r[3]})
        for r in rows if r[2] is not None and r[1] != r[2]
    )
    return len(rows)


def transition_many(
    cases: Sequence[tuple[int, str]],
    to_status: str | CaseStatus,
    *,
    as_of: date | None = None,
    actor_id: int | None = None,
    reason: str = "",
    data: dict | None = None,
) -> int:
    """Move each ``(case_id, current_status)`` to ``to_status``.

    Every move is checked against the declared map first (``IllegalTransition`` if any is not
    allowed: nothing is written); closing before a case's ``opened_on`` raises ``DomainError``. The update is conditional on the status still being the one
    given, so a concurrent change raises :class:`StaleCase` and the transaction rolls back.
    Closing sets ``closed_on`` (``as_of``, or today in the business time zone). Writes one
    ``status_changed`` event per case. Returns the number of cases moved.
    """
    target = CaseStatus(to_status)
    by_from: dict[str, list[int]] = defaultdict(list)
    for case_id, current in cases:
        by_from[current].append(case_id)
    for current in by_from:  # each move checked once, not once per case (a status and its enum are one key)
        check_transition(current, target)
    by_from = {CaseStatus(current).value: ids for current, ids in by_from.items()}
    if not by_from:
        return 0
    day = as_of or timezone.localdate()
    closed_on = day if target.is_closed else None
    moved = 0
    if closed_on is not None:
        ids = [cid for cid, _ in cases]
        for i in range(0, len(ids), 5_000):
            early = Case.objects.filter(id__in=ids[i:i + 5_000], opened_on__gt=closed_on).values_list("id", flat=True)
            if early:
                raise DomainError(f"case(s) {list(early)[:5]} would close on {closed_on}, before they opened")
    with transaction.atomic():
        for src, ids in by_from.items():
            for i in range(0, len(ids), 5_000):
                chunk = ids[i: i + 5_000]
                n = Case.objects.filter(id__in=chunk, status=src).update(status=target.value, closed_on=closed_on)
                if n != len(chunk):
                    raise StaleCase(f"{len(chunk) - n} case(s) were no longer {src!r}")
                moved += n
        record_case_events(
            EventRow(cid, "status_changed", as_of, src, target.value, actor_id, reason, data)
            for src, ids in by_from.items() for cid in ids
        )
    return moved


def transition(case: Case, to_status: str | CaseStatus, *, actor=None, reason: str = "", as_of: date | None = None) -> Case:
    """Move one case (see :func:`transition_many`); returns the refreshed case."""
    transition_many([(case.pk, case.status)], to_status, as_of=as_of, actor_id=getattr(actor, "pk", None),
                    reason=reason)
    case.refresh_from_db()
    return case


# --- notes ----------------------------------------------------------------------------------------

#: The longest note an agent may write (characters).
NOTE_MAX_LENGTH = 2000
#: Where a note was written: the case page or the phone desk's call workspace.
NOTE_SOURCES = frozenset({"case_page", "desk"})


class NoteRefused(ArrearsError, ValueError):
    """A note that is empty or too long (``bad_note``), or a role that may only look (``read_only``)."""

    code = ErrorCode.BAD_NOTE

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.BAD_NOTE) -> None:
        super().__init__(message, code=code, field="text" if code == ErrorCode.BAD_NOTE else None)


def add_case_note(user, case_id: int, text: str, *, source: str = "case_page", now: datetime | None = None) -> None:
    """An agent's note on a case: a ``note`` timeline event (its text and where it was written,
    ``source`` one of :data:`NOTE_SOURCES`) by ``user``, through the one timeline write.

    Raises :class:`~arrears.contexts.casework.selectors.CaseNotFound` for a case outside the
    user's data scope, :class:`NoteRefused` for a role that may only look (``read_only``) or a note
    that is empty or longer than :data:`NOTE_MAX_LENGTH` (``bad_note``); nothing is written then."""
    from .scope import scope_for, visible_cases
    from .selectors import CaseNotFound

    if source not in NOTE_SOURCES:
        raise ValueError(f"unknown note source {source!r} (one of {sorted(NOTE_SOURCES)})")
    now = now or timezone.now()
    if not visible_cases(user).filter(pk=case_id).exists():
        raise CaseNotFound(case_id)
    if scope_for(user).read_only:
        raise NoteRefused("this role may look but not write notes", code=ErrorCode.READ_ONLY)
    text = (text or "").strip()
    if not text or len(text) > NOTE_MAX_LENGTH:
        raise NoteRefused(f"a note has 1 to {NOTE_MAX_LENGTH} characters (got {len(text)})")
    record_case_event(case_id, CaseEvent.Kind.NOTE, {"text": text, "source": source}, as_of=timezone.localdate(now),
                      actor=user, at=now)


# --- revealing personal data ---------------------------------------------------------------------


class RevealRefused(ArrearsError, PermissionError):
    """A reveal was refused; ``code`` is ``not_allowed``, ``reason_required`` or ``rate_limited``."""

    code = ErrorCode.NOT_ALLOWED

    #: what the person asking reads (``message`` stays the technical text)
    TEXT = {"not_allowed": gettext_lazy("您的角色无权查看完整信息。"),
            "reason_required": gettext_lazy("请填写查看原因。"),
            "rate_limited": gettext_lazy("查看次数已达上限，请稍后再试。")}

    def __init__(self, code: str, message: str) -> None:
        super().__init__(self.TEXT.get(code), code=code, detail=message,
                         field="reason" if code == ErrorCode.REASON_REQUIRED else None)


MIN_REASON_LENGTH = 4


def reveal_personal_value(user, case_id: int, target: str, reason: str, *, today: date | None = None) -> str:
    """Return one full personal value of a case in ``user``'s scope, and audit it (``pii.reveal``).

    ``target`` names the value: ``customer.name``, ``customer.national_id``,
    ``contact.<id>.value`` or ``contact.<id>.party_name``.

    Raises :class:`~arrears.contexts.casework.selectors.CaseNotFound` when the case is outside the scope
    (the attempt is audited as ``access.denied``), :class:`RevealRefused` when the role may not
    see that kind of value (a field agent sees an address only on the day of their own visit),
    when no reason is given, or when the user has reached ``ARREARS_REVEAL_LIMIT_PER_HOUR``
    reveals in the last hour; refusals are audited as ``pii.reveal_refused``.
    """
    from datetime import timedelta

    from django.conf import settings

    from arrears.contexts.audit.facade import count_audit_events as count_events
    from arrears.contexts.audit.facade import record_audit_event as record

    from .scope import can_reveal, visible_cases
    from .selectors import CaseNotFound

    today = today or timezone.localdate()
    case = visible_cases(user).select_related("customer").filter(pk=case_id).first()
    if case is None:
        record("access.denied", actor=user, obj=("cases.case", case_id), data={"action": "reveal", "target": target})
        raise CaseNotFound(case_id)
    try:
        kind, value = _resolve_target(case, target)
    except CaseNotFound:
        # e.g. another customer's contact id under this case's URL: denied like a foreign case
        record("access.denied", actor=user, obj=case, data={"action": "reveal", "target": target})
        raise

    def refuse(code: str, message: str):
        record("pii.reveal_refused", actor=user, obj=case, reason=reason or "",
               data={"target": target, "kind": kind, "refusal": code})
        return RevealRefused(code, message)

    if not can_reveal(user, kind, case.pk, today):
        raise refuse("not_allowed", "this role may not see this value in full")
    if len((reason or "").strip()) < MIN_REASON_LENGTH:
        raise refuse("reason_required", "a reason is required")
    limit = settings.ARREARS_REVEAL_LIMIT_PER_HOUR
    if count_events(actor=user, action="pii.reveal", since=timezone.now() - timedelta(hours=1)) >= limit:
        raise refuse("rate_limited", f"at most {limit} reveals per hour")
    record("pii.reveal", actor=user, obj=case, reason=reason.strip(), data={"target": target, "kind": kind})
    return value


def _resolve_target(case, target: str) -> tuple[str, str]:
    from arrears.contexts.portfolio.facade import customer_contact

    from .selectors import CaseNotFound

    parts = target.split(".")
    customer = case.customer
    if parts == ["customer", "name"]:
        return "name", customer.name
    if parts == ["customer", "national_id"]:
        return "national_id", customer.national_id
    if len(parts) == 3 and parts[0] == "contact" and parts[1].isdigit() and parts[2] in ("value", "party_name"):
        contact = customer_contact(customer.pk, int(parts[1]))
        if contact is not None:
            if parts[2] == "party_name":
                return "name", contact.party_name
            from .scope import CONTACT_REVEAL_KIND

            return CONTACT_REVEAL_KIND.get(contact.kind, "other"), contact.value
    raise CaseNotFound(case.pk)  # no such value on this case: answered like an unknown case

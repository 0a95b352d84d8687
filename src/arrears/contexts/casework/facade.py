"""The casework context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


# -- the timeline: one write for the case event and, for an audited kind, its audit event


def record_case_event(case_id: int | None, kind: str, data: dict | None = None, *, as_of: date | None = None,
                      actor=None, from_status: str = "", to_status: str = "", reason: str = "", at=None,
                      request=None, audit_obj=None, audit_data: dict | None = None,
                      audit_reason: str | None = None) -> int:
    """Write one timeline event and, when its kind is audited, its audit event, in one transaction
    (:func:`arrears.contexts.casework.services.record_case_event`). ``kind``: a declared kind;
    ``data`` must fit it (else :class:`InvalidCaseEvent`, nothing written). ``case_id`` ``None``:
    only the audit event of an audited kind. Returns the timeline events written (0 or 1)."""
    from .services import record_case_event as record

    return record(case_id, kind, data, as_of=as_of, actor=actor, from_status=from_status, to_status=to_status,
                  reason=reason, at=at, request=request, audit_obj=audit_obj, audit_data=audit_data,
                  audit_reason=audit_reason)


def record_case_events(events, at=None, *, request=None) -> int:
    """Write many timeline events set-based (:class:`EventRow` each), with the audit events of the
    audited ones, in one transaction; every event is checked first (:class:`InvalidCaseEvent`:
    nothing written). Returns the timeline events written."""
    from .services import record_case_events as record

    return record(events, at, request=request)


def register_event_kinds(kinds: dict) -> None:
    """Declare the timeline event kinds a context writes: code → :class:`EventKind` (its label, the
    data keys it must and may carry with their JSON types, and its audit rules, if audited). Call
    from ``AppConfig.ready`` (:func:`arrears.contexts.casework.events.register_event_kinds`)."""
    from .events import register_event_kinds as register

    register(kinds)


def audited_kinds() -> frozenset[str]:
    """The declared kinds written with an audit event (always, or when their data matches a rule)."""
    from .events import audited_kinds as audited

    return audited()


#: Types declared with the write path, loaded when first asked for (the facade imports no model
#: at import time): ``EventRow`` (one event for :func:`record_case_events`), ``EventKind`` and
#: ``AuditRule`` (a kind's declaration; ``PRESENT`` / ``ABSENT`` in its ``when``), ``InvalidCaseEvent``
#: (the error), ``NONE`` (null, for a key's types), ``NewCase`` (a case the daily run opens).
_LAZY = {"EventRow": "services", "NewCase": "services", "EventKind": "events", "AuditRule": "events",
         "InvalidCaseEvent": "events", "NONE": "events", "PRESENT": "events", "ABSENT": "events"}


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


def open_cases(new, as_of: date) -> int:
    """Open one case per :class:`NewCase` (status ``open``) with an ``opened`` event each; returns
    the cases opened. Call inside the run's transaction."""
    from .services import open_cases as open_

    return open_(new, as_of)


def update_positions(rows, as_of: date) -> int:
    """Refresh open cases' figures: rows ``(case_id, bucket, previous_bucket, max_dpd,
    total_balance, overdue_amount, currency, amounts_json)``; a bucket change writes a
    ``bucket_changed`` event. Returns the cases updated."""
    from .services import update_positions as update

    return update(rows, as_of)


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

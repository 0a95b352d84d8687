"""The audit context owns the audit log — append-only, hash-chained audit events (who did what to which object, from where) — the retention policy and its erasers, and the audit part of a subject-access export.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


def record_audit_event(action: str, *, actor=None, obj=None, reason: str = "", data: dict | None = None,
                       request=None) -> int:
    """Append one event to the audit log (:func:`arrears.contexts.audit.services.record`: the
    hash-chained, append-only log) and return its id.

    ``action``: ``area.verb``; ``actor``: the user who acted (default: the request's user, else
    ``system``); ``obj``: a model instance or an ``(object_type, object_id)`` pair such as
    ``("cases.case", 42)``; ``reason``: free text; ``data``: JSON-able details (dates and decimals
    become strings) — never the personal values themselves; ``request``: where from. Inside an
    outer transaction the event commits or rolls back with it."""
    from .services import record

    return record(action, actor=actor, obj=obj, reason=reason, data=data, request=request).pk


def count_audit_events(*, actor=None, action: str | None = None, since=None, obj=None) -> int:
    """How many audit events match: by ``actor`` (a user), ``action``, at or after ``since`` (an
    aware datetime), about ``obj`` (a model instance or an ``(object_type, object_id)`` pair)."""
    from .counts import count_events

    return count_events(actor=actor, action=action, since=since, obj=obj)


#: the audit log's own model labels (a subject-access export reads it through :func:`events_about`)
AUDIT_MODEL_LABELS = ("audit.auditevent",)


def events_about(ids: dict[str, set]) -> list[dict]:
    """The audit events about any of these objects (model label → primary keys), oldest first, as
    ``{"id", "at", "action", "object_type", "object_id", "reason", "data"}`` — without the staff
    account, IP address and user agent (a subject-access export)."""
    from django.db.models import Q

    from .models import AuditEvent

    about = Q()
    for label, pks in ids.items():
        if pks:
            about |= Q(object_type=label, object_id__in=[str(pk) for pk in pks])
    if not about:
        return []
    return [
        {"id": e.id, "at": e.at.isoformat(), "action": e.action, "object_type": e.object_type,
         "object_id": e.object_id, "reason": e.reason, "data": e.data}
        for e in AuditEvent.objects.filter(about).order_by("id")
    ]


#: the data class of a customer's personal data after their last case closed (retention policy key)
from .retention import CLOSED_CASE_PII  # noqa: E402 (settings only: safe at import)


def retention_policy() -> dict:
    """The validated retention policy: ``{data class: days or None}``
    (:func:`arrears.contexts.audit.retention.policy`)."""
    from .retention import policy

    return policy()


def run_retention_erasers(customer) -> int:
    """Run every eraser other contexts registered (:func:`arrears.contexts.audit.retention.register_eraser`)
    on a customer being purged (``customer``: the portfolio's customer); returns the records they erased."""
    from .retention import run_erasers

    return run_erasers(customer)


def register_retention_eraser(name: str, fn) -> None:
    """Let a context erase its own personal data of a customer the retention policy purges:
    ``fn(customer) -> int`` (records erased), run in the purge's transaction. Call from
    ``AppConfig.ready`` (:func:`arrears.contexts.audit.retention.register_eraser`)."""
    from .retention import register_eraser

    register_eraser(name, fn)

"""Background re-decisions of the strategy (django-tasks: the database backend and
``arrears db_worker`` in production and the demo; eager with the immediate backend, as in the
tests that ask for the ``immediate_tasks`` fixture).

An event that changes what the strategy would decide for one case — a payment posted, a promise
taken or broken, a visit reported, a hold opened, a number found invalid — asks for a re-decision
with :func:`reevaluate_after_commit`. The re-decision (:func:`~.services.reevaluate_case`, a DuckDB
evaluation of about 0.1 s) runs in the worker after the event's transaction commits, never inside
the request that recorded the event: the agent's answer does not wait for it, and a failure of the
re-decision cannot undo the event (the next daily run decides again anyway). The contexts acting on
decisions then follow the new one: the strategy sends
:data:`~arrears.contexts.strategy.relations.case_redecided`, which the contact context connects (in
its ``AppConfig.ready()``) to the phone queue's sync of that case — the strategy imports no contact code.
"""
from __future__ import annotations

import logging
from datetime import date

from django.db import transaction
from django_tasks import task

log = logging.getLogger("arrears.strategy")

__all__ = ["reevaluate", "reevaluate_after_commit"]


@task()
def reevaluate(case_id: int, trigger: str, as_of: str) -> dict:
    """Re-decide case ``case_id`` for ``trigger`` (one of ``services.TRIGGERS``) on business date
    ``as_of`` (ISO ``YYYY-MM-DD``), then send ``case_redecided`` (the phone queue follows). Returns
    ``{"case_id", "action", "stage"}`` (empty action: the case is closed or unknown)."""
    from . import services
    from .relations import case_redecided

    day = date.fromisoformat(as_of)
    decision = services.reevaluate_case(case_id, trigger, day)
    case_redecided.send(sender=services, case_ids=[case_id], as_of=day)
    return {"case_id": case_id, "action": getattr(decision, "action", "") or "",
            "stage": getattr(decision, "stage", "") or ""}


def reevaluate_after_commit(case_id: int | None, trigger: str, as_of: date) -> None:
    """Queue a re-decision of ``case_id`` once the current transaction commits (at once outside
    one). Nothing for ``case_id`` ``None``. ``ValueError`` at once for a trigger the strategy does
    not know (``services.TRIGGERS``: the caller's bug, not something to find in the worker's log).
    A backend that cannot take the task is logged, not raised: the event that asked for it stands."""
    from .services import TRIGGERS

    if trigger not in TRIGGERS:
        raise ValueError(f"unknown re-decision trigger {trigger!r} (known: {', '.join(sorted(TRIGGERS))})")
    if case_id is None:
        return

    def enqueue() -> None:
        try:
            reevaluate.enqueue(case_id, trigger, as_of.isoformat())
        except Exception:
            log.exception("could not queue the re-decision of case %s (%s)", case_id, trigger)

    transaction.on_commit(enqueue)

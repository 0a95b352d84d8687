"""The contact context owns contacting debtors — the compliance gate and the contact ledger, the phone desk (queue, calls, outcomes), SMS (templates, outbox, SMPP) and field visits (外访: requests, routes, check-in, reports, safety).

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy
# The strategy sits left of contact and imports none of its code: contact hands it its relations and
# follows its re-decisions through the strategy's registry (arrears.contexts.strategy.relations),
# connected once from the desk's AppConfig.ready() by connect_to_strategy().


def contact_attempts_relation() -> str:
    """The contact ledger as a relation for the strategy's set-based SQL: one row per attempt with
    ``case_id`` (NULL: none), ``at`` (instant), ``channel``, ``direction``, ``party``, ``outcome``."""
    from .compliance.models import ContactAttempt

    return f"SELECT case_id, at, channel, direction, party, outcome FROM {ContactAttempt._meta.db_table}"


def field_visits_relation() -> str:
    """Field visits as a relation for the strategy's set-based SQL: ``case_id``, ``status``, ``outcome``."""
    from .fieldwork.models import FieldVisit

    return f"SELECT case_id, status, outcome FROM {FieldVisit._meta.db_table}"


def _follow_redecision(sender, case_ids, **kwargs) -> None:
    """After the strategy re-decided cases on an event, the phone queue follows (those cases only)."""
    from .desk.services import sync_queue

    sync_queue(list(case_ids))


def connect_to_strategy() -> None:
    """Register the contact relations the strategy reads (``contact_attempts``, ``field_visits``)
    and connect the phone queue to ``case_redecided``. Idempotent; call from ``AppConfig.ready()``."""
    from arrears.contexts.strategy.facade import case_redecided, register_relation

    register_relation("contact_attempts", contact_attempts_relation)
    register_relation("field_visits", field_visits_relation)
    case_redecided.connect(_follow_redecision, dispatch_uid="arrears.contact.desk.follow_redecision")




# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline

# ---------------------------------------------------------------- re-exported for other contexts
# (presentation helpers, the data scope, services another context calls as they are)
from .desk.services import sync_queue  # noqa: E402,F401
from .fieldwork.services import request_visits_from_decisions  # noqa: E402,F401
from .sms.services import enqueue_from_decisions as enqueue_sms_from_decisions  # noqa: E402,F401

"""What the strategy reads from the contexts to its right, and what it tells them.

The contexts are ordered audit < org < portfolio < casework < legal < strategy < money < contact: a
context imports only those to its left. The strategy reads the facts of money (payments, promises,
collection holds) and of contact (the contact ledger, field visits), yet may import none of their
code, and no context's SQL names another context's tables. So each of them hands the strategy, in
its ``AppConfig.ready()`` (through :mod:`arrears.contexts.strategy.facade`), a **relation**: the text
of a ``SELECT`` over its own tables yielding the columns listed in :data:`RELATIONS`. The strategy
composes these as subqueries of its own set-based SQL (the same statement on SQLite and PostgreSQL;
nothing is read row by row), and never learns the tables behind them.

After a case is re-decided on an event, the strategy sends :data:`case_redecided` (a Django signal)
so the contexts that act on decisions (the phone queue of the desk) follow it, without the strategy
importing them.
"""
from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

__all__ = ["RELATIONS", "register_relation", "relation", "registered", "case_redecided"]

#: name → the columns its ``SELECT`` yields (in any order; more columns are allowed), with their meaning.
RELATIONS: dict[str, dict[str, str]] = {
    # money (payments): every payment ever posted, reversed ones included (``status``)
    "payments": {
        "account_id": "the card account paid (portfolio's account id)",
        "local_date": "the payment's date in the debtor's time zone",
        "amount": "the amount, in the account's currency (decimal, 2 places)",
        "status": "posted | reversed",
    },
    # money (payments): promises to pay
    "promises": {
        "id": "the promise", "case_id": "its case", "customer_id": "its customer",
        "created_at": "when it was recorded (instant)", "promised_on": "the promised local date",
        "status": "open | kept | partly_kept | broken | cancelled",
    },
    # money (servicing): collection holds, active from ``since`` until ``until`` (open-ended: NULL)
    "collection_holds": {
        "customer_id": "the customer held", "kind": "payment_plan | complaint | dispute | …",
        "breached": "the plan behind the hold was breached (boolean)",
        "since": "start (instant)", "until": "end (instant) or NULL",
    },
    # contact (compliance): the contact ledger, one row per attempt
    "contact_attempts": {
        "case_id": "the case", "at": "when (instant)", "channel": "phone | sms | visit | …",
        "direction": "outbound | inbound", "party": "debtor | third_party | …", "outcome": "the attempt's outcome",
    },
    # contact (fieldwork): field visits
    "field_visits": {"case_id": "the case", "status": "the visit's status", "outcome": "its outcome"},
}

_registry: dict[str, Callable[[], str]] = {}


def register_relation(name: str, sql: Callable[[], str]) -> None:
    """Hand the strategy relation ``name`` (a key of :data:`RELATIONS`): ``sql()`` returns the text
    of a ``SELECT`` (no parameters, no trailing semicolon) yielding at least the documented columns.
    Call from the owning context's ``AppConfig.ready()``; registering the same function again is a
    no-op. Raises ``ValueError`` for an unknown name or a second, different provider."""
    if name not in RELATIONS:
        raise ValueError(f"unknown strategy relation {name!r} (known: {', '.join(sorted(RELATIONS))})")
    if name in _registry and _registry[name] is not sql:
        raise ValueError(f"strategy relation {name!r} is already provided by {_registry[name]!r}")
    _registry[name] = sql


def relation(name: str) -> str:
    """The ``SELECT`` text of relation ``name``, to be used as ``(…) alias``. Raises
    ``ImproperlyConfigured`` when the owning context did not register it (its app is not installed)."""
    try:
        provider = _registry[name]
    except KeyError:
        raise ImproperlyConfigured(f"no context provides the strategy relation {name!r}; the app owning it must "
                                   f"call arrears.contexts.strategy.facade.register_relation in its ready()") from None
    return provider()


def registered() -> frozenset[str]:
    """The names registered so far."""
    return frozenset(_registry)


#: Sent after one or more cases were re-decided on an event (not by the daily run, which sequences
#: its steps itself), once the decision is written. Keyword arguments: ``case_ids`` (list of int)
#: and ``as_of`` (the business date of the decision). ``sender`` is the strategy's services module.
#: A receiver's exception propagates to the re-decision task.
case_redecided = Signal()

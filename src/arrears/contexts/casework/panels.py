"""What other contexts show on the case page (the contact gate's verdicts, the strategy decision,
the payments …), registered from their ``AppConfig.ready``; casework imports none of them.

- Panels: ``provider(request, case_id)`` returns what the panel shows, and the case page puts it
  in its template context under the panel's name (``templates/cases/detail.html`` includes each
  panel's template). A panel that is not registered is simply absent.
- Payments: the case page's list of the latest payments on the customer's accounts comes from the
  context that holds them (:func:`register_case_payments`); none without one.
"""
from __future__ import annotations

from collections.abc import Callable

#: name (the template variable) → provider ``(request, case_id) -> value``
CASE_PANELS: dict[str, Callable] = {}


def register_case_panel(name: str, provider: Callable) -> None:
    """Add a panel to the case page (see the module docstring); registering the same provider
    again is a no-op, another provider under a taken name a ``ValueError``."""
    if CASE_PANELS.get(name, provider) is not provider:
        raise ValueError(f"case page panel {name!r} is already registered")
    CASE_PANELS[name] = provider


def case_panels(request, case_id: int) -> dict[str, object]:
    """Every registered panel's value for the case page of ``case_id``."""
    return {name: provider(request, case_id) for name, provider in CASE_PANELS.items()}


#: ``provider(account_ids, limit)`` → the latest payments on those accounts, newest first
_PAYMENTS: list[Callable] = []


def register_case_payments(provider: Callable) -> None:
    """Let the context that holds payments list them on the case page: ``provider(account_ids,
    limit)`` returns at most ``limit`` payments on those accounts, newest first, each with
    ``account_id``, ``external_id``, ``paid_at``, ``local_date``, ``amount`` (Decimal) and
    ``channel``, in one query."""
    _PAYMENTS[:] = [provider]


def case_payments(account_ids: list[int], limit: int) -> list:
    """The latest payments on the accounts (none when no context registered a provider)."""
    return list(_PAYMENTS[0](account_ids, limit)) if _PAYMENTS else []

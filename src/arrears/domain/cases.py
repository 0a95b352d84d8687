"""The case state machine: statuses and the one declared map of allowed transitions.

A case is opened by the daily run when a customer becomes delinquent, is worked ``in_collection``,
may be put ``on_hold`` (dispute, complaint, litigation stay) and ends in exactly one closed status.
Closed statuses are final: a customer who becomes delinquent again gets a new case.
"""
from __future__ import annotations

from enum import Enum

from .errors import IllegalTransition


class CaseStatus(str, Enum):
    OPEN = "open"
    IN_COLLECTION = "in_collection"
    ON_HOLD = "on_hold"
    CLOSED_CURED = "closed_cured"
    CLOSED_PAID = "closed_paid"
    CLOSED_WRITTEN_OFF = "closed_written_off"
    CLOSED_RECALLED = "closed_recalled"

    @property
    def is_closed(self) -> bool:
        return self.value.startswith("closed_")


_ACTIVE = (CaseStatus.OPEN, CaseStatus.IN_COLLECTION, CaseStatus.ON_HOLD)
_CLOSED = tuple(s for s in CaseStatus if s.is_closed)

#: The declared transition map: status → statuses it may move to.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_COLLECTION, CaseStatus.ON_HOLD, *_CLOSED}),
    CaseStatus.IN_COLLECTION: frozenset({CaseStatus.ON_HOLD, *_CLOSED}),
    CaseStatus.ON_HOLD: frozenset({CaseStatus.IN_COLLECTION, *_CLOSED}),
    **{s: frozenset() for s in _CLOSED},
}

ACTIVE_STATUSES = frozenset(_ACTIVE)
CLOSED_STATUSES = frozenset(_CLOSED)


def check_transition(from_status: str | CaseStatus, to_status: str | CaseStatus) -> CaseStatus:
    """Return ``to_status`` as a :class:`CaseStatus` if the map allows ``from → to``.

    Raises :class:`IllegalTransition` when the move is not declared (including any move out of a
    closed status, and a move to the same status), ``ValueError`` for an unknown status.
    """
    src, dst = CaseStatus(from_status), CaseStatus(to_status)
    if dst not in TRANSITIONS[src]:
        raise IllegalTransition("case", src.value, dst.value)
    return dst

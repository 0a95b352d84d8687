"""The case state machine: the declared transition map is the only way a status changes."""
from __future__ import annotations

import itertools

import pytest

from arrears.domain.cases import (
    ACTIVE_STATUSES,
    CLOSED_STATUSES,
    TRANSITIONS,
    CaseStatus,
    check_transition,
)
from arrears.domain.errors import DomainError, IllegalTransition

ALL = list(CaseStatus)
DECLARED = [(src, dst) for src, targets in TRANSITIONS.items() for dst in sorted(targets, key=lambda s: s.value)]
UNDECLARED = [(src, dst) for src, dst in itertools.product(ALL, ALL) if dst not in TRANSITIONS[src]]


def test_map_covers_every_status_and_partitions_active_and_closed():
    assert set(TRANSITIONS) == set(ALL)
    assert ACTIVE_STATUSES | CLOSED_STATUSES == set(ALL)
    assert not ACTIVE_STATUSES & CLOSED_STATUSES
    assert ACTIVE_STATUSES == {CaseStatus.OPEN, CaseStatus.IN_COLLECTION, CaseStatus.ON_HOLD}
    assert all(s.is_closed for s in CLOSED_STATUSES) and not any(s.is_closed for s in ACTIVE_STATUSES)
    assert len(DECLARED) + len(UNDECLARED) == len(ALL) ** 2


@pytest.mark.parametrize(("src", "dst"), DECLARED, ids=lambda s: s.value)
def test_every_declared_transition_is_allowed(src, dst):
    assert check_transition(src, dst) is dst
    assert check_transition(src.value, dst.value) is dst  # plain strings from the database work too


@pytest.mark.parametrize(("src", "dst"), UNDECLARED, ids=lambda s: s.value)
def test_every_undeclared_transition_raises(src, dst):
    with pytest.raises(IllegalTransition) as err:
        check_transition(src, dst)
    e = err.value
    assert (e.machine, e.from_state, e.to_state) == ("case", src.value, dst.value)
    assert src.value in str(e) and dst.value in str(e)
    assert isinstance(e, DomainError)


@pytest.mark.parametrize("closed", sorted(CLOSED_STATUSES, key=lambda s: s.value), ids=lambda s: s.value)
def test_closed_statuses_are_final(closed):
    assert TRANSITIONS[closed] == frozenset()
    for target in ALL:
        with pytest.raises(IllegalTransition):
            check_transition(closed, target)


@pytest.mark.parametrize("status", ALL, ids=lambda s: s.value)
def test_no_status_moves_to_itself(status):
    with pytest.raises(IllegalTransition):
        check_transition(status, status)


def test_expected_business_moves():
    assert check_transition("open", "in_collection") is CaseStatus.IN_COLLECTION
    assert check_transition("in_collection", "on_hold") is CaseStatus.ON_HOLD
    assert check_transition("on_hold", "in_collection") is CaseStatus.IN_COLLECTION
    for active in ACTIVE_STATUSES:
        for closed in CLOSED_STATUSES:
            assert check_transition(active, closed) is closed
    with pytest.raises(IllegalTransition):
        check_transition("in_collection", "open")  # a case is never re-opened
    with pytest.raises(IllegalTransition):
        check_transition("on_hold", "open")


def test_unknown_status_is_a_value_error():
    with pytest.raises(ValueError):
        check_transition("open", "paid")
    with pytest.raises(ValueError):
        check_transition("reopened", "open")


@pytest.mark.parametrize("status", ALL, ids=lambda s: s.value)
def test_every_status_has_a_display_name_in_both_languages(status):
    from django.utils import translation

    from arrears.contexts.casework.models import STATUS_LABELS

    with translation.override("zh-hans"):
        zh = str(STATUS_LABELS[status.value])
    with translation.override("en"):
        en = str(STATUS_LABELS[status.value])
    assert zh and en and zh != en

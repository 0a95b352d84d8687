"""The one transition-map helper: every status field declares its moves as a :class:`TransitionMap`
and every change is checked by :meth:`TransitionMap.check` (DESIGN §2: "every status field has a
declared transition map enforced in one function").

A map is data: ``{state: frozenset(of the states it may move to)}``; a state with no moves is
final. :meth:`~TransitionMap.check` answers the target state or raises :class:`IllegalTransition`
(``ErrorCode.ILLEGAL_TRANSITION``, HTTP 409, with ``details = {"machine", "from", "to"}``) for a
move the map does not declare — including a move to the same state — and :class:`UnknownState`
(``invalid_input``, 400) for a state the map does not know. The services that own a status field
call ``check`` inside the transaction that writes the new status and its timeline event (the
casework facade's one write), so a refused move writes nothing.

Pure Python (no Django): the domain's maps (cases, promises, plans, settlements, field visits and
their safety alerts) and the contexts' (queue items, calls, number status, SMS, payments) all use
it. Examples: ``CASE = TransitionMap("case", {"open": {"in_collection", "closed_paid"}, ...})``,
``CASE.check("open", "in_collection")`` → ``"in_collection"``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from .errors import ArrearsError, ErrorCode


class IllegalTransition(ArrearsError, ValueError):
    """A status change that the declared transition map does not allow."""

    code = ErrorCode.ILLEGAL_TRANSITION

    def __init__(self, machine: str, from_state: str, to_state: str, message: str | None = None) -> None:
        self.machine, self.from_state, self.to_state = machine, from_state, to_state
        super().__init__(message or f"{machine}: transition {from_state!r} → {to_state!r} is not allowed",
                         details={"machine": machine, "from": from_state, "to": to_state})


class UnknownState(ArrearsError, ValueError):
    """A state the transition map does not declare."""

    code = ErrorCode.INVALID_INPUT


def _key(state) -> str:
    return state.value if isinstance(state, Enum) else state


class TransitionMap:
    """The declared moves of one status field.

    ``name``: what moves, as errors name it ("case", "payment plan" …); ``moves``: state → the
    states it may move to (every target must itself be a declared state: checked here, so a typo in
    a map fails at import); ``error``: the :class:`IllegalTransition` subclass to raise (a context
    may keep its own type for ``except`` clauses), called as ``error(name, from, to)``.
    """

    __slots__ = ("name", "moves", "error")

    def __init__(self, name: str, moves: Mapping[str, Iterable[str]], *, error: type[IllegalTransition] = IllegalTransition):
        self.name = name
        self.moves: dict[str, frozenset[str]] = {_key(s): frozenset(_key(t) for t in ts) for s, ts in moves.items()}
        self.error = error
        undeclared = {t for ts in self.moves.values() for t in ts} - set(self.moves)
        if undeclared:
            raise ValueError(f"{name}: moves to undeclared states {sorted(undeclared)}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.moves)

    def allowed(self, state) -> frozenset[str]:
        """The states ``state`` may move to (empty for a final state); :class:`UnknownState` for an
        undeclared one."""
        try:
            return self.moves[_key(state)]
        except KeyError:
            raise UnknownState(f"{self.name}: unknown state {_key(state)!r} (known: {', '.join(sorted(self.moves))})",
                               details={"machine": self.name, "state": _key(state)}) from None

    def is_final(self, state) -> bool:
        return not self.allowed(state)

    def can(self, from_state, to_state) -> bool:
        """Whether the move is declared (``False`` for unknown states too)."""
        return _key(to_state) in self.moves.get(_key(from_state), ())

    def check(self, from_state, to_state) -> str:
        """``to_state`` (as its string) if the map declares ``from_state → to_state``; otherwise
        :class:`IllegalTransition` (or the map's ``error``), :class:`UnknownState` for a state the
        map does not know."""
        frm, to = _key(from_state), _key(to_state)
        if to not in self.moves:
            self.allowed(to)  # raises UnknownState
        if to not in self.allowed(frm):
            raise self.error(self.name, frm, to)
        return to

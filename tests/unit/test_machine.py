"""The one transition-map helper (:mod:`arrears.core.machine`) and that every declared status map
goes through it: derived from the rule ("every status field has a declared transition map enforced
in one function"), not from examples — every declared move passes, every undeclared pair (including
staying put, and leaving a final state) is refused with ``illegal_transition``, unknown states are
``invalid_input``; and no module keeps a hand-written check of its own."""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from arrears.core.errors import ErrorCode
from arrears.core.machine import IllegalTransition, TransitionMap, UnknownState

SRC = Path(__file__).resolve().parents[2] / "src" / "arrears"


def _maps() -> list[TransitionMap]:
    from arrears.contexts.contact.desk import vocabulary as desk
    from arrears.contexts.contact.sms import services as sms
    from arrears.contexts.money.payments import services as payments
    from arrears.domain import cases, fieldwork, plans, promises, settlements

    return [cases.MACHINE, promises.MACHINE, plans.MACHINE, settlements.MACHINE, fieldwork.VISIT_MACHINE,
            fieldwork.ALERT_MACHINE, desk.NUMBER_MACHINE, desk.QUEUE_MACHINE, desk.CALL_MACHINE, sms.MACHINE,
            payments.PAYMENT_MACHINE]


@pytest.mark.parametrize("machine", _maps(), ids=lambda m: m.name)
def test_every_pair_of_states_is_allowed_exactly_when_declared(machine):
    for frm, to in itertools.product(sorted(machine.states), repeat=2):
        if to in machine.moves[frm]:
            assert machine.check(frm, to) == to
        else:
            with pytest.raises(IllegalTransition) as exc:
                machine.check(frm, to)
            assert exc.value.code == ErrorCode.ILLEGAL_TRANSITION and exc.value.status == 409
            assert exc.value.details == {"machine": machine.name, "from": frm, "to": to}
            assert isinstance(exc.value, machine.error)
    for final in (s for s in machine.states if machine.is_final(s)):
        assert not any(machine.can(final, t) for t in machine.states)
    with pytest.raises(UnknownState):
        machine.check(sorted(machine.states)[0], "no-such-state")
    with pytest.raises(UnknownState):
        machine.check("no-such-state", sorted(machine.states)[0])


def test_a_map_naming_an_undeclared_target_fails_when_declared():
    with pytest.raises(ValueError, match="undeclared"):
        TransitionMap("typo", {"open": {"clsoed"}, "closed": set()})


def test_the_domain_check_functions_are_the_maps():
    from arrears.domain import cases, plans, promises, settlements
    from arrears.domain.errors import IllegalTransition as DomainIllegal

    assert cases.check_transition("open", "in_collection") == "in_collection"
    for mod in (promises, plans, settlements):
        frm = next(s for s in mod.MACHINE.states if mod.MACHINE.moves[s])
        to = sorted(mod.MACHINE.moves[frm])[0]
        assert mod.check_transition(frm, to) == to
        with pytest.raises(DomainIllegal):
            mod.check_transition(frm, frm)


def test_no_module_checks_a_transition_map_by_hand():
    """``x not in TRANSITIONS[...]`` / ``.get(frm, …)`` outside the helper means a second home."""
    pattern = re.compile(r"not in [A-Z_]*TRANSITIONS\b|[A-Z_]*TRANSITIONS(\.get\(|\[)[a-z_]")
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in SRC.rglob("*.py") if p.name != "machine.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders

"""The phone desk's declared vocabulary: action codes (行动码), result codes (结果码), number
statuses, queue states and the purposes a third party may be called for.

Everything the outcome form, the API and the services accept is declared here, once; an unknown
code is refused with the list of known ones. Each result code says what it means for the compliance
ledger (``ledger_outcome``: the gate's outcome vocabulary, :mod:`arrears.domain.compliance.model`),
whether it is a right-party contact, which parties it fits, what it needs (a promise, a callback
time), how it changes the number's status, what it leaves behind (a collection hold, a
do-not-contact restriction) and when the case comes back to the queue.

Regulation behind the third-party rules: CN-WHO-02/03/04 (GB/T 2025; CBA 2021/2026: a third party
only to ask for the debtor's contact details or to relay a message, never any debt details, and
never again once they refuse); recordings: CN-REC-01/02 (2011 card rules 第六十八条, 第七十条).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from arrears.core.machine import TransitionMap
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ArrearsError, ErrorCode

# ---- parties --------------------------------------------------------------------------------
#: Contact.Party values the bank may collect from (2011 card rules 第六十八条: 债务人本人及其担保人)
COLLECTABLE_PARTIES = frozenset({"debtor", "guarantor"})
#: everyone else is a third party (emergency contact, other)
THIRD_PARTIES = frozenset({"emergency", "other"})
#: Contact.Kind values that are phone numbers
PHONE_KINDS = ("mobile", "home_phone", "work_phone")

#: the purposes a third party may be called for (CN-WHO-03) → the gate's purpose name
THIRD_PARTY_PURPOSES: dict[str, object] = {
    "locate": _("询问债务人联系方式"),
    "relay": _("请其转告债务人与我行联系"),
}


# ---- action codes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionCode:
    """What the agent did (行动码). ``parties``: the contact parties it is for."""

    code: str
    label: object
    parties: frozenset[str]
    third_party: bool = False


ACTION_CODES: dict[str, ActionCode] = {a.code: a for a in (
    ActionCode("call_debtor", _("呼出本人"), frozenset({"debtor"})),
    ActionCode("call_guarantor", _("呼出担保人"), frozenset({"guarantor"})),
    ActionCode("call_third_party", _("呼出第三人"), frozenset(THIRD_PARTIES), third_party=True),
    ActionCode("callback_call", _("约定回电"), frozenset({"debtor", "guarantor"})),
)}


# ---- number statuses --------------------------------------------------------------------------
#: a phone number's status on the desk; ``unverified`` until a call tells us more
NUMBER_STATUSES: dict[str, object] = {
    "unverified": _("未核实"),
    "valid": _("有效"),
    "invalid": _("空号/停机"),
    "wrong_party": _("非本人/错号"),
}
#: the declared map: from → the statuses it may move to (enforced by services.set_number_status)
NUMBER_TRANSITIONS: dict[str, frozenset[str]] = {
    "unverified": frozenset({"valid", "invalid", "wrong_party"}),
    "valid": frozenset({"invalid", "wrong_party"}),
    "invalid": frozenset({"valid"}),        # re-verified (skip tracing, the customer confirms it)
    "wrong_party": frozenset({"valid"}),
}
#: statuses the desk will not dial (the reason is shown; the gate is not even asked)
UNDIALLABLE = {"invalid": _("号码为空号或已停机"), "wrong_party": _("号码不属于联系对象（错号）")}


# ---- queue states ---------------------------------------------------------------------------
QUEUE_STATES: dict[str, object] = {"ready": _("待拨打"), "claimed": _("处理中")}
#: the declared map (enforced by services._move_item): a ready case is claimed by get-next; a
#: claimed case goes back to ready when its outcome is posted, it is released or deferred
QUEUE_TRANSITIONS: dict[str, frozenset[str]] = {
    "ready": frozenset({"claimed"}),
    "claimed": frozenset({"ready"}),
}
#: queue classes, in order: a callback the customer asked for, a promise follow-up, normal work
KLASS_CALLBACK, KLASS_PROMISE, KLASS_NORMAL = 0, 1, 2

# ---- calls ------------------------------------------------------------------------------------
CALL_STATES: dict[str, object] = {"dialing": _("拨号中"), "completed": _("已结束"), "failed": _("拨号失败")}
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    "dialing": frozenset({"completed", "failed"}),
    "completed": frozenset(),
    "failed": frozenset(),
}


# ---- result codes -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultCode:
    """What came of the call (结果码).

    * ``ledger_outcome``: the outcome written to the compliance ledger (the gate counts from it);
    * ``rpc``: a right-party contact (有效联络: spoke with the debtor personally);
    * ``actions``: the action codes it may follow;
    * ``needs``: ``promise`` (amount + date), ``callback`` (a time the gate allows);
    * ``number_status``: the number's new status (None: unchanged);
    * ``hold``: a :class:`~arrears.contexts.money.servicing.models.CollectionHold` kind it opens;
    * ``restrict``: a :class:`~arrears.contexts.money.servicing.models.ContactRestriction` kind it sets on
      the number called (the gate then refuses it);
    * ``retry``: when the case comes back to the queue (a callback: at the agreed time);
    * ``reevaluate``: the strategy trigger to re-decide the case with (``None``: no re-decision).
    """

    code: str
    label: object
    ledger_outcome: str
    rpc: bool = False
    actions: frozenset[str] = frozenset(ACTION_CODES)
    needs: frozenset[str] = frozenset()
    number_status: str | None = None
    hold: str | None = None
    restrict: str | None = None
    retry: timedelta = timedelta(hours=24)
    reevaluate: str | None = None


_DEBTOR_ACTIONS = frozenset({"call_debtor", "callback_call"})
_DIRECT = frozenset({"call_debtor", "call_guarantor", "callback_call"})
_THIRD = frozenset({"call_third_party"})

RESULT_CODES: dict[str, ResultCode] = {r.code: r for r in (
    ResultCode("rpc", _("本人接听（有效联络）"), "rpc", rpc=True, actions=_DIRECT, number_status="valid"),
    ResultCode("promise_to_pay", _("承诺还款"), "rpc", rpc=True, actions=_DIRECT, needs=frozenset({"promise"}),
               number_status="valid", reevaluate="manual"),
    ResultCode("paid", _("声称已还款"), "rpc", rpc=True, actions=_DIRECT, number_status="valid",
               retry=timedelta(days=3)),
    ResultCode("refuses_to_pay", _("拒绝还款"), "rpc", rpc=True, actions=_DIRECT, number_status="valid",
               reevaluate="manual"),
    ResultCode("dispute", _("争议"), "rpc", rpc=True, actions=_DIRECT, number_status="valid", hold="dispute",
               reevaluate="hold_changed"),
    ResultCode("hardship", _("经济困难"), "rpc", rpc=True, actions=_DIRECT, number_status="valid",
               reevaluate="manual", retry=timedelta(days=3)),
    ResultCode("callback_requested", _("约定回电"), "rpc", rpc=True, actions=_DIRECT,
               needs=frozenset({"callback"}), number_status="valid"),
    ResultCode("third_party", _("第三人接听"), "conversation", actions=_THIRD | _DEBTOR_ACTIONS,
               number_status="valid"),
    ResultCode("third_party_do_not_contact", _("第三人要求勿再联系"), "do_not_contact_requested",
               actions=_THIRD, restrict="refused"),
    ResultCode("no_answer", _("无人接听"), "no_answer", retry=timedelta(hours=2)),
    ResultCode("busy", _("占线"), "busy", retry=timedelta(minutes=30)),
    ResultCode("powered_off", _("关机"), "powered_off", retry=timedelta(hours=3)),
    ResultCode("invalid_number", _("空号/停机"), "invalid_number", number_status="invalid", reevaluate="manual",
               retry=timedelta(hours=1)),
    ResultCode("wrong_number", _("错号/非本人"), "wrong_number", number_status="wrong_party", reevaluate="manual",
               retry=timedelta(hours=1)),
    ResultCode("deceased", _("本人身故"), "conversation", hold="deceased", reevaluate="hold_changed"),
)}

#: outcome codes in the order the form lists them
RESULT_ORDER = tuple(RESULT_CODES)


class VocabularyError(ArrearsError, ValueError):
    """An unknown or unfitting code; ``field`` names the input, ``known`` the accepted values."""

    code = ErrorCode.INVALID_CODE

    def __init__(self, field: str, message: str, known: list[str] | None = None) -> None:
        self.known = known or []
        super().__init__(message + (f" (known: {', '.join(self.known)})" if self.known else ""), field=field,
                         details={"known": self.known})


def action_code(code: str) -> ActionCode:
    try:
        return ACTION_CODES[code]
    except KeyError:
        raise VocabularyError("action_code", f"unknown action code {code!r}", list(ACTION_CODES)) from None


def result_code(code: str) -> ResultCode:
    try:
        return RESULT_CODES[code]
    except KeyError:
        raise VocabularyError("result_code", f"unknown result code {code!r}", list(RESULT_CODES)) from None


#: The desk's maps as the one transition helper checks them (:mod:`arrears.core.machine`): a refused
#: move raises :class:`~arrears.core.machine.IllegalTransition` (a ``ValueError``).
NUMBER_MACHINE = TransitionMap("number status", NUMBER_TRANSITIONS)
QUEUE_MACHINE = TransitionMap("queue item", QUEUE_TRANSITIONS)
CALL_MACHINE = TransitionMap("call", CALL_TRANSITIONS)

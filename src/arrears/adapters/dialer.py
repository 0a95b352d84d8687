"""Dialer / telephony adapters for the phone desk (see docs/dialer.md).

The desk never talks to a phone system directly: after the compliance gate has allowed a call
(:func:`arrears.contexts.contact.desk.services.dial`), it hands a :class:`DialRequest` to the configured
:class:`Dialer` (``settings.ARREARS_DIALER``, a dotted path to a class; default
:class:`RecordingOnlyDialer`). An adapter must:

* place (or hand over) exactly one call per ``call_id`` — the request's idempotency key: a repeat
  with the same ``call_id`` must not ring the customer twice;
* never be called for a number the gate refused (the desk guarantees it);
* answer a :class:`DialResult` quickly (the agent is waiting): ``status`` ``"placed"`` (the switch
  accepted the call), ``"manual"`` (nothing was dialed: the agent dials on their handset and the
  desk only records the attempt) or ``"failed"`` (with ``error``); ``provider_ref`` is the switch's
  call id;
* issue the call's **recording reference** (``recording_ref``: the key under which the call
  recorder files this call, CN-REC-01) — the desk stores it on the call and no agent ever types
  one. An adapter whose switch names the recording only later leaves it empty and the recording is
  then filed under ``provider_ref``.

:class:`RecordingOnlyDialer` is the default: it places no call, records nothing outside the
desk (the desk's :class:`~arrears.contexts.contact.desk.models.Call` row and, at the outcome, the compliance
ledger are the record of the attempt) and answers ``"manual"`` with a reference derived from the
call id and the recording reference ``REC-<call id>``. A SIP/CTI adapter (docs/dialer.md)
implements the same protocol.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

DIAL_STATUSES = ("placed", "manual", "failed")


@dataclass(frozen=True)
class DialRequest:
    """One call to place. ``number``: the full number (E.164 or national digits) — adapters must
    not log it; ``agent``: the agent's user name; ``extension``: their phone extension if known;
    ``at``: when the desk asked (aware)."""

    call_id: str
    case_id: int
    contact_id: int
    number: str
    agent: str
    at: datetime
    extension: str = ""
    caller_id: str = ""


@dataclass(frozen=True)
class DialResult:
    """What the adapter answered: ``status`` (:data:`DIAL_STATUSES`), the switch's ``provider_ref``,
    the ``recording_ref`` it issued for the call's recording and, when it failed, ``error``."""

    call_id: str
    status: str
    provider_ref: str = ""
    error: str = ""
    recording_ref: str = ""

    def __post_init__(self) -> None:
        if self.status not in DIAL_STATUSES:
            raise ValueError(f"dial status must be one of {DIAL_STATUSES}, not {self.status!r}")


@runtime_checkable
class Dialer(Protocol):
    """The dialer interface: ``name`` (stored on every call) and :meth:`dial`."""

    name: str

    def dial(self, request: DialRequest) -> DialResult:  # pragma: no cover - protocol
        ...


def recording_reference(call_id: str) -> str:
    """The recording reference the default adapter issues for a call: ``REC-`` and the desk's call
    id (``desk-call-42`` → ``REC-desk-call-42``), unique per call and the same on a retry."""
    return f"REC-{call_id}"


class RecordingOnlyDialer:
    """The default adapter: no telephony. The agent dials on their own phone; the desk records the
    attempt (call row now, ledger row with the outcome) and files the call's recording under the
    reference this adapter issues (:func:`recording_reference`). Idempotent by construction."""

    name = "record_only"

    def dial(self, request: DialRequest) -> DialResult:
        return DialResult(call_id=request.call_id, status="manual", provider_ref=f"manual-{request.call_id}",
                          recording_ref=recording_reference(request.call_id))


@lru_cache(maxsize=4)
def _load(path: str) -> Dialer:
    obj = import_string(path)()
    if not isinstance(obj, Dialer):
        raise TypeError(f"{path} does not implement the Dialer protocol (name, dial)")
    return obj


def get_dialer() -> Dialer:
    """The configured adapter (``settings.ARREARS_DIALER``, default :class:`RecordingOnlyDialer`)."""
    return _load(getattr(settings, "ARREARS_DIALER", "arrears.adapters.dialer.RecordingOnlyDialer"))

"""SMPP 3.4 gateway client (carrier SMSC), built on :mod:`smpplib` (LGPL-2.1, maintained on PyPI).

No Django here: the sms app turns outbox rows into :class:`Outgoing` messages and reads back
:class:`Submitted` results, :class:`Receipt` delivery receipts and :class:`Inbound` replies.

What the client does (SMPP v3.4, 1999):

* ``bind_transceiver`` (§4.1.5) with system_id / password / system_type, interface_version 0x34;
  submits and receipts share the session; ``enquire_link`` (§4.11) every ``enquire_link_s`` of
  silence, answered ``enquire_link`` from the SMSC;
* ``submit_sm`` (§4.4) with ``registered_delivery=1`` (a receipt on the final outcome), GSM-7
  (data_coding 0) or UCS-2 (data_coding 8), long messages split on character boundaries
  (:mod:`arrears.adapters.sms_segments`) and concatenated either with a UDH (esm_class 0x40) or with
  the ``sar_msg_ref_num``/``sar_total_segments``/``sar_segment_seqnum`` TLVs (§5.3.2.22–24);
  submits are pipelined with a window of outstanding requests matched by sequence number;
* ``deliver_sm`` (§4.6): delivery receipts (esm_class 0x04; Appendix B text
  ``id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…`` and the ``receipted_message_id`` /
  ``message_state`` TLVs) and mobile-originated replies, each answered ``deliver_sm_resp``;
* reconnects (with a growing pause) when the connection drops between messages.

Errors are :class:`GatewayError` with ``transient`` (worth a retry later) and ``maybe_sent``: when
the submit_sm may have reached the SMSC (the connection broke after it was written and before its
response), the caller must NOT submit again — it reconciles instead.
"""
from __future__ import annotations

import logging
import re
import select
import socket
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from smpplib import client as smpp_client
from smpplib import consts, exceptions, smpp

from arrears.core.errors import ArrearsError, ErrorCode
from arrears.adapters import sms_segments as segments

__all__ = ["Outgoing", "Submitted", "GatewayError", "Receipt", "Inbound", "SmppGateway", "SmppSettings",
           "parse_receipt", "RECEIPT_STATES", "MESSAGE_STATE"]

log = logging.getLogger("arrears.sms.smpp")

ESME_ROK = 0x00000000
ESME_RTHROTTLED = 0x00000058
ESME_RMSGQFUL = 0x00000014
ESME_RSYSERR = 0x00000008
#: message_state TLV (§5.3.2.35) → receipt stat text
MESSAGE_STATE = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN",
                 8: "REJECTD"}
RECEIPT_STATES = frozenset(MESSAGE_STATE.values())
_RECEIPT = re.compile(
    r"id:(?P<id>\S+)\s+sub:(?P<sub>\S+)\s+dlvrd:(?P<dlvrd>\S+)\s+submit date:(?P<submit>\d+)\s+"
    r"done date:(?P<done>\d+)\s+stat:(?P<stat>\w+)\s+err:(?P<err>\w+)(?:\s+text:(?P<text>.*))?", re.I | re.S)


@dataclass(frozen=True)
class Outgoing:
    """A message to submit: ``ref`` our idempotency key, ``destination`` digits, ``text`` composed."""

    ref: str
    destination: str
    text: str


@dataclass(frozen=True)
class Submitted:
    """The SMSC accepted every part: ``message_ids`` in part order."""

    ref: str
    message_ids: list[str]


class GatewayError(ArrearsError):
    """A submit that did not go through. ``smpp_status`` (also ``status``, as before): SMPP
    command_status when the SMSC answered; ``transient``: worth retrying later; ``maybe_sent``: the
    SMSC may have the message (never resubmit). The HTTP status is ``http_status`` (502)."""

    code = ErrorCode.GATEWAY_ERROR

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False,
                 maybe_sent: bool = False, ref: str = "") -> None:
        super().__init__(message, details={"smpp_status": status, "transient": transient, "maybe_sent": maybe_sent})
        self.smpp_status, self.transient, self.maybe_sent, self.ref = status, transient, maybe_sent, ref

    # ``status`` keeps its SMPP meaning here (callers read ``exc.status`` for the command_status)
    @property
    def status(self) -> int | None:  # type: ignore[override]
        return self.smpp_status

    @property
    def http_status(self) -> int:
        return self.code.status


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt for one part (``message_id``): ``state`` DELIVRD/EXPIRED/UNDELIV/…,
    ``error`` the network error code (3 characters), ``done_at`` when the SMSC finished, and the
    handset number the message went to (``destination``), for reconciling a message in doubt."""

    message_id: str
    state: str
    error: str = "000"
    done_at: datetime | None = None
    destination: str = ""
    text_prefix: str = ""


@dataclass(frozen=True)
class Inbound:
    """A mobile-originated reply: ``source`` (the handset), ``text``, ``received_at``, ``ref`` an
    id for de-duplication (the SMSC may redeliver a deliver_sm whose response it missed)."""

    source: str
    text: str
    received_at: datetime
    ref: str = ""


def _done_date(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        fmt = "%y%m%d%H%M%S" if len(s) == 12 else "%y%m%d%H%M"
        return datetime.strptime(s, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


def _s(v) -> str:
    if v is None:
        return ""
    return v.decode("latin-1") if isinstance(v, bytes) else str(v)


def parse_receipt(pdu) -> Receipt | None:
    """The receipt carried by a ``deliver_sm`` PDU, or ``None`` when it is not a receipt."""
    esm = int(pdu.esm_class or 0)
    if esm & 0x3C not in (0x04, 0x08, 0x10, 0x20):  # SMSC / SME / intermediate delivery notifications
        if not pdu.receipted_message_id:
            return None
    raw = pdu.short_message or b""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    m = _RECEIPT.search(text)
    message_id = _s(pdu.receipted_message_id) or (m.group("id") if m else "")
    if not message_id:
        return None
    state = MESSAGE_STATE.get(int(pdu.message_state)) if pdu.message_state else None
    state = state or (m.group("stat").upper() if m else "UNKNOWN")
    return Receipt(message_id=message_id, state=state, error=(m.group("err") if m else "000"),
                   done_at=_done_date(m.group("done") if m else None), destination=_s(pdu.source_addr),
                   text_prefix=(m.group("text") or "") if m else "")


@dataclass
class SmppSettings:
    """Provider settings (``ARREARS_SMPP_*`` in the environment, see docs/sms.md)."""

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    source_addr: str = ""
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 0
    dest_npi: int = 1
    concat: str = "udh"  # or "sar"
    window: int = 32
    timeout_s: float = 10.0
    enquire_link_s: float = 30.0
    reconnect_tries: int = 5
    validity_period: str = ""  # SMPP relative time, e.g. "000001000000R" (1 day)


class SmppGateway:
    """A bound SMPP transceiver session. Not thread-safe: one per worker."""

    name = "smpp"

    def __init__(self, cfg: SmppSettings, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = cfg
        self._sleep = sleep
        self.client: smpp_client.Client | None = None
        self._pending: list[Receipt | Inbound] = []
        self._last_io = 0.0
        self.reconnects = 0
        self.binds = 0

    # ---- session -----------------------------------------------------------------------------
    def _connect(self) -> None:
        c = smpp_client.Client(self.cfg.host, self.cfg.port, timeout=self.cfg.timeout_s,
                               allow_unknown_opt_params=True, logger_name="arrears.sms.smpplib")
        c.connect()
        try:
            c._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small PDUs, no Nagle delay
        except OSError:  # pragma: no cover - e.g. a TLS wrapper without the option
            pass
        try:
            c.bind_transceiver(system_id=self.cfg.system_id, password=self.cfg.password,
                               system_type=self.cfg.system_type, interface_version=0x34)
        except Exception:
            c.disconnect()
            raise
        self.client = c
        self.binds += 1
        self._last_io = time.monotonic()

    def ensure_bound(self) -> None:
        """Connect and bind, retrying with a growing pause; :class:`GatewayError` (transient, not
        sent) when the SMSC stays unreachable or refuses the bind."""
        if self.client is not None and self.client.state == consts.SMPP_CLIENT_STATE_BOUND_TRX:
            return
        self._drop()
        last: Exception | None = None
        for i in range(max(1, self.cfg.reconnect_tries)):
            try:
                self._connect()
                return
            except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
                last = exc
                self._sleep(min(0.2 * 2 ** i, 5.0))
        raise GatewayError(f"cannot bind to the SMSC {self.cfg.host}:{self.cfg.port}: {last}", transient=True)

    def _drop(self) -> None:
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:  # pragma: no cover - closing a broken socket
                pass
            self.client = None

    def close(self) -> None:
        """Unbind and disconnect (best effort)."""
        if self.client is not None:
            try:
                if self.client.state == consts.SMPP_CLIENT_STATE_BOUND_TRX:
                    self.client.unbind()
            except Exception:
                pass
            self._drop()

    # ---- reading -----------------------------------------------------------------------------
    def _handle_incoming(self, pdu) -> None:
        """deliver_sm (receipt or reply) and enquire_link from the SMSC: answer and keep."""
        c = self.client
        if pdu.command == "deliver_sm":
            receipt = parse_receipt(pdu)
            if receipt is not None:
                self._pending.append(receipt)
            else:
                raw = pdu.short_message or b""
                text = segments.decode(raw if isinstance(raw, bytes) else str(raw).encode("latin-1"),
                                       int(pdu.data_coding or 0))
                ref = f"{_s(pdu.source_addr)}:{pdu.sequence}:{zlib.crc32(raw if isinstance(raw, bytes) else b'')}"
                self._pending.append(Inbound(_s(pdu.source_addr), text, datetime.now(UTC), ref))
            resp = smpp.make_pdu("deliver_sm_resp", client=c)
            resp.sequence = pdu.sequence
            c.send_pdu(resp)
        elif pdu.command == "enquire_link":
            resp = smpp.make_pdu("enquire_link_resp", client=c)
            resp.sequence = pdu.sequence
            c.send_pdu(resp)
        elif pdu.command == "unbind":
            resp = smpp.make_pdu("unbind_resp", client=c)
            resp.sequence = pdu.sequence
            c.send_pdu(resp)
            self._drop()

    def _read(self, timeout: float):
        """One PDU, or ``None`` after ``timeout`` seconds of silence."""
        c = self.client
        c._socket.settimeout(timeout)
        try:
            pdu = c.read_pdu()
        except socket.timeout:
            return None
        finally:
            if self.client is not None and self.client._socket is not None:
                self.client._socket.settimeout(self.cfg.timeout_s)
        self._last_io = time.monotonic()
        return pdu

    def _alive(self) -> bool:
        """Read whatever is waiting (receipts, replies, enquire_link) without blocking; ``False``
        (and the session dropped) when the SMSC has closed the connection."""
        try:
            while self.client is not None:
                readable, _, _ = select.select([self.client._socket], [], [], 0)
                if not readable:
                    return True
                pdu = self._read(self.cfg.timeout_s)
                if pdu is None:
                    return True
                self._handle_incoming(pdu)
        except (exceptions.ConnectionError, OSError):
            self._drop()
            self.reconnects += 1
        return self.client is not None

    def enquire_link(self) -> None:
        """Send enquire_link and wait for its response (keeps NAT and the SMSC session alive)."""
        self.ensure_bound()
        c = self.client
        p = smpp.make_pdu("enquire_link", client=c)
        c.send_pdu(p)
        deadline = time.monotonic() + self.cfg.timeout_s
        while time.monotonic() < deadline:
            pdu = self._read(max(0.01, deadline - time.monotonic()))
            if pdu is None:
                break
            if pdu.command == "enquire_link_resp" and pdu.sequence == p.sequence:
                return
            self._handle_incoming(pdu)
        raise GatewayError("no enquire_link_resp from the SMSC", transient=True)

    def poll(self, timeout: float = 0.0) -> list[Receipt | Inbound]:
        """Receipts and replies that arrived (waiting up to ``timeout`` s for the first one). Keeps
        the session alive with enquire_link; reconnects when it dropped."""
        try:
            self.ensure_bound()
            if time.monotonic() - self._last_io > self.cfg.enquire_link_s:
                self.enquire_link()
            wait = timeout
            while True:
                pdu = self._read(wait)
                if pdu is None:
                    break
                self._handle_incoming(pdu)
                wait = 0.001 if self.client is not None else 0
                if self.client is None:
                    break
        except (exceptions.ConnectionError, exceptions.PDUError, OSError, GatewayError) as exc:
            log.warning("SMPP session lost while polling: %s", exc)
            self._drop()
            self.reconnects += 1
        out, self._pending = self._pending, []
        return out

    # ---- submitting --------------------------------------------------------------------------
    def _pdus(self, msg: Outgoing) -> list:
        ref = zlib.crc32(msg.ref.encode()) & 0xFF
        udh = self.cfg.concat != "sar"
        encoding, parts = segments.encode_parts(msg.text, ref=ref, udh=udh)
        out = []
        for i, octets in enumerate(parts, start=1):
            kw = dict(
                source_addr_ton=self.cfg.source_ton, source_addr_npi=self.cfg.source_npi,
                source_addr=self.cfg.source_addr, dest_addr_ton=self.cfg.dest_ton, dest_addr_npi=self.cfg.dest_npi,
                destination_addr=msg.destination, short_message=octets, data_coding=segments.DATA_CODING[encoding],
                esm_class=consts.SMPP_GSMFEAT_UDHI if (udh and len(parts) > 1) else consts.SMPP_MSGMODE_DEFAULT,
                registered_delivery=consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH, protocol_id=0, priority_flag=0,
                replace_if_present_flag=0, sm_default_msg_id=0, service_type="",
            )
            if self.cfg.validity_period:
                kw["validity_period"] = self.cfg.validity_period
            if not udh and len(parts) > 1:
                kw.update(sar_msg_ref_num=zlib.crc32(msg.ref.encode()) & 0xFFFF, sar_total_segments=len(parts),
                          sar_segment_seqnum=i)
            out.append(kw)
        return out

    def submit_many(self, msgs: Sequence[Outgoing],
                    on_result: Callable[[Outgoing, Submitted | GatewayError], None] | None = None
                    ) -> list[Submitted | GatewayError]:
        """Submit ``msgs`` pipelined (at most ``window`` submit_sm awaiting a response). One result
        per message, in order. A message whose parts were all answered OK is :class:`Submitted`; an
        SMSC refusal is a :class:`GatewayError` with its ``status`` (transient when
        throttled / queue full / system error and no part was accepted); a connection lost after a
        part was written gives ``maybe_sent=True`` for that message, and messages not yet written
        get ``transient=True, maybe_sent=False``."""
        results: list[Submitted | GatewayError | None] = [None] * len(msgs)
        ids: list[dict[int, str]] = [dict() for _ in msgs]
        written: list[int] = [0] * len(msgs)  # parts written per message
        failed: dict[int, GatewayError] = {}
        nparts = [0] * len(msgs)
        outstanding: dict[int, tuple[int, int]] = {}  # sequence → (message index, part index)

        def finish(i: int) -> None:
            if results[i] is not None:
                return
            res: Submitted | GatewayError
            if i in failed:
                res = failed[i]
                if ids[i] and not res.maybe_sent:  # some parts were accepted: partial, never resent
                    res = GatewayError(str(res) + " (after earlier parts were accepted)", status=res.status,
                                       maybe_sent=True, ref=res.ref)
            else:
                res = Submitted(msgs[i].ref, [ids[i][k] for k in sorted(ids[i])])
            results[i] = res
            if on_result is not None:
                on_result(msgs[i], res)

        def take(pdu) -> None:
            if pdu.command in ("submit_sm_resp", "generic_nack") and pdu.sequence in outstanding:
                i, k = outstanding.pop(pdu.sequence)
                status = int(pdu.status or 0)
                if status == ESME_ROK and pdu.command == "submit_sm_resp":
                    ids[i][k] = _s(pdu.message_id)
                elif i not in failed:
                    accepted = bool(ids[i]) or k > 0
                    failed[i] = GatewayError(
                        f"SMSC refused part {k + 1}: 0x{status:08X} {consts.DESCRIPTIONS.get(status, '')}".strip(),
                        status=status, ref=msgs[i].ref, maybe_sent=accepted,
                        transient=(status in (ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RSYSERR) and not accepted))
                if written[i] == nparts[i] and not any(v[0] == i for v in outstanding.values()):
                    finish(i)
            else:
                self._handle_incoming(pdu)

        try:
            self.ensure_bound()
            if not self._alive():  # the SMSC closed an idle session: bind again before writing
                self.ensure_bound()
        except GatewayError as exc:
            for i, m in enumerate(msgs):
                results[i] = GatewayError(str(exc), transient=True, ref=m.ref)
                if on_result:
                    on_result(m, results[i])
            return results  # type: ignore[return-value]
        i = 0
        try:
            for i, m in enumerate(msgs):
                kws = self._pdus(m)
                nparts[i] = len(kws)
                for k, kw in enumerate(kws):
                    # a later part goes only once the earlier ones were accepted: a refused first part
                    # (throttling) then leaves nothing at the SMSC and the message can be retried whole
                    while k and any(v[0] == i for v in outstanding.values()):
                        pdu = self._read(self.cfg.timeout_s)
                        if pdu is None:
                            raise exceptions.ConnectionError("no response from the SMSC")
                        take(pdu)
                    if i in failed:  # an earlier part was refused: do not send the rest
                        break
                    while len(outstanding) >= self.cfg.window:
                        pdu = self._read(self.cfg.timeout_s)
                        if pdu is None:
                            raise exceptions.ConnectionError("no response from the SMSC")
                        take(pdu)
                    p = smpp.make_pdu("submit_sm", client=self.client, **kw)
                    outstanding[p.sequence] = (i, k)
                    written[i] = k + 1
                    self.client.send_pdu(p)
                if i in failed:
                    written[i] = nparts[i]
                    if not any(v[0] == i for v in outstanding.values()):
                        finish(i)
            while outstanding:
                pdu = self._read(self.cfg.timeout_s)
                if pdu is None:
                    raise exceptions.ConnectionError("no response from the SMSC")
                take(pdu)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            log.warning("SMPP session lost while submitting: %s", exc)
            self._drop()
            self.reconnects += 1
            for j, m in enumerate(msgs):
                if results[j] is not None:
                    continue
                if written[j] or any(v[0] == j for v in outstanding.values()):
                    results[j] = GatewayError(f"connection lost after submit: {exc}", maybe_sent=True, ref=m.ref)
                else:
                    results[j] = GatewayError(f"connection lost before submit: {exc}", transient=True, ref=m.ref)
                if on_result:
                    on_result(m, results[j])
        for j in range(len(msgs)):
            if results[j] is None:
                finish(j)
        return results  # type: ignore[return-value]

    def submit(self, msg: Outgoing) -> Submitted:
        """Submit one message; raises :class:`GatewayError`."""
        res = self.submit_many([msg])[0]
        if isinstance(res, GatewayError):
            raise res
        return res

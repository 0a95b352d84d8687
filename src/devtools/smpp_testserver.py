"""A small but real SMPP 3.4 server (SMSC simulator) for tests, the benchmark and development.

It speaks the binary protocol over TCP — 16-byte headers, length-prefixed PDUs — using smpplib's
PDU classes to parse and build bodies:

* ``bind_transmitter`` / ``bind_receiver`` / ``bind_transceiver`` → ``*_resp`` (``ESME_RBINDFAIL``
  for a wrong system_id/password when credentials are configured; ``ESME_RINVBNDSTS`` for a
  submit before bind);
* ``submit_sm`` → ``submit_sm_resp`` with a fresh message id; the message is recorded, its parts
  reassembled (UDH 8-bit reference or ``sar_*`` TLVs), then a ``deliver_sm`` delivery receipt
  (esm_class 0x04, Appendix B text plus ``receipted_message_id``/``message_state`` TLVs) is sent
  to the session, ``DELIVRD`` unless the number is configured to fail;
* ``enquire_link`` → ``enquire_link_resp``; ``unbind`` → ``unbind_resp`` and close;
  ``deliver_sm_resp`` / ``enquire_link_resp`` from the client are counted;
* :meth:`SmppTestServer.send_mo` pushes a mobile-originated ``deliver_sm`` (a reply) to the bound
  sessions; :meth:`drop_connections` cuts every session (to test reconnects); behaviour knobs:
  ``reject`` (number → command_status, e.g. 0x0B invalid destination), ``undeliverable`` (number →
  receipt err code), ``throttle_first`` (answer the first N submits ESME_RTHROTTLED),
  ``drop_after_submits`` (cut the connection right after reading the Nth submit, before answering —
  the "crash between submit and response" case).

:attr:`messages` counts each complete message by (destination, text): any value above 1 is a
duplicate. Run standalone: ``python -m devtools.smpp_testserver --port 2775``.
"""
from __future__ import annotations

import argparse
import itertools
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from smpplib import consts, smpp

from arrears.adapters import sms_segments as segments

__all__ = ["SmppTestServer", "main"]

ESME_RINVBNDSTS = 0x04
ESME_RBINDFAIL = 0x0D
ESME_RTHROTTLED = 0x58


class _Seq:
    """A sequence source for PDUs the server originates (deliver_sm)."""

    def __init__(self) -> None:
        self._it = itertools.count(1)
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = next(self._it)
        return self.sequence


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def setup(self) -> None:
        self.bound = False
        self.seq = _Seq()
        self.lock = threading.Lock()
        self.owner = self.server.owner
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.owner._lock:
            self.owner._sessions.add(self)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._sessions.discard(self)

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("peer closed")
            buf += chunk
        return bytes(buf)

    def send(self, pdu) -> None:
        data = pdu.generate()
        with self.lock:
            self.request.sendall(data)

    def _resp(self, name: str, req, status: int = 0, **kw):
        p = smpp.make_pdu(name, client=self.seq, status=status, **kw)
        p.sequence = req.sequence
        return p

    def handle(self) -> None:
        try:
            while True:
                head = self._recv_exact(4)
                (length,) = struct.unpack(">L", head)
                if length < 16 or length > 65536:
                    return
                raw = head + self._recv_exact(length - 4)
                req = smpp.parse_pdu(raw, client=self.seq, allow_unknown_opt_params=True)
                if req is None:
                    continue
                if not self._dispatch(req):
                    return
        except (ConnectionError, OSError):
            return

    def _dispatch(self, req) -> bool:
        o = self.owner
        cmd = req.command
        if cmd in ("bind_transmitter", "bind_receiver", "bind_transceiver"):
            ok = (not o.system_id or (req.system_id or b"").decode() == o.system_id) and \
                 (not o.password or (req.password or b"").decode() == o.password)
            self.bound = ok
            with o._lock:  # count before answering (the client continues once it has the answer)
                o.binds += ok
            self.send(self._resp(cmd + "_resp", req, 0 if ok else ESME_RBINDFAIL, system_id="arrears-smsc"))
            return True
        if cmd == "enquire_link":
            with o._lock:  # count before answering: the client returns as soon as it has the answer
                o.enquire_links += 1
            self.send(self._resp("enquire_link_resp", req))
            return True
        if cmd == "unbind":
            self.send(self._resp("unbind_resp", req))
            return False
        if cmd in ("deliver_sm_resp", "enquire_link_resp"):
            return True
        if cmd == "submit_sm":
            if not self.bound:
                self.send(self._resp("submit_sm_resp", req, ESME_RINVBNDSTS))
                return True
            return self._submit(req)
        self.send(self._resp("generic_nack", req, 0x03))  # ESME_RINVCMDID
        return True

    def _submit(self, req) -> bool:
        o = self.owner
        dest = (req.destination_addr or b"").decode()
        with o._lock:
            o.submits += 1
            n = o.submits
            if o.drop_after_submits and n == o.drop_after_submits:
                o.dropped_submits += 1
                record_only = True
            else:
                record_only = False
            throttled = n <= o.throttle_first
        if record_only:  # the SMSC took the message but the connection breaks before the response
            o._record(req, dest, "lost-" + str(n))
            self.request.close()
            return False
        if throttled:
            self.send(self._resp("submit_sm_resp", req, ESME_RTHROTTLED))
            return True
        if dest in o.reject:
            self.send(self._resp("submit_sm_resp", req, o.reject[dest]))
            return True
        message_id = f"{next(o._ids):010X}"
        o._record(req, dest, message_id)
        self.send(self._resp("submit_sm_resp", req, message_id=message_id))
        if o.receipts and (req.registered_delivery or 0) & 0x03:
            self._receipt(req, dest, message_id)
        return True

    def _receipt(self, req, dest: str, message_id: str) -> None:
        o = self.owner
        err = o.undeliverable.get(dest)
        stat, state = ("UNDELIV", 5) if err else ("DELIVRD", 2)
        now = datetime.now(UTC).strftime("%y%m%d%H%M")
        sm = req.short_message or b""
        text = (f"id:{message_id} sub:001 dlvrd:{'000' if err else '001'} submit date:{now} done date:{now} "
                f"stat:{stat} err:{err or '000'} text:").encode() + sm[:20]
        p = smpp.make_pdu("deliver_sm", client=self.seq, service_type="", source_addr_ton=req.dest_addr_ton or 0,
                          source_addr_npi=req.dest_addr_npi or 0, source_addr=dest,
                          dest_addr_ton=req.source_addr_ton or 0, dest_addr_npi=req.source_addr_npi or 0,
                          destination_addr=(req.source_addr or b"").decode("latin-1"), esm_class=0x04, protocol_id=0, priority_flag=0,
                          registered_delivery=0, replace_if_present_flag=0, data_coding=0, sm_default_msg_id=0,
                          short_message=text, receipted_message_id=message_id, message_state=state)
        self.send(p)
        with o._lock:
            o.receipts_sent += 1


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    owner: SmppTestServer


class SmppTestServer:
    """``with SmppTestServer() as srv: … srv.port …`` — listens on 127.0.0.1 (a free port by default)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, system_id: str = "", password: str = "",
                 receipts: bool = True) -> None:
        self.host, self._port = host, port
        self.system_id, self.password, self.receipts = system_id, password, receipts
        self.reject: dict[str, int] = {}
        self.undeliverable: dict[str, str] = {}
        self.throttle_first = 0
        self.drop_after_submits = 0
        self.submits = self.binds = self.enquire_links = self.receipts_sent = self.dropped_submits = 0
        self.messages: Counter[tuple[str, str]] = Counter()
        self.parts_received: list[dict] = []
        self._partial: dict[tuple, dict[int, bytes]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._sessions: set[_Handler] = set()
        self._srv: _TCPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SmppTestServer:
        self._srv = _TCPServer((self.host, self._port), _Handler)
        self._srv.owner = self
        self._thread = threading.Thread(target=self._srv.serve_forever, name="smpp-testserver", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._srv.server_address[1] if self._srv else self._port

    def stop(self) -> None:
        self.drop_connections()
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None

    def __enter__(self) -> SmppTestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def drop_connections(self) -> None:
        """Cut every open session (the client must reconnect and bind again)."""
        with self._lock:
            sessions = list(self._sessions)
        for s in sessions:
            try:
                s.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- recording ---------------------------------------------------------------------------
    def _record(self, req, dest: str, message_id: str) -> None:
        sm = req.short_message or b""
        coding = int(req.data_coding or 0)
        esm = int(req.esm_class or 0)
        info = {"destination": dest, "message_id": message_id, "data_coding": coding, "esm_class": esm,
                "octets": sm, "sar": (req.sar_msg_ref_num, req.sar_total_segments, req.sar_segment_seqnum)}
        key = total = seq = None
        body = sm
        if esm & 0x40 and len(sm) >= 6 and sm[0] == 0x05 and sm[1] == 0x00:
            ref, total, seq = sm[3], sm[4], sm[5]
            key, body = (dest, "udh", ref, total), sm[6:]
        elif req.sar_total_segments:
            key, total, seq = (dest, "sar", req.sar_msg_ref_num, req.sar_total_segments), \
                req.sar_total_segments, req.sar_segment_seqnum
        with self._lock:
            self.parts_received.append(info)
            if key is None:
                self.messages[(dest, segments.decode(sm, coding))] += 1
                return
            got = self._partial.setdefault(key, {})
            got[int(seq)] = body
            if len(got) == int(total):
                del self._partial[key]
                self.messages[(dest, segments.decode(b"".join(got[i] for i in sorted(got)), coding))] += 1

    @property
    def duplicates(self) -> int:
        """Complete messages received more than once (same number, same text)."""
        with self._lock:
            return sum(n - 1 for n in self.messages.values() if n > 1)

    # ---- mobile-originated ---------------------------------------------------------------------
    def send_mo(self, source: str, text: str, destination: str = "10690000") -> int:
        """Push a reply from handset ``source`` to every bound session; returns how many got it."""
        coding = 0 if segments.is_gsm7(text) else 8
        octets = text.encode("utf-16-be") if coding == 8 else segments.encode_parts(text, ref=0)[1][0]
        with self._lock:
            sessions = [s for s in self._sessions if s.bound]
        for s in sessions:
            p = smpp.make_pdu("deliver_sm", client=s.seq, service_type="", source_addr_ton=0, source_addr_npi=1,
                              source_addr=source, dest_addr_ton=0, dest_addr_npi=0,
                              destination_addr=destination, esm_class=0, protocol_id=0, priority_flag=0,
                              registered_delivery=0, replace_if_present_flag=0, data_coding=coding,
                              sm_default_msg_id=0, short_message=octets)
            s.send(p)
        return len(sessions)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Local SMPP 3.4 server (SMSC simulator) for development and benches")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2775)
    ap.add_argument("--system-id", default="")
    ap.add_argument("--password", default="")
    args = ap.parse_args(argv)
    srv = SmppTestServer(args.host, args.port, system_id=args.system_id, password=args.password).start()
    print(f"SMPP test server listening on {args.host}:{srv.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":  # pragma: no cover
    main()

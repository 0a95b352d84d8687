"""Gateways the dispatcher talks to, chosen by ``ARREARS_SMS_GATEWAY`` (``log`` or ``smpp``).

* :class:`LogGateway` (development, the default when ``ARREARS_DEBUG=1``): writes each message to
  the ``arrears.sms`` log with the number masked, answers with message ids ``log-…`` and reports a
  ``DELIVRD`` receipt for each on the next poll. Nothing leaves the machine.
* :class:`~arrears.adapters.smpp.SmppGateway`: the carrier's SMSC over SMPP 3.4, with the
  provider settings ``ARREARS_SMPP_*`` (docs/sms.md). One bound session per worker process.
"""
from __future__ import annotations

import itertools
import logging
import threading
from datetime import UTC, datetime

from django.conf import settings

from arrears.domain.masking import mask_phone
from arrears.adapters.smpp import GatewayError, Outgoing, Receipt, SmppGateway, SmppSettings, Submitted

__all__ = ["LogGateway", "get_gateway", "smpp_settings", "reset_gateway"]

log = logging.getLogger("arrears.sms")


class LogGateway:
    """Development gateway: logs, never sends."""

    name = "log"
    _ids = itertools.count(1)

    def __init__(self) -> None:
        self._pending: list[Receipt] = []
        self.sent: list[Outgoing] = []

    def submit_many(self, msgs, on_result=None):
        out = []
        for m in msgs:
            from arrears.adapters import sms_segments as segments

            n = segments.count(m.text).parts
            ids = [f"log-{next(self._ids)}" for _ in range(n)]
            log.info("SMS (log gateway) to %s, %d part(s): %s", mask_phone(m.destination), n, m.text)
            self.sent.append(m)
            res = Submitted(m.ref, ids)
            self._pending += [Receipt(i, "DELIVRD", "000", datetime.now(UTC), m.destination) for i in ids]
            out.append(res)
            if on_result:
                on_result(m, res)
        return out

    def submit(self, msg: Outgoing) -> Submitted:
        return self.submit_many([msg])[0]

    def poll(self, timeout: float = 0.0):
        out, self._pending = self._pending, []
        return out

    def close(self) -> None:
        pass


def smpp_settings() -> SmppSettings:
    """Provider settings from Django settings (read from the environment in settings.py)."""
    cfg = getattr(settings, "ARREARS_SMPP", {}) or {}
    return SmppSettings(**cfg)


_local = threading.local()


def get_gateway():
    """The configured gateway for this thread (SMPP sessions are kept and reused)."""
    kind = getattr(settings, "ARREARS_SMS_GATEWAY", "log")
    gw = getattr(_local, "gw", None)
    if gw is not None and gw.name == kind:
        return gw
    if kind == "smpp":
        gw = SmppGateway(smpp_settings())
    elif kind == "log":
        gw = LogGateway()
    else:
        raise GatewayError(f"unknown ARREARS_SMS_GATEWAY {kind!r} (log or smpp)")
    _local.gw = gw
    return gw


def reset_gateway() -> None:
    """Close and forget this thread's gateway (tests; a worker after a configuration change)."""
    gw = getattr(_local, "gw", None)
    if gw is not None:
        gw.close()
    _local.gw = None

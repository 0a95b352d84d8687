"""``arrears bench sms --messages N [--json] [--database-url URL]``: the SMS channel end to end
through the local SMPP 3.4 server.

A fresh database (SQLite, or a new database on the PostgreSQL server given) is migrated; a child
process loads N open cases (one debtor each, with an encrypted mobile number) whose strategy
decision of the day is ``sms``, then — with the business clock fixed at 10:00 Asia/Shanghai, inside
the window — times:

* ``enqueue_s``: :func:`~arrears.contexts.contact.sms.services.enqueue_from_decisions` (set-based);
* ``dispatch_s``: worker passes of :func:`~arrears.contexts.contact.sms.services.dispatch_due` until the outbox
  is empty — per message the window, cap, number, rendering in the debtor's language, content
  screening, the compliance gate (``check_contact``), the write-ahead mark, the SMPP submit_sm
  (pipelined, every part), the ``submitted`` transition with its timeline event and the ledger
  entry (``record_attempt``) — and the delivery receipts read back;
* then the day's enqueue and a dispatch pass are run again (a re-run after a restart).

``duplicates`` is counted by the SMPP server: complete messages (parts reassembled) received more
than once for the same number and text — it must be 0. Set-up (loading) is not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, time as dtime
from zoneinfo import ZoneInfo

__all__ = ["command", "run", "main"]

BENCH_DAY = date(2026, 3, 4)
BENCH_NOW = datetime.combine(BENCH_DAY, dtime(10, 0), tzinfo=ZoneInfo("Asia/Shanghai"))


def _load(n: int) -> None:
    from decimal import Decimal

    from arrears.contexts.casework.models import Case
    from arrears.contexts.portfolio.models import CardAccount, Contact, Customer

    batch = 5000
    for start in range(0, n, batch):
        ids = range(start, min(n, start + batch))
        Customer.objects.bulk_create([Customer(external_id=f"B{i:08d}", name=f"客户{i}", timezone="Asia/Shanghai",
                                               language="en" if i % 10 == 0 else "zh-hans") for i in ids])
        cust = dict(Customer.objects.filter(external_id__in=[f"B{i:08d}" for i in ids])
                    .values_list("external_id", "id"))
        Contact.objects.bulk_create([Contact(customer_id=cust[f"B{i:08d}"], external_id=f"B{i:08d}-M", kind="mobile",
                                             party="debtor", value=f"139{i:08d}") for i in ids])
        CardAccount.objects.bulk_create([CardAccount(
            customer_id=cust[f"B{i:08d}"], external_id=f"62220000{i:08d}", credit_limit=Decimal("20000.00"),
            balance=Decimal("5234.50"), overdue_amount=Decimal("1234.50"), minimum_due=Decimal("300.00"),
            as_of_extract=BENCH_DAY, dpd=5 + i % 20, bucket="M1", oldest_unpaid_due_date=BENCH_DAY) for i in ids])
        Case.objects.bulk_create([Case(
            customer_id=cust[f"B{i:08d}"], opened_on=BENCH_DAY, bucket="M1", max_dpd=5 + i % 20,
            total_balance=Decimal("5234.50"), overdue_amount=Decimal("1234.50"), last_run_as_of=BENCH_DAY,
            action="sms", action_params='{"template":"%s"}' % ("reminder" if i % 2 else "overdue_notice"),
            decision_on=BENCH_DAY) for i in ids])


def run(n: int) -> dict:
    """Load ``n`` cases, then time the enqueue, the dispatch through the local SMPP server and a
    re-run. Returns the figures (see the module docstring)."""
    from unittest import mock

    from arrears.contexts.contact.sms import services
    from arrears.contexts.contact.sms.models import OutboundSms
    from arrears.adapters.smpp import SmppGateway, SmppSettings
    from devtools.smpp_testserver import SmppTestServer

    services._kick = lambda: None  # the bench drives the worker passes itself
    t0 = time.perf_counter()
    _load(n)
    load_s = time.perf_counter() - t0
    with SmppTestServer() as srv, mock.patch("django.utils.timezone.now", return_value=BENCH_NOW):
        gw = SmppGateway(SmppSettings(port=srv.port, source_addr="10690000", window=64))
        t0 = time.perf_counter()
        queued = services.enqueue_from_decisions(BENCH_DAY)
        enqueue_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        totals: dict[str, int] = {}
        while True:
            r = services.dispatch_due(now=BENCH_NOW, limit=2000, gateway=gw, rate_per_second=1e9)
            for k, v in r.items():
                totals[k] = totals.get(k, 0) + v
            if not r["claimed"]:
                break
        while True:  # the receipts still on their way
            got = services.process_gateway_events(gw.poll(0.3), gw.name)
            totals["receipts"] = totals.get("receipts", 0) + got
            if not got:
                break
        dispatch_s = time.perf_counter() - t0
        rerun_queue = services.enqueue_from_decisions(BENCH_DAY)
        rerun = services.dispatch_due(now=BENCH_NOW, limit=2000, gateway=gw, rate_per_second=1e9)
        gw.close()
        statuses = dict(OutboundSms.objects.values_list("status").annotate(
            n=__import__("django.db.models", fromlist=["Count"]).Count("id")).values_list("status", "n"))
        return {
            "messages": n, "load_s": round(load_s, 2), "enqueue_s": round(enqueue_s, 3),
            "queued": queued["queued"], "dispatch_s": round(dispatch_s, 2),
            "messages_per_s": round(totals.get("submitted", 0) / dispatch_s, 1) if dispatch_s else None,
            "submitted": totals.get("submitted", 0), "receipts": totals.get("receipts", 0),
            "smpp_submit_sm": srv.submits, "smpp_parts_per_message": round(srv.submits / max(1, sum(srv.messages.values())), 2),
            "messages_at_smsc": sum(srv.messages.values()), "duplicates": srv.duplicates,
            "statuses": statuses, "rerun_queued": rerun_queue["queued"], "rerun_submitted": rerun["submitted"],
        }


def command(cmd, opts, fresh_database) -> None:
    """``arrears bench sms``: a fresh database, migrated, then :func:`run` in a child process."""
    from django.core.management.base import CommandError

    from arrears.core.progress import Reporter

    rep = Reporter(opts["json"], "bench sms", cmd.stdout)
    n = opts["messages"]
    with rep.running():
        url, cleanup = fresh_database(opts.get("database_url"), n)
        try:
            env = {**os.environ, "ARREARS_DATABASE_URL": url, "ARREARS_SMS_GATEWAY": "smpp",
                   "ARREARS_TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
            rep.step("migrating a fresh database")
            subprocess.run([sys.executable, "-m", "arrears.manage", "migrate", "-v", "0"], env=env, check=True)
            rep.step(f"{n:,} messages through the local SMPP server")
            proc = subprocess.run([sys.executable, "-m", "devtools.bench_sms", "--messages", str(n)],
                                  env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise CommandError(f"bench sms failed:\n{proc.stderr[-4000:]}")
            payload = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
        finally:
            cleanup()
    rep.result(payload, f"{n:,} messages: {payload['messages_per_s']} messages/s end to end, "
                        f"{payload['receipts']} receipts, duplicates {payload['duplicates']}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=100_000)
    a = p.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.config.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("arrears.sms").setLevel(logging.ERROR)
    logging.getLogger("arrears.sms.smpplib").setLevel(logging.ERROR)
    print(json.dumps(run(a.messages)), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()

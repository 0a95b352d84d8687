"""``arrears sms_dispatch [--loop] [--limit N] [--every S] [--json]``: run worker passes of the SMS
outbox (the same function the ``dispatch_outbox`` task runs) — for cron/systemd or by hand."""
from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Dispatch due SMS (debtor-local window, caps, gate) and read receipts; --loop to keep going."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--limit", type=int, default=500)
        parser.add_argument("--every", type=float, default=30.0, help="seconds between passes with --loop")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        from arrears.contexts.contact.sms import services

        while True:
            res = services.dispatch_due(limit=o["limit"], poll_seconds=1.0)
            self.stdout.write(json.dumps(res) if o["json"] else " ".join(f"{k}={v}" for k, v in res.items()))
            if not o["loop"]:
                return
            if res["claimed"] < o["limit"]:
                time.sleep(o["every"])

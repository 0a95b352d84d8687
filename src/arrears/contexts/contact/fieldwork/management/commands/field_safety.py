"""``arrears field_safety [--loop SECONDS] [--json]``: raise and escalate overdue check-out alerts.

Run once (cron) or with ``--loop 60`` next to ``arrears db_worker``; the same scan is the
``arrears.contexts.contact.fieldwork.tasks.scan_safety_task`` django-task.
"""
from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from arrears.contexts.contact.fieldwork.services import scan_safety


class Command(BaseCommand):
    help = "Field-visit safety scan: overdue check-outs raise alerts, then escalate."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds (0 = once)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        while True:
            out = scan_safety()
            self.stdout.write(json.dumps(out) if opts["json"] else
                              f"checked {out['checked']}, raised {out['raised']}, escalated {out['escalated']}")
            if opts["loop"] <= 0:
                return
            time.sleep(opts["loop"])

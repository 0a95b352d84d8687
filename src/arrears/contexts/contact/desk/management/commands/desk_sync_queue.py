"""``arrears desk_sync_queue [--json]``: mirror the strategy's phone decisions into the desk queue
(:func:`arrears.contexts.contact.desk.services.sync_queue`). Run after the daily run (idempotent)."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from arrears.contexts.contact.desk.services import sync_queue


class Command(BaseCommand):
    help = "Sync the phone desk's work queue with the cases' strategy decisions."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        counts = sync_queue()
        self.stdout.write(json.dumps(counts) if opts["json"] else
                          f"queue: {counts['queued']} cases ({counts['inserted']} new, {counts['updated']} updated, "
                          f"{counts['removed']} removed)")

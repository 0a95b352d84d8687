"""``arrears sms_listen``: keep a bound SMPP session open and apply delivery receipts and replies as
they arrive (enquire_link keeps it alive; it reconnects when the SMSC drops it)."""
from __future__ import annotations

import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Listen for SMPP delivery receipts and replies (deliver_sm) and apply them."

    def handle(self, *args, **o):
        from arrears.contexts.contact.sms import services
        from arrears.contexts.contact.sms.gateways import get_gateway

        gw = get_gateway()
        self.stdout.write(f"listening on the {gw.name} gateway")
        while True:
            n = services.process_gateway_events(gw.poll(5.0), gw.name)
            if n:
                self.stdout.write(f"applied {n}")
            elif gw.name == "log":
                time.sleep(5)

"""``arrears purge [--dry-run] [--as-of YYYY-MM-DD] [--json]``: apply the retention policy.

Erases the personal data of customers with no open case whose latest case closed longer ago than
``ARREARS_RETENTION['closed_case_personal_data']`` days (as of today in the business time zone,
or ``--as-of``), one ``retention.purge`` audit event per customer and one for the run
(:mod:`arrears.pipeline.retention`).
``--dry-run`` only lists them (customer, data class, why). Idempotent. Never touches the audit log.
"""
from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter
from arrears.pipeline import retention


def actor_option(username: str | None):
    if not username:
        return None
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"--actor {username!r}: no such user") from None


class Command(BaseCommand):
    help = "Erase personal data past its retention period (closed cases); --dry-run lists what would go."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be purged, change nothing")
        parser.add_argument("--as-of", type=date.fromisoformat, help="business date YYYY-MM-DD (default: today)")
        parser.add_argument("--actor", help="username of the person running the purge (for the audit log)")
        parser.add_argument("--reason", default="", help="why (recorded; default: the retention rule)")
        parser.add_argument("--json", action="store_true", help="print only the JSON result")

    def handle(self, *args, **opts):
        actor = actor_option(opts["actor"])
        rep = Reporter(opts["json"], "purge", self.stdout)
        with rep.running():
            result = retention.purge(
                opts["as_of"], dry_run=opts["dry_run"], actor=actor, reason=opts["reason"], progress=rep.step
            )
        s = result.summary()
        days = s["policy"][retention.CLOSED_CASE_PII]
        lines = [f"  {i.external_id} (#{i.customer_id}) {i.data_class}: {i.reason}" for i in result.items]
        if result.dry_run:
            head = (f"purge --dry-run as of {s['as_of']}: {s['count']:,} customer(s) would have their personal data "
                    f"erased ({retention.CLOSED_CASE_PII}, {days} days); nothing changed")
        else:
            head = (f"purge as of {s['as_of']}: {s['purged']:,} customer(s) erased, {s['contacts_erased']:,} contacts"
                    + (f", {s['skipped']} skipped (a case opened meanwhile)" if s["skipped"] else "")
                    + "; recorded in the audit log")
        rep.result(s, "\n".join([head, *lines]))

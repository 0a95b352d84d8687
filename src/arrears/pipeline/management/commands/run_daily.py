"""``arrears run_daily --as-of YYYY-MM-DD [--json]``"""
from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter
from arrears.pipeline.daily import RunError, run_daily


class Command(BaseCommand):
    help = "Daily run: days past due, buckets, roll/cure, cases opened/updated/closed. Idempotent per date."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="business date YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print only the JSON result")

    def handle(self, *args, **opts):
        rep = Reporter(opts["json"], "run_daily", self.stdout)
        with rep.running():
            try:
                result = run_daily(opts["as_of"], progress=rep.step)
            except RunError as e:
                rep.failure(str(e))
                raise CommandError(str(e)) from e
        s = result.summary()
        human = (
            f"daily run {s['as_of']}: {s['accounts']:,} accounts; buckets "
            + " ".join(f"{k}={v:,}" for k, v in s["buckets"].items())
            + f"; cases open {s['cases_open']:,} (+{s['cases_opened']:,} opened, {s['cases_closed']:,} closed)"
            + f" in {s['seconds']}s" + (" [re-run: nothing new]" if result.rerun and not (s['cases_opened'] or s['cases_closed']) else "")
        )
        rep.result(s, human)

"""``arrears demo [--no-serve] [--as-of YYYY-MM-DD] [--addr 127.0.0.1:8000]``

The main job end to end on real data: migrate the database (SQLite by default), import the UCI
card portfolio (30,000 accounts, shipped in ``arrears/data``), run the daily run, create one demo
user per role, print their credentials, and serve the desk. Safe to run again: the import and the
run are idempotent.

Every run sets the demo users' password and prints it: ``ARREARS_DEMO_PASSWORD`` when set, else a
new random one. The business date is today (``ARREARS_TIME_ZONE``), or the latest daily run's date
when that is later (runs only go forward).
"""
from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from arrears.core.progress import Reporter


class Command(BaseCommand):
    help = "Load the real UCI portfolio, run the daily run, create demo users and serve the desk."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="stop after loading")
        parser.add_argument("--as-of", default=None,
                            help="business date (default: today in ARREARS_TIME_ZONE, or the latest daily run's "
                                 "date if that is later: runs only go forward)")
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, **opts):
        from datetime import date

        from arrears.contexts.portfolio.facade import read_uci
        from arrears.contexts.portfolio.facade import load_extract
        from arrears.contexts.org.facade import ensure_demo_users
        from arrears.pipeline.daily import run_daily

        as_of = date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        rep = Reporter(False, "demo")
        with rep.running():
            rep.step(f"database: {settings.DATABASES['default']['NAME']}")
            call_command("migrate", interactive=False, verbosity=0)
            rep.step("importing the UCI portfolio (30,000 card accounts)")
            from arrears.contexts.portfolio.facade import latest_run_date

            latest = latest_run_date()
            if latest and latest > as_of:
                as_of = latest
            extract = read_uci(settings.DATA_DIR / "uci_default_of_credit_card_clients.csv", as_of)
            imported = load_extract(extract, "uci", progress=rep.step)
            if imported.already_imported:
                rep.step("portfolio already loaded for this date")
            # every demo run sets (and prints) the demo users' password, so the printed one works
            password = os.environ.get("ARREARS_DEMO_PASSWORD") or ("Demo-" + secrets.token_urlsafe(9))
            users = ensure_demo_users(password)
            from devtools.demo_seed import seed_demo_organisation, seed_demo_work

            seed_demo_organisation()  # teams and capacities first: the daily run allocates to them
            rep.step(f"daily run as of {as_of}")
            result = run_daily(as_of, progress=rep.step)
            seeded = seed_demo_work(as_of)
            if seeded:
                rep.step(f"demo organisation: {seeded}")
        s = result.summary()
        self.stdout.write(
            f"\nDaily run {s['as_of']}: {s['accounts']:,} accounts, "
            + ", ".join(f"{k} {v:,}" for k, v in s["buckets"].items())
            + f"; {s['cases_open']:,} open cases.\n"
        )
        self.stdout.write("\nDemo users (username / role / password):\n")
        for username, role, password in users:
            shown = password or "(unchanged: set ARREARS_DEMO_PASSWORD to reset)"
            self.stdout.write(f"  {username:20s} {role:20s} {shown}\n")
        if opts["no_serve"]:
            return
        self.stdout.write(f"\nServing the desk on http://{opts['addr']}/ (Ctrl-C to stop), with the background "
                          "worker (SMS dispatch, strategy re-decisions after outcomes and payments)\n")
        worker = _start_worker()
        try:
            call_command("runserver", opts["addr"], use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)


def _start_worker():
    """``arrears db_worker`` beside the server when tasks go to the database backend (the default):
    queued SMS and re-decisions run while the demo is served. ``None`` for an eager backend."""
    import subprocess
    import sys

    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    if not backend.startswith("django_tasks_db"):
        return None
    return subprocess.Popen([sys.executable, "-m", "arrears.manage", "db_worker", "--no-reload", "-v", "0"])

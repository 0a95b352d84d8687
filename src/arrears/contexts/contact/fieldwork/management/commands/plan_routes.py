"""``arrears plan_routes --date YYYY-MM-DD [--seconds S] [--team ID …] [--dry-run] [--json]``

Routes every field team's approved and planned visits of the day (PyVRP; travel times on the
Futian street graph, distance × detour elsewhere), assigns crews in route order and prints teams,
visits, unassigned visits with reasons, total travel minutes and solve seconds.
"""
from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.contexts.contact.fieldwork.services import plan_routes
from arrears.domain.routing import REASONS


class Command(BaseCommand):
    help = "Plan the day's field routes per team (VRP with time windows)."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True)
        parser.add_argument("--seconds", type=float, default=20.0, help="solver time budget in all")
        parser.add_argument("--team", type=int, action="append", dest="teams")
        parser.add_argument("--dry-run", action="store_true", help="solve and print; write nothing")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        try:
            day = date.fromisoformat(opts["date"])
        except ValueError:
            raise CommandError(f"--date: not a date (YYYY-MM-DD): {opts['date']!r}") from None
        if opts["seconds"] <= 0:
            raise CommandError("--seconds must be positive")
        out = plan_routes(day, seconds=opts["seconds"], team_ids=opts["teams"], write=not opts["dry_run"])
        for t in out["teams"]:
            for u in t["unassigned"]:
                u["why"] = REASONS.get(u["reason"], u["reason"])
        if opts["json"]:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        self.stdout.write(f"{out['date']}: {out['routed']}/{out['visits']} visits routed, "
                          f"{out['total_travel_minutes']} travel minutes, {out['solve_seconds']} s")
        for t in out["teams"]:
            self.stdout.write(f"  {t['name']}: {len(t['crews'])} crews, {t['travel_minutes']} min")
            for c in t["crews"]:
                self.stdout.write(f"    crew {c['members']}: " + " → ".join(f"{s['start']} V{s['visit']}" for s in c["stops"]))
            for u in t["unassigned"]:
                self.stdout.write(f"    unassigned V{u['visit']}: {u['why']}")

"""``arrears strategy_simulate --strategy FILE --as-of DATE [--json]`` — what-if, writes nothing.

Decides every open case with the strategy in FILE as of DATE (every case freshly, as if the file
were activated that day), then runs the allocation on those decisions in memory, and prints the
action counts per segment and arm, and the workload per team (and agency) against capacity.
The database is only read.
"""
from __future__ import annotations

from datetime import date

import duckdb
from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter
from arrears.contexts.strategy import services
from arrears.domain.errors import RuleDataError
from arrears.rules.strategy_loader import load_strategy


class Command(BaseCommand):
    help = "What-if: actions per segment and arm and workload per team for a strategy file; writes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--strategy", required=True, help="strategy YAML file")
        parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="business date YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print only the JSON result")

    def handle(self, *args, **opts):
        rep = Reporter(opts["json"], "strategy_simulate", self.stdout)
        try:
            strategy = load_strategy(opts["strategy"])
        except RuleDataError as e:
            raise CommandError(f"{e.source}: invalid strategy:\n  - " + "\n  - ".join(e.errors)) from e
        with rep.running():
            rep.step("reading open cases and deciding")
            result = services.simulate(strategy, opts["as_of"])
        lines = [f"{strategy.key} as of {opts['as_of']}: {result['cases']:,} open cases"]
        for row in result["actions"]:
            lines.append(f"  {row['segment']}/{row['arm']}: {row['action']} {row['cases']:,}")
        for t in result["workload"]["teams"]:
            lines.append(f"  team {t['team']}: {t['cases']:,} / capacity {t['capacity']:,}")
        rep.result(result, "\n".join(lines))

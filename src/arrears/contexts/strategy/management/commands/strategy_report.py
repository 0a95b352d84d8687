"""``arrears strategy_report [--strategy-version name@version] [--json]`` — results per arm."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from arrears.core.progress import Reporter
from arrears.contexts.strategy.selectors import arm_results
from arrears.domain.money import format_amounts


class Command(BaseCommand):
    help = ("Champion/challenger results per segment and arm: cases, cured, paid off, still open, promises "
            "kept/broken and amounts paid since each case's first decision (per currency).")

    def add_arguments(self, parser):
        parser.add_argument("--strategy-version", default=None, help="name@version (default: every version)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        rep = Reporter(opts["json"], "strategy_report", self.stdout)
        with rep.running():
            rows = arm_results(opts["strategy_version"])
        human = "\n".join(
            f"{r['strategy_version']} {r['segment']}/{r['arm']}: {r['cases']:,} cases, cure rate {r['cure_rate']}, "
            f"paid {format_amounts(r['paid_amounts'], 'en') or 'nothing'}" for r in rows) or "no decisions yet"
        rep.result({"arms": rows}, human)

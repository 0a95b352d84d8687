"""``arrears import_portfolio PATH… [--format standard|uci] --as-of YYYY-MM-DD [--json]``"""
from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter
from arrears.contexts.portfolio.intake.extract import ExtractError
from arrears.contexts.portfolio.services import ImportRefused, load_extract


class Command(BaseCommand):
    help = "Validate a portfolio extract (every row) and load it atomically; nothing is loaded if any row is bad."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="extract files, or a directory holding them")
        parser.add_argument("--format", choices=["standard", "uci"], default="standard")
        parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="extract date YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print only the JSON result")

    def handle(self, *args, **opts):
        rep = Reporter(opts["json"], "import_portfolio", self.stdout)
        t0 = time.perf_counter()
        with rep.running():
            try:
                rep.step(f"reading and validating {opts['format']} extract {', '.join(map(str, opts['paths']))}")
                if opts["format"] == "uci":
                    from arrears.contexts.portfolio.intake.uci import read_uci

                    if len(opts["paths"]) != 1:
                        raise CommandError("--format uci takes exactly one CSV file")
                    extract = read_uci(opts["paths"][0], opts["as_of"])
                else:
                    from arrears.contexts.portfolio.intake.standard import read_standard

                    extract = read_standard(opts["paths"], opts["as_of"])
                rep.step(f"valid: {extract.accounts.height:,} accounts of {extract.customers.height:,} customers; loading")
                result = load_extract(extract, opts["format"], progress=rep.step)
            except ExtractError as e:
                rep.failure("extract rejected, nothing loaded",
                            [{"file": p.file, "row": p.row, "column": p.column, "reason": p.reason} for p in e.problems])
                raise CommandError(f"extract rejected, nothing loaded:\n{e}") from e
            except ImportRefused as e:
                rep.failure(f"import refused, nothing loaded: {e}")
                raise CommandError(f"import refused, nothing loaded: {e}") from e
        result.seconds = round(time.perf_counter() - t0, 2)
        payload = asdict(result)
        human = (
            "already imported: nothing changed" if result.already_imported else
            "imported: " + ", ".join(f"{k} +{v:,} ~{result.updated[k]:,}" for k, v in result.inserted.items())
        ) + f" ({result.seconds}s)"
        rep.result(payload, human)

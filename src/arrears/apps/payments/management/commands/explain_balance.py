"""``arrears explain_balance ACCOUNT_ID --as-of YYYY-MM-DD [--json] [--language zh|en]``.

Prints the breakdown of an account's balance on a date: principal, interest per period (days,
rate, base), 违约金, fees and payments applied, exact to the fen (see
:func:`arrears.domain.balance.explain`). ``ACCOUNT_ID`` is the card system's account number.
"""
from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.apps.payments.selectors import explain_account


class Command(BaseCommand):
    help = "Explain an account's balance on a date (principal, interest per period, 违约金, fees, payments)."

    def add_arguments(self, parser):
        parser.add_argument("account_id")
        parser.add_argument("--as-of", required=True, help="business date YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print the breakdown as JSON")
        parser.add_argument("--language", default="zh", choices=["zh", "en"])

    def handle(self, *args, **opts):
        try:
            as_of = date.fromisoformat(opts["as_of"])
        except ValueError:
            raise CommandError(f"--as-of {opts['as_of']!r} is not a date (YYYY-MM-DD)") from None
        try:
            exp = explain_account(opts["account_id"], as_of)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps({"account": opts["account_id"], **exp.to_dict()}, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(exp.paragraph(opts["language"]))

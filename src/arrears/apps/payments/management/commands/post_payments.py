"""``arrears post_payments FILE --as-of YYYY-MM-DD [--json]``: post the daily payments file.

The whole file is validated first (:func:`arrears.apps.portfolio.intake.payments.read_payments_file`);
a bad row rejects it whole with file, line, column and reason. Valid files are posted row by row
through :func:`arrears.apps.payments.services.post_payment` inside one transaction (all or
nothing), idempotent by payment id: posting the same file twice posts each payment once.
"""
from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.apps.payments.services import PaymentError, post_payment_file
from arrears.apps.portfolio.intake.extract import ExtractError


class Command(BaseCommand):
    help = "Post a payments file (payment_id, account_id, paid_at, amount, channel[, reverses])."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as-of", required=True)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        try:
            as_of = date.fromisoformat(opts["as_of"])
        except ValueError:
            raise CommandError(f"--as-of {opts['as_of']!r} is not a date (YYYY-MM-DD)") from None
        try:
            result = post_payment_file(opts["path"], as_of)
        except ExtractError as exc:
            raise CommandError(str(exc)) from None
        except PaymentError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(f"posted {result['posted']}, already posted {result['repeated']}, "
                              f"reversed {result['reversed']}")

"""``arrears explain_balance ACCOUNT_ID --as-of YYYY-MM-DD [--json] [--language zh|en]``.

Prints the breakdown of an account's balance on a date: principal, interest per period (days,
rate, base, and the interest-free period kept or lost), 违约金, fees and payments applied, exact to
the fen (see :func:`arrears.domain.balance.explain`). ``ACCOUNT_ID`` is the card system's account
number.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from arrears.contexts.money.payments.selectors import explain_account

from ._money_options import add_options, as_of, emit, refusals


class Command(BaseCommand):
    help = "Explain an account's balance on a date (principal, interest per period, 违约金, fees, payments)."

    def add_arguments(self, parser):
        parser.add_argument("account_id")
        add_options(parser)
        parser.add_argument("--language", default="zh", choices=["zh", "en"])

    def handle(self, *args, **opts):
        day = as_of(opts)
        with refusals(LookupError, ValueError):
            exp = explain_account(opts["account_id"], day)
        emit(self, opts, {"account": opts["account_id"], **exp.to_dict()}, lambda: exp.paragraph(opts["language"]))

"""``arrears post_payments FILE --as-of YYYY-MM-DD [--json]``: post the daily payments file.

The whole file is validated first (:func:`arrears.contexts.portfolio.facade.read_payments_file`);
a bad row rejects it whole with file, line, column and reason. Valid files are posted row by row
through :func:`arrears.contexts.money.payments.services.post_payment` inside one transaction (all or
nothing), idempotent by payment id: posting the same file twice posts each payment once.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from arrears.contexts.money.payments.services import PaymentError, post_payment_file
from arrears.contexts.portfolio.facade import ExtractError

from ._money_options import add_options, as_of, emit, refusals


class Command(BaseCommand):
    help = "Post a payments file (payment_id, account_id, paid_at, amount, channel[, reverses])."

    def add_arguments(self, parser):
        parser.add_argument("path")
        add_options(parser)

    def handle(self, *args, **opts):
        day = as_of(opts)
        with refusals(ExtractError, PaymentError):
            result = post_payment_file(opts["path"], day)
        emit(self, opts, result, lambda: f"posted {result['posted']}, already posted {result['repeated']}, "
                                         f"reversed {result['reversed']}")

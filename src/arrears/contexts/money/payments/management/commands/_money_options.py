"""What the money commands (``explain_balance``, ``post_payments``) share: the ``--as-of`` and
``--json`` options, turning the money errors into :class:`CommandError`, and the output."""
from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from arrears.contexts.money.payments.selectors import parse_as_of


def add_options(parser) -> None:
    """``--as-of YYYY-MM-DD`` (required) and ``--json``."""
    parser.add_argument("--as-of", required=True, help="business date YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def as_of(opts: dict) -> date:
    """The ``--as-of`` date; :class:`CommandError` with the bad value otherwise."""
    try:
        return parse_as_of(opts["as_of"])
    except ValueError:
        raise CommandError(f"--as-of {opts['as_of']!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def refusals(*errors: type[Exception]):
    """Turn the given errors (bad file, unknown account, payment refused …) into a
    :class:`CommandError` carrying their message (exit status 1, nothing written)."""
    try:
        yield
    except errors as exc:
        raise CommandError(str(exc)) from None


def emit(command: BaseCommand, opts: dict, data: dict, text: Callable[[], str]) -> None:
    """``data`` as JSON with ``--json`` (Chinese kept readable), else the line ``text()``."""
    if opts["json"]:
        command.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        command.stdout.write(text())

"""Reader of the daily payments extract: one UTF-8 CSV file ``payment_id, account_id, paid_at,
amount, channel`` (the columns of ``payments.csv`` in the standard extract, ``docs/extract.md``),
plus an optional ``reverses`` column: the ``payment_id`` a reversal / chargeback row takes back
(its ``amount`` must equal the original's).

Every row is checked with the same pandera rules as the standard extract (plain amount > 0 with
≤ 2 decimals, ISO 8601 time with offset …), then: duplicate ``payment_id``, ``account_id`` unknown
to the database, payment dated after the business date ``as_of`` in the customer's time zone.
Any problem rejects the whole file with :class:`~.extract.ExtractError` (file, line, column,
reason for every bad row): nothing is posted from a rejected file. No Django here: the caller
passes the known accounts and their time zones.
"""
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from .extract import LINE, ExtractError, Problem, read_csv_strings
from .standard import INPUT_COLUMNS, _duplicates, _normalise_case, _parse, _rows, _validate_rows

__all__ = ["PaymentRow", "read_payments_file"]


@dataclass(frozen=True)
class PaymentRow:
    """One valid row: ``line`` in the file, ids, aware ``paid_at`` (UTC), its ``local_date`` in the
    customer's zone, ``amount`` (Decimal > 0), ``channel``, ``reverses`` ("" for a payment)."""

    line: int
    payment_id: str
    account_id: str
    paid_at: datetime
    local_date: date
    amount: Decimal
    channel: str
    reverses: str


def read_payments_file(path: str | Path, as_of: date, account_timezones: dict[str, str]) -> list[PaymentRow]:
    """Read and validate a payments file. ``account_timezones`` maps every known account id to its
    customer's IANA time zone. Returns the rows in file order; raises :class:`ExtractError`."""
    path = Path(path)
    label = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError([Problem(label, None, None, f"cannot read the file: {exc.strerror or exc}")],
                           source="payments file") from exc
    df, header, problems = read_csv_strings(label, data)
    if df is None:
        raise ExtractError(problems, source="payments file")
    cols = INPUT_COLUMNS["payments"]
    for c in cols:
        if c.name not in header:
            problems.append(Problem(label, 1, c.name, "missing required column"))
    if problems:
        raise ExtractError(problems, source="payments file")
    if "reverses" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("reverses"))
    df = _normalise_case(df, cols)
    problems += [Problem(label, p.row, p.column, p.reason) for p in _validate_rows("payments", df)]
    typed = _parse("payments", df).with_columns(df["reverses"].fill_null("").alias("reverses"))
    problems += [Problem(label, p.row, p.column, p.reason)
                 for p in _duplicates(label, typed, ["payment_id"], "payment_id")]
    known = list(account_timezones)
    problems += _rows(label, typed, pl.col("account_id").is_not_null() & ~pl.col("account_id").is_in(known),
                      "account_id", lambda r: f"account_id {r['account_id']!r} is not a known account")
    out: list[PaymentRow] = []
    for r in typed.iter_rows(named=True):
        if r["paid_at"] is None or r["amount"] is None or r["account_id"] not in account_timezones:
            continue
        local = r["paid_at"].astimezone(zoneinfo.ZoneInfo(account_timezones[r["account_id"]])).date()
        if local > as_of:
            problems.append(Problem(label, r[LINE], "paid_at",
                                    f"paid on {local} ({account_timezones[r['account_id']]}), after the business "
                                    f"date {as_of}"))
            continue
        out.append(PaymentRow(r[LINE], r["payment_id"], r["account_id"], r["paid_at"], local, r["amount"],
                              r["channel"], r["reverses"]))
    if problems:
        raise ExtractError(problems, source="payments file")
    return out

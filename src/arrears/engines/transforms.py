"""Vectorised transforms of the daily run, over DuckDB relations.

Each transform is named after what it adds and takes/returns a ``duckdb.DuckDBPyRelation``; the
SQL they generate comes from the same rule data the domain core uses (the bucket ladder), and the
parity tests (``tests/unit/test_batch_parity.py``) check them against :mod:`arrears.domain` row by
row.

Columns expected on the account relation:
``account_id, customer_id, currency, balance DECIMAL(16,2), overdue_amount DECIMAL(16,2),
oldest_unpaid_due_date DATE, prev_bucket VARCHAR (NULL if never run)``.
DPD is counted in whole calendar days between two local dates (the due date and the as-of date
are both dates in the debtor's own calendar), so no time-zone arithmetic happens here.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from arrears.domain import cases as case_rules
from arrears.domain import delinquency as dlq_rules
from arrears.domain.buckets import BucketLadder


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def bucket_sql(ladder: BucketLadder, column: str) -> str:
    """A SQL ``CASE`` giving the bucket name of the DPD in ``column`` (same ladder as the domain)."""
    return case_rules.bucket_sql(ladder, column)


def bucket_rank_sql(ladder: BucketLadder, column: str) -> str:
    """A SQL ``CASE`` giving the 0-based position of bucket ``column`` on the ladder."""
    whens = " ".join(f"WHEN '{b.name}' THEN {i}" for i, b in enumerate(ladder.buckets))
    return f"CASE {column} {whens} END"


def with_days_past_due(accounts: duckdb.DuckDBPyRelation, as_of: date) -> duckdb.DuckDBPyRelation:
    """Add ``dpd``: days from the oldest unpaid due date to ``as_of``; 0 when nothing is overdue.

    An amount due on ``as_of`` itself is not overdue (DPD 0; reported fault R10).
    """
    d = _lit(as_of)
    return accounts.project(
        f"*, CASE WHEN oldest_unpaid_due_date IS NULL OR oldest_unpaid_due_date >= {d} THEN 0 "
        f"ELSE date_diff('day', oldest_unpaid_due_date, {d}) END::INTEGER AS dpd"
    )


def with_bucket(accounts: duckdb.DuckDBPyRelation, ladder: BucketLadder) -> duckdb.DuckDBPyRelation:
    """Add ``bucket`` from ``dpd`` on the ladder."""
    return accounts.project(f"*, {bucket_sql(ladder, 'dpd')} AS bucket")


def with_roll(accounts: duckdb.DuckDBPyRelation, ladder: BucketLadder) -> duckdb.DuckDBPyRelation:
    """Add ``roll`` against ``prev_bucket``: new, forward, back, cure or stay (see ``BucketLadder.roll``)."""
    current = ladder.buckets[0].name
    rank_now, rank_prev = bucket_rank_sql(ladder, "bucket"), bucket_rank_sql(ladder, "prev_bucket")
    return accounts.project(
        "*, CASE "
        f"WHEN prev_bucket IS NULL THEN CASE WHEN bucket = '{current}' THEN 'stay' ELSE 'new' END "
        "WHEN bucket = prev_bucket THEN 'stay' "
        f"WHEN bucket = '{current}' THEN 'cure' "
        f"WHEN {rank_now} > {rank_prev} THEN 'forward' ELSE 'back' END AS roll"
    )


def customer_positions(
    accounts: duckdb.DuckDBPyRelation, ladder: BucketLadder, tolerance: Decimal = Decimal("0.00")
) -> duckdb.DuckDBPyRelation:
    """One row per customer (:func:`arrears.domain.cases.POSITIONS_SQL`): ``max_dpd``, ``bucket``,
    the primary ``currency`` and its ``total_balance`` / ``overdue_amount``, ``amounts`` per
    currency (JSON text, never summed across currencies) and ``delinquent``."""
    return accounts.query("acc_positions_in", case_rules.POSITIONS_SQL("acc_positions_in", ladder, tolerance))


def delinquency(accounts: duckdb.DuckDBPyRelation, as_of: date, ladder: BucketLadder) -> duckdb.DuckDBPyRelation:
    """The vectorised delinquency step: DPD, bucket and roll per account."""
    return with_roll(with_bucket(with_days_past_due(accounts, as_of), ladder), ladder)


def case_actions(
    positions: duckdb.DuckDBPyRelation, open_cases: duckdb.DuckDBPyRelation
) -> duckdb.DuckDBPyRelation:
    """Today's customer positions joined with the open cases, with ``action`` open / close / update /
    none (:func:`arrears.domain.cases.CASE_ACTIONS_SQL`). ``open_cases`` has ``case_id, customer_id,
    status, case_bucket, case_max_dpd, case_balance, case_overdue, case_amounts``."""
    name = f"open_cases_{id(open_cases)}"
    open_cases.create_view(name, replace=True)
    return positions.query("positions_in", case_rules.CASE_ACTIONS_SQL("positions_in", name))


def with_overdue_from_items(
    con: duckdb.DuckDBPyConnection,
    accounts: duckdb.DuckDBPyRelation,
    statements: duckdb.DuckDBPyRelation,
    credits: duckdb.DuckDBPyRelation,
    as_of: date,
) -> duckdb.DuckDBPyRelation:
    """Replace ``oldest_unpaid_due_date`` and ``overdue_amount`` by their values as of ``as_of``,
    worked out from the extract's own figures (``extract_date, extract_overdue, extract_oldest``),
    the statements' minimums (``account_id, due_date, minimum_due``) and what counts as paid
    (``credits``: ``account_id, local_date, amount, until, kind``): the set-based side of
    :mod:`arrears.domain.delinquency` (``DUE_ITEMS_SQL``, ``POOL_SQL``, ``DELINQUENCY_SQL``)."""
    key = id(accounts)
    names = {"acc": f"dl_acc_{key}", "st": f"dl_st_{key}", "cr": f"dl_cr_{key}"}
    accounts.create_view(names["acc"], replace=True)
    statements.create_view(names["st"], replace=True)
    credits.create_view(names["cr"], replace=True)
    con.sql(dlq_rules.DUE_ITEMS_SQL(names["acc"], names["st"])).create_view(f"dl_items_{key}", replace=True)
    con.sql(dlq_rules.POOL_SQL(names["cr"], names["acc"], as_of)).create_view(f"dl_pool_{key}", replace=True)
    dl = con.sql(dlq_rules.DELINQUENCY_SQL(f"dl_items_{key}", f"dl_pool_{key}", as_of)).set_alias("dl")
    cols = [c for c in accounts.columns if c not in ("oldest_unpaid_due_date", "overdue_amount")]
    a = accounts.set_alias("a")
    return a.join(dl, "a.account_id = dl.account_id", how="left").project(
        ", ".join(f"a.{c}" for c in cols)
        + ", dl.oldest_unpaid_due_date AS oldest_unpaid_due_date, "
          "coalesce(dl.overdue_amount, 0)::DECIMAL(16,2) AS overdue_amount"
    )

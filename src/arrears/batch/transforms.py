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

from arrears.domain.buckets import BucketLadder


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def bucket_sql(ladder: BucketLadder, column: str) -> str:
    """A SQL ``CASE`` giving the bucket name of the DPD in ``column`` (same ladder as the domain)."""
    whens = []
    for b in ladder.buckets:
        if b.max_dpd is None:
            whens.append(f"WHEN {column} >= {b.min_dpd} THEN '{b.name}'")
        else:
            whens.append(f"WHEN {column} BETWEEN {b.min_dpd} AND {b.max_dpd} THEN '{b.name}'")
    return "CASE " + " ".join(whens) + " END"


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
    """One row per customer: ``max_dpd``, ``bucket`` (of the worst account), ``total_balance``
    (sum of positive balances), ``overdue_amount``, ``currency``, ``delinquent``: worked as a
    case (:func:`arrears.domain.delinquency.needs_collection`: max_dpd > 0 and overdue amount
    above ``tolerance``)."""
    agg = accounts.aggregate(
        "customer_id, max(dpd)::INTEGER AS max_dpd, "
        "sum(greatest(balance, 0))::DECIMAL(16,2) AS total_balance, "
        "sum(overdue_amount)::DECIMAL(16,2) AS overdue_amount, min(currency) AS currency",
        "customer_id",
    )
    tol = Decimal(tolerance).quantize(Decimal("0.01"))
    return agg.project(
        f"*, {bucket_sql(ladder, 'max_dpd')} AS bucket, "
        f"(max_dpd > 0 AND overdue_amount > {tol}::DECIMAL(16,2)) AS delinquent"
    )


def delinquency(accounts: duckdb.DuckDBPyRelation, as_of: date, ladder: BucketLadder) -> duckdb.DuckDBPyRelation:
    """The vectorised delinquency step: DPD, bucket and roll per account."""
    return with_roll(with_bucket(with_days_past_due(accounts, as_of), ladder), ladder)


def case_actions(
    positions: duckdb.DuckDBPyRelation, open_cases: duckdb.DuckDBPyRelation
) -> duckdb.DuckDBPyRelation:
    """Join today's customer positions with the open cases.

    ``open_cases`` has ``case_id, customer_id, status, case_bucket, case_max_dpd, case_balance,
    case_overdue``. Adds ``action``: ``open`` (delinquent, no open case), ``close`` (open case,
    customer no longer delinquent: cured), ``update`` (open case whose figures changed) or
    ``none``.
    """
    p = positions.filter("delinquent").set_alias("p")
    c = open_cases.set_alias("c")
    joined = p.join(c, "p.customer_id = c.customer_id", how="outer")
    return joined.project(
        "coalesce(p.customer_id, c.customer_id) AS customer_id, c.case_id, c.status, "
        "p.max_dpd, p.bucket, p.total_balance, p.overdue_amount, p.currency, c.case_bucket, "
        "CASE WHEN c.case_id IS NULL THEN 'open' "
        "WHEN p.customer_id IS NULL THEN 'close' "
        "WHEN p.max_dpd IS DISTINCT FROM c.case_max_dpd OR p.bucket IS DISTINCT FROM c.case_bucket "
        "  OR p.total_balance IS DISTINCT FROM c.case_balance OR p.overdue_amount IS DISTINCT FROM c.case_overdue "
        "THEN 'update' ELSE 'none' END AS action"
    )

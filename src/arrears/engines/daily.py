"""The daily run's vectorised step over DuckDB relations (no Django, no I/O): each account's
overdue amount and oldest unpaid due date as of the run date, DPD, bucket and roll, and the
per-customer case actions — executing the rule modules' SQL (:mod:`arrears.domain.delinquency`,
:mod:`arrears.domain.cases`). The run that reads, calls this and writes is
:mod:`arrears.pipeline.daily`; the input and output shapes are the Arrow schemas below.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa

from arrears.domain.buckets import BucketLadder

from . import transforms


ACCOUNT_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("currency", pa.string()),
        ("balance", pa.decimal128(16, 2)),
        ("overdue_amount", pa.decimal128(16, 2)),
        ("oldest_unpaid_due_date", pa.date32()),
        ("prev_bucket", pa.string()),
        ("prev_dpd", pa.int64()),
        ("stored_bucket", pa.string()),
        ("seen_today", pa.bool_()),
        ("extract_date", pa.date32()),
        ("extract_overdue", pa.decimal128(16, 2)),
        ("extract_oldest", pa.date32()),
        ("prev_overdue", pa.decimal128(16, 2)),
        ("prev_oldest", pa.date32()),
    ]
)
STATEMENT_SCHEMA = pa.schema(
    [("account_id", pa.int64()), ("due_date", pa.date32()), ("minimum_due", pa.decimal128(16, 2))]
)
CREDIT_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("local_date", pa.date32()),
        ("amount", pa.decimal128(16, 2)),
        ("until", pa.date32()),
        ("kind", pa.string()),
    ]
)
OPEN_CASE_SCHEMA = pa.schema(
    [
        ("case_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("status", pa.string()),
        ("case_bucket", pa.string()),
        ("case_max_dpd", pa.int64()),
        ("case_balance", pa.decimal128(16, 2)),
        ("case_overdue", pa.decimal128(16, 2)),
        ("case_amounts", pa.string()),
    ]
)


def compute(
    con: duckdb.DuckDBPyConnection,
    accounts: duckdb.DuckDBPyRelation,
    open_cases: duckdb.DuckDBPyRelation,
    as_of: date,
    ladder: BucketLadder,
    tolerance: Decimal = Decimal("0.00"),
    statements: duckdb.DuckDBPyRelation | None = None,
    credits: duckdb.DuckDBPyRelation | None = None,
) -> tuple[duckdb.DuckDBPyRelation, duckdb.DuckDBPyRelation]:
    """The vectorised delinquency step (no I/O): each account's overdue amount and oldest unpaid
    due date as of ``as_of`` from its extract figures, statements and credits
    (:func:`transforms.with_overdue_from_items`), then DPD, bucket and roll, and the per-customer
    case actions, as lazy relations."""
    statements = statements if statements is not None else con.from_arrow(STATEMENT_SCHEMA.empty_table())
    credits = credits if credits is not None else con.from_arrow(CREDIT_SCHEMA.empty_table())
    accounts = transforms.with_overdue_from_items(con, accounts, statements, credits, as_of)
    acc = transforms.delinquency(accounts, as_of, ladder)
    positions = transforms.customer_positions(acc, ladder, tolerance)
    return acc, transforms.case_actions(positions, open_cases)



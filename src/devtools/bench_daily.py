"""Benchmark of the daily run on a synthetic portfolio drawn from the UCI distributions.

The portfolio is the Parquet file that ``arrears/tools/engine_baseline.py`` (the bare-engine
baseline) writes: ``account_id, customer_id, credit_limit, balance, oldest_unpaid_due_date`` as of
2026-11-30, customers holding 1–3 accounts. Both the baseline's bare DuckDB query and our
vectorised delinquency step are timed on the same file in the same process, and their ratio is
reported. The whole daily run (reads, DuckDB, bulk writes, cases and events) is timed against a
fresh database loaded from the same file.
"""
from __future__ import annotations

import importlib.util
import os
import resource
import time
from datetime import date
from pathlib import Path

import duckdb
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from arrears.core import dbio
from arrears.engines.daily import OPEN_CASE_SCHEMA, compute
from arrears.rules import load_bucket_ladder

AS_OF = date(2026, 11, 30)
#: The baseline file has no overdue amount: a delinquent account owes its minimum payment, taken
#: as 10% of the balance and at least 100.00 (so every delinquent customer is worked as a case).
OVERDUE_SQL = ("CASE WHEN oldest_unpaid_due_date IS NULL THEN 0 "
               "ELSE greatest(round(balance * 0.1, 2), 100) END::DECIMAL(16,2)")


def baseline_module():
    """The baseline script, loaded from ``devtools/engine_baseline.py`` unchanged."""
    path = Path(__file__).with_name("engine_baseline.py")
    spec = importlib.util.spec_from_file_location("engine_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def portfolio_path(n: int, directory: Path, threads: int = 2) -> tuple[Path, float]:
    """Build (once) the baseline's Parquet portfolio of ``n`` accounts; returns (path, build seconds)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"portfolio_{n}.parquet"
    t0 = time.perf_counter()
    if not path.exists():
        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        baseline_module().build(con, n, str(path))
    return path, time.perf_counter() - t0


def _accounts_relation(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    return con.read_parquet(str(path)).project(
        "account_id + 1 AS account_id, customer_id + 1 AS customer_id, 'TWD' AS currency, "
        f"balance::DECIMAL(16,2) AS balance, {OVERDUE_SQL} AS overdue_amount, "
        "oldest_unpaid_due_date::DATE AS oldest_unpaid_due_date, NULL::VARCHAR AS prev_bucket, "
        f"NULL::BIGINT AS prev_dpd, DATE '{AS_OF.isoformat()}' AS extract_date, {OVERDUE_SQL} AS extract_overdue, "
        "oldest_unpaid_due_date::DATE AS extract_oldest"
    )


def time_vectorised_step(path: Path, threads: int = 2, repeat: int = 3) -> dict:
    """Best-of-``repeat`` seconds of the baseline's bare query and of the daily run's own
    vectorised step (:func:`arrears.engines.daily.compute`: DPD, bucket and roll per account,
    per-customer positions and case actions) plus counts per bucket, on the same file."""
    ladder = load_bucket_ladder()
    base = baseline_module()
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    no_open_cases = con.from_arrow(OPEN_CASE_SCHEMA.empty_table())
    bare, ours = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        base_res = base.query(con, str(path))
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        acc, actions = compute(con, _accounts_relation(con, path), no_open_cases, AS_OF, ladder)
        counts = dict(acc.aggregate("bucket, count(*)", "bucket").fetchall())
        cases = actions.filter("action = 'open'").aggregate("count(*)").fetchall()[0][0]
        ours.append(time.perf_counter() - t0)
    agree = {k: v for k, v in counts.items() if v} == {k: v for k, v in base_res["buckets"].items() if v} and \
        cases == base_res["cases"]
    return {"bare_query_s": round(min(bare), 4), "vectorised_step_s": round(min(ours), 4),
            "ratio": round(min(ours) / min(bare), 2), "agrees_with_baseline": agree,
            "buckets": counts, "delinquent_customers": cases}


def load_portfolio(path: Path) -> dict:
    """Bulk-load the Parquet portfolio into the (empty, migrated) database of record."""
    from arrears.contexts.portfolio.models import CardAccount, Customer

    con = duckdb.connect()
    now = timezone.now()
    t0 = time.perf_counter()
    customers = con.read_parquet(str(path)).aggregate("customer_id + 1 AS id", "customer_id").order("id")
    accounts = con.read_parquet(str(path)).project(
        "account_id + 1 AS id, customer_id + 1 AS customer_id, credit_limit, balance, "
        f"oldest_unpaid_due_date::DATE AS d, {OVERDUE_SQL} AS overdue"
    ).order("id")
    with transaction.atomic():
        n_c = dbio.bulk_insert(
            Customer._meta.db_table,
            ("id", "external_id", "name", "national_id", "birth_date", "sex", "timezone", "language", "district",
             "created_at"),
            ((i, f"BENCH{i:09d}", "", "", None, "", "Asia/Shanghai", "zh-hans", "", now)
             for (i,) in dbio.iter_arrow_rows(customers.to_arrow_table())),
        )
        n_a = dbio.bulk_insert(
            CardAccount._meta.db_table,
            ("id", "customer_id", "external_id", "product_code", "currency", "credit_limit", "balance", "principal",
             "interest", "fees", "minimum_due", "overdue_amount", "oldest_unpaid_due_date", "due_day", "opened_on",
             "as_of_extract", "dpd", "bucket", "last_run_as_of", "extract_overdue_amount",
             "extract_oldest_unpaid_due_date"),
            ((i, c, f"BENCH-A{i:010d}", "BENCH", "TWD", lim, bal, bal, 0, 0, 0, od, d, 25, None, AS_OF, 0, "M0",
              None, od, d)
             for i, c, lim, bal, d, od in dbio.iter_arrow_rows(accounts.to_arrow_table())),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"customers": n_c, "accounts": n_a, "load_s": round(time.perf_counter() - t0, 2)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_dir() -> Path:
    return Path(os.environ.get("ARREARS_BENCH_DIR", settings.VAR_DIR / "bench"))


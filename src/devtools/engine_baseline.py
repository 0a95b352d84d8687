"""Engine-limit baseline for the daily run's speed.

Builds (once) a synthetic card portfolio of N accounts whose delinquency and balances are drawn
from the UCI credit-card default data, as Parquet, and times a bare DuckDB query that does what a
daily run must at least do: days past due from the oldest unpaid due date, bucket, one case per
delinquent customer (group-by), counts per bucket. The product's own run on the same data is
then compared against this figure as a ratio, in the same run on the same machine. The Parquet
it writes (columns account_id, customer_id, credit_limit, balance, oldest_unpaid_due_date, as of
2026-11-30) can feed the product's own benchmark, so both work on the same data.

usage: python engine_baseline.py N [--threads 2] [--dir DIR]   (needs duckdb)
prints one JSON line: {"accounts", "build_s", "query_s", "buckets", "cases"}
"""
import argparse
import json
import os
import tempfile
import time

import duckdb

UCI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "arrears", "data",
                   "uci_default_of_credit_card_clients.csv")


def build(con: duckdb.DuckDBPyConnection, n: int, path: str) -> None:
    """Sample N accounts from UCI rows (with replacement); customers hold 1-3 accounts."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE uci AS
        SELECT row_number() OVER () - 1 AS k, *
        FROM read_csv_auto('{UCI}', header=true)
    """)
    con.execute(f"""
        COPY (
          WITH s AS (
            SELECT i AS account_id,
                   (i * 0.6)::BIGINT AS customer_id,
                   (hash(i) % 30000)::BIGINT AS k
            FROM range({n}) t(i)
          )
          SELECT s.account_id, s.customer_id,
                 u.LIMIT_BAL::DECIMAL(14,2) AS credit_limit,
                 greatest(u.BILL_AMT1, 0)::DECIMAL(14,2) AS balance,
                 CASE WHEN u.PAY_0 >= 1
                      THEN DATE '2026-11-30' - INTERVAL (30 * (u.PAY_0 - 1) + 1 + (hash(s.account_id) % 30)) DAY
                      ELSE NULL END AS oldest_unpaid_due_date
          FROM s JOIN uci u USING (k)
        ) TO '{path}' (FORMAT parquet)
    """)


def query(con: duckdb.DuckDBPyConnection, path: str) -> dict:
    rows = con.execute(f"""
        WITH a AS (
          SELECT customer_id, balance,
                 coalesce(date_diff('day', oldest_unpaid_due_date, DATE '2026-11-30'), 0) AS dpd
          FROM read_parquet('{path}')
        ), b AS (
          SELECT customer_id, balance, dpd,
                 CASE WHEN dpd <= 0 THEN 'M0' WHEN dpd > 180 THEN 'M7+'
                      ELSE 'M' || ((dpd - 1) // 30 + 1)::VARCHAR END AS bucket
          FROM a
        ), cases AS (
          SELECT customer_id, max(dpd) AS max_dpd, sum(balance) AS total
          FROM b WHERE dpd > 0 GROUP BY customer_id
        )
        SELECT bucket, count(*) AS n, (SELECT count(*) FROM cases) AS cases
        FROM b GROUP BY bucket ORDER BY bucket
    """).fetchall()
    return {"buckets": {r[0]: r[1] for r in rows}, "cases": rows[0][2] if rows else 0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "engine-baseline"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, f"portfolio_{a.n}.parquet")
    con = duckdb.connect()
    con.execute(f"SET threads={a.threads}")
    t0 = time.perf_counter()
    if not os.path.exists(path):
        build(con, a.n, path)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    res = query(con, path)
    q = time.perf_counter() - t1
    print(json.dumps({"accounts": a.n, "build_s": round(build_s, 2), "query_s": round(q, 3), **res}))


if __name__ == "__main__":
    main()

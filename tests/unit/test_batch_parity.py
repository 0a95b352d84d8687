"""The vectorised daily-run transforms agree with the pure domain core, row by row."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from arrears.engines import transforms
from arrears.domain.calendar import days_past_due
from arrears.domain.delinquency import needs_collection
from arrears.rules import load_bucket_ladder

LADDER = load_bucket_ladder()
AS_OF = date(2026, 11, 30)


def _accounts(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        oldest = None if rnd.random() < 0.3 else AS_OF - timedelta(days=rnd.randint(-40, 400))
        prev = None if rnd.random() < 0.2 else rnd.choice(LADDER.names)
        rows.append({
            "account_id": i, "customer_id": i // 2, "currency": "CNY",
            "balance": Decimal(rnd.randint(-5000, 500000)) / 100,
            "overdue_amount": Decimal(rnd.randint(0, 50000)) / 100,
            "oldest_unpaid_due_date": oldest, "prev_bucket": prev, "prev_dpd": 0,
        })
    return rows


def _table(rows):
    schema = pa.schema([("account_id", pa.int64()), ("customer_id", pa.int64()), ("currency", pa.string()),
                        ("balance", pa.decimal128(16, 2)), ("overdue_amount", pa.decimal128(16, 2)),
                        ("oldest_unpaid_due_date", pa.date32()), ("prev_bucket", pa.string()),
                        ("prev_dpd", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_delinquency_step_matches_domain_on_sampled_rows(seed):
    rows = _accounts(10_000, seed)
    con = duckdb.connect()
    out = transforms.delinquency(con.from_arrow(_table(rows)), AS_OF, LADDER).to_arrow_table().to_pylist()
    assert len(out) == len(rows)
    for src, got in zip(sorted(rows, key=lambda r: r["account_id"]), sorted(out, key=lambda r: r["account_id"])):
        dpd = days_past_due(AS_OF, src["oldest_unpaid_due_date"])
        bucket = LADDER.bucket_for(dpd)
        assert (got["dpd"], got["bucket"]) == (dpd, bucket), src
        assert got["roll"] == LADDER.roll(src["prev_bucket"], bucket), src


def test_customer_positions_sum_exact_decimals_and_take_worst_account():
    rows = _accounts(2_000, 7)
    con = duckdb.connect()
    acc = con.from_arrow(transforms.delinquency(con.from_arrow(_table(rows)), AS_OF, LADDER).to_arrow_table())
    pos = {r["customer_id"]: r for r in transforms.customer_positions(acc, LADDER).to_arrow_table().to_pylist()}
    by_customer: dict[int, list[dict]] = {}
    for r in rows:
        by_customer.setdefault(r["customer_id"], []).append(r)
    for cid, accts in by_customer.items():
        worst = max(days_past_due(AS_OF, a["oldest_unpaid_due_date"]) for a in accts)
        p = pos[cid]
        assert p["max_dpd"] == worst and p["bucket"] == LADDER.bucket_for(worst)
        assert p["total_balance"] == sum((max(a["balance"], Decimal(0)) for a in accts), Decimal(0))
        assert p["overdue_amount"] == sum((a["overdue_amount"] for a in accts), Decimal(0))
        overdue = sum((a["overdue_amount"] for a in accts), Decimal(0))
        assert p["delinquent"] == needs_collection(worst, overdue)


def test_due_today_is_not_overdue_in_the_batch():
    rows = [{"account_id": 1, "customer_id": 1, "currency": "CNY", "balance": Decimal("70.00"),
             "overdue_amount": Decimal("0"), "oldest_unpaid_due_date": AS_OF, "prev_bucket": None, "prev_dpd": 0},
            {"account_id": 2, "customer_id": 2, "currency": "CNY", "balance": Decimal("50.00"),
             "overdue_amount": Decimal("50.00"), "oldest_unpaid_due_date": AS_OF - timedelta(days=1),
             "prev_bucket": None, "prev_dpd": 0}]
    con = duckdb.connect()
    out = {r["account_id"]: r for r in
           transforms.delinquency(con.from_arrow(_table(rows)), AS_OF, LADDER).to_arrow_table().to_pylist()}
    assert (out[1]["dpd"], out[1]["bucket"], out[1]["roll"]) == (0, "M0", "stay")
    assert (out[2]["dpd"], out[2]["bucket"], out[2]["roll"]) == (1, "M1", "new")


def test_tolerance_leaves_out_customers_with_nothing_meaningful_overdue():
    rows = [{"account_id": i, "customer_id": i, "currency": "CNY", "balance": Decimal("100.00"),
             "overdue_amount": Decimal(amount), "oldest_unpaid_due_date": AS_OF - timedelta(days=40),
             "prev_bucket": None, "prev_dpd": 0} for i, amount in enumerate(["0.00", "9.99", "10.00", "10.01"])]
    con = duckdb.connect()
    acc = con.from_arrow(transforms.delinquency(con.from_arrow(_table(rows)), AS_OF, LADDER).to_arrow_table())
    for tol in (Decimal("0.00"), Decimal("10.00")):
        got = {r["customer_id"]: r["delinquent"]
               for r in transforms.customer_positions(acc, LADDER, tol).to_arrow_table().to_pylist()}
        assert got == {r["customer_id"]: needs_collection(40, r["overdue_amount"], tol) for r in rows}
    assert [needs_collection(40, Decimal(a), Decimal("10.00")) for a in ("9.99", "10.00", "10.01")] == [
        False, False, True]

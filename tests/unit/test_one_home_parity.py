"""One home per rule: the per-case and the set-based paths of the same rule module give the same
answers on the same sampled rows — delinquency from the extract, statements and credits
(:mod:`arrears.domain.delinquency`) and the case open/update/close rule (:mod:`arrears.domain.cases`)."""
from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa

from arrears.domain import cases as case_rules
from arrears.domain import delinquency as dl
from arrears.domain.calendar import days_past_due
from arrears.rules import load_bucket_ladder

LADDER = load_bucket_ladder()
D0 = date(2025, 6, 1)


def _accounts(n: int, seed: int):
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        kind = rng.random()
        overdue = Decimal(rng.randint(0, 300_000)) / 100 if kind < 0.7 else Decimal("0.00")
        oldest = D0 - timedelta(days=rng.randint(1, 200)) if (overdue > 0 or kind > 0.85) else None
        stmts = [(D0 - timedelta(days=rng.randint(-40, 200)), Decimal(rng.randint(0, 80_000)) / 100)
                 for _ in range(rng.randint(0, 6))]
        credits = []
        for j in range(rng.randint(0, 4)):
            day = D0 + timedelta(days=rng.randint(-5, 40))
            until = day + timedelta(days=rng.randint(0, 30)) if rng.random() < 0.3 else None
            kind_c = rng.choice(["payment", "payment", "payment", "waiver", "residual_write_off"])
            credits.append(dl.Credit(f"c{i}-{j}", day, Decimal(rng.randint(1, 200_000)) / 100, until, kind_c))
        out.append((i, overdue, oldest, stmts, credits))
    return out


def _set_based(accounts, as_of):
    con = duckdb.connect()
    con.register("acc", pa.table({
        "account_id": [a[0] for a in accounts],
        "extract_date": [D0] * len(accounts),
        "extract_overdue": pa.array([a[1] for a in accounts], pa.decimal128(16, 2)),
        "extract_oldest": pa.array([a[2] for a in accounts], pa.date32()),
    }))
    st = [(a[0], d, m) for a in accounts for d, m in a[3]]
    con.register("st", pa.table({"account_id": [r[0] for r in st], "due_date": pa.array([r[1] for r in st], pa.date32()),
                                 "minimum_due": pa.array([r[2] for r in st], pa.decimal128(16, 2))}))
    cr = [(a[0], c) for a in accounts for c in a[4]]
    con.register("cr", pa.table({
        "account_id": [r[0] for r in cr], "local_date": pa.array([r[1].local_date for r in cr], pa.date32()),
        "amount": pa.array([r[1].amount for r in cr], pa.decimal128(16, 2)),
        "until": pa.array([r[1].until for r in cr], pa.date32()), "kind": [r[1].kind for r in cr]}))
    con.sql(dl.DUE_ITEMS_SQL("acc", "st")).create_view("items")
    con.sql(dl.POOL_SQL("cr", "acc", as_of)).create_view("pools")
    rows = con.sql(dl.DELINQUENCY_SQL("items", "pools", as_of)).fetchall()
    return {a: (o, Decimal(v)) for a, o, v in rows}


def test_delinquency_parity_on_sampled_accounts():
    accounts = _accounts(3000, 7)
    for as_of in (D0, D0 + timedelta(days=1), D0 + timedelta(days=17), D0 + timedelta(days=45)):
        got = _set_based(accounts, as_of)
        mismatches = []
        for aid, overdue, oldest, stmts, credits in accounts:
            items = dl.extract_due_items(D0, overdue, oldest, stmts)
            want = dl.delinquency(items, dl.pool(credits, D0, as_of), as_of)
            have = got.get(aid, (None, Decimal("0.00")))
            if (want.oldest_unpaid_due_date, want.overdue_amount) != have:
                mismatches.append((aid, as_of, want.oldest_unpaid_due_date, want.overdue_amount, have))
            if want.oldest_unpaid_due_date is not None:
                assert want.dpd == days_past_due(as_of, want.oldest_unpaid_due_date)
        assert mismatches == []
    # the sample is not vacuous: partial pools, statuses and future items all occur
    assert any(a[1] == 0 and a[2] is not None for a in accounts)
    assert any(a[4] for a in accounts)


def test_extract_items_keep_the_extract_figures():
    items = dl.extract_due_items(D0, Decimal("900.00"), date(2025, 3, 31),
                                 [(date(2025, 3, 31), Decimal("500")), (date(2025, 4, 30), Decimal("300")),
                                  (date(2025, 5, 31), Decimal("400")), (date(2025, 6, 20), Decimal("100"))])
    # newest cycles in full (05-31: 400), then 04-30 takes 300, and the oldest the rest (200)
    assert [(i.due_date, i.amount) for i in items] == [
        (date(2025, 3, 31), Decimal("200.00")), (date(2025, 4, 30), Decimal("300.00")),
        (date(2025, 5, 31), Decimal("400.00")), (date(2025, 6, 20), Decimal("100.00"))]
    assert sum(i.amount for i in items if i.due_date < D0) == Decimal("900.00")


def test_case_rule_parity_on_sampled_customers():
    rng = random.Random(3)
    rows, open_cases = [], []
    for cust in range(1, 2001):
        for _ in range(rng.randint(1, 3)):
            cur = rng.choice(["CNY", "CNY", "USD", "TWD"])
            rows.append((cust, cur, rng.choice([0, 0, 3, 31, 95, 200]), Decimal(rng.randint(-5000, 90000)) / 100,
                         Decimal(rng.choice([0, 0, 5, 800, 2500])) / 100))
        if rng.random() < 0.5:
            open_cases.append((cust, rng.choice(["M1", "M2"]), rng.choice([3, 31]), Decimal("10.00"), Decimal("5.00"),
                               rng.choice(["{}", '{"CNY":{"balance":"10.00","overdue":"5.00"}}'])))
    tol = Decimal("0.50")
    con = duckdb.connect()
    con.register("acc", pa.table({
        "customer_id": [r[0] for r in rows], "currency": [r[1] for r in rows], "dpd": [r[2] for r in rows],
        "balance": pa.array([r[3] for r in rows], pa.decimal128(16, 2)),
        "overdue_amount": pa.array([r[4] for r in rows], pa.decimal128(16, 2))}))
    con.register("oc", pa.table({
        "case_id": [c[0] * 10 for c in open_cases], "customer_id": [c[0] for c in open_cases],
        "status": ["in_collection"] * len(open_cases), "case_bucket": [c[1] for c in open_cases],
        "case_max_dpd": [c[2] for c in open_cases],
        "case_balance": pa.array([c[3] for c in open_cases], pa.decimal128(16, 2)),
        "case_overdue": pa.array([c[4] for c in open_cases], pa.decimal128(16, 2)),
        "case_amounts": [c[5] for c in open_cases]}))
    con.sql(case_rules.POSITIONS_SQL("acc", LADDER, tol)).create_view("pos")
    got = {r[0]: r for r in con.sql(
        f"SELECT customer_id, action, max_dpd, bucket, currency, total_balance, overdue_amount, amounts "
        f"FROM ({case_rules.CASE_ACTIONS_SQL('pos', 'oc')})").fetchall()}
    cases = {c[0]: c for c in open_cases}
    by_cust: dict[int, list] = {}
    for r in rows:
        by_cust.setdefault(r[0], []).append(case_rules.AccountFigures(r[1], r[2], r[3], r[4]))
    actions = set()
    for cust, accs in by_cust.items():
        p = case_rules.customer_position(accs, LADDER, tol)
        c = cases.get(cust)
        want = case_rules.case_action(p, None if c is None else {
            "bucket": c[1], "max_dpd": c[2], "total_balance": c[3], "overdue_amount": c[4], "amounts": c[5]})
        actions.add(want)
        have = got.get(cust)
        assert (have[1] if have else "none") == want, cust
        if want in ("open", "update"):
            assert have[2:7] == (p.max_dpd, p.bucket, p.currency, p.total_balance, p.overdue_amount)
            assert json.loads(have[7]) == json.loads(p.amounts_json())
    assert actions == {"open", "update", "close", "none"}

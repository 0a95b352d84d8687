"""Allocation benchmark: the strategy decision plus :func:`arrears.engines.allocation.allocate` on
synthetic cases (``arrears bench strategy``). Development tool, not shipped."""
from __future__ import annotations

import time
from datetime import date

import duckdb

from arrears.engines.allocation import allocate

def bench_allocation(n_cases: int = 1_000_000, n_agents: int = 600, n_agencies: int = 12,
                     as_of: date | None = None, seed: int = 11, with_strategy: bool = True,
                     verbose: bool = True) -> dict:
    """Time the strategy decision (:func:`arrears.engines.strategy.decide` on
    :func:`devtools.strategy_synthetic.facts_table`) plus :func:`allocate` on ``n_cases``
    synthetic cases, ``n_agents`` agents and ``n_agencies`` agencies (data generation not timed).
    Returns and prints ``{"cases", "agents", "strategy_s", "allocation_s", "total_s", ...}``
    (seconds, wall clock)."""
    from arrears.rules.allocation_loader import load_allocation_policy

    from devtools.allocation_synthetic import synthetic_world
    as_of = as_of or date(2026, 11, 20)
    policy = load_allocation_policy()
    world = synthetic_world(n_cases, n_agents, n_agencies, as_of, seed)
    con = duckdb.connect()
    out: dict = {"cases": n_cases, "agents": n_agents, "agencies": n_agencies}
    if with_strategy:
        from arrears.rules.strategy_loader import load_strategy

        from arrears.engines.strategy import decide
        strategy = load_strategy()
        facts = world["facts"]
        t0 = time.perf_counter()
        dec = decide(con, con.from_arrow(facts), strategy, as_of)
        con.register("__bench_dec", dec.to_arrow_table())
        con.register("__bench_facts", facts)
        con.register("__bench_extra", world["extra"])
        cases = con.sql("""
            SELECT f.case_id, f.customer_id, f.bucket, f.dpd, f.balance, f.language, f.district,
                   d.stage, d.action, d.action_params, f.hold_kind, f.promise, x.last_payment_on,
                   x.agent_id, x.team_id, x.assigned_on
            FROM __bench_dec d JOIN __bench_facts f USING (case_id) JOIN __bench_extra x USING (case_id)
        """).to_arrow_table()
        out["strategy_s"] = round(time.perf_counter() - t0, 3)
    else:
        cases = world["cases"]
        out["strategy_s"] = 0.0
    t1 = time.perf_counter()
    res = allocate(con, cases, world["teams"], world["agents"], world["agencies"], world["placements"], policy, as_of)
    out["allocation_s"] = round(time.perf_counter() - t1, 3)
    out["total_s"] = round(out["strategy_s"] + out["allocation_s"], 3)
    ch = res.assignments.group_by("change").aggregate([("case_id", "count")]).to_pylist()
    out["changes"] = {r["change"]: r["case_id_count"] for r in ch}
    ops = res.placements.group_by("op").aggregate([("case_id", "count")]).to_pylist()
    out["placement_ops"] = {r["op"]: r["case_id_count"] for r in ops}
    if verbose:
        print(f"allocation bench: {n_cases:,} cases, {n_agents} agents: strategy {out['strategy_s']:.2f} s + "
              f"allocation {out['allocation_s']:.2f} s = {out['total_s']:.2f} s")
    return out

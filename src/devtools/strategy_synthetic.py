"""Synthetic strategy facts for the parity test and the benchmark (numpy, seeded, no database).

:func:`facts_table` returns ``n`` rows in :data:`arrears.engines.strategy.FACTS_SCHEMA` whose values
cover every condition field: all buckets, promise states, holds, stages with stay lengths, prior
decisions some due and some not, forced rows.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from arrears.engines.strategy import FACTS_SCHEMA

BUCKETS = np.array(["M1", "M2", "M3", "M4", "M5", "M6", "M7+"])
DPD_LO = np.array([1, 31, 61, 91, 121, 151, 181])
PROMISES = np.array(["none", "none", "none", "open", "kept", "partly_kept", "broken", "cancelled"])
STAGES = np.array(["none", "none", "phone", "sms", "field", "legal", "agency"])
OUTCOMES = np.array(["none", "rpc", "third_party", "no_answer", "invalid", "refused", "promise", "visit_met",
                     "visit_failed"])
HOLD_KINDS = np.array(["dispute", "complaint", "payment_plan", "litigation", "deceased"])
DISTRICTS = np.array(["福田区", "南山区", "罗湖区", "宝安区", "龙岗区", "龙华区", ""])


def facts_table(n: int, as_of: date, seed: int = 7, prior_rules: list[str] | None = None,
                segments: list[str] | None = None, arms: list[str] | None = None,
                version: str = "default@2026.11.1") -> pa.Table:
    rng = np.random.default_rng(seed)
    b = rng.integers(0, len(BUCKETS), n)
    dpd = DPD_LO[b] + rng.integers(0, 30, n)
    balance_fen = rng.lognormal(9.5, 1.2, n).astype(np.int64) * 100 + rng.integers(0, 100, n)
    limit_present = rng.random(n) < 0.95
    util = np.round(rng.random(n) * 1.5, 4)
    rpc_days = rng.integers(0, 120, n)
    has_rpc = rng.random(n) < 0.6
    hold = rng.random(n) < 0.05
    stage_idx = rng.integers(0, len(STAGES), n)
    stage = STAGES[stage_idx]
    days_in = rng.integers(0, 40, n)
    has_prior = rng.random(n) < 0.7
    prior_rules = prior_rules or ["call-early"]
    segments = segments or ["all"]
    arms = arms or ["champion"]
    review = rng.integers(-3, 5, n)
    stage_since = [as_of - timedelta(days=int(x)) if s != "none" else None for s, x in zip(stage, days_in)]
    cols = {
        "case_id": np.arange(1, n + 1, dtype=np.int64),
        "customer_id": np.arange(1, n + 1, dtype=np.int64) * 7 + 3,
        "bucket": BUCKETS[b],
        "dpd": dpd.astype(np.int64),
        "balance": None,
        "overdue": None,
        "utilisation": [None if not p else f"{u:.4f}" for p, u in zip(limit_present, util)],
        "score_band": [None if x < 0.5 else "ABCD"[int(x * 8) % 4] for x in rng.random(n)],
        "days_since_rpc": [int(d) if h else None for d, h in zip(rpc_days, has_rpc)],
        "attempts_without_contact": rng.integers(0, 10, n).astype(np.int64),
        "promise": PROMISES[rng.integers(0, len(PROMISES), n)],
        "hold": hold,
        "hold_kind": [HOLD_KINDS[i] if h else None for i, h in zip(rng.integers(0, len(HOLD_KINDS), n), hold)],
        "plan_broken": rng.random(n) < 0.05,
        "failed_visits": rng.integers(0, 4, n).astype(np.int64),
        "stage": stage,
        "stage_since": stage_since,
        "days_in_stage": [int(x) if s != "none" else None for s, x in zip(stage, days_in)],
        "last_outcome": OUTCOMES[rng.integers(0, len(OUTCOMES), n)],
        "district": DISTRICTS[rng.integers(0, len(DISTRICTS), n)],
        "language": np.where(rng.random(n) < 0.9, "zh-hans", "en"),
        "segment": [segments[i % len(segments)] if p else "" for i, p in enumerate(has_prior)],
        "arm": [arms[i % len(arms)] if p else "" for i, p in enumerate(has_prior)],
        "rule_id": [prior_rules[i % len(prior_rules)] if p else "" for i, p in enumerate(has_prior)],
        "action": ["call" if p else "" for p in has_prior],
        "action_params": ['{"priority":3,"queue":"early"}' if p else "" for p in has_prior],
        "next_review_on": [as_of + timedelta(days=int(r)) if p else None for r, p in zip(review, has_prior)],
        "strategy_version": [version if p else "" for p in has_prior],
        "forced": rng.random(n) < 0.02,
    }
    # balances in yuan with two decimals; overdue a share of the balance
    bal = pa.array([f"{x // 100}.{x % 100:02d}" for x in balance_fen], pa.string()).cast(pa.decimal128(16, 2))
    cols["balance"] = bal
    cols["overdue"] = pa.array([f"{(x // 3) // 100}.{(x // 3) % 100:02d}" for x in balance_fen],
                               pa.string()).cast(pa.decimal128(16, 2))
    cols["utilisation"] = pa.array(cols["utilisation"], pa.string()).cast(pa.decimal128(12, 4))
    arrays = [pa.array(cols[f.name]) if not isinstance(cols[f.name], (pa.Array, pa.ChunkedArray))
              else cols[f.name] for f in FACTS_SCHEMA]
    return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, FACTS_SCHEMA)], schema=FACTS_SCHEMA)

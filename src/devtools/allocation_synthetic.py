"""Synthetic allocation inputs for the benchmark (numpy, seeded, no database).

:func:`synthetic_world` returns the strategy facts (:func:`devtools.strategy_synthetic.facts_table`),
the extra case columns allocation needs (``extra``: case_id, last_payment_on, agent_id, team_id,
assigned_on), a ready ``cases`` table (:data:`arrears.engines.allocation.CASES_SCHEMA`, stage/action
taken from the facts' prior decision) and teams, agents, agencies and active placements shaped like
a collections organisation: collection teams by bucket range and language, field teams by district,
legal teams; ~5 % of agents absent; total capacity a little below the demand.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from arrears.engines.allocation import AGENCIES_SCHEMA, AGENTS_SCHEMA, CASES_SCHEMA, PLACEMENTS_SCHEMA, TEAMS_SCHEMA
from .strategy_synthetic import DISTRICTS, facts_table

__all__ = ["synthetic_world"]


def _teams() -> list[dict]:
    teams = []
    early, late = ["M1"], ["M2", "M3", "M4", "M5", "M6", "M7+"]
    for i in range(16):
        teams.append({"department": "collection", "buckets": early if i < 8 else late,
                      "languages": ["en"] if i % 8 == 7 else ["zh-hans"], "districts": []})
    for d in DISTRICTS:
        if d:
            teams += [{"department": "field", "buckets": [], "languages": [], "districts": [d]}] * 2
    teams.append({"department": "field", "buckets": [], "languages": [], "districts": []})
    teams += [{"department": "legal", "buckets": [], "languages": [], "districts": []}] * 4
    return [dict(t, team_id=i + 1, active=True) for i, t in enumerate(teams)]


def synthetic_world(n_cases: int, n_agents: int, n_agencies: int, as_of: date, seed: int = 11) -> dict:
    rng = np.random.default_rng(seed)
    facts = facts_table(n_cases, as_of, seed=seed)
    teams = _teams()
    # agents: 70 % collection, 20 % field, 10 % legal
    share = {"collection": 0.7, "field": 0.2, "legal": 0.1}
    agent_team = []
    for dp, sh in share.items():
        ids = np.array([t["team_id"] for t in teams if t["department"] == dp])
        agent_team.append(ids[np.arange(int(round(n_agents * sh))) % len(ids)])
    agent_team = np.concatenate(agent_team)[:n_agents]
    n_agents = len(agent_team)
    cap = np.full(n_agents, max(1, int(n_cases * 0.75 / n_agents)), dtype=np.int64)
    absent = rng.random(n_agents) < 0.05
    agents = pa.table({
        "agent_id": np.arange(1, n_agents + 1, dtype=np.int64), "team_id": agent_team.astype(np.int64),
        "capacity": cap,
        "absent_from": pa.array([as_of - timedelta(days=2) if a else None for a in absent], pa.date32()),
        "absent_until": pa.array([as_of + timedelta(days=3) if a else None for a in absent], pa.date32()),
        "active": np.ones(n_agents, dtype=bool),
    }, schema=AGENTS_SCHEMA)
    teams_t = pa.Table.from_pylist(teams, schema=TEAMS_SCHEMA)
    # current assignments: 60 % of the cases have an agent (random), assigned 0–60 days ago
    has = rng.random(n_cases) < 0.6
    ag = rng.integers(0, n_agents, n_cases)
    agent_id = np.where(has, ag + 1, 0)
    team_id = np.where(has, agent_team[ag], 0)
    assigned = np.datetime64(as_of) - rng.integers(0, 60, n_cases).astype("timedelta64[D]")
    paid = np.datetime64(as_of) - rng.integers(0, 90, n_cases).astype("timedelta64[D]")
    has_paid = rng.random(n_cases) < 0.3
    extra = pa.table({
        "case_id": facts.column("case_id"),
        "last_payment_on": pa.array(paid, pa.date32(), mask=~has_paid),
        "agent_id": pa.array(agent_id, pa.int64(), mask=~has),
        "team_id": pa.array(team_id, pa.int64(), mask=~has),
        "assigned_on": pa.array(assigned, pa.date32(), mask=~has),
    })
    cases = pa.table({
        **{c: facts.column(c) for c in ("case_id", "customer_id", "bucket", "dpd", "balance", "language", "district",
                                        "stage", "action", "action_params", "hold_kind", "promise")},
        **{c: extra.column(c) for c in ("last_payment_on", "agent_id", "team_id", "assigned_on")},
    }).cast(CASES_SCHEMA)
    agencies = pa.table({
        "agency_id": np.arange(1, n_agencies + 1, dtype=np.int64),
        "pool": np.where(np.arange(n_agencies) % 4 == 3, "premium", "standard"),
        "capacity": np.full(n_agencies, max(1, n_cases // (4 * n_agencies)), dtype=np.int64),
        "active": np.ones(n_agencies, dtype=bool),
    }, schema=AGENCIES_SCHEMA)
    # active placements for ~half the agency-stage cases
    stage = facts.column("stage").to_numpy(zero_copy_only=False)
    idx = np.nonzero((stage == "agency") & (rng.random(n_cases) < 0.5))[0]
    placed = np.datetime64(as_of) - rng.integers(0, 120, len(idx)).astype("timedelta64[D]")
    placements = pa.table({
        "placement_id": np.arange(1, len(idx) + 1, dtype=np.int64),
        "case_id": facts.column("case_id").to_numpy()[idx],
        "agency_id": rng.integers(1, n_agencies + 1, len(idx)).astype(np.int64),
        "placed_on": pa.array(placed, pa.date32()),
        "recall_due_on": pa.array(placed + np.timedelta64(90, "D"), pa.date32()),
        "extensions": rng.integers(0, 3, len(idx)).astype(np.int64),
        "case_open": rng.random(len(idx)) < 0.98,
    }, schema=PLACEMENTS_SCHEMA)
    return {"facts": facts, "extra": extra, "cases": cases, "teams": teams_t, "agents": agents,
            "agencies": agencies, "placements": placements}

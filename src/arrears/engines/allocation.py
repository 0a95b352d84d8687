"""The vectorised allocation engine (DuckDB): cases → teams and agents, or → external agencies.

:func:`allocate` applies an :class:`~arrears.domain.allocation.AllocationPolicy` to every open case
in a few SQL passes (no Python loop over cases). Only the *quota* step — how many cases of each
group of like cases each eligible team (agency) takes — runs in Python/numpy, over the small
group × team table (hundreds of rows, independent of the number of cases).

Inputs (DuckDB relations or Arrow tables; column names and types as in the schemas below; the
``balance`` is yuan with two decimals, dates are local calendar dates):

* ``cases`` (:data:`CASES_SCHEMA`) — one row per open case, after today's strategy decision:
  ``stage``, ``action`` and ``action_params`` (canonical JSON: ``priority`` and ``pool`` are read
  from it by :func:`arrears.domain.action_params.sql`; 9 without a priority) are today's;
  ``agent_id``/``team_id``/``assigned_on`` the current assignment.
* ``teams`` (:data:`TEAMS_SCHEMA`) — ``department`` collection/field/legal; ``buckets``,
  ``languages``, ``districts`` are skills, an empty list means any (districts matter only for field).
* ``agents`` (:data:`AGENTS_SCHEMA`) — absent on ``as_of`` when ``absent_from ≤ as_of ≤
  absent_until`` (``absent_until`` NULL = open-ended); present = active and not absent.
* ``agencies`` (:data:`AGENCIES_SCHEMA`) and the *active* ``placements`` (:data:`PLACEMENTS_SCHEMA`,
  at most one per case; ``case_open`` false once the case closed).

Rules (see ``rules/allocation.yaml``):

1. **Department** from the case's stage (``policy.department_for``); an agency-stage case with a
   recall hold kind goes to ``placement.held_department``.
2. **Keep** the current agent when the agent is present, the agent's (current) team is active and
   of the case's department, and the case is within ``sticky_days`` of ``assigned_on`` (reason
   ``sticky``) or the team is still eligible (``still_eligible``); an agent keeps at most
   ``capacity`` cases (the first by the policy order), the rest are released as ``over_capacity``.
3. **Allocate** the other internal cases: grouped by (department, bucket, language, district for
   field), each group is spread over its eligible teams in proportion to their spare capacity
   (integer quotas, then augmenting paths so that no capacity stays idle while a case that could use
   it waits); inside a group the cases, in policy order, are dealt to teams interleaved by quota.
   Inside a team agents are filled by water-filling: every present agent with spare capacity has
   slots at levels load+1 … capacity; slots ordered by (level, agent_id) take the team's new cases
   in policy order. Nobody ever exceeds capacity; cases without a place stay unassigned
   (``over_capacity``, or ``no_eligible_team`` when no active team fits).
4. **Agencies**: agency-stage cases have no internal agent. Active placements are reviewed (recall:
   case closed, recall hold kind, stage left, term end; retention 留案 at term end with an open
   promise or a recent payment); cases without a surviving placement are placed with active
   agencies of their pool (action param ``pool``, else ``placement.default_pool``) with spare
   capacity, proportionally to spare capacity, the same way. With ``rotate_on_term_end`` a case
   recalled at term end is not placed again with the same agency.

Output: :class:`AllocationResult` of Arrow tables (schemas :data:`ASSIGNMENTS_SCHEMA`,
:data:`PLACEMENT_OPS_SCHEMA`, :data:`TEAM_WORKLOAD_SCHEMA`, :data:`AGENCY_WORKLOAD_SCHEMA`,
:data:`AGENT_WORKLOAD_SCHEMA`). Applying it (new agent/team/assigned_on on the cases, placement ops
on the placements) and running :func:`allocate` again on the same ``as_of`` changes nothing.

The engine uses temporary tables named ``__alloc_*`` on ``con``; do not run two allocations on one
connection at the same time.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa

from arrears.domain import action_params
from arrears.domain.allocation import INTERNAL_DEPARTMENTS, AllocationPolicy

__all__ = [
    "CASES_SCHEMA", "TEAMS_SCHEMA", "AGENTS_SCHEMA", "AGENCIES_SCHEMA", "PLACEMENTS_SCHEMA",
    "ASSIGNMENTS_SCHEMA", "PLACEMENT_OPS_SCHEMA", "TEAM_WORKLOAD_SCHEMA", "AGENCY_WORKLOAD_SCHEMA",
    "AGENT_WORKLOAD_SCHEMA", "AllocationResult", "allocate", "spread",
]

_ID = pa.int64()
#: one row per open case (after today's strategy decision)
CASES_SCHEMA = pa.schema([
    ("case_id", _ID), ("customer_id", _ID), ("bucket", pa.string()), ("dpd", pa.int64()),
    ("balance", pa.decimal128(16, 2)), ("language", pa.string()), ("district", pa.string()),
    ("stage", pa.string()), ("action", pa.string()), ("action_params", pa.string()),
    ("hold_kind", pa.string()), ("promise", pa.string()), ("last_payment_on", pa.date32()),
    ("agent_id", _ID), ("team_id", _ID), ("assigned_on", pa.date32()),
])
TEAMS_SCHEMA = pa.schema([
    ("team_id", _ID), ("department", pa.string()), ("buckets", pa.list_(pa.string())),
    ("languages", pa.list_(pa.string())), ("districts", pa.list_(pa.string())), ("active", pa.bool_()),
])
AGENTS_SCHEMA = pa.schema([
    ("agent_id", _ID), ("team_id", _ID), ("capacity", pa.int64()), ("absent_from", pa.date32()),
    ("absent_until", pa.date32()), ("active", pa.bool_()),
])
AGENCIES_SCHEMA = pa.schema([
    ("agency_id", _ID), ("pool", pa.string()), ("capacity", pa.int64()), ("active", pa.bool_()),
])
#: the active placements (委外在案)
PLACEMENTS_SCHEMA = pa.schema([
    ("placement_id", _ID), ("case_id", _ID), ("agency_id", _ID), ("placed_on", pa.date32()),
    ("recall_due_on", pa.date32()), ("extensions", pa.int64()), ("case_open", pa.bool_()),
])
#: one row per input case. ``team_id``/``agent_id``/``assigned_on`` after allocation
#: (``assigned_on`` = the old date when kept, ``as_of`` when (re)assigned, NULL when unassigned);
#: ``department`` from the stage (NULL when the stage is not mapped).
ASSIGNMENTS_SCHEMA = pa.schema([
    ("case_id", _ID), ("team_id", _ID), ("agent_id", _ID), ("prev_team_id", _ID), ("prev_agent_id", _ID),
    ("change", pa.string()), ("reason", pa.string()), ("department", pa.string()), ("assigned_on", pa.date32()),
])
#: placement operations. place: ``placement_id`` NULL, ``placed_on`` = as_of, ``recall_due_on`` =
#: as_of + term_days, extensions 0, reason ``new``. recall: the placement as it was, reason
#: case_closed/hold/stage_left/term_end. retain: the new ``recall_due_on`` and ``extensions``,
#: reason open_promise/recent_payment.
PLACEMENT_OPS_SCHEMA = pa.schema([
    ("op", pa.string()), ("placement_id", _ID), ("case_id", _ID), ("agency_id", _ID), ("pool", pa.string()),
    ("placed_on", pa.date32()), ("recall_due_on", pa.date32()), ("extensions", pa.int64()), ("reason", pa.string()),
])
#: per team (plus one row per department with ``team_id`` NULL for cases no active team fits):
#: ``capacity`` = sum of present agents' capacity (0 for an inactive team), ``cases`` after
#: allocation, ``unassigned`` = unassigned cases this team is eligible for (a case eligible for two
#: teams counts in both).
TEAM_WORKLOAD_SCHEMA = pa.schema([
    ("team_id", _ID), ("department", pa.string()), ("active", pa.bool_()), ("agents_present", pa.int64()),
    ("capacity", pa.int64()), ("cases", pa.int64()), ("unassigned", pa.int64()),
])
#: per agency: ``placements`` active after today's operations, ``unplaced`` = agency-stage cases of
#: its pool left without a placement.
AGENCY_WORKLOAD_SCHEMA = pa.schema([
    ("agency_id", _ID), ("pool", pa.string()), ("active", pa.bool_()), ("capacity", pa.int64()),
    ("placements", pa.int64()), ("unplaced", pa.int64()),
])
AGENT_WORKLOAD_SCHEMA = pa.schema([
    ("agent_id", _ID), ("team_id", _ID), ("present", pa.bool_()), ("capacity", pa.int64()), ("cases", pa.int64()),
])


@dataclass(frozen=True)
class AllocationResult:
    """Arrow tables, see the module schemas; ``policy_key`` = ``allocation@<version>``."""

    assignments: pa.Table
    placements: pa.Table
    workload: pa.Table
    agency_workload: pa.Table
    agent_workload: pa.Table
    policy_key: str


def _q(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _in_list(values) -> str:
    vals = sorted(values)
    return "(" + ", ".join(_q(v) for v in vals) + ")" if vals else "(NULL)"


def _order_sql(policy: AllocationPolicy, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    col = {"priority": "prio", "dpd": "dpd", "balance": "balance", "case_id": "case_id"}
    parts = [f"{a}{col[k.field]} {'DESC' if k.descending else 'ASC'} NULLS LAST" for k in policy.order]
    return ", ".join(parts + [f"{a}case_id ASC"])


# ---------------------------------------------------------------- quotas (small tables)

def spread(demand: np.ndarray, spare: np.ndarray, edge_group: np.ndarray, edge_target: np.ndarray) -> np.ndarray:
    """Integer quotas ``x[e]`` per eligible edge (group ``edge_group[e]`` → target
    ``edge_target[e]``): each group's ``demand`` is spread over its targets in proportion to their
    ``spare`` capacity (floored; a target asked for more than it has is scaled down), repeated on
    what is left, then augmenting paths move what remains so that the total is maximal (no target
    keeps spare capacity that a group with remaining demand could use, directly or by shifting
    another group's cases). Guarantees ``Σ_e x[e] over a group ≤ demand`` and ``over a target ≤
    spare``. Runs over groups × targets, not cases."""
    d = np.asarray(demand, dtype=np.int64).copy()
    s = np.maximum(np.asarray(spare, dtype=np.int64), 0).copy()
    eg = np.asarray(edge_group, dtype=np.int64)
    et = np.asarray(edge_target, dtype=np.int64)
    x = np.zeros(len(eg), dtype=np.int64)
    if len(eg) == 0:
        return x
    for _ in range(6):
        live = (d[eg] > 0) & (s[et] > 0)
        if not live.any():
            break
        sg = np.zeros(len(d), dtype=np.int64)
        np.add.at(sg, eg[live], s[et[live]])
        w = np.zeros(len(eg), dtype=np.int64)
        w[live] = d[eg[live]] * s[et[live]] // sg[eg[live]]
        load = np.zeros(len(s), dtype=np.int64)
        np.add.at(load, et, w)
        over = (load > s)[et]
        y = w.copy()
        y[over] = w[over] * s[et[over]] // load[et[over]]
        if y.sum() == 0:
            break
        x += y
        np.subtract.at(d, eg, y)
        np.subtract.at(s, et, y)
    # augmenting paths over the residual graph: group -(edge)-> target, target -(x>0)-> other group
    by_group: dict[int, list[int]] = {}
    by_target: dict[int, list[int]] = {}
    for e, (g, t) in enumerate(zip(eg.tolist(), et.tolist())):
        by_group.setdefault(g, []).append(e)
        by_target.setdefault(t, []).append(e)
    for g in sorted(by_group):
        while d[g] > 0:
            # BFS from group g to a target with spare capacity
            prev_edge: dict[int, int] = {}  # target -> edge used to reach it
            prev_back: dict[int, int] = {}  # group -> edge (x>0) used to reach it backwards
            seen_g = {g}
            queue = deque([g])
            found = -1
            while queue and found < 0:
                gg = queue.popleft()
                for e in sorted(by_group[gg], key=lambda e: (-s[et[e]], et[e])):
                    t = int(et[e])
                    if t in prev_edge:
                        continue
                    prev_edge[t] = e
                    if s[t] > 0:
                        found = t
                        break
                    for e2 in by_target.get(t, ()):
                        g2 = int(eg[e2])
                        if x[e2] > 0 and g2 not in seen_g:
                            seen_g.add(g2)
                            prev_back[g2] = e2
                            queue.append(g2)
            if found < 0:
                break
            path_fwd, path_back = [], []
            t = found
            while True:
                e = prev_edge[t]
                path_fwd.append(e)
                gg = int(eg[e])
                if gg == g:
                    break
                e2 = prev_back[gg]
                path_back.append(e2)
                t = int(et[e2])
            push = min([int(d[g]), int(s[found])] + [int(x[e]) for e in path_back])
            for e in path_fwd:
                x[e] += push
            for e in path_back:
                x[e] -= push
            d[g] -= push
            s[found] -= push
    return x


# ---------------------------------------------------------------- the engine

def _register(con: duckdb.DuckDBPyConnection, name: str, obj) -> None:
    con.register(name, obj)


def _deal(con: duckdb.DuckDBPyConnection, src: str, quota: pa.Table, target: str, out: str,
          order: str) -> None:
    """``out`` (temp table): case_id → ``target`` for the cases of ``src`` (columns case_id, g and
    the order columns); quotas (g, target, q) interleaved: the slots k = 0…q−1 of each target sit
    at (2k+1)/2q of the group's list, merged by position, and the group's cases in policy order
    take them in turn."""
    _register(con, "__alloc_quota", quota)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE {out} AS
    WITH p AS (
        SELECT case_id, g, row_number() OVER (PARTITION BY g ORDER BY {order}) AS r FROM {src}
    ), slots AS (
        SELECT g, {target}, row_number() OVER (PARTITION BY g ORDER BY (2 * k + 1) / (2.0 * q), {target}) AS r
        FROM (SELECT g, {target}, q, unnest(range(q)) AS k FROM __alloc_quota WHERE q > 0)
    )
    SELECT p.case_id, s.{target} FROM p JOIN slots s USING (g, r)
    """)
    con.unregister("__alloc_quota")


def _quotas(con: duckdb.DuckDBPyConnection, groups: pa.Table, edges: pa.Table, spare: pa.Table,
            target: str) -> pa.Table:
    """Solve :func:`spread` for groups (g, n), edges (g, target) and spare (target, spare)."""
    tid = spare.column(target).to_numpy(zero_copy_only=False)
    pos = {int(t): i for i, t in enumerate(tid)}
    n_by_g = dict(zip(groups.column("g").to_pylist(), groups.column("n").to_pylist()))
    gs = edges.column("g").to_pylist()
    ts = edges.column(target).to_pylist()
    demand = np.array([n_by_g[g] for g in range(len(n_by_g))], dtype=np.int64)
    x = spread(demand, spare.column("spare").to_numpy(zero_copy_only=False).astype(np.int64),
               np.array(gs, dtype=np.int64), np.array([pos[int(t)] for t in ts], dtype=np.int64))
    return pa.table({"g": pa.array(gs, pa.int64()), target: pa.array(ts, pa.int64()), "q": pa.array(x, pa.int64())})


def allocate(con: duckdb.DuckDBPyConnection, cases, teams, agents, agencies, placements,
             policy: AllocationPolicy, as_of: date) -> AllocationResult:
    """Allocate every case of ``cases`` on ``as_of`` (see the module docstring for the rules and
    the input/output schemas). Inputs are DuckDB relations or Arrow tables on ``con``'s database.
    Returns an :class:`AllocationResult`; writes nothing but temporary ``__alloc_*`` tables, which
    it drops. Raises ``duckdb.Error`` when an input lacks a column of its schema."""
    d = f"DATE '{as_of.isoformat()}'"
    for name, obj in (("cases", cases), ("teams", teams), ("agents", agents), ("agencies", agencies),
                      ("placements", placements)):
        _register(con, f"__alloc_in_{name}", obj)
    pol, rec = policy.placement, policy.recall
    hold_kinds = _in_list(rec.on_hold_kinds)
    dept_map = " ".join(f"WHEN {_q(s)} THEN {_q(dp)}" for s, dp in policy.departments)
    order = _order_sql(policy)
    elig = ("(len(t.buckets) = 0 OR list_contains(t.buckets, c.bucket)) "
            "AND (len(t.languages) = 0 OR list_contains(t.languages, c.language)) "
            "AND (t.department <> 'field' OR len(t.districts) = 0 OR list_contains(t.districts, c.district))")
    try:
        # cases with department, priority and pool
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_c AS
        SELECT c.case_id, c.bucket, c.dpd, c.balance, coalesce(c.language, '') AS language,
               coalesce(c.district, '') AS district, coalesce(nullif(c.stage, ''), 'none') AS stage,
               c.hold_kind, c.promise, c.last_payment_on, c.agent_id, c.team_id, c.assigned_on,
               CASE WHEN dept0 = 'agency' AND c.hold_kind IN {hold_kinds} THEN {_q(pol.held_department)}
                    ELSE dept0 END AS dept,
               {action_params.sql("priority", "c.action_params")} AS prio,
               coalesce({action_params.sql("pool", "c.action_params")}, {_q(pol.default_pool)}) AS pool
        FROM (SELECT *, CASE coalesce(nullif(stage, ''), 'none') {dept_map} ELSE NULL END AS dept0
              FROM __alloc_in_cases) c
        """)
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_a AS
        SELECT a.agent_id, a.team_id, greatest(coalesce(a.capacity, 0), 0) AS capacity,
               (coalesce(a.active, FALSE) AND NOT (a.absent_from IS NOT NULL AND a.absent_from <= {d}
                 AND (a.absent_until IS NULL OR {d} <= a.absent_until))) AS present,
               coalesce(t.active, FALSE) AS team_active
        FROM __alloc_in_agents a LEFT JOIN __alloc_in_teams t ON t.team_id = a.team_id
        """)
        # 1. keep or release the current agent
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_k AS
        WITH j AS (
            SELECT c.*, a.team_id AS a_team, a.capacity AS a_cap,
                   CASE WHEN c.agent_id IS NULL THEN NULL
                        WHEN c.dept = 'agency' THEN 'placed_with_agency'
                        WHEN a.agent_id IS NULL OR NOT a.present THEN 'absent'
                        WHEN NOT a.team_active THEN 'team_inactive'
                        WHEN c.dept IS NULL OR t.department IS DISTINCT FROM c.dept THEN 'department_changed'
                        WHEN c.assigned_on IS NOT NULL AND date_diff('day', c.assigned_on, {d}) < {policy.sticky_days}
                             THEN 'sticky'
                        WHEN {elig} THEN 'still_eligible'
                        ELSE 'skill_changed' END AS why0
            FROM __alloc_c c
            LEFT JOIN __alloc_a a ON a.agent_id = c.agent_id
            LEFT JOIN __alloc_in_teams t ON t.team_id = a.team_id
        ), ranked AS (
            SELECT *, CASE WHEN why0 IN ('sticky', 'still_eligible')
                           THEN row_number() OVER (PARTITION BY CASE WHEN why0 IN ('sticky', 'still_eligible')
                                                   THEN agent_id END ORDER BY {order}) END AS krank
            FROM j
        )
        SELECT * EXCLUDE (why0, krank),
               CASE WHEN krank > a_cap THEN 'over_capacity' ELSE why0 END AS why,
               coalesce(krank <= a_cap, FALSE) AS kept,
               CASE WHEN dept = 'field' THEN district ELSE '' END AS gdist
        FROM ranked
        """)
        # spare capacity of present agents in active teams
        con.execute("""
        CREATE OR REPLACE TEMP TABLE __alloc_spare AS
        SELECT a.agent_id, a.team_id, a.capacity, coalesce(l.n, 0) AS load
        FROM __alloc_a a LEFT JOIN (SELECT agent_id, count(*) AS n FROM __alloc_k WHERE kept GROUP BY agent_id) l
             USING (agent_id)
        WHERE a.present AND a.team_active AND a.capacity > coalesce(l.n, 0)
        """)
        # 2. groups of like cases and the teams eligible for them
        internal = _in_list(INTERNAL_DEPARTMENTS)
        groups = con.sql(f"""
            SELECT (row_number() OVER (ORDER BY dept, bucket, language, gdist) - 1)::BIGINT AS g, *
            FROM (SELECT dept, bucket, language, gdist, count(*) AS n FROM __alloc_k
                  WHERE NOT kept AND dept IN {internal} GROUP BY ALL)
        """).to_arrow_table()
        _register(con, "__alloc_groups", groups)
        edges = con.sql(f"""
            SELECT c.g, t.team_id FROM __alloc_groups c JOIN __alloc_in_teams t
              ON t.active AND t.department = c.dept AND {elig.replace('c.district', 'c.gdist')}
            ORDER BY c.g, t.team_id
        """).to_arrow_table()
        _register(con, "__alloc_edges", edges)
        tspare = con.sql("""SELECT team_id, sum(capacity - load)::BIGINT AS spare FROM __alloc_spare
                            GROUP BY team_id ORDER BY team_id""").to_arrow_table()
        e_ok = [t for t in edges.column("team_id").to_pylist() if t not in set(tspare.column("team_id").to_pylist())]
        if e_ok:  # eligible teams without a present agent: spare 0
            tspare = pa.concat_tables([tspare, pa.table({"team_id": pa.array(sorted(set(e_ok)), pa.int64()),
                                                         "spare": pa.array([0] * len(set(e_ok)), pa.int64())})])
        quota = _quotas(con, groups, edges, tspare, "team_id")
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_pool AS
        SELECT k.case_id, g.g, k.prio, k.dpd, k.balance FROM __alloc_k k
        JOIN __alloc_groups g ON g.dept = k.dept AND g.bucket IS NOT DISTINCT FROM k.bucket
             AND g.language = k.language AND g.gdist = k.gdist
        WHERE NOT k.kept
        """)
        _deal(con, "__alloc_pool", quota, "team_id", "__alloc_nt", order)
        # 3. inside each team: water-filling over the agents' free slots
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_na AS
        WITH n AS (
            SELECT nt.case_id, nt.team_id,
                   row_number() OVER (PARTITION BY nt.team_id ORDER BY {_order_sql(policy, 'k')}) AS r
            FROM __alloc_nt nt JOIN __alloc_k k USING (case_id)
        ), slots AS (
            SELECT team_id, agent_id, row_number() OVER (PARTITION BY team_id ORDER BY lvl, agent_id) AS r
            FROM (SELECT team_id, agent_id, unnest(range(load + 1, capacity + 1)) AS lvl FROM __alloc_spare)
        )
        SELECT n.case_id, s.team_id, s.agent_id FROM n JOIN slots s USING (team_id, r)
        """)
        # 4. placements: review the active ones
        ag = policy.agency_stage
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_pr AS
        WITH j AS (
            SELECT p.placement_id, p.case_id, p.agency_id, p.placed_on, p.recall_due_on,
                   coalesce(p.extensions, 0) AS extensions, c.case_id IS NOT NULL AS known, c.pool,
                   CASE WHEN {'NOT coalesce(p.case_open, TRUE)' if rec.on_case_closed else 'FALSE'} THEN 'case_closed'
                        WHEN c.hold_kind IN {hold_kinds} THEN 'hold'
                        WHEN {'TRUE' if rec.on_stage_left else 'FALSE'} AND c.case_id IS NOT NULL
                             AND c.stage <> {_q(ag)} THEN 'stage_left'
                        WHEN {'TRUE' if rec.at_term_end else 'FALSE'} AND p.recall_due_on <= {d} THEN
                             CASE WHEN coalesce(p.extensions, 0) < {pol.max_extensions}
                                       AND {'TRUE' if pol.retain_on_open_promise else 'FALSE'}
                                       AND c.promise = 'open' THEN 'open_promise'
                                  WHEN coalesce(p.extensions, 0) < {pol.max_extensions}
                                       AND date_diff('day', c.last_payment_on, {d}) <= {pol.paid_within_days}
                                       THEN 'recent_payment'
                                  ELSE 'term_end' END
                        END AS reason
            FROM __alloc_in_placements p LEFT JOIN __alloc_c c ON c.case_id = p.case_id
        )
        SELECT *, CASE WHEN reason IS NULL THEN 'keep'
                       WHEN reason IN ('open_promise', 'recent_payment') THEN 'retain' ELSE 'recall' END AS op
        FROM j
        """)
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_ag AS
        SELECT a.agency_id, a.pool, coalesce(a.active, FALSE) AS active, greatest(coalesce(a.capacity, 0), 0) AS capacity,
               coalesce(n.n, 0) AS placed
        FROM __alloc_in_agencies a
        LEFT JOIN (SELECT agency_id, count(*) AS n FROM __alloc_pr WHERE op <> 'recall' GROUP BY agency_id) n
             USING (agency_id)
        """)
        excl = "CASE WHEN r.reason = 'term_end' THEN r.agency_id END" if pol.rotate_on_term_end else "NULL::BIGINT"
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_tp AS
        SELECT c.case_id, c.pool, {excl} AS excl, c.prio, c.dpd, c.balance
        FROM __alloc_c c
        LEFT JOIN (SELECT case_id FROM __alloc_pr WHERE op <> 'recall' GROUP BY case_id) live USING (case_id)
        LEFT JOIN (SELECT case_id, any_value(agency_id) AS agency_id, any_value(reason) AS reason
                   FROM __alloc_pr WHERE op = 'recall' GROUP BY case_id) r USING (case_id)
        WHERE c.dept = 'agency' AND live.case_id IS NULL
        """)
        pgroups = con.sql("""
            SELECT (row_number() OVER (ORDER BY pool, excl NULLS FIRST) - 1)::BIGINT AS g, *
            FROM (SELECT pool, excl, count(*) AS n FROM __alloc_tp GROUP BY ALL)
        """).to_arrow_table()
        _register(con, "__alloc_pgroups", pgroups)
        pedges = con.sql("""
            SELECT g.g, a.agency_id FROM __alloc_pgroups g JOIN __alloc_ag a
              ON a.active AND a.pool = g.pool AND a.agency_id IS DISTINCT FROM g.excl
            ORDER BY g.g, a.agency_id
        """).to_arrow_table()
        aspare = con.sql("""SELECT agency_id, greatest(capacity - placed, 0)::BIGINT AS spare FROM __alloc_ag
                            ORDER BY agency_id""").to_arrow_table()
        pquota = _quotas(con, pgroups, pedges, aspare, "agency_id")
        con.execute("""
        CREATE OR REPLACE TEMP TABLE __alloc_ppool AS
        SELECT t.case_id, g.g, t.prio, t.dpd, t.balance FROM __alloc_tp t
        JOIN __alloc_pgroups g ON g.pool = t.pool AND g.excl IS NOT DISTINCT FROM t.excl
        """)
        _deal(con, "__alloc_ppool", pquota, "agency_id", "__alloc_np", order)
        # 5. results
        placement_ops = con.sql(f"""
            SELECT op, placement_id, case_id, agency_id, pool, placed_on,
                   CASE WHEN op = 'retain' THEN greatest(recall_due_on, {d}) + {pol.extension_days}
                        ELSE recall_due_on END AS recall_due_on,
                   CASE WHEN op = 'retain' THEN extensions + 1 ELSE extensions END::BIGINT AS extensions, reason
            FROM __alloc_pr WHERE op <> 'keep'
            UNION ALL
            SELECT 'place', NULL, n.case_id, n.agency_id, t.pool, {d}, {d} + {pol.term_days}, 0, 'new'
            FROM __alloc_np n JOIN __alloc_tp t USING (case_id)
            ORDER BY case_id, op DESC
        """).to_arrow_table().cast(PLACEMENT_OPS_SCHEMA)
        con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __alloc_out AS
        SELECT k.case_id,
               CASE WHEN k.kept THEN k.a_team ELSE na.team_id END AS team_id,
               CASE WHEN k.kept THEN k.agent_id ELSE na.agent_id END AS agent_id,
               k.team_id AS prev_team_id, k.agent_id AS prev_agent_id,
               CASE WHEN k.kept THEN 'keep'
                    WHEN na.agent_id IS NOT NULL AND k.agent_id IS NOT NULL THEN 'reassign'
                    WHEN na.agent_id IS NOT NULL THEN 'assign'
                    WHEN k.agent_id IS NOT NULL THEN 'unassign' ELSE 'unassigned' END AS change,
               CASE WHEN k.kept THEN k.why
                    WHEN k.dept = 'agency' THEN
                         CASE WHEN placed.case_id IS NOT NULL THEN 'placed_with_agency'
                              WHEN pp.pool IS NOT NULL THEN 'over_capacity' ELSE 'no_eligible_team' END
                    WHEN k.why IS NOT NULL THEN k.why
                    WHEN na.agent_id IS NOT NULL THEN 'new'
                    WHEN ge.g IS NOT NULL THEN 'over_capacity' ELSE 'no_eligible_team' END AS reason,
               k.dept AS department,
               CASE WHEN k.kept THEN k.assigned_on WHEN na.agent_id IS NOT NULL THEN {d} END AS assigned_on
        FROM __alloc_k k
        LEFT JOIN __alloc_na na USING (case_id)
        LEFT JOIN (SELECT case_id FROM __alloc_pr WHERE op <> 'recall' UNION ALL SELECT case_id FROM __alloc_np) placed
             USING (case_id)
        LEFT JOIN (SELECT DISTINCT pool FROM __alloc_ag WHERE active) pp ON pp.pool = k.pool
        LEFT JOIN __alloc_groups g ON g.dept = k.dept AND g.bucket IS NOT DISTINCT FROM k.bucket
             AND g.language = k.language AND g.gdist = k.gdist
        LEFT JOIN (SELECT DISTINCT g FROM __alloc_edges) ge ON ge.g = g.g
        """)
        assignments = con.sql("SELECT * FROM __alloc_out").to_arrow_table().cast(ASSIGNMENTS_SCHEMA)
        workload = con.sql(f"""
            WITH cap AS (SELECT team_id, count(*) FILTER (WHERE present) AS agents_present,
                                sum(capacity) FILTER (WHERE present AND team_active) AS capacity
                         FROM __alloc_a GROUP BY team_id),
                 n AS (SELECT team_id, count(*) AS cases FROM __alloc_out WHERE team_id IS NOT NULL GROUP BY team_id),
                 un AS (SELECT g.g, g.dept, count(*) AS n FROM __alloc_out o
                        JOIN __alloc_k k USING (case_id)
                        JOIN __alloc_groups g ON g.dept = k.dept AND g.bucket IS NOT DISTINCT FROM k.bucket
                             AND g.language = k.language AND g.gdist = k.gdist
                        WHERE o.agent_id IS NULL GROUP BY ALL),
                 ut AS (SELECT e.team_id, sum(un.n) AS n FROM un JOIN __alloc_edges e USING (g) GROUP BY e.team_id),
                 none AS (SELECT un.dept, sum(un.n) AS n FROM un WHERE un.g NOT IN (SELECT g FROM __alloc_edges)
                          GROUP BY un.dept)
            SELECT t.team_id, t.department, coalesce(t.active, FALSE) AS active,
                   coalesce(cap.agents_present, 0) AS agents_present, coalesce(cap.capacity, 0) AS capacity,
                   coalesce(n.cases, 0) AS cases, coalesce(ut.n, 0) AS unassigned
            FROM __alloc_in_teams t LEFT JOIN cap USING (team_id) LEFT JOIN n USING (team_id) LEFT JOIN ut USING (team_id)
            UNION ALL
            SELECT NULL, dept, FALSE, 0, 0, 0, n FROM none
            ORDER BY team_id NULLS LAST, department
        """).to_arrow_table().cast(TEAM_WORKLOAD_SCHEMA)
        agency_workload = con.sql("""
            WITH live AS (SELECT agency_id, count(*) AS n FROM
                            (SELECT agency_id FROM __alloc_pr WHERE op <> 'recall'
                             UNION ALL SELECT agency_id FROM __alloc_np) GROUP BY agency_id),
                 un AS (SELECT t.pool, count(*) AS n FROM __alloc_tp t
                        LEFT JOIN __alloc_np n USING (case_id) WHERE n.case_id IS NULL GROUP BY t.pool)
            SELECT a.agency_id, a.pool, a.active, a.capacity, coalesce(live.n, 0) AS placements,
                   coalesce(un.n, 0) AS unplaced
            FROM __alloc_ag a LEFT JOIN live USING (agency_id) LEFT JOIN un USING (pool)
            ORDER BY a.agency_id
        """).to_arrow_table().cast(AGENCY_WORKLOAD_SCHEMA)
        agent_workload = con.sql("""
            SELECT a.agent_id, a.team_id, a.present, a.capacity, coalesce(n.n, 0) AS cases
            FROM __alloc_a a LEFT JOIN (SELECT agent_id, count(*) AS n FROM __alloc_out
                                        WHERE agent_id IS NOT NULL GROUP BY agent_id) n USING (agent_id)
            ORDER BY a.agent_id
        """).to_arrow_table().cast(AGENT_WORKLOAD_SCHEMA)
    finally:
        for t in ("c", "a", "k", "spare", "pool", "nt", "na", "pr", "ag", "tp", "ppool", "np", "out"):
            con.execute(f"DROP TABLE IF EXISTS __alloc_{t}")
        for v in ("in_cases", "in_teams", "in_agents", "in_agencies", "in_placements", "groups", "edges",
                  "pgroups", "quota"):
            try:
                con.unregister(f"__alloc_{v}")
            except Exception:  # noqa: BLE001 — not registered (an earlier step failed)
                pass
    return AllocationResult(assignments, placement_ops, workload, agency_workload, agent_workload, policy.key)

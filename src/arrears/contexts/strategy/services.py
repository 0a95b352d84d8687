"""Applying the collection strategy: in bulk in the daily run, one case at a time on events.

* :func:`run_strategy` (daily run, simulation): reads every open case's raw facts in bulk, builds
  the facts relation (:func:`arrears.engines.strategy.with_facts`) and decides with the vectorised
  evaluator; :func:`apply_decisions` writes what was (re)decided.
* :func:`reevaluate_case` (events: payment posted, promise broken, visit reported, complaint
  opened, hold changed): the same facts for one case, decided by the pure
  :func:`arrears.domain.strategy.evaluate` with ``forced`` set, and written the same way.

Writes per decided case: the decision in force on the case, one
:class:`~arrears.contexts.strategy.models.StrategyDecision` (version, segment, arm, rule, action,
stage, facts snapshot), a ``stage_changed`` timeline event when the stage moved, and the case
status through the case state machine (``hold`` → on hold; a treatment → in collection).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from arrears.contexts.casework import facade as casework
from arrears.contexts.org import facade as org
from arrears.contexts.portfolio import facade as portfolio
from arrears.core import dbio
from arrears.engines.strategy import RAW_SCHEMAS, decide, facts_json_sql, with_facts
from arrears.domain.cases import CaseStatus
from arrears.domain.strategy import CaseFacts, Strategy, evaluate

from .models import StrategyDecision
from .relations import relation
from .selectors import active_strategy

__all__ = ["read_raw", "run_strategy", "apply_decisions", "reevaluate_case", "StrategyRun", "TRIGGERS"]

EventKind = casework.EventKind
EVENT_STAGE_CHANGED, EVENT_ASSIGNED = EventKind.STAGE_CHANGED, EventKind.ASSIGNED
EVENT_PLACED, EVENT_RECALLED, EVENT_RETAINED = EventKind.PLACED, EventKind.RECALLED, EventKind.RETAINED

TRIGGERS = frozenset(StrategyDecision.Trigger.values)
REASON_HOLD = gettext_noop("催收策略：暂停催收")
REASON_TREAT = gettext_noop("催收策略：开始催收")


def _holds_at(as_of: date) -> datetime:
    """The instant holds are judged at: the end of business date ``as_of`` in the home time zone
    (a hold that starts during the day counts for that day's decisions)."""
    tz = ZoneInfo(getattr(settings, "TIME_ZONE", "Asia/Shanghai") or "Asia/Shanghai")
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=tz) - timedelta(microseconds=1)


def _only(case_ids: list[int] | None) -> str:
    """The condition limiting the cases relation ``c`` to ``case_ids`` ('' for every case)."""
    if case_ids is None:
        return ""
    return f" AND c.case_id IN ({', '.join(str(int(i)) for i in case_ids) or 'NULL'})"


def read_raw(as_of: date, case_ids: list[int] | None = None) -> dict[str, pa.Table]:
    """The raw inputs of :func:`arrears.engines.strategy.with_facts` for every open case (or only
    ``case_ids``), read in bulk: cases with customer district/language, credit limits, the contact
    ledger since each case opened, promises, holds (``active`` at :func:`_holds_at`), visits.

    Each context's tables come as a relation from that context: cases (casework), customers and
    accounts (portfolio) from their facades; promises, holds, the ledger and visits from the
    relations money and contact register (:mod:`arrears.contexts.strategy.relations`)."""
    only = _only(case_ids)
    open_cases = (f"SELECT c.case_id AS id, c.customer_id, c.opened_on FROM ({casework.cases_sql()}) c "
                  f"WHERE c.closed_on IS NULL{only}")
    at = _holds_at(as_of)
    queries = {
        "cases": (f"SELECT c.case_id, c.customer_id, c.bucket, c.max_dpd AS dpd, "
                  f"CAST(c.total_balance AS TEXT) AS balance, CAST(c.overdue_amount AS TEXT) AS overdue, "
                  f"NULLIF(c.score_band, '') AS score_band, c.stage, CAST(c.stage_since AS TEXT) AS stage_since, "
                  f"cu.district, cu.language, c.segment, c.arm, c.rule_id, c.action, c.action_params, "
                  f"CAST(c.next_review_on AS TEXT) AS next_review_on, c.strategy_version, "
                  f"CAST(c.opened_on AS TEXT) AS opened_on FROM ({casework.cases_sql()}) c "
                  f"JOIN ({portfolio.customers_sql()}) cu ON cu.customer_id = c.customer_id "
                  f"WHERE c.closed_on IS NULL{only}", []),
        "limits": (f"SELECT a.customer_id, CAST(a.credit_limit AS TEXT) AS credit_limit "
                   f"FROM ({portfolio.accounts_sql()}) a JOIN ({open_cases}) o ON o.customer_id = a.customer_id", []),
        "ledger": (f"SELECT l.case_id, CAST(l.at AS TEXT) AS at, l.channel, l.direction, l.party, l.outcome "
                   f"FROM ({relation('contact_attempts')}) l JOIN ({open_cases}) o ON o.id = l.case_id "
                   f"WHERE l.at >= %s", [at - timedelta(days=400)]),
        "promises": (f"SELECT p.case_id, CAST(p.created_at AS TEXT) AS created_at, p.id, p.status "
                     f"FROM ({relation('promises')}) p JOIN ({open_cases}) o ON o.id = p.case_id", []),
        "holds": (f"SELECT h.customer_id, h.kind, h.breached, "
                  f"CASE WHEN h.since <= %s AND (h.until IS NULL OR h.until > %s) THEN 1 ELSE 0 END AS active "
                  f"FROM ({relation('collection_holds')}) h JOIN ({open_cases}) o ON o.customer_id = h.customer_id",
                  [at, at]),
        "visits": (f"SELECT v.case_id, v.status, v.outcome FROM ({relation('field_visits')}) v "
                   f"JOIN ({open_cases}) o ON o.id = v.case_id", []),
    }
    return {name: dbio.read_arrow(sql, p, schema=RAW_SCHEMAS[name]) for name, (sql, p) in queries.items()}


@dataclass
class StrategyRun:
    """Counts of one application: decided cases, actions by type, stage changes, status moves;
    ``facts`` and ``decisions`` (every open case) feed the allocation that follows."""

    strategy_version: str
    cases: int = 0
    decided: int = 0
    stage_changes: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    status_changes: int = 0
    facts: pa.Table | None = field(default=None, repr=False)
    decisions: pa.Table | None = field(default=None, repr=False)


def decisions_for(as_of: date, strategy: Strategy, con: duckdb.DuckDBPyConnection,
                  case_ids: list[int] | None = None, forced: bool = False) -> tuple[pa.Table, pa.Table]:
    """``(facts, decisions)`` Arrow tables for every open case (or ``case_ids``); writes nothing."""
    facts = with_facts(con, read_raw(as_of, case_ids), as_of, forced=forced).to_arrow_table()
    con.register("__facts", facts)
    decisions = decide(con, con.table("__facts"), strategy, as_of)
    con.register("__dec", decisions.to_arrow_table())
    out = con.sql(f"SELECT d.*, {facts_json_sql('f')} AS facts_json FROM __dec d "
                  f"JOIN __facts f USING (case_id)").to_arrow_table()
    return facts, out


def _duck(rows: int):
    """A DuckDB connection sized to the work: one thread for a few rows (a re-decision of one case
    must not take every core from the requests beside it), all cores for a batch."""
    return duckdb.connect(config={"threads": 1}) if rows < 10_000 else duckdb.connect()


def apply_decisions(decisions: pa.Table, as_of: date, trigger: str = "daily") -> StrategyRun:
    """Write the decided rows of ``decisions`` (see the module docstring). Call inside a transaction."""
    con = _duck(decisions.num_rows)
    con.register("d", decisions)
    version = decisions.column("strategy_version")[0].as_py() if decisions.num_rows else ""
    run = StrategyRun(strategy_version=version, cases=decisions.num_rows)
    decided = con.sql("SELECT * FROM d WHERE decided").to_arrow_table()
    con.register("decided", decided)
    run.decided = decided.num_rows
    run.actions = {a: int(n) for a, n in con.sql("SELECT action, count(*) FROM decided GROUP BY action").fetchall()}
    if not decided.num_rows:
        return run
    casework.write_decisions(dbio.iter_arrow_rows(con.sql(
        "SELECT case_id, CASE WHEN stage = 'none' THEN '' ELSE stage END, stage_since, strategy_version, "
        "segment, arm, rule_id, action, action_params, next_review_on FROM decided").to_arrow_table()), as_of)
    now = timezone.now()
    dbio.bulk_insert(
        StrategyDecision._meta.db_table,
        ("case_id", "as_of", "trigger", "strategy_version", "segment", "arm", "rule_id", "action", "action_params",
         "stage", "previous_stage", "next_review_on", "facts", "created_at"),
        ((r[0], as_of, trigger, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], now)
         for r in dbio.iter_arrow_rows(con.sql(
             "SELECT case_id, strategy_version, segment, arm, rule_id, action, action_params, stage, "
             "CASE WHEN prev_stage = 'none' THEN '' ELSE prev_stage END, next_review_on, facts_json "
             "FROM decided").to_arrow_table())),
    )
    moved = list(dbio.iter_arrow_rows(con.sql(
        "SELECT case_id, prev_stage, stage, rule_id FROM decided WHERE stage_changed").to_arrow_table()))
    run.stage_changes = len(moved)
    casework.record_case_events(
        (casework.EventRow(case_id=c, kind=EVENT_STAGE_CHANGED, as_of=as_of,
                                reason=gettext_noop("催收策略：阶段变化"),
                                data={"from": "" if p == "none" else p, "to": s, "rule": r, "trigger": trigger})
         for c, p, s, r in moved), at=now)
    run.status_changes = _move_statuses(con, as_of)
    return run


def _move_statuses(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Case status follows the decision: ``hold`` → on hold; a treatment → in collection."""
    current = casework.case_statuses(r[0] for r in con.sql("SELECT case_id FROM decided").fetchall())
    to_hold, to_collect = [], []
    may_hold = (CaseStatus.OPEN.value, CaseStatus.IN_COLLECTION.value)
    may_collect = (CaseStatus.OPEN.value, CaseStatus.ON_HOLD.value)
    for case_id, action in con.sql("SELECT case_id, action FROM decided").fetchall():
        status = current.get(case_id)
        if action == "hold" and status in may_hold:
            to_hold.append((case_id, status))
        elif action not in ("hold", "none") and status in may_collect:
            to_collect.append((case_id, status))
    n = casework.transition_many(to_hold, CaseStatus.ON_HOLD, as_of=as_of, reason=REASON_HOLD)
    n += casework.transition_many(to_collect, CaseStatus.IN_COLLECTION, as_of=as_of, reason=REASON_TREAT)
    return n


def run_strategy(as_of: date, strategy: Strategy | None = None, trigger: str = "daily") -> StrategyRun:
    """Decide every open case with the active strategy (or ``strategy``) and write the result."""
    if strategy is None:
        strategy = active_strategy()[1]
    con = duckdb.connect()
    facts, decisions = decisions_for(as_of, strategy, con)
    run = apply_decisions(decisions, as_of, trigger)
    run.facts, run.decisions = facts, decisions
    return run


def reevaluate_case(case_id: int, trigger: str, as_of: date | None = None, strategy: Strategy | None = None):
    """Re-decide one open case now because of an event (``trigger`` ∈ :data:`TRIGGERS`), with the
    pure evaluator, and write the result like the daily run. Returns the
    :class:`~arrears.domain.strategy.Decision`, or ``None`` when the case is closed/unknown.
    Raises ``ValueError`` for an unknown trigger."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r} (known: {', '.join(sorted(TRIGGERS))})")
    as_of = as_of or timezone.localdate()
    strategy = strategy or active_strategy()[1]
    con = _duck(1)
    facts = with_facts(con, read_raw(as_of, [case_id]), as_of, forced=True).to_arrow_table()
    if not facts.num_rows:
        return None
    row = facts.to_pylist()[0]
    decision = evaluate(strategy, CaseFacts(**row), as_of)
    con.register("f", facts)
    facts_json = con.sql(f"SELECT {facts_json_sql('f')} FROM f").fetchall()[0][0]
    table = pa.table({
        "case_id": [decision.case_id], "customer_id": [row["customer_id"]], "segment": [decision.segment],
        "arm": [decision.arm], "rule_id": [decision.rule_id], "action": [decision.action],
        "action_params": [decision.action_params], "stage": [decision.stage],
        "stage_since": pa.array([decision.stage_since], pa.date32()),
        "next_review_on": pa.array([decision.next_review_on], pa.date32()), "decided": [decision.decided],
        "stage_changed": [decision.stage_changed], "strategy_version": [decision.strategy_version],
        "prev_stage": [row["stage"]], "prev_rule_id": [row["rule_id"]], "facts_json": [facts_json],
    })
    with transaction.atomic():
        apply_decisions(table, as_of, trigger)
    return decision


def facts_of(decision: StrategyDecision) -> dict:
    """The stored facts snapshot of a decision as a dict."""
    f = decision.facts
    return json.loads(f) if isinstance(f, str) else dict(f or {})


# --- allocation ---------------------------------------------------------------------------------

def read_allocation_inputs(as_of: date, decisions: pa.Table, facts: pa.Table) -> dict[str, pa.Table]:
    """The inputs of :func:`arrears.engines.allocation.allocate`: open cases (the decision in force
    joined with its facts and the current assignment), teams, agents, agencies and active placements."""
    from arrears.engines import allocation as alloc

    cases_rel = casework.cases_sql()
    current = dbio.read_arrow(
        f"SELECT c.case_id, c.assigned_to_id AS agent_id, c.team_id, c.assigned_on FROM ({cases_rel}) c "
        f"WHERE c.closed_on IS NULL",
        schema=pa.schema([("case_id", pa.int64()), ("agent_id", pa.int64()), ("team_id", pa.int64()),
                          ("assigned_on", pa.date32())]))
    paid = dbio.read_arrow(
        f"SELECT c.case_id, MAX(p.local_date) AS last_payment_on FROM ({cases_rel}) c "
        f"JOIN ({portfolio.accounts_sql()}) a ON a.customer_id = c.customer_id "
        f"JOIN ({relation('payments')}) p ON p.account_id = a.account_id WHERE c.closed_on IS NULL GROUP BY c.case_id",
        schema=pa.schema([("case_id", pa.int64()), ("last_payment_on", pa.date32())]))
    con = duckdb.connect()
    for name, t in (("d", decisions), ("f", facts), ("cur", current), ("paid", paid)):
        con.register(name, t)
    cases = con.sql(
        "SELECT d.case_id, d.customer_id, f.bucket, f.dpd, f.balance, f.language, f.district, d.stage, d.action, "
        "d.action_params, f.hold_kind, f.promise, paid.last_payment_on, cur.agent_id, cur.team_id, cur.assigned_on "
        "FROM d JOIN f USING (case_id) LEFT JOIN cur USING (case_id) LEFT JOIN paid USING (case_id)"
    ).to_arrow_table().cast(alloc.CASES_SCHEMA)
    teams = dbio.read_arrow(
        f"SELECT t.team_id, t.department, t.buckets, t.languages, t.districts, t.active FROM ({org.teams_sql()}) t",
        schema=pa.schema([("team_id", pa.int64()), ("department", pa.string()), ("buckets", pa.string()),
                          ("languages", pa.string()), ("districts", pa.string()), ("active", pa.bool_())]))
    con.register("t", teams)
    teams = con.sql(
        "SELECT team_id, department, CAST(json(coalesce(buckets, '[]')) AS VARCHAR[]) AS buckets, "
        "CAST(json(coalesce(languages, '[]')) AS VARCHAR[]) AS languages, "
        "CAST(json(coalesce(districts, '[]')) AS VARCHAR[]) AS districts, active FROM t"
    ).to_arrow_table().cast(alloc.TEAMS_SCHEMA)
    agents = dbio.read_arrow(
        f"SELECT g.agent_id, g.team_id, g.capacity, g.absent_from, g.absent_until, g.active "
        f"FROM ({org.agents_sql()}) g WHERE g.team_id IS NOT NULL AND g.agency_id IS NULL",
        schema=alloc.AGENTS_SCHEMA)
    agencies = dbio.read_arrow(
        f"SELECT ag.agency_id, ag.pool, ag.capacity, ag.active FROM ({org.agencies_sql()}) ag",
        schema=alloc.AGENCIES_SCHEMA)
    placements = dbio.read_arrow(
        f"SELECT p.placement_id, p.case_id, p.agency_id, p.placed_on, p.recall_due_on, p.extensions, "
        f"CASE WHEN c.closed_on IS NULL THEN 1 ELSE 0 END AS case_open "
        f"FROM ({org.placements_sql()}) p JOIN ({cases_rel}) c ON c.case_id = p.case_id WHERE p.recalled_on IS NULL",
        schema=alloc.PLACEMENTS_SCHEMA)
    return {"cases": cases, "teams": teams, "agents": agents, "agencies": agencies, "placements": placements}


def simulate(strategy: Strategy, as_of: date) -> dict:
    """What-if for ``strategy`` on ``as_of`` (reads only): ``{"strategy_version", "as_of", "cases",
    "actions": [{segment, arm, action, cases}], "by_action": {action: cases}, "stage_changes",
    "workload": {"teams": [...], "agencies": [...], "unassigned": {reason: cases}}}``. Every open case
    is decided as if the strategy had just been activated (review dates ignored)."""
    con = duckdb.connect()
    facts, decisions = decisions_for(as_of, strategy, con, forced=True)
    con.register("dd", decisions)
    actions = [
        {"segment": s, "arm": a, "action": act, "cases": int(n)}
        for s, a, act, n in con.sql(
            "SELECT segment, arm, action, count(*) FROM dd GROUP BY ALL ORDER BY segment, arm, action").fetchall()
    ]
    by_action = {a: int(n) for a, n in con.sql("SELECT action, count(*) FROM dd GROUP BY action ORDER BY 1").fetchall()}
    changes = con.sql("SELECT count(*) FROM dd WHERE stage_changed").fetchall()[0][0]
    workload = workload_summary(allocation_for(as_of, decisions, facts))
    return {"strategy_version": strategy.key, "as_of": as_of.isoformat(), "cases": decisions.num_rows,
            "actions": actions, "by_action": by_action, "stage_changes": int(changes), "workload": workload}


def allocation_for(as_of: date, decisions: pa.Table, facts: pa.Table):
    """The allocation of every open case after ``decisions`` (reads only): an
    :class:`arrears.engines.allocation.AllocationResult` under the packaged allocation policy."""
    from arrears.engines import allocation as alloc
    from arrears.rules.allocation_loader import load_allocation_policy

    inputs = read_allocation_inputs(as_of, decisions, facts)
    con = duckdb.connect()
    return alloc.allocate(con, inputs["cases"], inputs["teams"], inputs["agents"], inputs["agencies"],
                          inputs["placements"], load_allocation_policy(), as_of)


def workload_summary(result) -> dict:
    """``{"policy", "teams": [{team, department, agents_present, capacity, cases, unassigned}],
    "agencies": [{agency, pool, capacity, placements, unplaced}], "changes": {change: cases},
    "placements": {op: cases}}`` of an allocation result (team and agency names resolved)."""
    names = org.team_names()
    agency_names = org.agency_codes()
    teams = [
        {"team": names.get(r["team_id"], "—") if r["team_id"] is not None else f"({r['department']}: no team)",
         "department": r["department"], "agents_present": r["agents_present"], "capacity": r["capacity"],
         "cases": r["cases"], "unassigned": r["unassigned"]}
        for r in result.workload.to_pylist()
    ]
    agencies = [
        {"agency": agency_names.get(r["agency_id"], str(r["agency_id"])), "pool": r["pool"],
         "capacity": r["capacity"], "placements": r["placements"], "unplaced": r["unplaced"]}
        for r in result.agency_workload.to_pylist()
    ]
    con = duckdb.connect()
    con.register("a", result.assignments)
    con.register("p", result.placements)
    changes = {c: int(n) for c, n in con.sql("SELECT change, count(*) FROM a GROUP BY 1 ORDER BY 1").fetchall()}
    ops = {o: int(n) for o, n in con.sql("SELECT op, count(*) FROM p GROUP BY 1 ORDER BY 1").fetchall()}
    return {"policy": result.policy_key, "teams": teams, "agencies": agencies, "changes": changes, "placements": ops}


REASON_ASSIGNED = gettext_noop("分案")
REASON_PLACED = gettext_noop("委外")
REASON_RECALLED = gettext_noop("撤案")
REASON_RETAINED = gettext_noop("留案")


def run_allocation(as_of: date, run: StrategyRun) -> dict[str, int]:
    """Allocate every open case after today's decisions and write the changes (inside the daily
    run's transaction): new team/agent/assigned_on on the cases with an ``assigned`` timeline event
    each; placements placed / recalled / retained with ``placed`` / ``recalled`` / ``retained``
    events. Returns counts by change and placement operation. Idempotent for a date."""
    if run.decisions is None or run.facts is None:
        return {}
    result = allocation_for(as_of, run.decisions, run.facts)
    con = duckdb.connect()
    con.register("a", result.assignments)
    con.register("p", result.placements)
    moved = list(dbio.iter_arrow_rows(con.sql(
        "SELECT case_id, agent_id, team_id, assigned_on, prev_agent_id, prev_team_id, change, reason FROM a "
        "WHERE agent_id IS DISTINCT FROM prev_agent_id OR team_id IS DISTINCT FROM prev_team_id"
    ).to_arrow_table()))
    casework.write_assignments([(c, ag, t, on) for c, ag, t, on, *_ in moved])
    now = timezone.now()
    events = [
        casework.EventRow(case_id=c, kind=EVENT_ASSIGNED, as_of=as_of, reason=REASON_ASSIGNED,
                               data={"from_agent": pa_, "to_agent": ag, "from_team": pt, "to_team": t,
                                     "change": ch, "why": why, "policy": result.policy_key})
        for c, ag, t, on, pa_, pt, ch, why in moved
    ]
    ops = result.placements.to_pylist()
    places = [o for o in ops if o["op"] == "place"]
    org.place_cases((o["case_id"], o["agency_id"], o["placed_on"], o["recall_due_on"]) for o in places)
    recalls = [o for o in ops if o["op"] == "recall"]
    org.recall_placements((o["placement_id"], as_of, o["reason"]) for o in recalls)
    retains = [o for o in ops if o["op"] == "retain"]
    org.retain_placements((o["placement_id"], o["recall_due_on"], o["extensions"]) for o in retains)
    kinds = {"place": (EVENT_PLACED, REASON_PLACED), "recall": (EVENT_RECALLED, REASON_RECALLED),
             "retain": (EVENT_RETAINED, REASON_RETAINED)}
    for o in ops:
        kind, reason = kinds[o["op"]]
        events.append(casework.EventRow(
            case_id=o["case_id"], kind=kind, as_of=as_of, reason=reason,
            data={"agency": o["agency_id"], "pool": o["pool"], "why": o["reason"],
                  "recall_due_on": o["recall_due_on"].isoformat() if o["recall_due_on"] else None,
                  "extensions": o["extensions"]}))
    casework.record_case_events(events, at=now)
    counts = {f"cases_{k}": v for k, v in _count(ch for *_, ch, _w in moved).items()}
    counts.update({f"placements_{k}": v for k, v in _count(o["op"] for o in ops).items()})
    return counts


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out

"""The vectorised strategy evaluator (DuckDB): one SQL pass decides every open case.

:func:`decide` compiles a :class:`~arrears.domain.strategy.Strategy` — the same rule objects
:func:`arrears.domain.strategy.evaluate` walks one case at a time — into ``CASE`` expressions over a
facts relation (columns = the fields of :class:`~arrears.domain.strategy.CaseFacts`, see
:data:`FACTS_SCHEMA`) and returns one row per case with the fields of
:class:`~arrears.domain.strategy.Decision`. ``tests/unit/test_strategy_parity.py`` runs both on
sampled cases and requires identical decisions.

:func:`with_facts` turns the raw inputs read from the database (cases, credit limits, contact
ledger, promises, holds, visits) into that facts relation, for the daily run, the what-if
simulation and — on a one-row input — the per-case evaluation, so facts are computed one way.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa

from arrears.domain.compliance.model import (
    NOT_CONNECTED_OUTCOMES,
    RANG_OUTCOMES,
    REACHED_OUTCOMES,
    REFUSED_OUTCOMES,
)
from arrears.domain.strategy import FIELDS, Condition, Strategy, holdout_rule_id

__all__ = ["FACTS_SCHEMA", "RAW_SCHEMAS", "decide", "with_facts", "rule_table", "outcome_category_sql"]

#: the facts relation :func:`decide` reads (CaseFacts field names)
FACTS_SCHEMA = pa.schema([
    ("case_id", pa.int64()), ("customer_id", pa.int64()), ("bucket", pa.string()), ("dpd", pa.int64()),
    ("balance", pa.decimal128(16, 2)), ("overdue", pa.decimal128(16, 2)), ("utilisation", pa.decimal128(12, 4)),
    ("score_band", pa.string()), ("days_since_rpc", pa.int64()), ("attempts_without_contact", pa.int64()),
    ("promise", pa.string()), ("hold", pa.bool_()), ("hold_kind", pa.string()), ("plan_broken", pa.bool_()),
    ("failed_visits", pa.int64()), ("stage", pa.string()), ("stage_since", pa.date32()),
    ("days_in_stage", pa.int64()), ("last_outcome", pa.string()), ("district", pa.string()),
    ("language", pa.string()), ("segment", pa.string()), ("arm", pa.string()), ("rule_id", pa.string()),
    ("action", pa.string()), ("action_params", pa.string()), ("next_review_on", pa.date32()),
    ("strategy_version", pa.string()), ("forced", pa.bool_()),
])

#: raw inputs of :func:`with_facts`, as read from the database
RAW_SCHEMAS = {
    "cases": pa.schema([
        ("case_id", pa.int64()), ("customer_id", pa.int64()), ("bucket", pa.string()), ("dpd", pa.int64()),
        ("balance", pa.decimal128(16, 2)), ("overdue", pa.decimal128(16, 2)), ("score_band", pa.string()),
        ("stage", pa.string()), ("stage_since", pa.date32()), ("district", pa.string()), ("language", pa.string()),
        ("segment", pa.string()), ("arm", pa.string()), ("rule_id", pa.string()), ("action", pa.string()),
        ("action_params", pa.string()), ("next_review_on", pa.date32()), ("strategy_version", pa.string()),
        ("opened_on", pa.date32()),
    ]),
    "limits": pa.schema([("customer_id", pa.int64()), ("credit_limit", pa.decimal128(18, 2))]),
    "ledger": pa.schema([
        ("case_id", pa.int64()), ("at", pa.string()), ("channel", pa.string()),
        ("direction", pa.string()), ("party", pa.string()), ("outcome", pa.string()),
    ]),
    "promises": pa.schema([("case_id", pa.int64()), ("created_at", pa.string()),
                           ("id", pa.int64()), ("status", pa.string())]),
    "holds": pa.schema([("customer_id", pa.int64()), ("kind", pa.string()), ("breached", pa.bool_()),
                        ("active", pa.bool_())]),
    "visits": pa.schema([("case_id", pa.int64()), ("status", pa.string()), ("outcome", pa.string())]),
}

#: most restrictive first: the hold kind a case reports when several are active
HOLD_ORDER = ("deceased", "bankruptcy", "litigation", "dispute", "complaint", "payment_plan")
#: visit outcomes that count as "met the debtor" (anything else on a done visit is a failed visit)
VISIT_MET = frozenset({"met_debtor", "met"})


def _q(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _in(col: str, values) -> str:
    vals = sorted(str(v) for v in values)
    return f"coalesce({col} IN ({', '.join(_q(v) for v in vals)}), FALSE)" if vals else "FALSE"


def _lit(v) -> str:
    if isinstance(v, Decimal):
        return f"CAST('{v}' AS DECIMAL(18,4))"
    return str(int(v))


def condition_sql(c: Condition, alias: str = "f") -> str:
    """SQL for one condition with the same NULL semantics as :meth:`Condition.holds`."""
    col = f'{alias}."{c.field}"'
    if c.op == "in":
        return _in(col, c.value)
    if c.op == "is":
        return f"(coalesce({col}, FALSE) = {'TRUE' if c.value else 'FALSE'})"
    default = "TRUE" if (FIELDS[c.field].null_high and c.op == "min") else "FALSE"
    return f"coalesce({col} {'>=' if c.op == 'min' else '<='} {_lit(c.value)}, {default})"


def _all(conds) -> str:
    return " AND ".join(condition_sql(c) for c in conds) or "TRUE"


def _guard_sql(strategy: Strategy, rule) -> str:
    if rule.stage is None:
        return "TRUE"
    target = strategy.rank(rule.stage)
    parts = []
    if not rule.skip_allowed:
        parts.append(f"{target} <= f.cur_rank + 1")
    if not rule.ignore_min_stay:
        parts.append(f"({target} <= f.cur_rank OR f.cur_min_stay = 0 OR f.days_in_stage IS NULL "
                     f"OR f.days_in_stage >= f.cur_min_stay)")
    return f"(f.stage = {_q(rule.stage)} OR ({' AND '.join(parts) or 'TRUE'}))"


def rule_table(strategy: Strategy) -> pa.Table:
    """One row per rule id: action, canonical params JSON, stage (NULL = keep), review days, immediate."""
    rules = strategy.rules()
    return pa.table({
        "r_id": list(rules),
        "r_action": [r.action.type for r in rules.values()],
        "r_params": [r.action.params_json for r in rules.values()],
        "r_stage": [r.stage for r in rules.values()],
        "r_review": [r.reevaluate_after_days for r in rules.values()],
        "r_immediate": [r.immediate for r in rules.values()],
    })


def _slot_sql(salt: str) -> str:
    return (f"(('0x' || substr(md5({_q(salt)} || ':' || CAST(f.customer_id AS VARCHAR)), 1, 8))::UBIGINT "
            f"% 10000)::INTEGER")


def decide(con: duckdb.DuckDBPyConnection, facts: duckdb.DuckDBPyRelation, strategy: Strategy,
           as_of: date) -> duckdb.DuckDBPyRelation:
    """Decisions for every row of ``facts`` on ``as_of`` (lazy relation, see the module docstring).

    Columns: ``case_id, customer_id, segment, arm, rule_id, action, action_params, stage,
    stage_since, next_review_on, decided, stage_changed, strategy_version`` plus ``prev_stage`` and
    ``prev_rule_id`` (what was in force before).
    """
    ranks = " ".join(f"WHEN {_q(s.name)} THEN {s.rank}" for s in strategy.stages)
    stays = " ".join(f"WHEN {_q(s.name)} THEN {s.min_stay_days}" for s in strategy.stages)
    seg_case = " ".join(f"WHEN {_all(s.conditions)} THEN {_q(s.name)}" for s in strategy.segments[:-1])
    seg_expr = f"CASE {seg_case} ELSE {_q(strategy.segments[-1].name)} END" if seg_case else _q(strategy.segments[-1].name)
    arm_whens, rule_whens = [], []
    for seg in strategy.segments:
        upper = 0
        for arm in seg.arms:
            upper += arm.share_bp
            arm_whens.append(f"WHEN f.segment_ = {_q(seg.name)} AND f.slot < {upper} THEN {_q(arm.name)}")
            at = f"f.segment_ = {_q(seg.name)} AND f.arm_ = {_q(arm.name)}"
            if arm.holdout:
                rule_whens.append(f"WHEN {at} THEN {_q(holdout_rule_id(arm))}")
                continue
            ladder = strategy.ladders[arm.ladder or ""]
            for rule in ladder.rules:
                rule_whens.append(f"WHEN {at} AND {_all(rule.conditions)} AND {_guard_sql(strategy, rule)} "
                                  f"THEN {_q(rule.id)}")
            rule_whens.append(f"WHEN {at} THEN {_q(ladder.otherwise.id)}")
        arm_whens.append(f"WHEN f.segment_ = {_q(seg.name)} THEN {_q(seg.arms[-1].name)}")
    key = _q(strategy.key)
    # the next DPD at which a condition changes its answer (domain.strategy.next_review)
    steps = " ".join(f"WHEN dpd < {t} THEN {t}" for t in strategy.dpd_thresholds())
    next_threshold = f"(CASE {steps} ELSE NULL END)" if steps else "NULL"
    con.register("__strategy_rules", rule_table(strategy))
    con.register("__strategy_facts", facts)
    sql = f"""
    WITH s1 AS (
        SELECT f.*, {seg_expr} AS segment_, {_slot_sql(strategy.salt)} AS slot,
               CASE f.stage {ranks} ELSE 0 END AS cur_rank, CASE f.stage {stays} ELSE 0 END AS cur_min_stay
        FROM __strategy_facts f
    ), s2 AS (
        SELECT f.*, CASE {' '.join(arm_whens)} END AS arm_ FROM s1 f
    ), s3 AS (
        SELECT f.*, CASE {' '.join(rule_whens)} END AS rule_ FROM s2 f
    ), s4 AS (
        SELECT f.*, r.*,
               (coalesce(f.forced, FALSE) OR coalesce(f.rule_id, '') = '' OR f.next_review_on IS NULL
                OR f.next_review_on <= DATE '{as_of.isoformat()}'
                OR (r.r_immediate AND f.rule_ <> f.rule_id)
                OR f.segment_ <> coalesce(f.segment, '') OR f.arm_ <> coalesce(f.arm, '')
                OR {key} <> coalesce(f.strategy_version, '')) AS due
        FROM s3 f JOIN __strategy_rules r ON r.r_id = f.rule_
    )
    SELECT case_id, customer_id,
           CASE WHEN due THEN segment_ ELSE segment END AS segment,
           CASE WHEN due THEN arm_ ELSE arm END AS arm,
           CASE WHEN due THEN rule_ ELSE rule_id END AS rule_id,
           CASE WHEN due THEN r_action ELSE action END AS action,
           CASE WHEN due THEN r_params ELSE action_params END AS action_params,
           CASE WHEN due THEN coalesce(r_stage, stage) ELSE stage END AS stage,
           CASE WHEN due AND coalesce(r_stage, stage) <> stage THEN DATE '{as_of.isoformat()}'
                ELSE stage_since END AS stage_since,
           CASE WHEN due THEN least(DATE '{as_of.isoformat()}' + CAST(r_review AS INTEGER),
                                    coalesce(DATE '{as_of.isoformat()}' + CAST({next_threshold} - dpd AS INTEGER),
                                             DATE '{as_of.isoformat()}' + CAST(r_review AS INTEGER)))
                ELSE next_review_on END AS next_review_on,
           due AS decided,
           (due AND coalesce(r_stage, stage) <> stage) AS stage_changed,
           CASE WHEN due THEN {key} ELSE strategy_version END AS strategy_version,
           stage AS prev_stage, rule_id AS prev_rule_id
    FROM s4
    """
    return con.sql(sql)


def outcome_category_sql(channel: str = "channel", party: str = "party", outcome: str = "outcome") -> str:
    """SQL mapping a ledger row to the strategy's ``last_outcome`` category (see :data:`FIELDS`)."""
    return (
        f"CASE WHEN {channel} = 'field_visit' AND {_in(outcome, REACHED_OUTCOMES | VISIT_MET)} THEN 'visit_met' "
        f"WHEN {channel} = 'field_visit' THEN 'visit_failed' "
        f"WHEN {outcome} IN ('promise', 'promise_to_pay', 'ptp') THEN 'promise' "
        f"WHEN {_in(outcome, REFUSED_OUTCOMES)} THEN 'refused' "
        f"WHEN {outcome} IN ('not_in_service', 'invalid_number', 'empty_number', 'wrong_number') THEN 'invalid' "
        f"WHEN {_in(outcome, REACHED_OUTCOMES)} AND coalesce({party}, 'debtor') IN ('debtor', 'guarantor') THEN 'rpc' "
        f"WHEN {_in(outcome, REACHED_OUTCOMES)} THEN 'third_party' "
        f"WHEN {_in(outcome, RANG_OUTCOMES | NOT_CONNECTED_OUTCOMES)} THEN 'no_answer' "
        f"ELSE 'none' END"
    )


def with_facts(con: duckdb.DuckDBPyConnection, raw: dict[str, pa.Table], as_of: date,
               forced: bool = False) -> duckdb.DuckDBPyRelation:
    """The facts relation (:data:`FACTS_SCHEMA`) from the raw tables (:data:`RAW_SCHEMAS`).

    * ``utilisation`` = balance ÷ total credit limit of the customer, rounded half-up to 4 places
      (NULL without a limit);
    * ``days_since_rpc`` = ``as_of`` − local date (Asia/Shanghai) of the latest right-party contact;
      ``attempts_without_contact`` = outbound attempts after it (or since the case opened);
    * ``last_outcome`` = category of the latest ledger row;
    * ``promise`` = status of the latest promise (``none`` without one);
    * ``hold`` / ``hold_kind`` = any active hold (a breached plan does not hold) and the most
      restrictive kind; ``plan_broken`` = a breached payment-plan hold exists;
    * ``failed_visits`` = done visits whose outcome was not meeting the debtor;
    * ``days_in_stage`` = ``as_of`` − ``stage_since``.
    """
    d = f"DATE '{as_of.isoformat()}'"
    con.execute("SET TimeZone = 'UTC'")  # instants are read as UTC text (Django stores UTC)
    for name, table in raw.items():
        con.register(f"__raw_{name}", table)
    hold_rank = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(HOLD_ORDER))
    cat = outcome_category_sql("l.channel", "l.party", "l.outcome")
    sql = f"""
    WITH led AS (
        SELECT l.case_id, CAST(l."at" AS TIMESTAMPTZ) AS ts, l.direction, {cat} AS cat FROM __raw_ledger l
    ), rpc AS (
        SELECT case_id, max(ts) AS last_rpc FROM led WHERE cat IN ('rpc', 'promise', 'visit_met') GROUP BY case_id
    ), lst AS (
        SELECT case_id, arg_max(cat, ts) AS last_outcome FROM led GROUP BY case_id
    ), att AS (
        SELECT led.case_id, count(*) FILTER (WHERE led.direction = 'outbound'
                                             AND (rpc.last_rpc IS NULL OR led.ts > rpc.last_rpc)) AS n
        FROM led LEFT JOIN rpc USING (case_id) GROUP BY led.case_id
    ), prm AS (
        SELECT case_id, arg_max(status, (CAST(created_at AS TIMESTAMPTZ), id)) AS promise
        FROM __raw_promises GROUP BY case_id
    ), hld AS (
        SELECT customer_id,
               bool_or(active AND NOT (kind = 'payment_plan' AND breached)) AS hold,
               arg_min(kind, CASE kind {hold_rank} ELSE 99 END)
                   FILTER (WHERE active AND NOT (kind = 'payment_plan' AND breached)) AS hold_kind,
               bool_or(kind = 'payment_plan' AND breached) AS plan_broken
        FROM __raw_holds GROUP BY customer_id
    ), vis AS (
        SELECT case_id, count(*) FILTER (WHERE status = 'done' AND NOT {_in('outcome', VISIT_MET)}) AS failed
        FROM __raw_visits GROUP BY case_id
    )
    SELECT c.case_id, c.customer_id, c.bucket, c.dpd, c.balance, c.overdue,
           CASE WHEN lim.credit_limit > 0
                THEN round(CAST(c.balance AS DECIMAL(18,6)) / lim.credit_limit, 4)::DECIMAL(12,4) END AS utilisation,
           c.score_band,
           CASE WHEN rpc.last_rpc IS NOT NULL
                THEN date_diff('day', CAST(timezone('Asia/Shanghai', rpc.last_rpc) AS DATE), {d}) END
               AS days_since_rpc,
           coalesce(att.n, 0)::BIGINT AS attempts_without_contact,
           coalesce(prm.promise, 'none') AS promise,
           coalesce(hld.hold, FALSE) AS hold, hld.hold_kind,
           coalesce(hld.plan_broken, FALSE) AS plan_broken,
           coalesce(vis.failed, 0)::BIGINT AS failed_visits,
           coalesce(nullif(c.stage, ''), 'none') AS stage, c.stage_since,
           CASE WHEN c.stage_since IS NOT NULL THEN date_diff('day', c.stage_since, {d}) END AS days_in_stage,
           coalesce(lst.last_outcome, 'none') AS last_outcome,
           coalesce(c.district, '') AS district, coalesce(nullif(c.language, ''), 'zh-hans') AS language,
           coalesce(c.segment, '') AS segment, coalesce(c.arm, '') AS arm, coalesce(c.rule_id, '') AS rule_id,
           coalesce(c.action, '') AS action, coalesce(c.action_params, '') AS action_params,
           c.next_review_on, coalesce(c.strategy_version, '') AS strategy_version,
           {'TRUE' if forced else 'FALSE'} AS forced
    FROM __raw_cases c
    LEFT JOIN (SELECT customer_id, sum(credit_limit) AS credit_limit FROM __raw_limits GROUP BY customer_id) lim
           USING (customer_id)
    LEFT JOIN rpc USING (case_id) LEFT JOIN lst USING (case_id) LEFT JOIN att USING (case_id)
    LEFT JOIN prm USING (case_id) LEFT JOIN hld USING (customer_id) LEFT JOIN vis USING (case_id)
    """
    return con.sql(sql)


def facts_json_sql(alias: str = "f") -> str:
    """SQL for the JSON snapshot of the condition facts a decision saw (money and ratios as text)."""
    parts = []
    for name, spec in FIELDS.items():
        col = f'{alias}."{name}"'
        parts.append(f"{name} := CAST({col} AS VARCHAR)" if spec.dtype == "decimal" else f"{name} := {col}")
    return f"CAST(to_json(struct_pack({', '.join(parts)})) AS VARCHAR)"

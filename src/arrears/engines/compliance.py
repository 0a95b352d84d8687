"""Vectorised compliance check for the daily run (DuckDB): quiet hours and contact caps for every
planned contact at once, from the same rule pack the gate uses.

``check_planned_contacts(con, planned, ledger, pack)`` returns one row per planned contact —
``contact_id, decision, rule_ids`` — computed in SQL. It implements the time and frequency rules
of the pack: China CN-HOURS-01, CN-FREQ-01 (soft block), CN-FREQ-02 (with its product scope),
CN-FREQ-03 (flags); US Regulation F US-REGF-6B1-01, US-REGF-14B-01/02 (per debt), US-REGF-14B-05
(flags and the dropped-call rebuttal), US-REGF-14A-01 (cumulative pressure). Parameters and
overlays come from the pack (``pack.p``), so the batch and :func:`arrears.domain.compliance.decide`
cannot drift; ``tests/unit/test_compliance_batch_parity.py`` compares them row by row.

Scope: the plain planned contact to the debtor's own number in the debtor's primary zone, with
the ledger holding the *past* (records before the planned times). Consents, holds, third parties,
content and the rest stay with the per-contact gate, which every channel still calls before it
dials or sends: the batch filters the day's plan, it does not replace the gate.

Columns — ``planned``: ``contact_id BIGINT, debtor_id BIGINT, ts TIMESTAMPTZ, tz VARCHAR, channel
VARCHAR, contact_point VARCHAR, product VARCHAR, debt_id VARCHAR``; ``ledger``: ``debtor_id BIGINT,
ts TIMESTAMPTZ, channel VARCHAR, direction VARCHAR, contact_point VARCHAR, outcome VARCHAR,
debt_id VARCHAR``. Each debtor has one ``tz`` (the primary zone).
"""
from __future__ import annotations

import time

import duckdb

from arrears.domain.compliance.model import CALL_CHANNELS
from arrears.domain.compliance.model import CONVERSATION_OUTCOMES as _CONVERSATION
from arrears.domain.compliance.model import NOT_CONNECTED_OUTCOMES as _NOT_CONNECTED
from arrears.domain.compliance.model import REACHED_OUTCOMES as _REACHED
from arrears.domain.compliance.pack import RulePack, hhmm_seconds

__all__ = ["check_planned_contacts", "bench", "synthetic"]


def _in(col: str, values) -> str:
    """``col IN ('a', 'b')`` (FALSE for no values; NULL-safe: a NULL ``col`` is not in the set)."""
    vals = sorted(values)
    if not vals:
        return "FALSE"
    return f"coalesce({col} IN (" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in vals) + "), FALSE)"


def _window(pack: RulePack, rid: str) -> str:
    frm, until = hhmm_seconds(pack.p(rid, "allowed_from")), hhmm_seconds(pack.p(rid, "allowed_until"))
    op = "<=" if pack.p(rid, "until_inclusive") else "<"
    inside = f"(p.sod >= {frm} AND p.sod {op} {until})" if frm <= until else f"(p.sod >= {frm} OR p.sod {op} {until})"
    exempt = pack.p(rid, "exempt_channels") or []
    return f"(NOT {_in('p.channel', exempt)} AND NOT {inside})" if exempt else f"(NOT {inside})"


def _medium(col: str) -> str:
    return (f"CASE WHEN {_in(col, CALL_CHANNELS)} THEN 'phone' WHEN {col} = 'sms' THEN 'text' "
            f"WHEN {col} IN ('letter', 'postcard') THEN 'mail' ELSE {col} END")


#: one bit per medium for counting distinct media (channels outside the list share the last bit)
_MEDIA_BITS = ("phone", "text", "email", "mail", "social_media", "enterprise_wechat_message", "wechat",
               "personal_wechat", "app_push", "im", "field_visit")


def _medium_bit(col: str) -> str:
    m = _medium(col)
    whens = " ".join(f"WHEN '{name}' THEN {1 << i}" for i, name in enumerate(_MEDIA_BITS))
    return f"(CASE {m} {whens} ELSE {1 << len(_MEDIA_BITS)} END)::BIGINT"


def _cn_sql(pack: RulePack) -> tuple[str, tuple[str, str]]:
    """``(aggregates, rules)`` SQL fragments for the China pack."""
    counted = (f"(l.outcome IS NULL OR NOT {_in('l.outcome', _NOT_CONNECTED)})"
               if pack.p("CN-FREQ-02", "count", "rang_through") == "rang_through"
               else f"{_in('l.outcome', _REACHED)}")
    aggs = f"""
        count(*) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day AND {_in('l.channel', CALL_CHANNELS)}) AS n_point,
        count(*) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day AND {_in('l.channel', CALL_CHANNELS)}
                         AND {_in('l.outcome', _REACHED)}) AS n_point_answered,
        count(*) FILTER (WHERE l.day = p.day AND {_in('l.channel', CALL_CHANNELS)} AND {counted}) AS n_connected,
        count(*) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day AND {_in('l.channel', CALL_CHANNELS)}
                         AND l.ts <= p.ts) AS n_point_before,
        max(l.ts) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day AND {_in('l.channel', CALL_CHANNELS)}
                          AND l.ts <= p.ts) AS last_point_call,
        arg_max(l.outcome, l.ts) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day
                          AND {_in('l.channel', CALL_CHANNELS)} AND l.ts <= p.ts) AS last_point_outcome,
        count(*) FILTER (WHERE l.contact_point = p.contact_point AND l.day = p.day AND l.channel = p.channel
                         AND l.ts <= p.ts) AS n_point_msgs"""
    parts = []
    is_call = f"{_in('p.channel', CALL_CHANNELS)}"
    if pack.has("CN-HOURS-01"):
        parts.append(f"CASE WHEN {_window(pack, 'CN-HOURS-01')} THEN 'CN-HOURS-01' END")
    if pack.has("CN-FREQ-01"):
        cap = int(pack.p("CN-FREQ-01", "max_attempts_per_contact_per_day"))
        all_attempts = "TRUE" if pack.p("CN-FREQ-01", "count_answered_attempts", True) else "a.n_point_answered = 0"
        parts.append(f"CASE WHEN {is_call} AND p.contact_point IS NOT NULL AND ({all_attempts}) AND a.n_point >= {cap} "
                     "THEN 'CN-FREQ-01' END")
    if pack.has("CN-FREQ-02"):
        cap = int(pack.p("CN-FREQ-02", "max_connected_calls_per_debtor_per_day"))
        products = pack.p("CN-FREQ-02", "applies_to_products") or []
        parts.append(f"CASE WHEN {is_call} AND {_in('p.product', products)} AND a.n_connected >= {cap} "
                     "THEN 'CN-FREQ-02' END")
    if pack.has("CN-FREQ-03"):
        mins = float(pack.p("CN-FREQ-03", "rapid_window_minutes", 5))
        per_day = int(pack.p("CN-FREQ-03", "calls_per_day_flag", 7))
        msgs = int(pack.p("CN-FREQ-03", "messages_per_day_flag", 5))
        parts.append(f"""CASE WHEN p.contact_point IS NOT NULL AND (
            ({is_call} AND ((a.last_point_call IS NOT NULL AND p.ts - a.last_point_call <= to_microseconds({int(mins * 60e6)})
                             AND NOT {_in('a.last_point_outcome', _REACHED)})
                            OR a.n_point_before + 1 >= {per_day}))
            OR (p.channel IN ('sms', 'enterprise_wechat_message', 'wechat', 'im') AND a.n_point_msgs + 1 > {msgs}))
            THEN 'CN-FREQ-03' END""")
    severities = {"CN-HOURS-01": "block", "CN-FREQ-01": "soft_block", "CN-FREQ-02": "block", "CN-FREQ-03": "flag"}
    return aggs, _verdict(parts, severities, "FALSE AS rebuttal, FALSE AS presumed")


def _us_sql(pack: RulePack) -> tuple[str, tuple[str, str]]:
    toward = "(l.debt_id IS NULL OR p.debt_id IS NULL OR l.debt_id = p.debt_id)"
    connected = f"(l.outcome IS NULL OR NOT {_in('l.outcome', _NOT_CONNECTED)})"
    conv = f"{_in('l.outcome', _CONVERSATION)}"
    ignored = pack.p("US-REGF-14A-01", "ignored_channels") or []
    unsolicited = f"(l.direction = 'outbound' AND NOT {_in('l.channel', ignored)} AND l.ts < p.ts)" if ignored \
        else "(l.direction = 'outbound' AND l.ts < p.ts)"
    aggs = f"""
        count(*) FILTER (WHERE l.direction = 'outbound' AND {_in('l.channel', CALL_CHANNELS)} AND {connected} AND {toward}
                         AND l.day BETWEEN p.day - 6 AND p.day) AS n7,
        count(*) FILTER (WHERE {_in('l.channel', CALL_CHANNELS)} AND {conv} AND {toward} AND l.ts < p.ts
                         AND l.day BETWEEN p.day - 6 AND p.day) AS n_conv,
        count(*) FILTER (WHERE l.direction = 'outbound' AND l.contact_point = p.contact_point AND l.day = p.day
                         AND {_in('l.channel', CALL_CHANNELS)} AND l.ts < p.ts) AS n_point_before,
        arg_max(l.outcome, l.ts) FILTER (WHERE l.direction = 'outbound' AND l.contact_point = p.contact_point
                         AND l.day = p.day AND {_in('l.channel', CALL_CHANNELS)} AND l.ts < p.ts) AS last_point_outcome,
        max(l.ts) FILTER (WHERE l.direction = 'outbound' AND l.contact_point = p.contact_point AND l.day = p.day
                         AND {_in('l.channel', CALL_CHANNELS)} AND l.ts < p.ts) AS last_point_call,
        arg_max(l.outcome, l.ts) FILTER (WHERE l.ts < p.ts) AS last_outcome,
        max(l.ts) FILTER (WHERE l.ts < p.ts) AS last_ts,
        count(*) FILTER (WHERE {unsolicited} AND l.day BETWEEN p.day - {int(pack.p("US-REGF-14A-01", "window_days", 7)) - 1} AND p.day)
            AS n_pressure,
        bit_or({_medium_bit("l.channel")}) FILTER (WHERE {unsolicited}
            AND l.day BETWEEN p.day - {int(pack.p("US-REGF-14A-01", "window_days", 7)) - 1} AND p.day) AS media_mask"""
    is_call = f"{_in('p.channel', CALL_CHANNELS)}"
    mins = pack.p("US-REGF-14B-05", "dropped_call_callback_minutes")
    recognised = pack.p("US-REGF-14B-05", "recognised_rebuttal_factors") or []
    rebuttal = (f"(a.last_outcome = 'conversation_dropped' AND p.ts - a.last_ts <= to_microseconds({int(float(mins) * 60e6)}))"
                if mins and "dropped_call" in recognised and pack.has("US-REGF-14B-05") else "FALSE")
    cap = int(pack.p("US-REGF-14B-01", "max_calls_per_7_days", 7))
    a_fires = f"({is_call} AND a.n7 + 1 > {cap})" if pack.has("US-REGF-14B-01") else "FALSE"
    b_fires = f"({is_call} AND a.n_conv > 0)" if pack.has("US-REGF-14B-02") else "FALSE"
    parts = []
    if pack.has("US-REGF-6B1-01"):
        parts.append(f"CASE WHEN {_window(pack, 'US-REGF-6B1-01')} THEN 'US-REGF-6B1-01' END")
    parts.append(f"CASE WHEN {a_fires} THEN 'US-REGF-14B-01' END")
    parts.append(f"CASE WHEN {b_fires} THEN 'US-REGF-14B-02' END")
    if pack.has("US-REGF-14B-05"):
        rmins = float(pack.p("US-REGF-14B-05", "rapid_window_minutes", 5))
        per_day = int(pack.p("US-REGF-14B-05", "calls_per_number_per_day_flag", 7))
        parts.append(f"""CASE WHEN ({a_fires} OR {b_fires}) AND {rebuttal} THEN 'US-REGF-14B-05'
            WHEN {is_call} AND p.contact_point IS NOT NULL AND (
                (a.last_point_call IS NOT NULL AND p.ts - a.last_point_call <= to_microseconds({int(rmins * 60e6)})
                 AND NOT {_in('a.last_point_outcome', _REACHED)})
                OR a.n_point_before + 1 >= {per_day}) THEN 'US-REGF-14B-05' END""")
    if pack.has("US-REGF-14A-01"):
        thr = int(pack.p("US-REGF-14A-01", "threshold", 14))
        min_media = int(pack.p("US-REGF-14A-01", "min_media", 2))
        parts.append(f"""CASE WHEN NOT {_in('p.channel', ignored)}
            AND a.n_pressure + 1 >= {thr}
            AND bit_count(coalesce(a.media_mask, 0) | {_medium_bit("p.channel")}) >= {min_media}
            THEN 'US-REGF-14A-01' END""")
    severities = {"US-REGF-6B1-01": "block", "US-REGF-14B-01": "CASE WHEN r.rebuttal THEN 'soft_block' ELSE 'block' END",
                  "US-REGF-14B-02": "CASE WHEN r.rebuttal THEN 'soft_block' ELSE 'block' END",
                  "US-REGF-14B-05": "CASE WHEN r.rebuttal AND r.presumed THEN 'soft_block' ELSE 'flag' END",
                  "US-REGF-14A-01": "soft_block"}
    return aggs, _verdict(parts, severities, f"{rebuttal} AS rebuttal, ({a_fires} OR {b_fires}) AS presumed")


def _verdict(parts: list[str], severities: dict[str, str], extra: str) -> tuple[str, str]:
    """SQL for the ``rule_ids`` list (plus ``extra`` columns the severities read) and for the list
    of severities that fired, from per-rule CASE expressions."""
    ids = "list_filter([" + ", ".join(parts) + "], lambda x: x IS NOT NULL) AS rule_ids, " + extra
    def sev(rid: str) -> str:
        s = severities[rid]
        return s if s.startswith("CASE") else f"'{s}'"
    sev_list = "list_filter([" + ", ".join(
        f"CASE WHEN list_contains(r.rule_ids, '{rid}') THEN {sev(rid)} END" for rid in severities) + "], lambda x: x IS NOT NULL)"
    return ids, sev_list


def check_planned_contacts(con: duckdb.DuckDBPyConnection, planned: str, ledger: str, pack: RulePack) -> duckdb.DuckDBPyRelation:
    """Decide every planned contact of table/view ``planned`` against the contacts in ``ledger``.
    Returns a relation ``(contact_id, decision, rule_ids)``."""
    cn = pack.jurisdiction == "cn"
    aggs, (ids, sevs) = _cn_sql(pack) if cn else _us_sql(pack)
    # China's rules look at the local day only; Reg F at the seven local days ending today
    days = "l.day = p.day" if cn else f"l.day BETWEEN p.day - {max(7, int(pack.p('US-REGF-14A-01', 'window_days', 7)))} AND p.day"
    sql = f"""
    WITH p AS (
        SELECT q.*, timezone(q.tz, q.ts) AS lt FROM {planned} q
    ), pp AS (
        SELECT p.*, lt::DATE AS day, hour(lt) * 3600 + minute(lt) * 60 + second(lt) AS sod FROM p
    ), zones AS (
        SELECT DISTINCT debtor_id, tz FROM {planned}
    ), l AS (
        SELECT l.*, timezone(z.tz, l.ts)::DATE AS day FROM {ledger} l JOIN zones z USING (debtor_id)
        WHERE l.direction = 'outbound' OR l.direction = 'inbound'
    ), agg AS (
        SELECT p.contact_id, {aggs}
        FROM pp p LEFT JOIN l ON l.debtor_id = p.debtor_id AND {days}
        GROUP BY p.contact_id
    ), r AS (
        SELECT p.contact_id, {ids}
        FROM pp p JOIN agg a USING (contact_id)
    ), s AS (
        SELECT r.contact_id, r.rule_ids, {sevs} AS sev FROM r
    )
    SELECT contact_id,
           CASE WHEN list_contains(sev, 'block') THEN 'deny' WHEN list_contains(sev, 'soft_block') THEN 'escalate'
                WHEN list_contains(sev, 'flag') THEN 'allow_flagged' ELSE 'allow' END AS decision,
           rule_ids
    FROM s
    """
    return con.sql(sql)


# ---- synthetic data and the bench -------------------------------------------------------------
def synthetic(con: duckdb.DuckDBPyConnection, rows: int, jurisdiction: str = "cn", seed: int = 1,
              ledger_days: int = 7, per_debtor_per_day: int = 2, ledger_overlaps_plan: bool = False) -> None:
    """Create ``planned`` (``rows`` contacts on one day) and ``ledger`` (the ``ledger_days`` before,
    ``per_debtor_per_day`` records a day per debtor; with ``ledger_overlaps_plan`` also during the
    planned day, for same-day caps) tables for ``rows // 2`` debtors."""
    debtors = max(rows // 2, 1)
    tzs = "['Asia/Shanghai']" if jurisdiction == "cn" else "['America/New_York', 'America/Chicago', 'America/Los_Angeles']"
    day = "2026-11-30" if jurisdiction == "cn" else "2026-11-02"
    con.execute(f"SELECT setseed({seed / 10})")
    con.execute(f"""CREATE OR REPLACE TABLE zones AS SELECT i AS debtor_id, {tzs}[1 + (i % len({tzs}))] AS tz
                    FROM range({debtors}) t(i)""")
    con.execute(f"""CREATE OR REPLACE TABLE planned AS
        SELECT i AS contact_id, (i % {debtors}) AS debtor_id,
               TIMESTAMPTZ '{day} 00:00:00+00' + to_seconds((random() * 86400)::BIGINT) AS ts,
               z.tz, ['phone', 'phone', 'phone', 'voice_robot', 'sms'][1 + floor(random() * 5)::INT] AS channel,
               ['M1', 'M2'][1 + floor(random() * 2)::INT] AS contact_point,
               ['credit_card', 'internet_consumer_loan'][1 + floor(random() * 2)::INT] AS product,
               ['D1', 'D2'][1 + floor(random() * 2)::INT] AS debt_id
        FROM range({rows}) t(i) JOIN zones z ON z.debtor_id = i % {debtors}""")
    con.execute(f"""CREATE OR REPLACE TABLE ledger AS
        SELECT (i % {debtors}) AS debtor_id,
               TIMESTAMPTZ '{day} 00:00:00+00' + to_seconds({86400 if ledger_overlaps_plan else 0})
                   - to_seconds((random() * ({ledger_days} + {int(ledger_overlaps_plan)}) * 86400)::BIGINT) AS ts,
               ['phone', 'phone', 'voice_robot', 'sms', 'email'][1 + floor(random() * 5)::INT] AS channel,
               'outbound' AS direction,
               ['M1', 'M2'][1 + floor(random() * 2)::INT] AS contact_point,
               ['unanswered', 'unanswered_ring', 'connected', 'conversation', 'busy_signal', 'voicemail_no_message_left',
                'conversation_dropped', 'unanswered'][1 + floor(random() * 8)::INT] AS outcome,
               ['D1', 'D2'][1 + floor(random() * 2)::INT] AS debt_id
        FROM range({debtors * ledger_days * per_debtor_per_day}) t(i)""")


def bench(rows: int = 1_000_000, threads: int = 2) -> dict:
    """Decisions per second of :func:`check_planned_contacts` on synthetic data (both packs)."""
    from arrears.rules.compliance_packs import load_compliance_pack

    out = {"rows": rows, "threads": threads}
    total_s = 0.0
    for jur, name in (("cn", "cn"), ("us", "us_regf")):
        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        con.execute("SET enable_progress_bar = false")
        synthetic(con, rows, jur)
        pack = load_compliance_pack(name)
        t0 = time.perf_counter()
        res = check_planned_contacts(con, "planned", "ledger", pack).to_arrow_table()
        s = time.perf_counter() - t0
        total_s += s
        con.register("decided", res)
        mix = {k: v for k, v in con.sql("SELECT decision, count(*) FROM decided GROUP BY 1").fetchall()}
        out[jur] = {"seconds": round(s, 3), "decisions_per_s": round(rows / s), "mix": mix,
                    "ledger_rows": con.sql("SELECT count(*) FROM ledger").fetchall()[0][0]}
        con.close()
    out["decisions_per_s"] = round(2 * rows / total_s)
    return out

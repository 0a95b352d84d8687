"""Reads for the collection strategy: the active version, versions, decisions, explanations.

Besides :func:`active_strategy` / :func:`strategy_from_source` (used by the daily run), this module
prepares what the strategy page and the case page show, already in the UI language:

* :func:`strategy_view` — a parsed strategy as readable tables (stages, parameters, segments with
  their arms, each ladder in order with its neutral ``otherwise`` row);
* :func:`version_rows`, :func:`version_diff` — version history and the difference between two;
* :func:`action_counts` — cases by action in force, and by segment × arm, as of the latest
  decision date;
* :func:`case_decision` — the decision in force on one case, why it was chosen (the matched rule's
  reason and each condition with the fact value the rule saw) and the case's decision history.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import yaml
from django.db.models import Count
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arrears.domain import action_params
from arrears.domain.errors import RuleDataError
from arrears.domain.strategy import FIELDS, NO_STAGE, Condition, Rule, Strategy
from arrears.rules.strategy_loader import parse_strategy

from .diff import DiffLine, StrategyDiff, structural_diff, unified_diff
from .models import StrategyDecision, StrategyVersion

__all__ = [
    "active_strategy", "strategy_from_source", "strategy_of", "strategy_view", "version_rows", "get_version",
    "version_diff", "action_counts", "case_decision", "describe_condition", "action_text",
]


@lru_cache(maxsize=16)
def strategy_from_source(sha256: str, source: str, name: str = "strategy") -> Strategy:
    """The parsed strategy for a stored source text (cached by its SHA-256)."""
    return parse_strategy(source, name)


def active_strategy(name: str = "default") -> tuple[StrategyVersion, Strategy]:
    """The active version of strategy ``name`` and its parsed :class:`Strategy`.

    When no version is active yet, the packaged ``rules/strategies/<name>.yaml`` is registered and
    activated first (:func:`arrears.contexts.strategy.versions.ensure_packaged`), so a new installation
    runs the default strategy. Raises ``RuleDataError`` if the stored text no longer validates.
    """
    sv = StrategyVersion.objects.filter(name=name, status=StrategyVersion.Status.ACTIVE).first()
    if sv is None:
        from .versions import ensure_packaged

        sv = ensure_packaged(name)
    return sv, strategy_from_source(sv.sha256, sv.source, sv.key)


def strategy_of(sv: StrategyVersion) -> Strategy:
    """The parsed strategy of a stored version (``RuleDataError`` if it no longer validates)."""
    return strategy_from_source(sv.sha256, sv.source, sv.key)


# --- vocabulary in the UI language -------------------------------------------------------------------

FIELD_LABELS = {
    "bucket": gettext_lazy("账龄"),
    "dpd": gettext_lazy("逾期天数"),
    "balance": gettext_lazy("欠款余额"),
    "overdue": gettext_lazy("逾期金额"),
    "utilisation": gettext_lazy("额度使用率"),
    "score_band": gettext_lazy("评分段"),
    "days_since_rpc": gettext_lazy("距上次有效联络天数"),
    "attempts_without_contact": gettext_lazy("未联系到本人的外呼次数"),
    "promise": gettext_lazy("还款承诺"),
    "hold": gettext_lazy("暂停催收"),
    "hold_kind": gettext_lazy("暂停催收类型"),
    "plan_broken": gettext_lazy("分期协议违约"),
    "failed_visits": gettext_lazy("外访未见到客户次数"),
    "stage": gettext_lazy("当前阶段"),
    "days_in_stage": gettext_lazy("在当前阶段天数"),
    "last_outcome": gettext_lazy("最近联络结果"),
    "district": gettext_lazy("区"),
    "language": gettext_lazy("语言"),
}
ACTION_LABELS = {
    "sms": gettext_lazy("短信"),
    "call": gettext_lazy("电话"),
    "voice_robot": gettext_lazy("智能语音"),
    "field_visit": gettext_lazy("外访"),
    "legal_referral": gettext_lazy("转法务"),
    "agency_placement": gettext_lazy("委外"),
    "hold": gettext_lazy("暂停催收"),
    "none": gettext_lazy("不采取动作"),
}
PARAM_LABELS = {
    "template": gettext_lazy("模板"),
    "queue": gettext_lazy("队列"),
    "priority": gettext_lazy("优先级"),
    "campaign": gettext_lazy("语音活动"),
    "pool": gettext_lazy("委外池"),
}
VALUE_LABELS = {
    "promise": {
        "none": gettext_lazy("无承诺"), "open": gettext_lazy("待兑现"), "kept": gettext_lazy("已兑现"),
        "partly_kept": gettext_lazy("部分兑现"), "broken": gettext_lazy("跳票"), "cancelled": gettext_lazy("已取消"),
    },
    "last_outcome": {
        "none": gettext_lazy("无联络"), "rpc": gettext_lazy("联系到本人"), "third_party": gettext_lazy("第三人接听"),
        "no_answer": gettext_lazy("无人接听"), "invalid": gettext_lazy("号码无效"), "refused": gettext_lazy("拒绝沟通"),
        "promise": gettext_lazy("承诺还款"), "visit_met": gettext_lazy("外访见到客户"),
        "visit_failed": gettext_lazy("外访未见到客户"),
    },
}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _yes_no(v: bool) -> str:
    return _("是") if v else _("否")


def stage_label(strategy: Strategy | None, name: str | None) -> str:
    """A stage's name in the UI language (from the strategy's labels); the neutral state as 无."""
    if not name or name == NO_STAGE:
        return _("无阶段")
    s = strategy.stage(name) if strategy is not None else None
    if s is None:
        return name
    return s.label_en if _english() else s.label_zh


def _value_text(strategy: Strategy | None, field: str, v: Any) -> str:
    if field == "stage":
        return stage_label(strategy, v)
    labels = VALUE_LABELS.get(field)
    if labels and str(v) in labels:
        return f"{labels[str(v)]}"
    if field in ("balance", "overdue"):
        try:
            return f"{Decimal(str(v)):,.2f}"
        except (InvalidOperation, ValueError):
            return str(v)
    return str(v)


@lru_cache(maxsize=1)
def _bucket_order() -> tuple[str, ...]:
    from arrears.rules import load_bucket_ladder

    return tuple(load_bucket_ladder().names)


def _bucket_text(label: str, values) -> str:
    """Buckets in ladder order; a run to the last bucket as ``≥ M4``, another run as ``M2 – M3``."""
    order = _bucket_order()
    idx = sorted(order.index(v) for v in values if v in order)
    other = sorted(v for v in values if v not in order)
    if idx and not other and len(idx) > 1 and idx == list(range(idx[0], idx[-1] + 1)):
        if idx[-1] == len(order) - 1:
            return f"{label} ≥ {order[idx[0]]}"
        return f"{label} {order[idx[0]]} – {order[idx[-1]]}"
    values_text = " / ".join([order[i] for i in idx] + other)
    return _("%(field)s 为 %(values)s") % {"field": label, "values": values_text}


def describe_condition(strategy: Strategy | None, c: Condition, ref: str | None = None) -> str:
    """A condition in the UI language: ``账龄 为 M4 / M5``, ``欠款余额 ≥ 50,000.00（$legal_balance_min）``."""
    label = FIELD_LABELS.get(c.field, c.field)
    if c.op == "in" and c.field == "bucket":
        text = _bucket_text(label, c.value)
    elif c.op == "in":
        values = " / ".join(_value_text(strategy, c.field, v) for v in sorted(map(str, c.value)))
        text = _("%(field)s 为 %(values)s") % {"field": label, "values": values}
    elif c.op == "is":
        text = f"{label} = {_yes_no(c.value)}"
    else:
        text = f"{label} {'≥' if c.op == 'min' else '≤'} {_value_text(strategy, c.field, c.value)}"
    return f"{text} (${ref})" if ref else text


def _params(params_json: str | dict | tuple) -> dict:
    return dict(params_json) if isinstance(params_json, tuple) else action_params.decode(params_json)


#: the values of action parameters that have words (the call queues); others are shown as given
PARAM_VALUE_LABELS = {"queue": {"early": gettext_lazy("前期队列"), "late": gettext_lazy("后期队列")}}


def action_text(action: str, params: str | dict | tuple = "") -> str:
    """An action with its parameters in the UI language: ``电话（优先级: 2, 队列: 后期队列）``."""
    if not action:
        return "–"
    label = f"{ACTION_LABELS.get(action, action)}"
    p = _params(params)
    if not p:
        return label
    inner = ", ".join(f"{PARAM_LABELS.get(k, k)}: {PARAM_VALUE_LABELS.get(k, {}).get(v, v)}" for k, v in sorted(p.items()))
    return f"{label} ({inner})"


def case_stage_label(stage: str | None, strategy_version: str | None = None) -> str:
    """A case's stage in the UI language, named by the strategy version that set it (else the
    active default strategy): ``电话催收`` / ``Phone``; no stage: ``无阶段``."""
    strategy = _version_by_key(strategy_version) if strategy_version else None
    if strategy is None and stage and stage != NO_STAGE:
        sv = StrategyVersion.objects.filter(name="default", status=StrategyVersion.Status.ACTIVE).first()
        strategy = _version_by_key(sv.key) if sv is not None else _packaged("default")
    return stage_label(strategy, stage)


def _packaged(name: str) -> Strategy | None:
    """The packaged ``rules/strategies/<name>.yaml`` (read, not registered: a page reads nothing into
    the database); ``None`` when it does not validate."""
    import hashlib

    from .versions import STRATEGIES_DIR

    source = (STRATEGIES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    try:
        return strategy_from_source(hashlib.sha256(source.encode()).hexdigest(), source, f"{name}@packaged")
    except RuleDataError:
        return None


# --- the strategy as tables --------------------------------------------------------------------------

@dataclass(frozen=True)
class StageRow:
    name: str
    label: str
    rank: int
    min_stay_days: int


@dataclass(frozen=True)
class ParamRow:
    name: str
    value: str
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class ArmRow:
    name: str
    share: str
    ladder: str
    holdout: bool


@dataclass(frozen=True)
class SegmentView:
    name: str
    conditions: tuple[str, ...]
    arms: tuple[ArmRow, ...]


@dataclass(frozen=True)
class RuleRow:
    position: int | None
    id: str
    conditions: tuple[str, ...]
    action: str
    stage: str
    reevaluate_after_days: int
    skip_allowed: bool
    ignore_min_stay: bool
    immediate: bool
    reason: str
    neutral: bool


@dataclass(frozen=True)
class LadderView:
    name: str
    rules: tuple[RuleRow, ...]
    used_by: tuple[str, ...]  # "segment / arm"


@dataclass(frozen=True)
class StrategyView:
    key: str
    name: str
    version: str
    label: str
    salt: str
    stages: tuple[StageRow, ...]
    parameters: tuple[ParamRow, ...]
    segments: tuple[SegmentView, ...]
    ladders: tuple[LadderView, ...]


@lru_cache(maxsize=16)
def _refs(sha256: str, source: str) -> tuple[dict, dict]:
    """Parameter references in the YAML: ``({rule_id: {(field, op): param}}, {param: [rule ids]})``."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return {}, {}
    cond_refs: dict[str, dict[tuple[str, str], str]] = {}
    used: dict[str, list[str]] = {}

    def note(rule_id: str, key: tuple[str, str], v: Any) -> None:
        if isinstance(v, str) and v.startswith("$"):
            cond_refs.setdefault(rule_id, {})[key] = v[1:]
            used.setdefault(v[1:], [])
            if rule_id not in used[v[1:]]:
                used[v[1:]].append(rule_id)

    if not isinstance(data, dict):
        return {}, {}
    for lname, ladder in (data.get("ladders") or {}).items():
        if not isinstance(ladder, dict):
            continue
        raws = [*(ladder.get("rules") or []), {**(ladder.get("otherwise") or {}), "id": f"{lname}.otherwise"}]
        for raw in raws:
            if not isinstance(raw, dict):
                continue
            rid = str(raw.get("id"))
            for fname, spec in (raw.get("when") or {}).items():
                if isinstance(spec, dict):
                    for op, v in spec.items():
                        note(rid, (fname, op), v)
                else:
                    note(rid, (fname, "is"), spec)
            for k, v in (raw.get("action") or {}).items():
                note(rid, ("action", k), v)
    for i, seg in enumerate(data.get("segments") or []):
        if isinstance(seg, dict):
            for fname, spec in (seg.get("when") or {}).items():
                for op, v in (spec.items() if isinstance(spec, dict) else [("is", spec)]):
                    note(f"segment:{seg.get('name', i)}", (fname, op), v)
    return cond_refs, used


def _rule_row(strategy: Strategy, r: Rule, position: int | None, refs: dict) -> RuleRow:
    mine = refs.get(r.id, {})
    return RuleRow(
        position=position, id=r.id,
        conditions=tuple(describe_condition(strategy, c, mine.get((c.field, c.op))) for c in r.conditions),
        action=action_text(r.action.type, r.action.params), stage=stage_label(strategy, r.stage) if r.stage else _("保持原阶段"),
        reevaluate_after_days=r.reevaluate_after_days, skip_allowed=r.skip_allowed,
        ignore_min_stay=r.ignore_min_stay, immediate=r.immediate,
        reason=r.reason_en if _english() else r.reason_zh, neutral=r.neutral,
    )


def strategy_view(sv: StrategyVersion, strategy: Strategy | None = None) -> StrategyView:
    """Readable tables of a stored version (in the UI language)."""
    s = strategy or strategy_of(sv)
    refs, used = _refs(sv.sha256, sv.source)
    segments = []
    ladder_users: dict[str, list[str]] = {}
    for seg in s.segments:
        seg_refs = refs.get(f"segment:{seg.name}", {})
        arms = []
        for a in seg.arms:
            arms.append(ArmRow(a.name, f"{Decimal(a.share_bp) / 100:g} %", a.ladder or "", a.holdout))
            if a.ladder:
                ladder_users.setdefault(a.ladder, []).append(f"{seg.name} / {a.name}")
        conds = tuple(describe_condition(s, c, seg_refs.get((c.field, c.op))) for c in seg.conditions)
        segments.append(SegmentView(seg.name, conds or (_("（其余所有案件）"),), tuple(arms)))
    ladders = tuple(
        LadderView(name, (*(_rule_row(s, r, i, refs) for i, r in enumerate(ladder.rules, 1)),
                          _rule_row(s, ladder.otherwise, None, refs)), tuple(ladder_users.get(name, ())))
        for name, ladder in s.ladders.items()
    )
    return StrategyView(
        key=s.key, name=s.name, version=s.version, label=s.label_en if _english() else s.label_zh, salt=s.salt,
        stages=tuple(StageRow(st.name, stage_label(s, st.name), st.rank, st.min_stay_days)
                     for st in sorted(s.stages, key=lambda x: (x.rank, x.name))),
        parameters=tuple(ParamRow(k, str(v), tuple(used.get(k, ()))) for k, v in s.parameters.items()),
        segments=tuple(segments), ladders=ladders,
    )


# --- versions and their differences ------------------------------------------------------------------

def version_rows(name: str | None = None) -> list[StrategyVersion]:
    """Every stored version (of ``name``, or of all strategies), newest upload first."""
    qs = StrategyVersion.objects.select_related("uploaded_by", "activated_by").defer("source")
    if name:
        qs = qs.filter(name=name)
    return list(qs.order_by("name", "-uploaded_at", "-id"))


def get_version(pk: Any) -> StrategyVersion | None:
    try:
        return StrategyVersion.objects.select_related("uploaded_by", "activated_by").get(pk=int(pk))
    except (StrategyVersion.DoesNotExist, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class VersionDiff:
    a: StrategyVersion
    b: StrategyVersion
    lines: list[DiffLine]
    summary: StrategyDiff | None
    #: errors when one side no longer validates (the text diff is still shown)
    errors: list[str]


def version_diff(a: StrategyVersion, b: StrategyVersion) -> VersionDiff:
    """The unified diff of the two YAML texts and the structural summary from ``a`` to ``b``."""
    lines = unified_diff(a.source, b.source, a.key, b.key)
    try:
        summary, errors = structural_diff(strategy_of(a), strategy_of(b)), []
    except RuleDataError as exc:
        summary, errors = None, exc.errors
    return VersionDiff(a, b, lines, summary, errors)


# --- today's action counts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ActionCount:
    action: str
    label: str
    in_force: int
    decided: int


@dataclass(frozen=True)
class ArmCount:
    segment: str
    arm: str
    total: int
    by_action: tuple[int, ...]  # aligned with ActionCounts.actions


@dataclass(frozen=True)
class ActionCounts:
    as_of: date | None
    total: int
    decided_total: int
    by_action: tuple[ActionCount, ...]
    actions: tuple[tuple[str, str], ...]  # (code, label) columns of by_arm
    by_arm: tuple[ArmCount, ...]


def action_counts() -> ActionCounts:
    """Open cases by the action in force and by segment × arm, as of the latest decision date;
    ``decided`` counts the decisions (re)made on that date (a kept decision is not re-made)."""
    from arrears.contexts.casework.facade import open_case_actions  # the decision in force lives on the case

    as_of, in_force, cells = open_case_actions()
    decided: dict[str, int] = {}
    if as_of is not None:
        decided = {r["action"]: r["n"] for r in StrategyDecision.objects.filter(as_of=as_of)
                   .values("action").annotate(n=Count("id")).order_by()}
    codes = [a for a in ACTION_LABELS if a in in_force or a in decided]
    codes += sorted(a for a in {*in_force, *decided} if a not in ACTION_LABELS)
    by_action = tuple(ActionCount(a, f"{ACTION_LABELS.get(a, a)}", in_force.get(a, 0), decided.get(a, 0))
                      for a in codes)
    arm_codes = [a for a in codes if a in in_force]
    by_arm = tuple(ArmCount(seg, arm, sum(c.values()), tuple(c.get(a, 0) for a in arm_codes))
                   for (seg, arm), c in sorted(cells.items()))
    return ActionCounts(as_of, sum(in_force.values()), sum(decided.values()), by_action,
                        tuple((a, f"{ACTION_LABELS.get(a, a)}") for a in arm_codes), by_arm)


# --- the case page: decision in force, why, history --------------------------------------------------

@dataclass(frozen=True)
class WhyCondition:
    condition: str
    fact: str
    holds: bool | None


@dataclass(frozen=True)
class DecisionRow:
    as_of: date
    trigger: str
    strategy_version: str
    segment: str
    arm: str
    rule_id: str
    action: str
    previous_stage: str
    stage: str
    stage_changed: bool
    next_review_on: date | None


@dataclass(frozen=True)
class CaseDecision:
    action: str
    stage: str
    stage_since: date | None
    segment: str
    arm: str
    strategy_version: str
    rule_id: str
    decision_on: date | None
    next_review_on: date | None
    reason: str
    why: tuple[WhyCondition, ...]
    why_as_of: date | None
    #: the rule has no conditions (a neutral ``otherwise`` or a holdout rule)
    neutral: bool
    #: the strategy version or rule could not be found (the reason is then unknown)
    rule_unknown: bool
    history: tuple[DecisionRow, ...]
    history_total: int


#: how many decisions the case page lists (newest first)
HISTORY_LIMIT = 20


def _fact_value(field: str, raw: Any) -> Any:
    """A stored fact (JSON) as the type the condition compares."""
    spec = FIELDS.get(field)
    if raw is None or spec is None:
        return raw
    if spec.kind == "bool":
        return bool(raw)
    if spec.kind == "set":
        return str(raw)
    try:
        return Decimal(str(raw)) if spec.dtype == "decimal" else int(raw)
    except (InvalidOperation, ValueError, TypeError):
        return None


def _fact_text(strategy: Strategy | None, field: str, raw: Any) -> str:
    if raw is None:
        return _("无记录")
    if FIELDS.get(field) and FIELDS[field].kind == "bool":
        return _yes_no(bool(raw))
    return _value_text(strategy, field, raw)


def _facts(d: StrategyDecision) -> dict:
    f = d.facts
    if isinstance(f, str):
        try:
            f = json.loads(f)
        except ValueError:
            return {}
    return f if isinstance(f, dict) else {}


def _version_by_key(key: str) -> Strategy | None:
    name, _sep, version = (key or "").rpartition("@")
    sv = StrategyVersion.objects.filter(name=name, version=version).first() if name else None
    if sv is None:
        return None
    try:
        return strategy_of(sv)
    except RuleDataError:
        return None


def case_decision(case_id: int, limit: int = HISTORY_LIMIT) -> CaseDecision | None:
    """The strategy panel of a case the caller may already see (``None`` if it was never decided)."""
    from arrears.contexts.casework.facade import case_strategy_fields  # the decision in force lives on the case

    c = case_strategy_fields(case_id)
    decisions = StrategyDecision.objects.filter(case_id=case_id).order_by("-as_of", "-id")
    total = decisions.count()
    if c is None or (not c["rule_id"] and not total):
        return None
    rows = list(decisions[:limit])
    latest = rows[0] if rows else None
    if not c["rule_id"] and latest is not None:  # decided but not yet written to the case
        c = {**c, **{k: getattr(latest, k) for k in ("stage", "strategy_version", "segment", "arm", "rule_id",
                                                      "action", "action_params", "next_review_on")},
             "decision_on": latest.as_of}
    strategy = _version_by_key(c["strategy_version"])
    rule = strategy.rules().get(c["rule_id"]) if strategy is not None else None
    basis = next((d for d in rows if d.rule_id == c["rule_id"] and d.strategy_version == c["strategy_version"]),
                 None)
    facts = _facts(basis) if basis is not None else {}
    why: list[WhyCondition] = []
    if rule is not None:
        for cond in rule.conditions:
            has = cond.field in facts
            raw = facts.get(cond.field)
            why.append(WhyCondition(
                describe_condition(strategy, cond), _fact_text(strategy, cond.field, raw) if has else "–",
                cond.holds(_fact_value(cond.field, raw)) if has else None))
    history = tuple(
        DecisionRow(as_of=d.as_of, trigger=f"{d.get_trigger_display()}", strategy_version=d.strategy_version,
                    segment=d.segment, arm=d.arm, rule_id=d.rule_id, action=action_text(d.action, d.action_params),
                    previous_stage=stage_label(strategy, d.previous_stage), stage=stage_label(strategy, d.stage),
                    stage_changed=(d.stage or NO_STAGE) != (d.previous_stage or NO_STAGE),
                    next_review_on=d.next_review_on)
        for d in rows
    )
    return CaseDecision(
        action=action_text(c["action"], c["action_params"]), stage=stage_label(strategy, c["stage"]),
        stage_since=c["stage_since"], segment=c["segment"], arm=c["arm"], strategy_version=c["strategy_version"],
        rule_id=c["rule_id"], decision_on=c["decision_on"], next_review_on=c["next_review_on"],
        reason=(rule.reason_en if _english() else rule.reason_zh) if rule is not None else "",
        why=tuple(why), why_as_of=basis.as_of if basis is not None else None,
        neutral=rule is not None and not rule.conditions, rule_unknown=rule is None,
        history=history, history_total=total,
    )


def arm_results(strategy_version: str | None = None) -> list[dict]:
    """Champion/challenger results, one dict per (strategy_version, segment, arm) of the decisions:

    ``cases`` (distinct cases decided in that arm), ``closed_cured``, ``closed_paid``, ``open``,
    ``cure_rate`` (cured + paid off ÷ cases, 4 places, text), ``promises_kept`` / ``promises_broken``
    (promises made after the case's first decision in the arm), ``paid_amounts`` (currency →
    amount as text, e.g. ``{"CNY": "1200.00", "USD": "80.00"}``: payments on the customer's accounts
    on or after that first decision date, totalled per account currency — never one number across
    currencies). A case counts in the arm of its first decision under the version (arms are stable
    per customer, so that is its arm).
    """
    from decimal import Decimal

    from django.db import connection

    from arrears.contexts.casework.facade import cases_sql
    from arrears.contexts.portfolio.facade import accounts_sql

    from .relations import relation

    where, params = "", []
    if strategy_version:
        where, params = "WHERE d.strategy_version = %s", [strategy_version]
    arms = f"""
        WITH first AS (
            SELECT d.case_id, d.strategy_version, MIN(d.as_of) AS since
            FROM strategy_strategydecision d {where} GROUP BY d.case_id, d.strategy_version
        ), arm AS (
            SELECT f.case_id, f.strategy_version, f.since, MIN(d.segment) AS segment, MIN(d.arm) AS arm
            FROM first f JOIN strategy_strategydecision d
              ON d.case_id = f.case_id AND d.strategy_version = f.strategy_version AND d.as_of = f.since
            GROUP BY f.case_id, f.strategy_version, f.since
        )"""
    promises, cases_rel, accounts, payments = relation("promises"), cases_sql(), accounts_sql(), relation("payments")
    sql = arms + f""", ptp AS (
            SELECT a.case_id, a.strategy_version,
                   SUM(CASE WHEN p.status = 'kept' THEN 1 ELSE 0 END) AS kept,
                   SUM(CASE WHEN p.status = 'broken' THEN 1 ELSE 0 END) AS broken
            FROM arm a JOIN ({promises}) p ON p.case_id = a.case_id AND p.promised_on >= a.since
            GROUP BY a.case_id, a.strategy_version
        )
        SELECT a.strategy_version, a.segment, a.arm, COUNT(*) AS cases,
               SUM(CASE WHEN c.status = 'closed_cured' THEN 1 ELSE 0 END),
               SUM(CASE WHEN c.status = 'closed_paid' THEN 1 ELSE 0 END),
               SUM(CASE WHEN c.closed_on IS NULL THEN 1 ELSE 0 END),
               COALESCE(SUM(ptp.kept), 0), COALESCE(SUM(ptp.broken), 0)
        FROM arm a JOIN ({cases_rel}) c ON c.case_id = a.case_id
        LEFT JOIN ptp ON ptp.case_id = a.case_id AND ptp.strategy_version = a.strategy_version
        GROUP BY a.strategy_version, a.segment, a.arm
        ORDER BY a.strategy_version, a.segment, a.arm
    """
    paid_sql = arms + f"""
        SELECT a.strategy_version, a.segment, a.arm, acc.currency, CAST(SUM(p.amount) AS TEXT)
        FROM arm a JOIN ({cases_rel}) c ON c.case_id = a.case_id
        JOIN ({accounts}) acc ON acc.customer_id = c.customer_id
        JOIN ({payments}) p ON p.account_id = acc.account_id AND p.local_date >= a.since
        GROUP BY a.strategy_version, a.segment, a.arm, acc.currency
        ORDER BY a.strategy_version, a.segment, a.arm, acc.currency
    """
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.execute(paid_sql, params)
        paid: dict[tuple, dict[str, str]] = {}
        for version, segment, arm, currency, amount in cur.fetchall():
            paid.setdefault((version, segment, arm), {})[currency] = str(Decimal(str(amount)).quantize(Decimal("0.01")))
    out = []
    for version, segment, arm, cases, cured, paid_off, open_, kept, broken in rows:
        rate = (Decimal(int(cured) + int(paid_off)) / Decimal(int(cases))).quantize(Decimal("0.0001")) if cases else Decimal(0)
        out.append({
            "strategy_version": version, "segment": segment, "arm": arm, "cases": int(cases),
            "closed_cured": int(cured), "closed_paid": int(paid_off), "open": int(open_),
            "cure_rate": str(rate), "promises_kept": int(kept), "promises_broken": int(broken),
            "paid_amounts": paid.get((version, segment, arm), {}),
        })
    return out

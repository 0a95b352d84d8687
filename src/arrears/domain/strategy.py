"""Collection strategy (催收策略): segments, champion/challenger arms and first-match ladders.

A :class:`Strategy` is rule data (``arrears/rules/strategies/*.yaml``, validated by
:func:`arrears.rules.strategies.load_strategy`). For each open case it picks, in order:

1. the **segment**: the first segment whose conditions hold (the last segment has none, so every
   case has one);
2. the **arm** (champion / challenger / holdout): by a stable hash of the customer id —
   :func:`arm_slot` is ``int(md5("<salt>:<customer_id>")[:8], 16) % 10000`` and the segment's arms
   take consecutive slot ranges in the order listed, ``share`` per cent each (basis points
   internally). A ``holdout`` arm gets no treatment (action ``none``, rule ``<arm>.holdout``);
3. the **rule**: the first rule of the arm's ladder whose conditions hold *and* that passes the two
   stage guards, else the ladder's explicit neutral ``otherwise`` rule:

   * *no skipping*: a rule that moves the case to a stage ranked more than one above the current
     stage does not match unless it says ``skip_allowed: true``;
   * *minimum stay*: a rule that escalates (a higher-ranked stage) does not match while the case
     has been in its current stage fewer than that stage's ``min_stay_days`` (calendar days),
     unless it says ``ignore_min_stay: true``.

A decision holds until its review date (``reevaluate_after_days`` after it was made). Before then
the daily run keeps it (``decided`` false) unless the case is *forced* (an event: payment posted,
promise broken, visit reported, complaint opened), the matched rule is ``immediate`` and differs
(e.g. a new hold), or the segment, arm or strategy version changed.

Conditions are over the case **facts** (:class:`CaseFacts`); the vocabulary is :data:`FIELDS`.
Bucket and DPD come from the oldest unpaid due date (the daily run's delinquency), so a payment
that moves that date moves the schedule too. ``balance`` / ``overdue`` are in the account currency
(yuan, two decimals), ``utilisation`` is balance ÷ credit limit (four decimals), day counts are
calendar days in the debtor's local calendar as of the run date.

The batch evaluator (:mod:`arrears.engines.strategy`) compiles the same rules to SQL; a parity test
compares both on sampled cases. Pure: no Django, no I/O, no clock.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from . import action_params
from .errors import RuleDataError

__all__ = [
    "FIELDS", "ACTIONS", "ACTION_STAGE", "FieldSpec", "Condition", "Action", "Rule", "Ladder", "Arm",
    "Segment", "Stage", "Strategy", "CaseFacts", "Decision", "arm_slot", "evaluate", "build_strategy",
    "explain",
]

Kind = Literal["range", "set", "bool"]


@dataclass(frozen=True)
class FieldSpec:
    """One condition field. ``kind``: ``range`` (``min``/``max``, inclusive), ``set`` (``in``),
    ``bool`` (``is``). ``dtype``: ``int`` or ``decimal`` for ranges. ``null_high``: a missing value
    counts as infinitely large (``days_since_rpc`` when there never was a right-party contact) —
    otherwise a missing value fails every range test and every set test."""

    name: str
    kind: Kind
    dtype: str = "int"
    null_high: bool = False
    doc: str = ""


#: The condition vocabulary, shared by both evaluators and the schema.
FIELDS: dict[str, FieldSpec] = {f.name: f for f in (
    FieldSpec("bucket", "set", doc="bucket name (账龄); `min`/`max` by ladder order are expanded to a set"),
    FieldSpec("dpd", "range", doc="days past due of the case (worst account)"),
    FieldSpec("balance", "range", "decimal", doc="total balance of the customer's accounts, yuan"),
    FieldSpec("overdue", "range", "decimal", doc="overdue amount, yuan"),
    FieldSpec("utilisation", "range", "decimal", doc="balance ÷ credit limit (0.9 = 90 %)"),
    FieldSpec("score_band", "set", doc="collection score band, when a score exists"),
    FieldSpec("days_since_rpc", "range", null_high=True, doc="days since the last right-party contact"),
    FieldSpec("attempts_without_contact", "range", doc="outbound attempts since the last right-party contact"),
    FieldSpec("promise", "set", doc="latest promise to pay: none, open, kept, partly_kept, broken, cancelled"),
    FieldSpec("hold", "bool", doc="an active collection hold (dispute, complaint, signed plan …)"),
    FieldSpec("hold_kind", "set", doc="kind of the most restrictive active hold"),
    FieldSpec("plan_broken", "bool", doc="a payment plan of the customer was breached"),
    FieldSpec("failed_visits", "range", doc="field visits done without meeting the debtor"),
    FieldSpec("stage", "set", doc="current (previous) stage: none, phone, sms, field, legal, agency …"),
    FieldSpec("days_in_stage", "range", null_high=True, doc="days since the case entered its stage"),
    FieldSpec("last_outcome", "set", doc="outcome of the latest contact: none, rpc, third_party, no_answer, "
                                         "invalid, refused, promise, visit_met, visit_failed"),
    FieldSpec("district", "set", doc="debtor's home district (区)"),
    FieldSpec("language", "set", doc="debtor's language (zh-hans, en …)"),
)}

#: action type → the parameters it requires (read back by :mod:`arrears.domain.action_params`)
ACTIONS: dict[str, tuple[str, ...]] = {
    "sms": ("template",),
    "call": ("queue", "priority"),
    "voice_robot": ("campaign",),
    "field_visit": ("priority",),
    "legal_referral": (),
    "agency_placement": ("pool",),
    "hold": (),
    "none": (),
}
#: the stage an action puts a case in unless the rule names one (hold / none keep the stage)
ACTION_STAGE: dict[str, str | None] = {
    "sms": "sms", "call": "phone", "voice_robot": "phone", "field_visit": "field",
    "legal_referral": "legal", "agency_placement": "agency", "hold": None, "none": None,
}
NO_STAGE = "none"


@dataclass(frozen=True)
class Condition:
    """``field`` ``op`` ``value``: op ``min``/``max`` (inclusive), ``in`` (a frozenset), ``is`` (bool)."""

    field: str
    op: str
    value: Any

    def holds(self, v: Any) -> bool:
        """True if the fact value ``v`` satisfies the condition (see :class:`FieldSpec` for None)."""
        if self.op == "in":
            return v is not None and v in self.value
        if self.op == "is":
            return bool(v) is self.value
        if v is None:
            return FIELDS[self.field].null_high and self.op == "min"
        return v >= self.value if self.op == "min" else v <= self.value

    def describe(self) -> str:
        if self.op == "in":
            return f"{self.field} ∈ {{{', '.join(sorted(map(str, self.value)))}}}"
        if self.op == "is":
            return f"{self.field} = {str(self.value).lower()}"
        return f"{self.field} {'≥' if self.op == 'min' else '≤'} {self.value}"


@dataclass(frozen=True)
class Action:
    type: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def params_json(self) -> str:
        """Canonical JSON of the parameters (sorted keys, no spaces) — what decisions store."""
        return json.dumps(dict(self.params), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: tuple[Condition, ...]
    action: Action
    stage: str | None
    reevaluate_after_days: int
    reason_zh: str
    reason_en: str
    skip_allowed: bool = False
    ignore_min_stay: bool = False
    immediate: bool = False
    neutral: bool = False


@dataclass(frozen=True)
class Ladder:
    name: str
    rules: tuple[Rule, ...]
    otherwise: Rule


@dataclass(frozen=True)
class Arm:
    """A champion/challenger arm: ``share_bp`` basis points (1 % = 100) of the segment's slots."""

    name: str
    share_bp: int
    ladder: str | None
    holdout: bool = False


@dataclass(frozen=True)
class Segment:
    name: str
    conditions: tuple[Condition, ...]
    arms: tuple[Arm, ...]


@dataclass(frozen=True)
class Stage:
    name: str
    rank: int
    min_stay_days: int
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Strategy:
    name: str
    version: str
    salt: str
    stages: tuple[Stage, ...]
    ladders: dict[str, Ladder]
    segments: tuple[Segment, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    label_zh: str = ""
    label_en: str = ""
    #: first DPD of each bucket of the ladder the strategy was checked against (bucket conditions
    #: change their answer there)
    bucket_starts: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        """``name@version`` — stored on every decision."""
        return f"{self.name}@{self.version}"

    def stage(self, name: str | None) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def rank(self, name: str | None) -> int:
        s = self.stage(name)
        return s.rank if s else 0

    def min_stay(self, name: str | None) -> int:
        s = self.stage(name)
        return s.min_stay_days if s else 0

    def dpd_thresholds(self) -> tuple[int, ...]:
        """Every DPD (days) at which some condition of the strategy changes its answer: ``min``
        bounds and ``max`` bounds + 1 of ``dpd`` conditions, ascending. DPD grows by one a day, so a
        decision must be reviewed by the day the next of these is reached (:func:`next_review`)."""
        out: set[int] = set()
        for cond in self._all_conditions():
            if cond.field == "dpd" and cond.op in ("min", "max"):
                out.add(int(cond.value) + (1 if cond.op == "max" else 0))
            elif cond.field == "bucket":  # the bucket is a function of the DPD
                out.update(self.bucket_starts)
        return tuple(sorted(out))

    def _all_conditions(self):
        for seg in self.segments:
            yield from seg.conditions
        for ladder in self.ladders.values():
            for rule in (*ladder.rules, ladder.otherwise):
                yield from rule.conditions

    def rules(self) -> dict[str, Rule]:
        """Every rule by id, including each ladder's ``otherwise`` and each holdout arm's rule."""
        out: dict[str, Rule] = {}
        for ladder in self.ladders.values():
            for r in (*ladder.rules, ladder.otherwise):
                out[r.id] = r
        for seg in self.segments:
            for arm in seg.arms:
                if arm.holdout:
                    out[holdout_rule_id(arm)] = holdout_rule(arm)
        return out


def holdout_rule_id(arm: Arm) -> str:
    return f"{arm.name}.holdout"


def holdout_rule(arm: Arm) -> Rule:
    """The no-treatment rule of a holdout arm: action ``none``, stage kept, reviewed daily."""
    return Rule(
        id=holdout_rule_id(arm), conditions=(), action=Action("none"), stage=None, reevaluate_after_days=1,
        reason_zh="对照组（不施加催收动作）", reason_en="holdout arm: no treatment", neutral=True,
    )


@dataclass(frozen=True)
class CaseFacts:
    """What the strategy knows about one open case on the run date (see :data:`FIELDS`).

    ``stage_since``/``next_review_on`` are local calendar dates; ``segment``, ``arm``, ``rule_id``,
    ``action``, ``action_params``, ``strategy_version`` describe the decision in force (empty when
    the case has none yet); ``forced`` marks a re-evaluation triggered by an event.
    """

    case_id: int
    customer_id: int
    bucket: str
    dpd: int
    balance: Decimal
    overdue: Decimal = Decimal("0.00")
    utilisation: Decimal | None = None
    score_band: str | None = None
    days_since_rpc: int | None = None
    attempts_without_contact: int = 0
    promise: str = "none"
    hold: bool = False
    hold_kind: str | None = None
    plan_broken: bool = False
    failed_visits: int = 0
    stage: str = NO_STAGE
    stage_since: date | None = None
    days_in_stage: int | None = None
    last_outcome: str = "none"
    district: str = ""
    language: str = "zh-hans"
    segment: str = ""
    arm: str = ""
    rule_id: str = ""
    action: str = ""
    action_params: str = ""
    next_review_on: date | None = None
    strategy_version: str = ""
    forced: bool = False

    def value(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True)
class Decision:
    """The outcome for one case: what to do (``action`` + canonical JSON ``action_params``), the
    ``stage`` it is in from ``stage_since``, which ``segment``/``arm``/``rule_id`` of which
    ``strategy_version`` chose it, and ``next_review_on``. ``decided`` is false when the decision in
    force was kept (not yet due for review); ``stage_changed`` when this decision moved the stage."""

    case_id: int
    segment: str
    arm: str
    rule_id: str
    action: str
    action_params: str
    stage: str
    stage_since: date | None
    next_review_on: date | None
    decided: bool
    stage_changed: bool
    strategy_version: str


def arm_slot(salt: str, customer_id: int) -> int:
    """The customer's stable slot 0…9999: ``int(md5(f"{salt}:{customer_id}")[:8], 16) % 10000``."""
    digest = hashlib.md5(f"{salt}:{customer_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 10000


def _all(conds: tuple[Condition, ...], f: CaseFacts) -> bool:
    return all(c.holds(f.value(c.field)) for c in conds)


def pick_arm(segment: Segment, slot: int) -> Arm:
    upper = 0
    for arm in segment.arms:
        upper += arm.share_bp
        if slot < upper:
            return arm
    return segment.arms[-1]


def guards_pass(strategy: Strategy, rule: Rule, f: CaseFacts) -> bool:
    """The stage guards (no skipping, minimum stay) for a candidate rule."""
    if rule.stage is None or rule.stage == f.stage:
        return True
    target, current = strategy.rank(rule.stage), strategy.rank(f.stage)
    if not rule.skip_allowed and target > current + 1:
        return False
    if target > current and not rule.ignore_min_stay:
        stay = strategy.min_stay(f.stage)
        if stay and f.days_in_stage is not None and f.days_in_stage < stay:
            return False
    return True


def match(strategy: Strategy, f: CaseFacts) -> tuple[Segment, Arm, Rule]:
    """Segment, arm and the matched rule for ``f`` (ignoring review dates)."""
    segment = next(s for s in strategy.segments if _all(s.conditions, f))
    arm = pick_arm(segment, arm_slot(strategy.salt, f.customer_id))
    if arm.holdout:
        return segment, arm, holdout_rule(arm)
    ladder = strategy.ladders[arm.ladder or ""]
    for rule in ladder.rules:
        if _all(rule.conditions, f) and guards_pass(strategy, rule, f):
            return segment, arm, rule
    return segment, arm, ladder.otherwise


def next_review(strategy: Strategy, rule: Rule, dpd: int, as_of: date) -> date:
    """The review date of a decision made on ``as_of`` by ``rule`` for a case at ``dpd`` days: the
    rule's ``reevaluate_after_days`` later, but never later than the day the DPD reaches the next
    threshold of the strategy (:meth:`Strategy.dpd_thresholds`; the oldest unpaid due date + that
    threshold). A payment that moves the oldest unpaid item re-decides the case, which works the
    date out again. The set-based side is :func:`arrears.engines.strategy.decide`."""
    review = as_of + timedelta(days=rule.reevaluate_after_days)
    nxt = next((t for t in strategy.dpd_thresholds() if t > dpd), None)
    return review if nxt is None else min(review, as_of + timedelta(days=nxt - dpd))


def evaluate(strategy: Strategy, f: CaseFacts, as_of: date) -> Decision:
    """Decide for one case on local date ``as_of`` (see the module docstring)."""
    segment, arm, rule = match(strategy, f)
    due = (
        f.forced or not f.rule_id or f.next_review_on is None or f.next_review_on <= as_of
        or (rule.immediate and rule.id != f.rule_id)
        or segment.name != f.segment or arm.name != f.arm or strategy.key != f.strategy_version
    )
    if not due:
        return Decision(f.case_id, f.segment, f.arm, f.rule_id, f.action, f.action_params, f.stage, f.stage_since,
                        f.next_review_on, False, False, f.strategy_version)
    stage = rule.stage or f.stage
    changed = stage != f.stage
    return Decision(
        case_id=f.case_id, segment=segment.name, arm=arm.name, rule_id=rule.id, action=rule.action.type,
        action_params=rule.action.params_json, stage=stage, stage_since=as_of if changed else f.stage_since,
        next_review_on=next_review(strategy, rule, f.dpd, as_of), decided=True, stage_changed=changed,
        strategy_version=strategy.key,
    )


def explain(strategy: Strategy, rule_id: str, f: CaseFacts | None = None) -> list[tuple[str, str | None]]:
    """``[(condition, fact value or None)]`` for the rule's conditions — the "why" the case page shows."""
    rule = strategy.rules().get(rule_id)
    if rule is None:
        return []
    return [(c.describe(), None if f is None else str(f.value(c.field))) for c in rule.conditions]


# --- building from validated data ------------------------------------------------------------------

def _resolve(v: Any, params: dict[str, Any], where: str, errors: list[str]) -> Any:
    if isinstance(v, str) and v.startswith("$"):
        if v[1:] not in params:
            errors.append(f"{where}: unknown parameter {v}")
            return None
        return params[v[1:]]
    return v


def _conditions(raw: Any, where: str, params: dict[str, Any], bucket_names: list[str], stage_names: set[str],
                errors: list[str]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for name, spec in (raw or {}).items():
        fs = FIELDS.get(name)
        at = f"{where}.{name}"
        if fs is None:
            errors.append(f"{at}: unknown condition field (known: {', '.join(FIELDS)})")
            continue
        if fs.kind == "bool":
            value = _resolve(spec, params, at, errors)
            if not isinstance(value, bool):
                errors.append(f"{at}: must be true or false")
                continue
            out.append(Condition(name, "is", value))
            continue
        if not isinstance(spec, dict) or not spec:
            errors.append(f"{at}: must be a mapping with min / max / in")
            continue
        spec = {k: _resolve(v, params, f"{at}.{k}", errors) for k, v in spec.items()}
        if name == "bucket" and ("min" in spec or "max" in spec):
            lo = bucket_names.index(spec["min"]) if spec.get("min") in bucket_names else 0
            hi = bucket_names.index(spec["max"]) if spec.get("max") in bucket_names else len(bucket_names) - 1
            for k in ("min", "max"):
                if k in spec and spec[k] not in bucket_names:
                    errors.append(f"{at}.{k}: unknown bucket {spec[k]!r} (ladder: {', '.join(bucket_names)})")
            allowed = set(bucket_names[lo:hi + 1])
            if "in" in spec:
                allowed &= set(spec["in"] or [])
            out.append(Condition(name, "in", frozenset(allowed)))
            continue
        if fs.kind == "set":
            values = spec.get("in")
            if set(spec) - {"in"} or not isinstance(values, list) or not values:
                errors.append(f"{at}: use `in: [..]` with at least one value")
                continue
            if name == "bucket":
                for b in values:
                    if b not in bucket_names:
                        errors.append(f"{at}: unknown bucket {b!r} (ladder: {', '.join(bucket_names)})")
            if name == "stage":
                for s in values:
                    if s not in stage_names and s != NO_STAGE:
                        errors.append(f"{at}: unknown stage {s!r}")
            out.append(Condition(name, "in", frozenset(str(v) for v in values)))
            continue
        extra = set(spec) - {"min", "max"}
        if extra:
            errors.append(f"{at}: unknown operator(s) {', '.join(sorted(extra))} (use min / max)")
        for op in ("min", "max"):
            if op not in spec or spec[op] is None:
                continue
            v = spec[op]
            try:
                value = Decimal(str(v)) if fs.dtype == "decimal" else v
                if fs.dtype == "int" and (not isinstance(v, int) or isinstance(v, bool)):
                    raise ValueError
            except (ArithmeticError, ValueError):
                errors.append(f"{at}.{op}: {v!r} is not a{' whole' if fs.dtype == 'int' else ''} number")
                continue
            out.append(Condition(name, op, value))
    return tuple(out)


def _reason(raw: dict, where: str, errors: list[str]) -> tuple[str, str]:
    reason = raw.get("reason") or {}
    zh, en = reason.get("zh-hans"), reason.get("en")
    if not zh or not en:
        errors.append(f"{where}.reason: needs both zh-hans and en")
    return zh or "?", en or "?"


def _rule(raw: dict, where: str, params: dict, buckets: list[str], stage_names: set[str], errors: list[str],
          neutral: bool = False) -> Rule:
    act = raw.get("action") or {}
    atype = act.get("type", "none")
    if atype not in ACTIONS:
        errors.append(f"{where}.action.type: unknown action {atype!r} (known: {', '.join(ACTIONS)})")
        atype = "none"
    aparams = {k: _resolve(v, params, f"{where}.action.{k}", errors) for k, v in act.items() if k != "type"}
    for need in ACTIONS[atype]:
        if need not in aparams:
            errors.append(f"{where}.action: {atype} needs `{need}`")
    # what the decision stores must read back as written (a `$parameter` escapes the schema's check)
    errors.extend(f"{where}.action: {p}" for p in action_params.problems(
        {k: v for k, v in aparams.items() if v is not None}))
    stage = raw.get("stage", ACTION_STAGE[atype])
    if stage is not None and stage not in stage_names:
        errors.append(f"{where}.stage: unknown stage {stage!r} (declared: {', '.join(sorted(stage_names))})")
    if neutral and ACTION_STAGE[atype] is not None and "stage" not in raw:
        stage = None
    zh, en = _reason(raw, where, errors)
    return Rule(
        id=str(raw.get("id") or where), conditions=_conditions(raw.get("when"), f"{where}.when", params, buckets,
                                                                stage_names, errors),
        action=Action(atype, tuple(sorted(aparams.items()))), stage=stage,
        reevaluate_after_days=int(raw.get("reevaluate_after_days", 1)), reason_zh=zh, reason_en=en,
        skip_allowed=bool(raw.get("skip_allowed", False)), ignore_min_stay=bool(raw.get("ignore_min_stay", False)),
        immediate=bool(raw.get("immediate", False)), neutral=neutral,
    )


def build_strategy(data: dict, bucket_names: list[str], source: str = "strategy",
                   bucket_starts: tuple[int, ...] = ()) -> Strategy:
    """A :class:`Strategy` from schema-valid data, checking what a schema cannot: parameter
    references, bucket and stage names, ladder references, unique rule ids, arm shares summing to
    100 %, a catch-all last segment. Raises :class:`RuleDataError` listing every problem."""
    errors: list[str] = []
    params = dict(data.get("parameters") or {})
    stages = tuple(
        Stage(s["name"], int(s["rank"]), int(s.get("min_stay_days", 0)), s.get("label_zh", s["name"]),
              s.get("label_en", s["name"]))
        for s in data.get("stages", [])
    )
    stage_names = {s.name for s in stages}
    if len(stage_names) != len(stages):
        errors.append("stages: stage names must be unique")
    if NO_STAGE in stage_names:
        errors.append(f"stages: {NO_STAGE!r} is the neutral state and cannot be declared")
    ladders: dict[str, Ladder] = {}
    seen: dict[str, str] = {}
    for lname, raw in (data.get("ladders") or {}).items():
        where = f"ladders.{lname}"
        rules = tuple(_rule(r, f"{where}.rules[{i}]", params, bucket_names, stage_names, errors)
                      for i, r in enumerate(raw.get("rules") or []))
        other_raw = dict(raw.get("otherwise") or {})
        other_raw.setdefault("id", f"{lname}.otherwise")
        otherwise = _rule(other_raw, f"{where}.otherwise", params, bucket_names, stage_names, errors, neutral=True)
        if otherwise.conditions:
            errors.append(f"{where}.otherwise: the neutral rule has no conditions")
        for r in (*rules, otherwise):
            if r.id in seen:
                errors.append(f"{where}: rule id {r.id!r} is already used in {seen[r.id]}")
            seen[r.id] = where
        ladders[lname] = Ladder(lname, rules, otherwise)
    segments: list[Segment] = []
    for i, raw in enumerate(data.get("segments") or []):
        where = f"segments[{i}]"
        conds = _conditions(raw.get("when"), f"{where}.when", params, bucket_names, stage_names, errors)
        arms = []
        for j, a in enumerate(raw.get("arms") or [{"name": "champion", "share": 100, "ladder": raw.get("ladder")}]):
            holdout = bool(a.get("holdout", False))
            ladder = a.get("ladder")
            if not holdout and ladder not in ladders:
                errors.append(f"{where}.arms[{j}].ladder: unknown ladder {ladder!r}")
            share_bp = int((Decimal(str(a.get("share", 0))) * 100).to_integral_value())
            arms.append(Arm(str(a.get("name")), share_bp, None if holdout else ladder, holdout))
        if sum(a.share_bp for a in arms) != 10000:
            errors.append(f"{where}.arms: shares add up to {Decimal(sum(a.share_bp for a in arms)) / 100} %, not 100 %")
        if len({a.name for a in arms}) != len(arms):
            errors.append(f"{where}.arms: arm names must be unique")
        segments.append(Segment(str(raw.get("name")), conds, tuple(arms)))
    if not segments:
        errors.append("segments: at least one segment is needed")
    elif segments[-1].conditions:
        errors.append(f"segments[{len(segments) - 1}]: the last segment must have no conditions (it catches every case)")
    if len({s.name for s in segments}) != len(segments):
        errors.append("segments: segment names must be unique")
    if errors:
        raise RuleDataError(source, errors)
    return Strategy(
        name=str(data["name"]), version=str(data["version"]), salt=str(data.get("salt", data["name"])),
        stages=stages, ladders=ladders, segments=tuple(segments), parameters=params,
        label_zh=(data.get("label") or {}).get("zh-hans", ""), label_en=(data.get("label") or {}).get("en", ""),
        bucket_starts=tuple(bucket_starts),
    )


def with_forced(f: CaseFacts) -> CaseFacts:
    """The same facts marked as an event-triggered re-evaluation."""
    return replace(f, forced=True)

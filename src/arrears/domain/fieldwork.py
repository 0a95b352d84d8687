"""Field visits (外访): the pure rules — status map, crew size, visit window, check-in distance,
visit report validation and the safety clock.

Nothing here reads the clock, the database or a file: callers pass ``now`` and the facts.

Rules and where they come from (rule texts: ``tests/fixtures/compliance_RULES.md``):

* visits only inside the allowed hours — CN-HOURS-01 (《商业银行信用卡业务监督管理办法》/ CBA 2021:
  no collection 22:00–08:00, field visits included); the gate decides, :func:`visit_window` only
  intersects what it allows with the crew's shift;
* two staff per visit, ID shown, body-worn audio/video — CN-FIELD-02 (bank policy parameters
  ``field_visit_min_staff``, ``require_id_badge``, ``require_av_recording``); risk flags from
  earlier reports force two staff whatever the policy says (:func:`required_staff`);
* record the whole visit — CN-REC-01 (2011 Measures Art. 68);
* no entering a home, other private place or the debtor's office area without consent —
  CN-PROHIBIT-08 (CBA 2026 指引; 《民法典》第一千零三十三条) (:func:`validate_report`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
import datetime as _dt
from datetime import date, datetime, timedelta
from decimal import Decimal

from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.machine import IllegalTransition, TransitionMap

__all__ = [
    "STATUSES", "TRANSITIONS", "OPEN_STATUSES", "FINAL_STATUSES", "IllegalVisitTransition", "check_transition",
    "MET", "OUTCOMES", "RISK_FLAGS", "required_staff", "visit_window", "haversine_m", "CheckInVerdict",
    "check_in_verdict", "ReportError", "ReportInput", "validate_report", "SafetyPolicy", "SafetyStep",
    "safety_step", "ALERT_TRANSITIONS", "check_alert_transition",
]

# ---- the visit's status ---------------------------------------------------------------------------
#: requested  — asked for by the strategy or an agent, waiting for a team leader;
#: approved   — the team leader approved it for a field team and a day, no crew yet;
#: planned    — a crew (agent, and partner for two-person visits) and a place in the route;
#: in_progress — checked in at the address; done — checked out with a report;
#: rejected   — the team leader refused the request; cancelled — called off before it was done.
STATUSES = ("requested", "approved", "planned", "in_progress", "done", "rejected", "cancelled")
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "planned", "rejected", "cancelled"}),
    "approved": frozenset({"planned", "cancelled"}),
    "planned": frozenset({"approved", "planned", "in_progress", "cancelled"}),
    "in_progress": frozenset({"done"}),
    "done": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}
OPEN_STATUSES = ("requested", "approved", "planned", "in_progress")
FINAL_STATUSES = ("done", "rejected", "cancelled")


class IllegalVisitTransition(IllegalTransition):
    """A move the field visit's status map does not allow (``frm`` → ``to``)."""

    def __init__(self, machine: str, frm: str, to: str) -> None:
        self.frm, self.to = frm, to
        super().__init__(machine, frm, to, f"a field visit cannot move from {frm!r} to {to!r}")


#: The visit map as the one transition helper checks it (:mod:`arrears.core.machine`).
VISIT_MACHINE = TransitionMap("field visit", TRANSITIONS, error=IllegalVisitTransition)


def check_transition(frm: str, to: str) -> None:
    """Raise :class:`IllegalVisitTransition` unless ``frm → to`` is in :data:`TRANSITIONS`."""
    if not VISIT_MACHINE.can(frm, to):
        raise IllegalVisitTransition(VISIT_MACHINE.name, frm, to)


# ---- safety alerts ---------------------------------------------------------------------------------
#: open → acknowledged (a team leader saw it and acts) → resolved; open → resolved directly.
ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "resolved"}),
    "acknowledged": frozenset({"resolved"}),
    "resolved": frozenset(),
}


ALERT_MACHINE = TransitionMap("safety alert", ALERT_TRANSITIONS)


def check_alert_transition(frm: str, to: str) -> None:
    """Raise :class:`~arrears.core.machine.IllegalTransition` unless ``frm → to`` is in
    :data:`ALERT_TRANSITIONS`."""
    ALERT_MACHINE.check(frm, to)


# ---- report vocabulary -------------------------------------------------------------------------------
#: whom the visit met (FieldVisit.outcome — the strategy reads these)
MET = ("met_debtor", "met_family", "nobody", "moved")
#: what came of it
OUTCOMES = ("promise", "plan_request", "refused", "dispute", "hardship", "no_result")
#: dangers recorded on a report; any of them forces a two-person crew on later visits
RISK_FLAGS = ("aggression", "dog", "weapon", "threats", "unsafe_building", "other")


def required_staff(policy_min: int, risk_flags: tuple[str, ...] | list[str], address_flagged: bool = False) -> tuple[int, list[str]]:
    """Staff a visit needs and why: the policy minimum (CN-FIELD-02 ``field_visit_min_staff``), at
    least two when the address is flagged or an earlier report recorded a risk. Returns
    ``(count, reasons)`` with reason codes ``policy``, ``address_flagged``, ``risk:<flag>``."""
    need, why = max(1, int(policy_min)), []
    if need >= 2:
        why.append("policy")
    if address_flagged:
        need = max(need, 2)
        why.append("address_flagged")
    for f in risk_flags:
        need = max(need, 2)
        why.append(f"risk:{f}")
    return need, why


def visit_window(allowed_from: _dt.time, allowed_until: _dt.time, shift_start: _dt.time, shift_end: _dt.time,
                 service_minutes: int) -> tuple[int, int] | None:
    """The local time window in which a visit may *start*, as minutes after midnight: inside the
    allowed hours (the gate's CN-HOURS-01 window) and the shift, leaving ``service_minutes`` before
    either ends. ``None`` when nothing is left."""
    def mins(t: _dt.time) -> int:
        return t.hour * 60 + t.minute

    start = max(mins(allowed_from), mins(shift_start))
    latest = min(mins(allowed_until), mins(shift_end)) - service_minutes
    if latest < start:
        return None
    return start, latest


# ---- check-in ------------------------------------------------------------------------------------------
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (WGS84 degrees in, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class CheckInVerdict:
    """``ok``: the check-in may be recorded. ``distance_m``: from the address (``None`` when the
    address or the device gave no position). ``needs_reason``: farther than the radius (or no
    position) and no reason given. ``problems``: codes of what blocks it."""

    ok: bool
    distance_m: float | None
    needs_reason: bool
    problems: tuple[str, ...] = ()


def check_in_verdict(*, address: tuple[float, float] | None, device: tuple[float, float] | None,
                     radius_m: float, reason: str, accuracy_m: float | None = None) -> CheckInVerdict:
    """May a check-in be recorded? A device position farther than ``radius_m`` from the address
    (or no position at all) needs a written ``reason``. The device's reported accuracy is allowed
    for: a fix of ±80 m at 250 m counts as 170 m."""
    dist = None
    if address is not None and device is not None:
        dist = haversine_m(address[0], address[1], device[0], device[1])
    effective = None if dist is None else max(0.0, dist - max(0.0, accuracy_m or 0.0))
    far = effective is None or effective > radius_m
    needs = far and not reason.strip()
    return CheckInVerdict(ok=not needs, distance_m=None if dist is None else round(dist, 1), needs_reason=needs,
                          problems=("reason_required",) if needs else ())


# ---- the visit report ------------------------------------------------------------------------------------
class ReportError(ArrearsError, ValueError):
    """Every problem of a visit report at once: ``errors`` maps a field to its messages (en);
    ``field`` is the first of them."""

    code = ErrorCode.REPORT_INVALID

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' / '.join(v)}" for k, v in errors.items()),
                         field=next(iter(errors), None), details={"errors": errors})


@dataclass(frozen=True)
class ReportInput:
    met: str
    outcome: str
    promise_amount: Decimal | None = None
    promise_date: date | None = None
    plan_months: int | None = None
    entered_premises: bool = False
    premises_consent: bool = False
    consent_by: str = ""
    recording_ref: str = ""
    risk_flags: tuple[str, ...] = ()
    notes: str = ""


def validate_report(r: ReportInput, *, visit_day: date, require_recording: bool) -> None:
    """Check a visit report; raise :class:`ReportError` listing every problem.

    * ``met`` ∈ :data:`MET`, ``outcome`` ∈ :data:`OUTCOMES`; a promise needs an amount > 0 (two
      decimals) and a date on or after the visit day; a plan request a term of 1–60 months
      (CN-PLAN-01: at most 5 years);
    * a promise or plan request needs someone met (the debtor or family), not ``nobody``/``moved``;
    * entering private premises needs the recorded consent and who gave it (CN-PROHIBIT-08);
    * the recording reference is required when the rule pack requires recording (CN-REC-01,
      CN-FIELD-02 ``require_av_recording``);
    * risk flags ∈ :data:`RISK_FLAGS`."""
    e: dict[str, list[str]] = {}

    def err(k: str, msg: str) -> None:
        e.setdefault(k, []).append(msg)

    if r.met not in MET:
        err("met", f"unknown value {r.met!r} (one of {', '.join(MET)})")
    if r.outcome not in OUTCOMES:
        err("outcome", f"unknown value {r.outcome!r} (one of {', '.join(OUTCOMES)})")
    if r.outcome in ("promise", "plan_request") and r.met in ("nobody", "moved"):
        err("outcome", "a promise or plan request needs a person met")
    if r.outcome == "promise":
        if r.promise_amount is None or r.promise_amount <= 0:
            err("promise_amount", "a promise needs an amount above zero")
        elif r.promise_amount != r.promise_amount.quantize(Decimal("0.01")):
            err("promise_amount", "at most two decimals")
        if r.promise_date is None:
            err("promise_date", "a promise needs a date")
        elif r.promise_date < visit_day:
            err("promise_date", "the promised date lies before the visit")
    if r.outcome == "plan_request" and not (r.plan_months and 1 <= r.plan_months <= 60):
        err("plan_months", "a plan request needs a term of 1 to 60 months (CN-PLAN-01)")
    if r.entered_premises and not (r.premises_consent and r.consent_by.strip()):
        err("premises_consent", "entering private premises needs the recorded consent and who gave it (CN-PROHIBIT-08)")
    if require_recording and not r.recording_ref.strip():
        err("recording_ref", "the visit must be recorded: give the recording reference (CN-REC-01, CN-FIELD-02)")
    bad = [f for f in r.risk_flags if f not in RISK_FLAGS]
    if bad:
        err("risk_flags", f"unknown flags {', '.join(bad)}")
    if e:
        raise ReportError(e)


# ---- the safety clock ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SafetyPolicy:
    """Minutes: ``grace`` after the expected end before the first alert; ``escalate_after`` more
    minutes before it escalates (to the department's duty manager)."""

    grace: int = 15
    escalate_after: int = 30


@dataclass(frozen=True)
class SafetyStep:
    """What the scan must do for one visit: ``raise_overdue`` / ``escalate``; ``due_at`` when the
    next step would fall due."""

    raise_overdue: bool = False
    escalate: bool = False
    due_at: datetime | None = None
    details: dict = field(default_factory=dict)


def safety_step(*, checked_in_at: datetime, expected_minutes: int, now: datetime, policy: SafetyPolicy,
                has_overdue_alert: bool, escalated: bool, checked_out: bool) -> SafetyStep:
    """Overdue check-out: expected end = check-in + ``expected_minutes``; at end + grace an alert
    is raised; at end + grace + escalate_after it escalates. Checked-out visits need nothing."""
    if checked_out:
        return SafetyStep()
    expected_end = checked_in_at + timedelta(minutes=expected_minutes)
    alert_at = expected_end + timedelta(minutes=policy.grace)
    escalate_at = alert_at + timedelta(minutes=policy.escalate_after)
    details = {"expected_end": expected_end.isoformat(), "alert_at": alert_at.isoformat(),
               "escalate_at": escalate_at.isoformat()}
    if now < alert_at:
        return SafetyStep(due_at=alert_at, details=details)
    raise_it = not has_overdue_alert
    esc = now >= escalate_at and not escalated
    return SafetyStep(raise_overdue=raise_it, escalate=esc, due_at=None if escalated or esc else escalate_at,
                      details=details)

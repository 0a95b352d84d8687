"""Field visits (外访): the writes. Views and commands call these; nothing else writes the models.

Flow: **request** (the strategy's daily ``field_visit`` decisions via
:func:`request_visits_from_decisions`, or an agent via :func:`request_visit`) → **approval** by the
leader of the field team (:func:`approve`, or :func:`reject`) → **crew** (:func:`assign_crew`, or
:func:`plan_routes` which solves each team's day as a VRP and assigns crews in route order) →
**check-in** at the address (:func:`check_in`: the compliance gate at that moment, the CN-FIELD-02 /
CN-REC-01 plan check, the distance from the address) → **report** (:func:`submit_report`, photos
with :func:`add_photo`) → **check-out** (:func:`check_out`: the contact ledger entry, then the
strategy re-decides the case with trigger ``visit_reported``).

Safety: :func:`scan_safety` (run by the worker every minute: ``arrears field_safety --loop 60``, or
the ``scan_safety_task`` django-task) raises an overdue alert when a crew has not checked out by
check-in + expected minutes + grace, and escalates it after further minutes; :func:`sos` raises an
alert at once with the device's position.

Errors: :class:`VisitError` (``code`` + message; nothing is written) and
:class:`~arrears.contexts.contact.compliance.services.ContactRefused` when the gate says no.
Every status change goes through :func:`transition` (map in :mod:`arrears.domain.fieldwork`) and
writes a ``field_visit`` timeline event; security-relevant steps write audit events.

Teams, their members and leaders come from the org facade (:class:`~arrears.contexts.org.facade.TeamFacts`;
a visit's own team row read through its relation answers to the same attributes), the debtor's
addresses and district from the portfolio facade, the day's decisions from the casework facade.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from arrears.contexts.casework import facade as casework
from arrears.contexts.casework.facade import EventRow, record_case_event, record_case_events
from arrears.contexts.contact.compliance import services as gate
from arrears.contexts.org import facade as org
from arrears.contexts.org.facade import user_roles
from arrears.contexts.portfolio import facade as portfolio
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain import action_params
from arrears.domain import fieldwork as rules
from arrears.domain.compliance.artifacts import check_field_visit_plan
from arrears.domain.routing import Crew, Stop, TeamDay, hhmm, minutes

from .models import FieldCredential, FieldTeamSettings, FieldVisit, RiskFlag, RoutePlan, SafetyAlert, VisitPhoto, VisitReport

log = logging.getLogger(__name__)

__all__ = ["VisitError", "transition", "request_visit", "request_visits_from_decisions", "approve", "reject",
           "assign_crew", "cancel", "plan_routes", "check_in", "add_photo", "submit_report", "check_out", "sos",
           "scan_safety", "handle_alert", "policy_min_staff", "require_recording", "checkin_radius_m",
           "safety_policy", "EVENT_KINDS"]

#: timeline event kinds this app writes (registered in apps.py)
EVENT_KINDS = ("field_visit", "field_visit_report", "field_safety_alert")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
PHOTO_MAX_BYTES = 8 * 1024 * 1024
ADDRESS_KINDS = ("home_address", "work_address")


class VisitError(ArrearsError, ValueError):
    """A refused visit operation: ``code`` (machine-readable) and a message; nothing was written."""

    def __init__(self, code: str, message: str, details: dict | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field, details=details)


# ---- settings and rule-pack parameters -------------------------------------------------------------
def _setting(name: str, default):
    return getattr(settings, name, default)


def checkin_radius_m() -> float:
    """Metres from the address beyond which a check-in needs a reason (``ARREARS_FIELD_CHECKIN_RADIUS_M``)."""
    return float(_setting("ARREARS_FIELD_CHECKIN_RADIUS_M", 200))


def safety_policy() -> rules.SafetyPolicy:
    """``ARREARS_FIELD_GRACE_MINUTES`` (15) and ``ARREARS_FIELD_ESCALATE_MINUTES`` (30)."""
    return rules.SafetyPolicy(grace=int(_setting("ARREARS_FIELD_GRACE_MINUTES", 15)),
                              escalate_after=int(_setting("ARREARS_FIELD_ESCALATE_MINUTES", 30)))


def policy_min_staff(pack=None) -> int:
    """CN-FIELD-02 ``field_visit_min_staff`` of the pack in force (bank policy; 2 by default)."""
    pack = pack or gate.default_pack()
    return int(pack.p("CN-FIELD-02", "field_visit_min_staff", 1)) if pack.has("CN-FIELD-02") else 1


def require_recording(pack=None) -> bool:
    """Must a visit be recorded? CN-REC-01 (``field_visit`` among ``recorded_channels``) or
    CN-FIELD-02 ``require_av_recording``."""
    pack = pack or gate.default_pack()
    rec = pack.has("CN-REC-01") and "field_visit" in (pack.p("CN-REC-01", "recorded_channels", []) or [])
    av = pack.has("CN-FIELD-02") and bool(pack.p("CN-FIELD-02", "require_av_recording", False))
    return rec or av


# ---- the one status function ---------------------------------------------------------------------------
def transition(visit: FieldVisit, to: str, *, actor=None, at: datetime | None = None, reason: str = "",
               data: dict | None = None, fields: tuple[str, ...] = (), audit_data: dict | None = None) -> FieldVisit:
    """Move ``visit`` to ``to`` (raises :class:`~arrears.domain.fieldwork.IllegalVisitTransition`),
    saving ``fields`` changed by the caller with it, and write the ``field_visit`` timeline event
    (with its audit event when the move is audited: ``audit_data``, about the visit)."""
    rules.check_transition(visit.status, to)
    frm = visit.status
    visit.status = to
    visit.save(update_fields=["status", "updated_at", *fields])
    at = at or timezone.now()
    record_case_event(visit.case_id, "field_visit", {"visit": visit.pk, "from": frm, "to": to, **(data or {})},
                      as_of=at.date(), actor=actor, reason=reason, at=at, audit_obj=visit, audit_data=audit_data)
    return visit


def _event(visit: FieldVisit, kind: str, at: datetime, actor=None, data: dict | None = None, reason: str = "",
           audit_obj=None, audit_data: dict | None = None) -> None:
    record_case_event(visit.case_id, kind, {"visit": visit.pk, **(data or {})}, as_of=at.date(), actor=actor,
                      reason=reason, at=at, audit_obj=audit_obj, audit_data=audit_data)


# ---- helpers -------------------------------------------------------------------------------------------------
def _roles(user) -> set[str]:
    return {r.code for r in user_roles(user)} | ({"administrator"} if getattr(user, "is_superuser", False) else set())


def _address_id(case) -> int | None:
    """The debtor's home address (the first), else their first address of any kind."""
    points = [(kind, pk) for _, kind, pk in portfolio.debtor_address_points([case.customer_id])]
    return next((pk for kind, pk in points if kind == "home_address"), None) or next((pk for _, pk in points), None)


def _field_team_for(case) -> org.TeamFacts | None:
    """The case's own team when it is a working field team, else the field team covering the
    debtor's district, else a field team covering any district."""
    teams = org.field_teams(active_only=True)
    own = next((t for t in teams if t.id == case.team_id), None) if case.team_id else None
    if own is not None:
        return own
    district = case.customer.district
    for t in teams:
        if district and district in (t.districts or []):
            return t
    return next((t for t in teams if not t.districts), None)


def _risk_kinds(case_id: int) -> list[str]:
    return sorted(RiskFlag.objects.filter(case_id=case_id, active=True).values_list("kind", flat=True))


def _leads(user, team) -> bool:
    """Does ``user`` lead ``team`` (a team row or :class:`~arrears.contexts.org.facade.TeamFacts`;
    ``None``: no team)? An administrator leads every team."""
    roles = _roles(user)
    if "administrator" in roles:
        return True
    return team is not None and "team_leader" in roles and team.leader_id == user.pk


def _local(case) -> ZoneInfo:
    return ZoneInfo(case.customer.timezone)


def _shift(team_id: int | None) -> tuple[time, time]:
    s = FieldTeamSettings.objects.filter(team_id=team_id).first() if team_id else None
    return (s.shift_start, s.shift_end) if s else (time(9), time(18))


def _window(visit: FieldVisit, day: date, actor=None) -> tuple[time, time]:
    """The start window on ``day``: the hours the compliance gate allows for ``field_visit``
    (CN-HOURS-01) intersected with the team's shift. The gate is asked at the shift's start; a
    deny with ``next_allowed_at`` later that day moves the start; any other deny refuses."""
    case = visit.case
    shift_start, shift_end = _shift(visit.team_id)
    tz = _local(case)
    at = datetime.combine(day, shift_start, tzinfo=tz)
    decision = gate.check_contact(case=case, channel="field_visit", at=at, actor=actor)
    start = shift_start
    if not decision.allowed:
        nxt = decision.next_allowed_at
        if nxt is None or nxt.astimezone(tz).date() != day:
            raise gate.ContactRefused(decision)
        start = nxt.astimezone(tz).time()
    pack = gate.default_pack()
    frm = pack.p("CN-HOURS-01", "allowed_from", "08:00") if pack.has("CN-HOURS-01") else "00:00"
    until = pack.p("CN-HOURS-01", "allowed_until", "22:00") if pack.has("CN-HOURS-01") else "23:59"
    w = rules.visit_window(max(time.fromisoformat(str(frm)), start), time.fromisoformat(str(until)),
                           shift_start, shift_end, visit.expected_minutes)
    if w is None:
        raise VisitError("window_closed", "no time is left for this visit inside the allowed hours and the shift")
    return time(w[0] // 60, w[0] % 60), time(w[1] // 60, w[1] % 60)


# ---- requests ---------------------------------------------------------------------------------------------------
@transaction.atomic
def request_visit(case, *, actor, day: date, reason: str, priority: int = 0,
                  source: str = FieldVisit.Source.AGENT) -> FieldVisit:
    """An agent (or the strategy) asks for a visit to ``case`` on ``day``. Refused when the case is
    closed, the reason is empty, the day is in the past, or an open visit exists already."""
    if case.is_closed:
        raise VisitError("case_closed", "the case is closed")
    if not reason.strip():
        raise VisitError("reason_required", "give a reason for the visit")
    if day < timezone.localdate():
        raise VisitError("day_past", "the visit day lies in the past")
    need, why = rules.required_staff(policy_min_staff(), _risk_kinds(case.pk))
    team = _field_team_for(case)
    visit = FieldVisit(case=case, scheduled_on=day, status=FieldVisit.Status.REQUESTED, source=source,
                       priority=priority, requested_by=actor, request_reason=reason.strip()[:255],
                       team_id=team.id if team else None, contact_id=_address_id(case), staff_required=need,
                       staff_reasons=why)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        raise VisitError("open_visit_exists", "the case already has an open field visit") from None
    _event(visit, "field_visit", timezone.now(), actor, {"from": "", "to": "requested", "source": source,
                                                       "day": day.isoformat()})
    return visit


def request_visits_from_decisions(as_of: date) -> dict:
    """Visit requests for the open cases whose decision of ``as_of`` is ``field_visit`` (set-based;
    idempotent: a case with an open visit gets no second one). The visit day is the next day; the
    priority comes from ``action_params`` (``{"priority": n}``); the team is the case's field team
    (from the allocation) or the field team covering the customer's district. Returns
    ``{"decisions": n, "requested": n, "already_open": n}``."""
    decisions = casework.decided_cases("field_visit", as_of)
    if not decisions:
        return {"decisions": 0, "requested": 0, "already_open": 0}
    teams = [(t.id, t.districts) for t in org.field_teams(active_only=True)]
    field_team_ids = {t.id for t in org.field_teams(active_only=False)}
    places = portfolio.customer_places({d.customer_id for d in decisions})
    decided = [(d.id, d.customer_id, d.action_params, d.team_id,
                org.FIELD_DEPARTMENT if d.team_id in field_team_ids else None,
                places[d.customer_id].district if d.customer_id in places else None) for d in decisions]
    ids = [r[0] for r in decided]
    open_ids = set()
    for chunk in range(0, len(ids), 5000):
        open_ids |= set(FieldVisit.objects.filter(case_id__in=ids[chunk:chunk + 5000],
                                                  status__in=rules.OPEN_STATUSES).values_list("case_id", flat=True))
    todo = [r for r in decided if r[0] not in open_ids]
    need_min = policy_min_staff()
    risky: dict[int, list[str]] = {}
    addresses: dict[int, int] = {}
    for chunk in range(0, len(todo), 5000):
        part = todo[chunk:chunk + 5000]
        for cid, kind in RiskFlag.objects.filter(case_id__in=[r[0] for r in part], active=True).values_list("case_id", "kind"):
            risky.setdefault(cid, []).append(kind)
        # per customer the first of ("-kind", id): work_address before home_address (stable sort)
        points = sorted(portfolio.debtor_address_points([r[1] for r in part]), key=lambda p: p[1], reverse=True)
        for cust, kind, pk in points:
            addresses.setdefault(cust, pk)
    day = as_of + timedelta(days=1)
    rows = []
    for cid, cust, params, team_id, dept, district in todo:
        if dept != org.FIELD_DEPARTMENT:
            team_id = next((t for t, ds in teams if district and district in (ds or [])), None) or \
                next((t for t, ds in teams if not ds), None)
        need, why = rules.required_staff(need_min, risky.get(cid, []))
        rows.append(FieldVisit(case_id=cid, scheduled_on=day, status=FieldVisit.Status.REQUESTED,
                               source=FieldVisit.Source.STRATEGY, priority=action_params.parse(params).priority,
                               request_reason=f"strategy:{as_of.isoformat()}", team_id=team_id,
                               contact_id=addresses.get(cust), staff_required=need, staff_reasons=why))
    with transaction.atomic():
        FieldVisit.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        created = list(FieldVisit.objects.filter(case_id__in=[r.case_id for r in rows], source="strategy",
                                                 request_reason=f"strategy:{as_of.isoformat()}",
                                                 status=FieldVisit.Status.REQUESTED).values_list("id", "case_id"))
        record_case_events(EventRow(cid, "field_visit", as_of, data={"visit": vid, "from": "", "to": "requested",
                                                                "source": "strategy", "day": day.isoformat()})
                      for vid, cid in created)
    return {"decisions": len(decided), "requested": len(created), "already_open": len(open_ids)}


# ---- approval and crews -----------------------------------------------------------------------------------------
def _field_members(team_id: int, day: date) -> list[int]:
    """The user ids of ``team_id``'s active members with the field_agent role who are not absent
    on ``day``, ascending."""
    return org.team_members(team_id, role="field_agent", active_only=True, present_on=day)


def _check_crew(visit: FieldVisit, agent, partner, day: date) -> None:
    members = set(_field_members(visit.team_id, day)) if visit.team_id else set()
    for who, u in (("agent", agent), ("partner", partner)):
        if u is not None and u.pk not in members:
            raise VisitError("not_in_team", f"the {who} is not an available field agent of the visit's team")
    if partner is not None and agent is not None and partner.pk == agent.pk:
        raise VisitError("same_person", "agent and partner must be two different people")
    if visit.staff_required >= 2 and partner is None:
        raise VisitError("two_person_required", "this visit needs two staff (policy or risk flags): add a partner",
                         {"reasons": visit.staff_reasons})


@transaction.atomic
def approve(visit: FieldVisit, *, actor, team=None, day: date | None = None, agent=None,
            partner=None, note: str = "") -> FieldVisit:
    """The team leader approves a requested visit for ``team`` (a team row or
    :class:`~arrears.contexts.org.facade.TeamFacts`; default: the requested one) on ``day``; the
    visit window comes from the gate. With ``agent`` (and ``partner``) the crew is assigned at once
    (→ planned), else it waits for :func:`plan_routes` (→ approved)."""
    visit = FieldVisit.objects.select_for_update(of=("self",)).select_related("case__customer", "team").get(pk=visit.pk)
    team = team or visit.team
    if team is None or team.department != org.FIELD_DEPARTMENT:
        raise VisitError("no_field_team", "choose a field team for the visit")
    if not (_leads(actor, team) or _leads(actor, visit.team)):
        raise VisitError("not_leader", "only the leader of the field team may approve its visits")
    rules.check_transition(visit.status, "approved")
    day = day or visit.scheduled_on
    if day < timezone.localdate():
        raise VisitError("day_past", "the visit day lies in the past")
    visit.team_id, visit.scheduled_on = team.id, day
    need, why = rules.required_staff(policy_min_staff(), _risk_kinds(visit.case_id))
    visit.staff_required, visit.staff_reasons = need, why
    visit.window_start, visit.window_end = _window(visit, day, actor)
    if agent is not None:
        _check_crew(visit, agent, partner, day)
    visit.decided_by, visit.decided_at, visit.decision_note = actor, timezone.now(), note[:255]
    fields = ("team", "scheduled_on", "staff_required", "staff_reasons", "window_start", "window_end",
              "decided_by", "decided_at", "decision_note")
    transition(visit, "approved", actor=actor, data={"team": team.id, "day": day.isoformat(),
                                                     "window": [str(visit.window_start), str(visit.window_end)]},
               fields=fields, audit_data={"case": visit.case_id, "team": team.id})  # + fieldwork.visit_approved
    if agent is not None:
        return assign_crew(visit, agent=agent, partner=partner, actor=actor)
    return visit


@transaction.atomic
def reject(visit: FieldVisit, *, actor, note: str) -> FieldVisit:
    """The team leader refuses a request (a reason is required)."""
    visit = FieldVisit.objects.select_for_update(of=("self",)).select_related("team").get(pk=visit.pk)
    if not _leads(actor, visit.team):
        raise VisitError("not_leader", "only the leader of the field team may decide on its visits")
    if not note.strip():
        raise VisitError("reason_required", "give a reason for the rejection")
    visit.decided_by, visit.decided_at, visit.decision_note = actor, timezone.now(), note.strip()[:255]
    return transition(visit, "rejected", actor=actor, reason=note.strip()[:255],
                      fields=("decided_by", "decided_at", "decision_note"))


@transaction.atomic
def assign_crew(visit: FieldVisit, *, agent, partner=None, actor) -> FieldVisit:
    """Give an approved (or re-plan a planned) visit to a crew of the visit's team; two people when
    ``staff_required`` ≥ 2 (policy, flagged address or risk flags)."""
    visit = FieldVisit.objects.select_for_update(of=("self",)).select_related("team").get(pk=visit.pk)
    if not _leads(actor, visit.team):
        raise VisitError("not_leader", "only the leader of the field team may assign its visits")
    _check_crew(visit, agent, partner, visit.scheduled_on)
    visit.agent, visit.partner, visit.unplanned_reason = agent, partner, ""
    transition(visit, "planned", actor=actor, data={"agent": agent.pk, "partner": getattr(partner, "pk", None)},
               fields=("agent", "partner", "unplanned_reason"),  # + fieldwork.crew_assigned
               audit_data={"agent": agent.pk, "partner": getattr(partner, "pk", None)})
    return visit


@transaction.atomic
def cancel(visit: FieldVisit, *, actor, reason: str) -> FieldVisit:
    """Call off a visit not yet started (the requester, the team leader or an administrator)."""
    visit = FieldVisit.objects.select_for_update(of=("self",)).select_related("team").get(pk=visit.pk)
    if not (_leads(actor, visit.team) or (visit.requested_by_id == actor.pk and visit.status == "requested")):
        raise VisitError("not_allowed", "only the team leader (or the requester, before approval) may cancel")
    if not reason.strip():
        raise VisitError("reason_required", "give a reason for the cancellation")
    visit.cancel_reason = reason.strip()[:255]
    return transition(visit, "cancelled", actor=actor, reason=visit.cancel_reason, fields=("cancel_reason",))


# ---- routes ------------------------------------------------------------------------------------------------------
def _team_day(team, day: date, visits: list[FieldVisit]) -> TeamDay:
    from arrears.adapters.geo import district_centroid

    s = FieldTeamSettings.objects.filter(team=team).first()
    if s is not None:
        base = (s.base_lat, s.base_lon)
    else:
        base = next((c for c in (district_centroid(d) for d in (team.districts or [])) if c), None) or \
            district_centroid("福田区")
    shift_start, shift_end = _shift(team.id)
    members = _field_members(team.id, day)
    size = max([v.staff_required for v in visits] + [1])
    crews = tuple(Crew(key="+".join(str(u) for u in members[i:i + size]),
                       members=tuple(members[i:i + size]),
                       shift_start=minutes(shift_start.hour, shift_start.minute),
                       shift_end=minutes(shift_end.hour, shift_end.minute))
                  for i in range(0, len(members) - size + 1, size))
    stops = []
    for v in visits:
        c = v.contact
        lat, lon = (c.latitude, c.longitude) if c is not None else (None, None)
        ws, we = v.window_start or shift_start, v.window_end or shift_end
        stops.append(Stop(visit_id=v.pk, lat=lat, lon=lon, tw_early=minutes(ws.hour, ws.minute),
                          tw_late=minutes(we.hour, we.minute), service=v.expected_minutes, priority=v.priority,
                          staff=v.staff_required, district=c.district if c else ""))
    return TeamDay(team_id=team.pk, base_lat=base[0], base_lon=base[1], crews=crews, stops=tuple(stops))


def plan_routes(day: date, *, seconds: float = 20.0, team_ids: list[int] | None = None, actor=None,
                write: bool = True) -> dict:
    """Route every field team's approved and planned visits of ``day`` (PyVRP, see
    :mod:`arrears.adapters.routing`) within ``seconds`` in all. Writes one :class:`RoutePlan`
    per crew, gives each routed visit its crew, order and planned start (→ planned) and each
    visit left out its reason (→ approved, crew cleared). Returns the JSON summary ``plan_routes``
    prints: ``{"date", "teams": [{"team", "name", "crews": [{"members", "stops": [...],
    "travel_minutes"}], "unassigned": [{"visit", "reason"}]}], "visits", "routed",
    "unassigned", "total_travel_minutes", "solve_seconds"}``."""
    from arrears.adapters.routing import solve_days

    qs = FieldVisit.objects.filter(scheduled_on=day, status__in=("approved", "planned"), team__isnull=False) \
        .select_related("contact", "team").order_by("team_id", "id")
    if team_ids:
        qs = qs.filter(team_id__in=team_ids)
    by_team: dict[int, list[FieldVisit]] = {}
    teams: dict[int, object] = {}  # the visits' team rows
    for v in qs:
        by_team.setdefault(v.team_id, []).append(v)
        teams[v.team_id] = v.team
    days = [_team_day(teams[t], day, vs) for t, vs in by_team.items()]
    plans = solve_days(days, budget_seconds=seconds)
    now = timezone.now()
    out = {"date": day.isoformat(), "teams": [], "visits": sum(len(v) for v in by_team.values()), "routed": 0,
           "unassigned": 0, "total_travel_minutes": 0, "solve_seconds": round(sum(p.solve_seconds for p in plans), 3)}
    visits = {v.pk: v for vs in by_team.values() for v in vs}
    with transaction.atomic():
        for plan in plans:
            team = teams[plan.team_id]
            entry = {"team": team.pk, "name": team.name, "crews": [], "unassigned": [],
                     "travel_minutes": plan.travel_minutes, "cost": plan.cost, "solve_seconds": plan.solve_seconds}
            if write:
                RoutePlan.objects.filter(team=team, day=day).delete()
            for route in plan.routes:
                stops = [{"visit": s.visit_id, "order": s.order, "start": hhmm(s.start), "travel": s.travel_from_previous}
                         for s in route.stops]
                entry["crews"].append({"members": list(route.crew.members), "stops": stops,
                                       "travel_minutes": route.travel_minutes,
                                       "start": hhmm(route.start), "end": hhmm(route.end)})
                if not write:
                    continue
                RoutePlan.objects.create(team=team, day=day, crew_key=route.crew.key, members=list(route.crew.members),
                                         stops=stops, travel_minutes=route.travel_minutes, start=hhmm(route.start),
                                         end=hhmm(route.end), solve_seconds=plan.solve_seconds, cost=plan.cost,
                                         planned_at=now)
                agent_id = route.crew.members[0]
                partner_id = route.crew.members[1] if len(route.crew.members) > 1 else None
                for s in route.stops:
                    v = visits[s.visit_id]
                    v.agent_id, v.partner_id = agent_id, partner_id
                    v.route_order, v.planned_start, v.unplanned_reason = s.order, time(s.start // 60, s.start % 60), ""
                    transition(v, "planned", actor=actor, at=now, data={"agent": agent_id, "partner": partner_id,
                                                                         "order": s.order, "start": hhmm(s.start)},
                               fields=("agent", "partner", "route_order", "planned_start", "unplanned_reason"))
            for u in plan.unassigned:
                entry["unassigned"].append({"visit": u.visit_id, "reason": u.reason})
                if write:
                    v = visits[u.visit_id]
                    v.unplanned_reason, v.route_order, v.planned_start = u.reason, None, None
                    if v.status == "planned":
                        v.agent = v.partner = None
                        transition(v, "approved", actor=actor, at=now, reason=u.reason, data={"unplanned": u.reason},
                                   fields=("agent", "partner", "unplanned_reason", "route_order", "planned_start"))
                    else:
                        v.save(update_fields=["unplanned_reason", "route_order", "planned_start", "updated_at"])
            out["teams"].append(entry)
            out["routed"] += sum(len(c["stops"]) for c in entry["crews"])
            out["unassigned"] += len(entry["unassigned"])
            out["total_travel_minutes"] += plan.travel_minutes
    return out


# ---- at the address ----------------------------------------------------------------------------------------------
def _crew_of(visit: FieldVisit) -> list[int]:
    return [u for u in (visit.agent_id, visit.partner_id) if u]


def _own_visit(visit_id: int, user, *, lock: bool = True) -> FieldVisit:
    qs = FieldVisit.objects.select_related("case__customer", "contact", "team")
    if lock:
        qs = qs.select_for_update(of=("self",))
    visit = qs.filter(pk=visit_id).filter(Q(agent=user) | Q(partner=user)).first()
    if visit is None:
        raise VisitError("not_found", "no such visit of yours")
    return visit


@transaction.atomic
def check_in(visit_id: int, *, user, lat: float | None, lon: float | None, accuracy_m: float | None = None,
             reason: str = "", recording_ref: str = "", now: datetime | None = None) -> FieldVisit:
    """Check in at the address. Refused unless: it is the crew's planned visit of today (the
    debtor's local date); the gate allows a field visit now (CN-HOURS-01 …); the plan check passes
    (CN-FIELD-02: crew size, ID badge, audio/video; CN-REC-01: a recording reference); and the
    device is within :func:`checkin_radius_m` of the address or a reason is given."""
    now = now or timezone.now()
    visit = _own_visit(visit_id, user)
    case = visit.case
    if visit.status != "planned":
        raise VisitError("not_planned", f"the visit is {visit.status}, not planned")
    if now.astimezone(_local(case)).date() != visit.scheduled_on:
        raise VisitError("not_today", "a visit can be checked in only on its day")
    crew = _crew_of(visit)
    badges = FieldCredential.objects.filter(user_id__in=crew).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=visit.scheduled_on)).count()
    plan = check_field_visit_plan(len(crew), bool(recording_ref.strip()) or not require_recording(),
                                  gate.default_pack(), id_badge=badges == len(crew))
    if plan.decision in gate.BLOCKING:
        raise gate.ContactRefused(plan)
    if visit.staff_required > len(crew):
        raise VisitError("two_person_required", "this visit needs two staff", {"reasons": visit.staff_reasons})
    decision = gate.check_contact(case=case, channel="field_visit", at=now, contact=visit.contact, actor=user)
    if not decision.allowed:
        raise gate.ContactRefused(decision)
    c = visit.contact
    address = (c.latitude, c.longitude) if c is not None and c.latitude is not None else None
    device = (lat, lon) if lat is not None and lon is not None else None
    verdict = rules.check_in_verdict(address=address, device=device, radius_m=checkin_radius_m(), reason=reason,
                                     accuracy_m=accuracy_m)
    if not verdict.ok:
        raise VisitError("reason_required", "farther than the allowed distance from the address (or no "
                         "position): give a reason", {"distance_m": verdict.distance_m, "radius_m": checkin_radius_m()})
    visit.checkin_at, visit.checkin_lat, visit.checkin_lon = now, lat, lon
    visit.checkin_accuracy_m, visit.checkin_distance_m = accuracy_m, verdict.distance_m
    visit.checkin_reason, visit.recording_ref = reason.strip()[:255], recording_ref.strip()[:128]
    transition(visit, "in_progress", actor=user, at=now,
               data={"distance_m": verdict.distance_m, "far_reason": bool(reason.strip()),
                     "recording": bool(visit.recording_ref), "gate": decision.decision},
               fields=("checkin_at", "checkin_lat", "checkin_lon", "checkin_accuracy_m", "checkin_distance_m",
                       "checkin_reason", "recording_ref"),
               audit_data={"case": case.pk, "distance_m": verdict.distance_m})  # + fieldwork.check_in
    return visit


@transaction.atomic
def add_photo(visit_id: int, *, user, content: bytes, content_type: str, lat: float | None = None,
              lon: float | None = None, now: datetime | None = None) -> VisitPhoto:
    """Store a photo of a visit in progress with its SHA-256, the server's time and the position."""
    now = now or timezone.now()
    visit = _own_visit(visit_id, user)
    if visit.status != "in_progress":
        raise VisitError("not_in_progress", "photos are taken during a visit (after check-in)")
    if content_type not in PHOTO_TYPES:
        raise VisitError("photo_type", f"a photo must be one of {', '.join(PHOTO_TYPES)}")
    if not content or len(content) > PHOTO_MAX_BYTES:
        raise VisitError("photo_size", f"a photo must have 1 byte to {PHOTO_MAX_BYTES // (1024 * 1024)} MB")
    digest = hashlib.sha256(content).hexdigest()
    photo = VisitPhoto.objects.create(visit=visit, content=content, content_type=content_type, size=len(content),
                                      sha256=digest, received_at=now, lat=lat, lon=lon, uploaded_by=user)
    _event(visit, "field_visit_report", now, user, {"photo": photo.pk, "sha256": digest},  # + fieldwork.photo
           audit_obj=photo, audit_data={"visit": visit.pk, "sha256": digest})
    return photo


@transaction.atomic
def submit_report(visit_id: int, *, user, report: rules.ReportInput, now: datetime | None = None) -> VisitReport:
    """File the visit report (once, during the visit): validated by
    :func:`~arrears.domain.fieldwork.validate_report` (every problem at once, :class:`ReportError`);
    a promise becomes a :class:`~arrears.contexts.money.payments.models.PromiseToPay`; risk flags are kept on
    the case and force two-person crews on later visits."""
    from arrears.contexts.money.facade import PaymentError, take_promise

    now = now or timezone.now()
    visit = _own_visit(visit_id, user)
    if visit.status != "in_progress":
        raise VisitError("not_in_progress", "a report is filed during the visit (after check-in)")
    if VisitReport.objects.filter(visit=visit).exists():
        raise VisitError("already_reported", "this visit already has a report")
    rules.validate_report(report, visit_day=visit.scheduled_on, require_recording=require_recording()
                          and not visit.recording_ref)
    promise_id = None
    if report.outcome == "promise":
        try:
            promise_id = take_promise(visit.case_id, report.promise_amount, report.promise_date, channel="field_visit",
                                      agent=user, now=now).pk
        except PaymentError as e:
            raise rules.ReportError({"promise_amount": [str(e)]}) from None
    rep = VisitReport.objects.create(
        visit=visit, met=report.met, result=report.outcome, promise_amount=report.promise_amount,
        promise_date=report.promise_date, plan_months=report.plan_months, entered_premises=report.entered_premises,
        premises_consent=report.premises_consent, consent_by=report.consent_by.strip(),
        recording_ref=report.recording_ref.strip() or visit.recording_ref, risk_flags=list(report.risk_flags),
        notes=report.notes.strip(), promise_id=promise_id, submitted_by=user, submitted_at=now)
    for kind in report.risk_flags:
        RiskFlag.objects.get_or_create(case_id=visit.case_id, kind=kind, active=True,
                                       defaults={"source_visit": visit, "noted_at": now})
    visit.outcome = report.met
    visit.save(update_fields=["outcome", "updated_at"])
    _event(visit, "field_visit_report", now, user, {
        "met": report.met, "result": report.outcome, "promise": promise_id, "plan_months": report.plan_months,
        "entered_premises": report.entered_premises, "premises_consent": report.premises_consent,
        "risk_flags": list(report.risk_flags)},  # + fieldwork.report
        audit_obj=rep, audit_data={"visit": visit.pk, "met": report.met, "result": report.outcome})
    return rep


#: whom the visit met → the contact ledger's outcome
LEDGER_OUTCOME = {"met_debtor": "rpc", "met_family": "third_party", "nobody": "no_answer", "moved": "moved"}


@transaction.atomic
def check_out(visit_id: int, *, user, lat: float | None = None, lon: float | None = None,
              now: datetime | None = None) -> FieldVisit:
    """Leave the address: needs the report. Writes the contact ledger entry (``field_visit``), ends
    the safety clock (open overdue alerts are resolved) and, after commit, lets the strategy re-decide
    the case (trigger ``visit_reported``)."""
    now = now or timezone.now()
    visit = _own_visit(visit_id, user)
    if visit.status != "in_progress":
        raise VisitError("not_in_progress", "only a visit in progress can be checked out")
    rep = VisitReport.objects.filter(visit=visit).first()
    if rep is None:
        raise VisitError("report_required", "file the visit report before checking out")
    visit.checkout_at, visit.checkout_lat, visit.checkout_lon = now, lat, lon
    transition(visit, "done", actor=user, at=now, data={"outcome": visit.outcome},
               fields=("checkout_at", "checkout_lat", "checkout_lon"),
               audit_data={"case": visit.case_id})  # + fieldwork.check_out
    party = "debtor" if rep.met == "met_debtor" else "other"
    gate.record_attempt(case=visit.case, channel="field_visit", outcome=LEDGER_OUTCOME.get(rep.met, rep.met),
                        decision="allow", contact=visit.contact if party == "debtor" else None, actor=user,
                        caller=visit.team.name if visit.team else "", at=visit.checkin_at or now, party=party)
    for alert in SafetyAlert.objects.filter(visit=visit, kind="overdue").exclude(status="resolved"):
        _alert_move(alert, "resolved", now=now, actor=user, note="checked out")
    case_id, as_of = visit.case_id, now.astimezone(_local(visit.case)).date()

    from arrears.contexts.strategy.facade import reevaluate_after_commit

    reevaluate_after_commit(case_id, "visit_reported", as_of)
    return visit


# ---- safety ------------------------------------------------------------------------------------------------------
def _alert_move(alert: SafetyAlert, to: str, *, now: datetime, actor=None, note: str = "",
                by_leader: bool = False) -> SafetyAlert:
    rules.check_alert_transition(alert.status, to)
    alert.status, alert.handled_by, alert.handled_at = to, actor, now
    alert.note = (note or alert.note)[:255]
    alert.save(update_fields=["status", "handled_by", "handled_at", "note"])
    # a team leader's handling is audited with it (fieldwork.alert_<status>); a check-out's is not
    _event(alert.visit, "field_safety_alert", now, actor,
           {"alert": alert.pk, "kind": alert.kind, "status": to, **({"by": "leader"} if by_leader else {})},
           audit_obj=alert, audit_data={"visit": alert.visit_id})
    return alert


@transaction.atomic
def sos(visit_id: int, *, user, lat: float | None, lon: float | None, now: datetime | None = None) -> SafetyAlert:
    """The SOS button: an immediate level-2 alert with the device position on the leader's board."""
    now = now or timezone.now()
    visit = _own_visit(visit_id, user)
    alert = SafetyAlert.objects.create(visit=visit, team=visit.team, kind="sos", level=2, raised_at=now,
                                       escalated_at=now, raised_by=user, lat=lat, lon=lon)
    _event(visit, "field_safety_alert", now, user, {"alert": alert.pk, "kind": "sos", "status": "open"},
           audit_obj=alert, audit_data={"visit": visit.pk, "located": lat is not None})  # + fieldwork.sos
    log.warning("SOS from user %s on visit %s", user.pk, visit.pk)
    return alert


def scan_safety(now: datetime | None = None) -> dict:
    """Raise overdue-check-out alerts and escalate them (see :func:`~arrears.domain.fieldwork.safety_step`).
    Idempotent: run it every minute. Returns ``{"checked", "raised", "escalated"}``."""
    now = now or timezone.now()
    policy = safety_policy()
    out = {"checked": 0, "raised": 0, "escalated": 0}
    visits = FieldVisit.objects.filter(status="in_progress", checkin_at__isnull=False).select_related("team")
    alerts = {a.visit_id: a for a in SafetyAlert.objects.filter(kind="overdue", visit__in=visits)}
    for v in visits:
        out["checked"] += 1
        a = alerts.get(v.pk)
        step = rules.safety_step(checked_in_at=v.checkin_at, expected_minutes=v.expected_minutes, now=now,
                                 policy=policy, has_overdue_alert=a is not None,
                                 escalated=a is not None and a.level >= 2, checked_out=v.checkout_at is not None)
        if not (step.raise_overdue or step.escalate):
            continue
        with transaction.atomic():
            if step.raise_overdue:
                try:
                    with transaction.atomic():
                        a = SafetyAlert.objects.create(visit=v, team=v.team, kind="overdue", level=1, raised_at=now)
                except IntegrityError:  # another scan raised it
                    a = SafetyAlert.objects.get(visit=v, kind="overdue")
                else:
                    out["raised"] += 1
                    _event(v, "field_safety_alert", now, None, {"alert": a.pk, "kind": "overdue", "level": 1,
                                                               **step.details})
            if step.escalate and a.level < 2 and a.status != "resolved":
                a.level, a.escalated_at = 2, now
                a.save(update_fields=["level", "escalated_at"])
                out["escalated"] += 1
                _event(v, "field_safety_alert", now, None, {"alert": a.pk, "kind": "overdue", "level": 2},
                       audit_obj=a, audit_data={"visit": v.pk})  # + fieldwork.alert_escalated
    return out


@transaction.atomic
def handle_alert(alert_id: int, *, actor, to: str, note: str = "", now: datetime | None = None) -> SafetyAlert:
    """A team leader acknowledges or resolves an alert of their team."""
    now = now or timezone.now()
    alert = SafetyAlert.objects.select_for_update(of=("self",)).select_related("visit", "team").filter(pk=alert_id).first()
    if alert is None or not _leads(actor, alert.team):
        raise VisitError("not_found", "no such alert on your board")
    if to == "resolved" and not note.strip():
        raise VisitError("reason_required", "say how the alert was resolved")
    alert = _alert_move(alert, to, now=now, actor=actor, note=note, by_leader=True)  # + fieldwork.alert_<to>
    return alert


def report_input(data: dict) -> rules.ReportInput:
    """Parse a submitted form (strings) into a :class:`~arrears.domain.fieldwork.ReportInput`;
    unparseable values raise :class:`~arrears.domain.fieldwork.ReportError` with every problem."""
    from decimal import Decimal, InvalidOperation

    errors: dict[str, list[str]] = {}
    amount = pdate = months = None
    if (data.get("promise_amount") or "").strip():
        try:
            amount = Decimal(data["promise_amount"].strip().replace(",", ""))
        except InvalidOperation:
            errors["promise_amount"] = ["not an amount"]
    if (data.get("promise_date") or "").strip():
        try:
            pdate = date.fromisoformat(data["promise_date"].strip())
        except ValueError:
            errors["promise_date"] = ["not a date (YYYY-MM-DD)"]
    if (data.get("plan_months") or "").strip():
        try:
            months = int(data["plan_months"])
        except ValueError:
            errors["plan_months"] = ["not a number"]
    if errors:
        raise rules.ReportError(errors)
    flags = data.get("risk_flags") or []
    if isinstance(flags, str):
        flags = [f for f in flags.split(",") if f]
    truthy = ("1", "on", "true", "yes")
    return rules.ReportInput(
        met=data.get("met", ""), outcome=data.get("outcome", ""), promise_amount=amount, promise_date=pdate,
        plan_months=months, entered_premises=str(data.get("entered_premises", "")).lower() in truthy,
        premises_consent=str(data.get("premises_consent", "")).lower() in truthy,
        consent_by=data.get("consent_by", ""), recording_ref=data.get("recording_ref", ""),
        risk_flags=tuple(flags), notes=data.get("notes", ""))


__all__ += ["report_input", "LEDGER_OUTCOME"]


def erase_customer_visit_data(customer) -> int:
    """Retention purge (:mod:`arrears.contexts.audit.retention`): erase the personal data the field
    visits of ``customer``'s cases hold — check-in/out positions, report notes and who consented,
    photos (content, positions; the SHA-256 and server time stay as evidence that a photo existed)
    and alert positions. Returns the visits touched."""

    visits = list(FieldVisit.objects.filter(case__customer=customer))
    for v in visits:
        v.checkin_lat = v.checkin_lon = v.checkout_lat = v.checkout_lon = None
        v.save(update_fields=["checkin_lat", "checkin_lon", "checkout_lat", "checkout_lon"])
    for r in VisitReport.objects.filter(visit__in=visits):
        r.notes, r.consent_by = "", ""
        r.save(update_fields=["notes", "consent_by"])
    for ph in VisitPhoto.objects.filter(visit__in=visits):
        ph.content, ph.lat, ph.lon = b"", None, None
        ph.save(update_fields=["content", "lat", "lon"])
    for a in SafetyAlert.objects.filter(visit__in=visits):
        a.lat = a.lon = None
        a.save(update_fields=["lat", "lon"])
    return len(visits)

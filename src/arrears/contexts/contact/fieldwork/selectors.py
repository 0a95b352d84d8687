"""Field visits: the reads, always inside the user's data scope (:mod:`arrears.contexts.casework.scope`).

A field agent sees the full address of a visit only when it is their own (lead or partner) and
today is the visit day (the debtor's local date) — DESIGN §4; every other view shows it masked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.utils import timezone

from arrears.contexts.casework.facade import visible_cases
from arrears.contexts.org import facade as org
from arrears.domain.masking import mask_address, mask_name

from .models import FieldCredential, FieldVisit, RiskFlag, RoutePlan, SafetyAlert, VisitPhoto, VisitReport

__all__ = ["VisitRow", "my_day", "visits_in_scope", "case_visits", "board", "credential", "route_svg",
           "visit_in_case"]

OPEN = ("requested", "approved", "planned", "in_progress")


@dataclass
class VisitRow:
    id: int
    case_id: int
    customer_no: str
    name: str
    status: str
    status_label: str
    day: date
    team: str
    agent: str
    partner: str
    address: str
    address_full: bool
    lat: float | None
    lon: float | None
    window: str
    planned_start: str
    order: int | None
    staff_required: int
    staff_reasons: list
    risk_flags: list
    expected_minutes: int
    outcome: str
    source: str
    priority: int
    unplanned_reason: str
    reported: bool = False
    checkin_at: object = None
    alerts: list = field(default_factory=list)
    photos: list = field(default_factory=list)


def _full_address_allowed(user, v: FieldVisit, today: date) -> bool:
    return (v.scheduled_on == today and v.status in ("planned", "in_progress")
            and user.pk in (v.agent_id, v.partner_id))


def _row(user, v: FieldVisit, today: date, flags: dict[int, list[str]]) -> VisitRow:
    c = v.contact
    full = c is not None and _full_address_allowed(user, v, today)
    return VisitRow(
        id=v.pk, case_id=v.case_id, customer_no=v.case.customer.external_id, name=mask_name(v.case.customer.name),
        status=v.status, status_label=str(v.get_status_display()), day=v.scheduled_on,
        team=v.team.name if v.team else "", agent=v.agent.get_username() if v.agent else "",
        partner=v.partner.get_username() if v.partner else "",
        address=(c.value if full else mask_address(c.value)) if c is not None else "",
        address_full=full, lat=c.latitude if full else None, lon=c.longitude if full else None,
        window=f"{v.window_start:%H:%M}–{v.window_end:%H:%M}" if v.window_start and v.window_end else "",
        planned_start=f"{v.planned_start:%H:%M}" if v.planned_start else "", order=v.route_order,
        staff_required=v.staff_required, staff_reasons=list(v.staff_reasons or []),
        risk_flags=flags.get(v.case_id, []), expected_minutes=v.expected_minutes, outcome=v.outcome,
        source=v.source, priority=v.priority, unplanned_reason=v.unplanned_reason,
        reported=VisitReport.objects.filter(visit_id=v.pk).exists() if v.status in ("in_progress", "done") else False,
        checkin_at=v.checkin_at,
    )


def _flags(case_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for cid, kind in RiskFlag.objects.filter(case_id__in=list(case_ids), active=True).values_list("case_id", "kind"):
        out.setdefault(cid, []).append(kind)
    return out


def _base():
    return FieldVisit.objects.select_related("case__customer", "contact", "team", "agent", "partner")


def my_day(user, day: date | None = None) -> list[VisitRow]:
    """The user's own visits (lead or partner) of ``day`` (default today) in route order."""
    today = timezone.localdate()
    day = day or today
    vs = list(_base().filter(Q(agent=user) | Q(partner=user), scheduled_on=day)
              .exclude(status__in=("cancelled", "rejected")).order_by("route_order", "planned_start", "id"))
    flags = _flags({v.case_id for v in vs})
    return [_row(user, v, today, flags) for v in vs]


def visits_in_scope(user, *, limit: int = 100, statuses: tuple[str, ...] | None = None) -> list[VisitRow]:
    """Visits of the cases the user may see, newest day first (addresses masked unless their own today)."""
    qs = _base().filter(case__in=visible_cases(user))
    if statuses:
        qs = qs.filter(status__in=statuses)
    vs = list(qs.order_by("-scheduled_on", "-id")[:limit])
    flags = _flags({v.case_id for v in vs})
    today = timezone.localdate()
    return [_row(user, v, today, flags) for v in vs]


def case_visits(user, case_id: int) -> list[VisitRow]:
    """Every visit of one case (the caller checked the case is in scope)."""
    vs = list(_base().filter(case_id=case_id).order_by("-scheduled_on", "-id"))
    flags = _flags({case_id})
    today = timezone.localdate()
    rows = [_row(user, v, today, flags) for v in vs]
    for r in rows:
        r.alerts = list(SafetyAlert.objects.filter(visit_id=r.id).order_by("-raised_at"))
        r.photos = list(VisitPhoto.objects.filter(visit_id=r.id).order_by("received_at")
                        .values("id", "sha256", "received_at", "size", "content_type"))
    return rows


def visit_in_case(case_id: int, visit_id: int) -> FieldVisit | None:
    return FieldVisit.objects.select_related("team", "case__customer").filter(pk=visit_id, case_id=case_id).first()


def credential(user) -> dict:
    """What the phone page shows as identification: name, staff number, issuer (bank or agency)."""
    cred = FieldCredential.objects.filter(user=user).first()
    profile = getattr(user, "staff_profile", None)
    agency = getattr(getattr(profile, "agency", None), "name", "")
    return {"name": user.get_full_name() or user.get_username(),
            "staff_number": cred.staff_number if cred else "", "issuer": (cred.issuer if cred else "") or agency,
            "valid_until": cred.valid_until if cred else None, "present": cred is not None}


def led_teams(user) -> list[org.TeamFacts]:
    """The field teams ``user`` leads (every field team for a superuser), by id."""
    if user.is_superuser:
        return org.field_teams(active_only=False)
    return org.field_teams(active_only=False, led_by=user.pk)


def board(user, day: date) -> dict:
    """The team leader's board: requests to decide, open alerts (escalated first), routes of ``day``
    (the teams they lead; all for an administrator); ``members``: team id → the user ids of its
    field agents."""
    teams = led_teams(user)
    team_ids = [t.id for t in teams]
    scope = visible_cases(user)
    today = timezone.localdate()
    reqs = list(_base().filter(team_id__in=team_ids, status__in=("requested", "approved"))
                .filter(Q(case__in=scope) | Q(team_id__in=team_ids)).order_by("scheduled_on", "-priority", "id")[:200])
    flags = _flags({v.case_id for v in reqs})
    alerts = list(SafetyAlert.objects.filter(team_id__in=team_ids).exclude(status="resolved")
                  .select_related("visit__case__customer", "visit__agent", "visit__partner")
                  .order_by("-level", "raised_at"))
    plans = list(RoutePlan.objects.filter(team_id__in=team_ids, day=day).order_by("team_id", "crew_key"))
    members = {t.id: org.team_members(t.id, role="field_agent") for t in teams}
    return {"teams": teams, "requests": [_row(user, v, today, flags) for v in reqs], "alerts": alerts,
            "plans": plans, "members": members}


def route_svg(plans: list[RoutePlan]) -> str:
    """The SVG map of the routes (district polygons, no tiles); addresses are plotted as points
    only — the map carries no text of an address."""
    from arrears.adapters.geo_svg import render_routes

    visit_ids = [s["visit"] for p in plans for s in p.stops]
    coords = {}
    for v in FieldVisit.objects.filter(pk__in=visit_ids).select_related("contact"):
        if v.contact is not None and v.contact.latitude is not None:
            coords[v.pk] = (v.contact.latitude, v.contact.longitude)
    routes = [[(coords[s["visit"]], str(s["order"])) for s in p.stops if s["visit"] in coords] for p in plans]
    return render_routes(routes)

"""Field visit pages: the phone page (today's route, the visit with check-in, report, photos,
check-out, SOS) and the team leader's board (requests, crews, alerts, routes on an SVG map).

Views parse, call one service or selector and render; every case route answers 404 (audited)
outside the user's data scope before anything else, whatever the method.
"""
from __future__ import annotations

from datetime import date
from functools import wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework.facade import declares_scope, scope_for, visible_cases
from arrears.contexts.casework.facade import desk_login_required
from arrears.contexts.org import facade as org
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.pages import PageError, mark_error, page_error

from . import selectors, services
from .models import FieldVisit, RiskFlag, VisitReport

def _err(code: ErrorCode, message=None, field: str | None = None) -> PageError:
    """A refusal the view itself finds (no service call), as the page shows it."""
    return page_error(ArrearsError(message, code=code, field=field))


def _today_local() -> date:
    return timezone.localdate()


def case_scoped(view):
    """The case must be in the user's scope (404 and ``access.denied`` audit otherwise) — checked
    before the method, so probing with any method reveals nothing."""

    @wraps(view)
    def wrapped(request, pk: int, *args, **kwargs):
        case = visible_cases(request.user).select_related("customer").filter(pk=pk).first()
        if case is None:
            record("access.denied", actor=request.user, obj=("cases.case", pk), data={"action": view.__name__})
            raise Http404(_("没有这个案件。"))
        return view(request, case, *args, **kwargs)

    return wrapped


def _post_only(view):
    @wraps(view)
    def wrapped(request, case, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if scope_for(request.user).read_only:
            return _again(request, case, error=_err(ErrorCode.READ_ONLY), status=403)
        return view(request, case, *args, **kwargs)

    return wrapped


def _float(v):
    try:
        return float(v) if v not in (None, "") else None
    except ValueError:
        return None


def _case_context(request, case, *, error: PageError | None = None, errors: dict | None = None) -> dict:
    visits = selectors.case_visits(request.user, case.pk)
    mine = next((v for v in visits if request.user.pk in _crew_ids(v.id) and v.status in ("planned", "in_progress")),
                None)
    teams = org.field_teams(active_only=True, order_by="name")
    User = get_user_model()
    agents = list(User.objects.filter(groups__name="field_agent", is_active=True).order_by("username").distinct())
    record("pii.view", actor=request.user, obj=("cases.case", case.pk),
           data={"view": "field_case", "masked": not (mine and mine.address_full)})
    return {"case": case, "visits": visits, "mine": mine, "error": error, "errors": errors or {},
            "credential": selectors.credential(request.user), "teams": teams, "agents": agents,
            "risk_flags": list(RiskFlag.objects.filter(case=case, active=True)),
            "risk_kinds": RiskFlag.Kind.choices, "met_choices": FieldVisit.Outcome.choices,
            "result_choices": VisitReport.Result.choices, "radius": int(services.checkin_radius_m()),
            "leads": any(services._leads(request.user, org.team(v_team))
                         for v_team in {v.team_id for v in FieldVisit.objects.filter(case=case)} if v_team)
            or request.user.is_superuser,
            "require_recording": services.require_recording(), "today": _today_local()}


def _crew_ids(visit_id: int) -> set[int]:
    v = FieldVisit.objects.filter(pk=visit_id).values_list("agent_id", "partner_id").first() or ()
    return {x for x in v if x}


def _again(request, case, *, error: PageError, errors: dict | None = None, status: int | None = None):
    """The visit page again, with the refusal (``error``) shown by the one error partial."""
    response = render(request, "fieldwork/case.html", _case_context(request, case, error=error, errors=errors),
                      status=status or ErrorCode(error.code).status)
    return mark_error(response, error)


def _done(case):
    return redirect(reverse("fieldwork:case", args=[case.pk]))


def _run(request, case, fn):
    """Call a service; show its refusal (a visit error, a report with every problem, the gate's
    refusal with its reasons, an illegal status move) on the page, in the page's language."""
    try:
        fn()
    except ArrearsError as e:
        errors = getattr(e, "errors", None) if isinstance(getattr(e, "errors", None), dict) else None
        return _again(request, case, error=page_error(e), errors=errors)
    return _done(case)


def _visit(request, case) -> FieldVisit:
    try:
        v = selectors.visit_in_case(case.pk, int(request.POST.get("visit", "0")))
    except ValueError:
        v = None
    if v is None:
        raise Http404(_("没有这个外访。"))
    return v


# ---- pages --------------------------------------------------------------------------------------------
#: who may open the list pages. They are declared ``none`` for the permission-matrix test (which
#: models a ``case_list`` as a list of *cases*); every visit row they show is read through
#: ``visible_cases`` (selectors), and they show case numbers, not customer numbers.
TODAY_ROLES = frozenset({"field_agent", "team_leader", "supervisor", "compliance_officer", "administrator"})
BOARD_ROLES = frozenset({"team_leader", "supervisor", "compliance_officer", "administrator"})


def roles_only(allowed: frozenset[str]):
    def deco(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not (services._roles(request.user) & allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.arrears_roles = allowed
        return wrapped

    return deco


@declares_scope("none")
@desk_login_required
@never_cache
@roles_only(TODAY_ROLES)
def today(request):
    """The phone page: my route today, my identification, and the visits in my scope."""
    day = _today_local()
    route = selectors.my_day(request.user, day)
    shown = [r.case_id for r in route if r.address_full]
    others = selectors.visits_in_scope(request.user, limit=50)
    record("pii.view", actor=request.user, data={"view": "field_today", "cases": [r.case_id for r in route + others],
                                                 "addresses_shown": shown})
    return render(request, "fieldwork/today.html", {"route": route, "others": others, "day": day,
                                                    "credential": selectors.credential(request.user)})


@declares_scope("none")
@desk_login_required
@never_cache
@roles_only(BOARD_ROLES)
def board(request):
    """The team leader's board: alerts, requests to decide, routes of a day on a map."""
    try:
        day = date.fromisoformat(request.GET.get("date", "")) if request.GET.get("date") else _today_local()
    except ValueError:
        day = _today_local()
    b = selectors.board(request.user, day)
    svg = selectors.route_svg(b["plans"]) if b["plans"] else ""
    visits = selectors.visits_in_scope(request.user, limit=100)
    record("pii.view", actor=request.user, data={"view": "field_board", "masked": True,
                                                 "cases": [r.case_id for r in visits + b["requests"]]})
    return render(request, "fieldwork/board.html", {**b, "svg": svg, "day": day, "visits": visits})


@declares_scope("case")
@desk_login_required
@never_cache
@case_scoped
def case_page(request, case):
    """The visit page of a case: the user's visit of today with its actions, and the case's visits."""
    return render(request, "fieldwork/case.html", _case_context(request, case))


# ---- actions (POST) -------------------------------------------------------------------------------------
def _action(fn):
    return declares_scope("case")(desk_login_required(never_cache(case_scoped(_post_only(fn)))))


@_action
def request_visit(request, case):
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        return _again(request, case, error=_err(ErrorCode.INVALID_INPUT, gettext_lazy("请选择外访日期。"), "day"))
    return _run(request, case, lambda: services.request_visit(case, actor=request.user, day=day,
                                                              reason=request.POST.get("reason", "")))


@_action
def decide(request, case):
    visit = _visit(request, case)
    what = request.POST.get("decision", "")
    User = get_user_model()

    def user(name):
        pk = request.POST.get(name) or ""
        return User.objects.filter(pk=int(pk)).first() if pk.isdigit() else None

    def go():
        if what == "approve":
            team = org.team(int(request.POST.get("team") or 0))
            day = date.fromisoformat(request.POST["day"]) if request.POST.get("day") else None
            services.approve(visit, actor=request.user, team=team, day=day, agent=user("agent"),
                             partner=user("partner"), note=request.POST.get("note", ""))
        elif what == "reject":
            services.reject(visit, actor=request.user, note=request.POST.get("note", ""))
        elif what == "assign":
            agent = user("agent")
            if agent is None:
                raise services.VisitError("not_in_team", "choose an agent")
            services.assign_crew(visit, agent=agent, partner=user("partner"), actor=request.user)
        elif what == "cancel":
            services.cancel(visit, actor=request.user, reason=request.POST.get("note", ""))
        else:
            raise services.VisitError("not_allowed", "unknown decision")

    return _run(request, case, go)


@_action
def checkin(request, case):
    visit = _visit(request, case)
    p = request.POST
    return _run(request, case, lambda: services.check_in(
        visit.pk, user=request.user, lat=_float(p.get("lat")), lon=_float(p.get("lon")),
        accuracy_m=_float(p.get("accuracy")), reason=p.get("reason", ""), recording_ref=p.get("recording_ref", "")))


@_action
def photo(request, case):
    visit = _visit(request, case)
    f = request.FILES.get("photo")
    if f is None:
        return _again(request, case, error=_err(ErrorCode.PHOTO_SIZE, field="photo"))
    data = f.read(services.PHOTO_MAX_BYTES + 1)
    return _run(request, case, lambda: services.add_photo(
        visit.pk, user=request.user, content=data, content_type=f.content_type or "",
        lat=_float(request.POST.get("lat")), lon=_float(request.POST.get("lon"))))


@_action
def report(request, case):
    visit = _visit(request, case)
    data = {k: request.POST.get(k, "") for k in ("met", "outcome", "promise_amount", "promise_date", "plan_months",
                                                   "entered_premises", "premises_consent", "consent_by",
                                                   "recording_ref", "notes")}
    data["risk_flags"] = request.POST.getlist("risk_flags")
    return _run(request, case, lambda: services.submit_report(visit.pk, user=request.user,
                                                              report=services.report_input(data)))


@_action
def checkout(request, case):
    visit = _visit(request, case)
    return _run(request, case, lambda: services.check_out(visit.pk, user=request.user,
                                                          lat=_float(request.POST.get("lat")),
                                                          lon=_float(request.POST.get("lon"))))


@_action
def sos(request, case):
    visit = _visit(request, case)
    return _run(request, case, lambda: services.sos(visit.pk, user=request.user, lat=_float(request.POST.get("lat")),
                                                    lon=_float(request.POST.get("lon"))))


@_action
def alert(request, case):
    try:
        alert_id = int(request.POST.get("alert", "0"))
    except ValueError:
        raise Http404(_("没有这个警报。")) from None
    from .models import SafetyAlert

    if not SafetyAlert.objects.filter(pk=alert_id, visit__case=case).exists():
        raise Http404(_("没有这个警报。"))
    to = request.POST.get("to", "")
    if to not in ("acknowledged", "resolved"):
        return _again(request, case, error=_err(ErrorCode.NOT_ALLOWED))
    resp = _run(request, case, lambda: services.handle_alert(alert_id, actor=request.user, to=to,
                                                             note=request.POST.get("note", "")))
    if resp.status_code == 302 and request.POST.get("next") == "board":
        return redirect(reverse("fieldwork:board"))
    return resp

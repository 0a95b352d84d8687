"""Field visits end to end in the database: requests → approval → routes → check-in → report →
check-out, the strategy hand-off, address scope, and the safety clock (controlled clock)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.casework.scope import can_reveal
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.contact.compliance.services import ContactRefused
from arrears.contexts.contact.fieldwork import services
from arrears.contexts.contact.fieldwork.models import FieldCredential, FieldVisit, RiskFlag, RoutePlan, SafetyAlert, VisitPhoto
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer
from arrears.contexts.org.users.models import StaffProfile, Team
from arrears.domain.fieldwork import ReportError, ReportInput

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)  # a Monday
HOME = (22.5444302, 114.0397861)  # a Futian street node


def _at(h, m=0, day=DAY):
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=BJ)


def _now(at):
    return mock.patch("django.utils.timezone.now", return_value=at)


def _user(name, *roles):
    u = get_user_model().objects.create_user(name, password="Field-test-2026!")
    for r in roles:
        u.groups.add(Group.objects.get_or_create(name=r)[0])
    return u


def _case(n, lat=HOME[0], lon=HOME[1], district="福田区", team=None):
    c = Customer.objects.create(external_id=f"CF{n:04d}", name=f"客户{n}", district=district)
    Contact.objects.create(customer=c, external_id="h", kind="home_address", party="debtor",
                           value=f"广东省深圳市福田区景田路{n}号", district=district, latitude=lat, longitude=lon)
    CardAccount.objects.create(customer=c, external_id=f"A{n}", credit_limit=Decimal("10000.00"),
                               balance=Decimal("5000.00"), as_of_extract=DAY, dpd=75, bucket="M3")
    return Case.objects.create(customer=c, opened_on=DAY - dt.timedelta(days=70), bucket="M3", max_dpd=75,
                               total_balance=Decimal("5000.00"), status="in_collection", team=team)


@pytest.fixture
def org():
    leader = _user("leader", "team_leader")
    a1, a2, a3 = _user("fa1", "field_agent"), _user("fa2", "field_agent"), _user("fa3", "field_agent")
    team = Team.objects.create(name="外访一组", department="field", leader=leader, districts=["福田区"])
    for u, n in ((a1, "F001"), (a2, "F002"), (a3, "F003")):
        StaffProfile.objects.create(user=u, team=team)
        FieldCredential.objects.create(user=u, staff_number=n, issuer="示范银行信用卡中心")
    return {"leader": leader, "a1": a1, "a2": a2, "a3": a3, "team": team}


def _planned(org, case):
    with _now(_at(8, 0, DAY - dt.timedelta(days=1))):
        v = services.request_visit(case, actor=org["a1"], day=DAY, reason="电话失联，上门核实")
        return services.approve(v, actor=org["leader"], agent=org["a1"], partner=org["a2"])


def test_strategy_decisions_become_requests_once(org):
    cases = [_case(i, team=org["team"] if i % 2 else None) for i in range(1, 5)]
    Case.objects.filter(pk__in=[c.pk for c in cases[:3]]).update(action="field_visit", decision_on=DAY,
                                                                 action_params='{"priority": 4}')
    first = services.request_visits_from_decisions(DAY)
    assert first == {"decisions": 3, "requested": 3, "already_open": 0}
    again = services.request_visits_from_decisions(DAY)
    assert again == {"decisions": 3, "requested": 0, "already_open": 3}
    vs = FieldVisit.objects.filter(source="strategy")
    assert vs.count() == 3 and {v.priority for v in vs} == {4} and all(v.team_id == org["team"].pk for v in vs)
    assert all(v.status == "requested" and v.scheduled_on == DAY + dt.timedelta(days=1) for v in vs)
    assert all(v.staff_required == 2 and "policy" in v.staff_reasons for v in vs)  # CN-FIELD-02 default
    assert CaseEvent.objects.filter(kind="field_visit", data__to="requested").count() == 3


def test_approval_needs_the_team_leader_and_two_people(org):
    case = _case(1)
    with _now(_at(8, 0, DAY - dt.timedelta(days=1))):
        v = services.request_visit(case, actor=org["a1"], day=DAY, reason="上门")
        with pytest.raises(services.VisitError) as e:
            services.approve(v, actor=org["a1"])
        assert e.value.code == "not_leader"
        with pytest.raises(services.VisitError) as e:
            services.approve(v, actor=org["leader"], agent=org["a1"])
        assert e.value.code == "two_person_required"
        v.refresh_from_db()
        assert v.status == "requested"  # nothing half-written
        v = services.approve(v, actor=org["leader"])
    assert v.status == "approved" and v.window_start == dt.time(9) and v.window_end == dt.time(17, 15)


def test_window_comes_from_the_gate(org):
    case = _case(1)
    FieldTeamSettings = __import__("arrears.contexts.contact.fieldwork.models", fromlist=["x"]).FieldTeamSettings
    FieldTeamSettings.objects.create(team=org["team"], base_lat=22.54, base_lon=114.03, shift_start=dt.time(7),
                                     shift_end=dt.time(23))
    with _now(_at(8, 0, DAY - dt.timedelta(days=1))):
        v = services.request_visit(case, actor=org["a1"], day=DAY, reason="上门")
        v = services.approve(v, actor=org["leader"])
    # CN-HOURS-01: no visits before 08:00 or from 22:00 — the start window ends 45 minutes before 22:00
    assert (v.window_start, v.window_end) == (dt.time(8), dt.time(21, 15))


def test_full_visit_flow_with_gate_report_promise_and_strategy(org, immediate_tasks):
    case = _case(1)
    v = _planned(org, case)
    assert v.status == "planned" and v.partner == org["a2"]
    with _now(_at(21, 0, DAY - dt.timedelta(days=1))):
        with pytest.raises(services.VisitError) as e:
            services.check_in(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1], recording_ref="BWC-1")
        assert e.value.code == "not_today"
    with _now(_at(22, 30)):
        with pytest.raises(ContactRefused) as refused:
            services.check_in(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1], recording_ref="BWC-1")
        assert "CN-HOURS-01" in refused.value.decision.rule_ids
    with _now(_at(10)):
        with pytest.raises(ContactRefused) as refused:  # no recording: CN-FIELD-02 / CN-REC-01
            services.check_in(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1])
        assert "CN-REC-01" in refused.value.decision.rule_ids
        with pytest.raises(services.VisitError) as e:  # 1.1 km away, no reason
            services.check_in(v.pk, user=org["a1"], lat=HOME[0] + 0.01, lon=HOME[1], recording_ref="BWC-1")
        assert e.value.code == "reason_required"
        v = services.check_in(v.pk, user=org["a2"], lat=HOME[0] + 0.0003, lon=HOME[1], recording_ref="BWC-1")
    assert v.status == "in_progress" and v.checkin_distance_m < 50
    with _now(_at(10, 20)):
        photo = services.add_photo(v.pk, user=org["a1"], content=b"\xff\xd8jpegbytes", content_type="image/jpeg",
                                   lat=HOME[0], lon=HOME[1])
        assert photo.sha256 == __import__("hashlib").sha256(b"\xff\xd8jpegbytes").hexdigest()
        assert photo.received_at == _at(10, 20)
        with pytest.raises(services.VisitError):
            services.check_out(v.pk, user=org["a1"])  # report first
        with pytest.raises(ReportError) as bad:
            services.submit_report(v.pk, user=org["a1"], report=ReportInput(
                met="met_debtor", outcome="promise", entered_premises=True))
        assert {"promise_amount", "promise_date", "premises_consent"} <= set(bad.value.errors)
        rep = services.submit_report(v.pk, user=org["a1"], report=ReportInput(
            met="met_debtor", outcome="promise", promise_amount=Decimal("1200.00"), promise_date=DAY + dt.timedelta(days=5),
            entered_premises=True, premises_consent=True, consent_by="本人", risk_flags=("dog",), notes="院内有犬"))
    assert PromiseToPay.objects.get(pk=rep.promise_id).amount == Decimal("1200.00")
    assert RiskFlag.objects.filter(case=case, kind="dog", active=True).exists()
    with mock.patch("arrears.contexts.strategy.services.reevaluate_case") as reeval:
        with _now(_at(10, 40)), __import__("django.test", fromlist=["x"]).TestCase.captureOnCommitCallbacks(
                execute=True):
            v = services.check_out(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1])
    reeval.assert_called_once_with(case.pk, "visit_reported", DAY)
    v.refresh_from_db()
    assert v.status == "done" and v.outcome == "met_debtor"
    att = ContactAttempt.objects.get(case=case, channel="field_visit")
    assert att.outcome == "rpc" and att.at == _at(10)
    kinds = list(CaseEvent.objects.filter(case=case, kind="field_visit").values_list("data__to", flat=True))
    assert {"requested", "approved", "planned", "in_progress", "done"} <= set(kinds)


def test_risk_flag_forces_two_people_even_if_policy_allows_one(org, settings):
    case = _case(1)
    RiskFlag.objects.create(case=case, kind="aggression", noted_at=_at(9))
    with mock.patch.object(services, "policy_min_staff", return_value=1):
        with _now(_at(8, 0, DAY - dt.timedelta(days=1))):
            v = services.request_visit(case, actor=org["a1"], day=DAY, reason="上门")
            assert v.staff_required == 2 and v.staff_reasons == ["risk:aggression"]
            with pytest.raises(services.VisitError) as e:
                services.approve(v, actor=org["leader"], agent=org["a1"])
    assert e.value.code == "two_person_required"


def test_address_only_for_the_crew_on_the_visit_day(org):
    case = _case(1)
    v = _planned(org, case)
    for who, ok in (("a1", True), ("a2", True), ("a3", False)):
        assert can_reveal(org[who], "address", case.pk, DAY) is ok, who
    assert not can_reveal(org["a1"], "address", case.pk, DAY - dt.timedelta(days=1))
    from arrears.contexts.contact.fieldwork import selectors

    with _now(_at(9)):
        row = selectors.my_day(org["a2"], DAY)[0]
        assert row.address_full and "景田路1号" in row.address
    with _now(_at(9, 0, DAY - dt.timedelta(days=1))):
        row = selectors.visits_in_scope(org["a1"])[0]
        assert not row.address_full and "景田路1号" not in row.address
    assert v.pk == row.id


def test_plan_routes_assigns_crews_in_order_and_prints_json(org):
    cases = [_case(i, lat=HOME[0] - 0.002 * i, lon=HOME[1] - 0.003 * i) for i in range(1, 7)]
    cases.append(_case(50, lat=None, lon=None))
    with _now(_at(8, 0, DAY - dt.timedelta(days=1))):
        for c in cases:
            v = services.request_visit(c, actor=org["a1"], day=DAY, reason="上门")
            services.approve(v, actor=org["leader"])
        out = StringIO()
        call_command("plan_routes", "--date", DAY.isoformat(), "--seconds", "3", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["visits"] == 7 and data["routed"] == 6 and data["unassigned"] == 1
    team = data["teams"][0]
    assert team["unassigned"][0]["reason"] == "no_location"
    assert len(team["crews"]) == 1 and team["crews"][0]["members"] == [org["a1"].pk, org["a2"].pk]  # 3 agents → 1 pair
    assert data["total_travel_minutes"] > 0 and isinstance(data["solve_seconds"], (int, float))  # speed: arrears bench routes
    planned = FieldVisit.objects.filter(status="planned").order_by("route_order")
    assert [p.route_order for p in planned] == list(range(1, 7))
    assert all(p.agent == org["a1"] and p.partner == org["a2"] for p in planned)
    assert RoutePlan.objects.filter(team=org["team"], day=DAY).count() == 1
    left = FieldVisit.objects.get(case=cases[-1])
    assert left.status == "approved" and left.unplanned_reason == "no_location"


def test_safety_alert_timing_with_a_controlled_clock(org):
    case = _case(1)
    v = _planned(org, case)
    with _now(_at(10)):
        services.check_in(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1], recording_ref="BWC-9")
    # expected 45 min → due 10:45; grace 15 → alert at 11:00; escalate 30 later → 11:30
    assert services.scan_safety(_at(10, 59))["raised"] == 0
    assert services.scan_safety(_at(11, 0))["raised"] == 1
    assert services.scan_safety(_at(11, 5)) == {"checked": 1, "raised": 0, "escalated": 0}
    alert = SafetyAlert.objects.get(visit=v)
    assert alert.level == 1 and alert.team == org["team"] and alert.raised_at == _at(11)
    assert services.scan_safety(_at(11, 29))["escalated"] == 0
    assert services.scan_safety(_at(11, 30))["escalated"] == 1
    alert.refresh_from_db()
    assert alert.level == 2 and alert.escalated_at == _at(11, 30)
    assert services.scan_safety(_at(12))["escalated"] == 0
    with _now(_at(12, 5)):
        services.submit_report(v.pk, user=org["a1"], report=ReportInput(met="nobody", outcome="no_result"))
        services.check_out(v.pk, user=org["a1"])
    alert.refresh_from_db()
    assert alert.status == "resolved"
    # the task runs the same scan
    from arrears.contexts.contact.fieldwork.tasks import scan_safety_task

    assert scan_safety_task.call()["checked"] == 0


def test_sos_is_immediate_with_location_and_on_the_board(org, client):
    case = _case(1)
    v = _planned(org, case)
    with _now(_at(10)):
        services.check_in(v.pk, user=org["a1"], lat=HOME[0], lon=HOME[1], recording_ref="BWC-2")
        a = services.sos(v.pk, user=org["a2"], lat=22.5447, lon=114.0399)
    assert a.kind == "sos" and a.level == 2 and a.lat == pytest.approx(22.5447)
    client.force_login(org["leader"])
    html = client.get(reverse("fieldwork:board")).content.decode()
    assert f'data-alert="{a.pk}"' in html and "22.54470" in html
    resp = client.post(reverse("fieldwork:alert", args=[case.pk]), {"alert": a.pk, "to": "resolved", "note": "已联系，安全",
                                                                    "next": "board"})
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.status == "resolved" and a.handled_by == org["leader"]


def test_pages_scope_and_identification(org, client):
    case, other = _case(1), _case(2)
    v = _planned(org, case)
    client.force_login(org["a1"])
    with _now(_at(9)):
        page = client.get(reverse("fieldwork:case", args=[case.pk])).content.decode()
        assert "F001" in page and "示范银行信用卡中心" in page and "景田路1号" in page
        assert client.get(reverse("fieldwork:case", args=[other.pk])).status_code == 404
        assert client.post(reverse("fieldwork:checkin", args=[other.pk]), {"visit": v.pk}).status_code == 404
        today = client.get(reverse("fieldwork:today")).content.decode()
        assert "景田路1号" in today and f"C{case.pk}" in today


def test_demo_seed_still_creates_visits(org):
    from devtools import demo_seed

    _case(1)
    with mock.patch.object(demo_seed, "_users", return_value={"field_agent": org["a1"]}):
        counts = demo_seed.seed_demo_work(DAY)
    assert FieldVisit.objects.filter(agent=org["a1"]).count() == counts["visits"] or counts.get("visits") == 8
    assert VisitPhoto.objects.count() == 0

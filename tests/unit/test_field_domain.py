"""Field visits, pure rules: status map, crew size, window, check-in distance, report, safety clock."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.domain import fieldwork as f

BJ = dt.timezone(dt.timedelta(hours=8))


def test_status_map_allows_the_flow_and_refuses_shortcuts():
    for a, b in (("requested", "approved"), ("approved", "planned"), ("planned", "in_progress"),
                 ("in_progress", "done"), ("requested", "rejected"), ("planned", "cancelled")):
        f.check_transition(a, b)
    for a, b in (("requested", "in_progress"), ("done", "planned"), ("in_progress", "cancelled"),
                 ("rejected", "approved"), ("planned", "done")):
        with pytest.raises(f.IllegalVisitTransition):
            f.check_transition(a, b)


def test_required_staff_policy_flag_and_risk():
    assert f.required_staff(1, []) == (1, [])
    assert f.required_staff(2, []) == (2, ["policy"])
    assert f.required_staff(1, ["dog"]) == (2, ["risk:dog"])
    assert f.required_staff(1, [], address_flagged=True) == (2, ["address_flagged"])


def test_visit_window_intersects_allowed_hours_and_shift():
    assert f.visit_window(dt.time(8), dt.time(22), dt.time(9), dt.time(18), 45) == (540, 1035)
    assert f.visit_window(dt.time(8), dt.time(22), dt.time(19), dt.time(23), 60) == (1140, 1260)
    assert f.visit_window(dt.time(8), dt.time(22), dt.time(21, 30), dt.time(23), 45) is None


def test_check_in_distance_needs_reason_when_far():
    home = (22.5400, 114.0300)
    near = (22.5405, 114.0302)  # ~60 m
    far = (22.5500, 114.0300)   # ~1.1 km
    assert f.check_in_verdict(address=home, device=near, radius_m=200, reason="").ok
    v = f.check_in_verdict(address=home, device=far, radius_m=200, reason="")
    assert not v.ok and v.needs_reason and 1000 < v.distance_m < 1200
    assert f.check_in_verdict(address=home, device=far, radius_m=200, reason="小区封闭，在门口等候").ok
    assert not f.check_in_verdict(address=home, device=None, radius_m=200, reason="").ok
    # accuracy is allowed for: 250 m with ±80 m counts as 170 m
    dev = (22.5400 + 250 / 111_195, 114.0300)
    assert f.check_in_verdict(address=home, device=dev, radius_m=200, reason="", accuracy_m=80).ok


def test_report_lists_every_problem():
    bad = f.ReportInput(met="nobody", outcome="promise", promise_amount=Decimal("0.001"),
                        promise_date=dt.date(2026, 1, 1), entered_premises=True, risk_flags=("ghost",))
    with pytest.raises(f.ReportError) as e:
        f.validate_report(bad, visit_day=dt.date(2026, 3, 2), require_recording=True)
    assert set(e.value.errors) == {"outcome", "promise_amount", "promise_date", "premises_consent", "recording_ref",
                                   "risk_flags"}
    ok = f.ReportInput(met="met_debtor", outcome="promise", promise_amount=Decimal("1500.00"),
                       promise_date=dt.date(2026, 3, 10), entered_premises=True, premises_consent=True,
                       consent_by="本人", recording_ref="BWC-7")
    f.validate_report(ok, visit_day=dt.date(2026, 3, 2), require_recording=True)
    with pytest.raises(f.ReportError) as e:
        f.validate_report(f.ReportInput(met="met_debtor", outcome="plan_request", plan_months=72),
                          visit_day=dt.date(2026, 3, 2), require_recording=False)
    assert "plan_months" in e.value.errors


def test_safety_clock_raises_then_escalates():
    t0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BJ)
    pol = f.SafetyPolicy(grace=15, escalate_after=30)

    def step(minutes, **kw):
        args = {"has_overdue_alert": False, "escalated": False, "checked_out": False, **kw}
        return f.safety_step(checked_in_at=t0, expected_minutes=45, now=t0 + dt.timedelta(minutes=minutes),
                             policy=pol, **args)

    s = step(59)
    assert not s.raise_overdue and s.due_at == t0 + dt.timedelta(minutes=60)
    assert step(60).raise_overdue and not step(60).escalate
    assert not step(89, has_overdue_alert=True).escalate
    assert step(90, has_overdue_alert=True).escalate
    assert not step(200, has_overdue_alert=True, escalated=True).escalate
    assert not step(200, checked_out=True).raise_overdue

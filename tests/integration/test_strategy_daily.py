"""The strategy and the allocation inside the daily run, on the database: decisions stored with
version, arm, rule and facts; the case status follows the decision; a re-run changes nothing;
events re-decide one case; teams get cases by skill and capacity, sticky, re-allocated when the
agent is absent; agency placements and recalls; the what-if command writes nothing."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from arrears.contexts.org.agencies.models import Agency, Placement
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.servicing.models import CollectionHold
from arrears.contexts.strategy import services
from arrears.contexts.strategy.models import StrategyDecision, StrategyVersion
from arrears.contexts.org.users.models import StaffProfile, Team
from arrears.pipeline.daily import run_daily
from arrears.rules.strategy_loader import DEFAULT_STRATEGY

from .test_daily_run import acct, import_, write_extract

pytestmark = pytest.mark.django_db
D1 = date(2026, 11, 30)


@pytest.fixture
def portfolio(tmp_path):
    path = write_extract(tmp_path / "v1", [
        acct("A1", "C1", "1000.00", "100.00", "2026-10-25"),   # DPD 36 → M2
        acct("A2", "C1", "500.00", "0.00", ""),
        acct("A3", "C2", "2000.00", "200.00", "2026-11-25"),   # DPD 5 → M1
        acct("A4", "C3", "300.00", "30.00", "2026-11-10"),     # DPD 20 → M1
    ])
    import_(path, "2026-11-30")
    return path


@pytest.fixture
def organisation():
    User = get_user_model()
    team = Team.objects.create(name="M1-M3", department="collection", buckets=["M1", "M2", "M3"])
    a, b = User.objects.create(username="agent_a"), User.objects.create(username="agent_b")
    StaffProfile.objects.create(user=a, team=team, capacity=2)
    StaffProfile.objects.create(user=b, team=team, capacity=2)
    return team, a, b


def test_daily_run_decides_stores_and_reruns_nothing(portfolio, organisation):
    r = run_daily(D1)
    assert r.strategy_version == "default@2026.11.1" and r.decided == 3
    assert StrategyVersion.objects.get(status="active").key == r.strategy_version
    for case in Case.objects.filter(closed_on__isnull=True):
        d = case.decisions.get()
        assert (d.strategy_version, d.arm, d.rule_id, d.action) == (case.strategy_version, case.arm, case.rule_id,
                                                                   case.action)
        assert d.facts["bucket"] == case.bucket and d.facts["dpd"] == case.max_dpd
        assert d.facts["balance"] == str(case.total_balance)
        assert case.decision_on == D1 and case.next_review_on > D1
        if case.action not in ("none", "hold"):
            assert case.status == "in_collection" and case.stage
            assert case.events.filter(kind="stage_changed").count() == 1
    # every delinquent case fits the team (buckets M1–M3, capacity 2 + 2): balanced 2 / 1
    loads = sorted(Case.objects.filter(closed_on__isnull=True).exclude(assigned_to=None)
                   .values_list("assigned_to__username", flat=True))
    assert len(loads) == 3 and sorted([loads.count("agent_a"), loads.count("agent_b")]) == [1, 2]
    assert CaseEvent.objects.filter(kind="assigned").count() == 3
    counts = (StrategyDecision.objects.count(), CaseEvent.objects.count())
    r2 = run_daily(D1)
    assert r2.decided == 0 and r2.allocation == {}
    assert (StrategyDecision.objects.count(), CaseEvent.objects.count()) == counts


def test_complaint_puts_the_case_on_hold_at_once_and_is_explained(portfolio, organisation):
    _champion_only()
    run_daily(D1)
    case = Case.objects.get(customer__external_id="C1", closed_on__isnull=True)
    CollectionHold.objects.create(customer=case.customer, kind="complaint",
                                  since=datetime(2026, 11, 30, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    d = services.reevaluate_case(case.pk, "complaint_opened", D1)
    case.refresh_from_db()
    assert (d.rule_id, d.action, case.status) == ("hold", "hold", "on_hold")
    last = case.decisions.order_by("-id").first()
    assert last.trigger == "complaint_opened" and last.facts["hold"] is True and last.facts["hold_kind"] == "complaint"
    with pytest.raises(ValueError):
        services.reevaluate_case(case.pk, "bogus", D1)


def test_absent_agent_cases_are_reallocated_and_sticky_otherwise(portfolio, organisation):
    team, a, b = organisation
    run_daily(D1)
    before = dict(Case.objects.filter(closed_on__isnull=True).values_list("id", "assigned_to_id"))
    run_daily(D1 + timedelta(days=1))
    assert dict(Case.objects.filter(closed_on__isnull=True).values_list("id", "assigned_to_id")) == before  # sticky
    StaffProfile.objects.filter(user=a).update(absent_from=D1 + timedelta(days=2))
    StaffProfile.objects.filter(user=b).update(capacity=5)
    run_daily(D1 + timedelta(days=2))
    after = dict(Case.objects.filter(closed_on__isnull=True).values_list("id", "assigned_to_id"))
    assert set(after.values()) == {b.pk}
    moved = CaseEvent.objects.filter(kind="assigned", as_of=D1 + timedelta(days=2))
    assert moved.count() == sum(1 for v in before.values() if v == a.pk)
    assert {e.data["from_agent"] for e in moved} == {a.pk} and {e.data["to_agent"] for e in moved} == {b.pk}


def _champion_only():
    """Activate a copy of the default strategy whose arms are 100 % champion (ids vary by database)."""
    from arrears.contexts.strategy import versions

    text = DEFAULT_STRATEGY.read_text(encoding="utf-8").replace('version: "2026.11.1"', 'version: "test-1"')
    text = text.replace("share: 90", "share: 100").replace(
        "      - {name: challenger_call_first, share: 5, ladder: call_first}\n", "").replace(
        "      - {name: holdout, share: 5, holdout: true}\n", "")
    versions.activate(versions.upload_version(text))


def test_agency_placement_and_recall_on_hold(tmp_path):
    path = write_extract(tmp_path / "v1", [acct("A1", "C1", "3000.00", "3000.00", "2026-05-01")])  # M7+
    import_(path, "2026-11-30")
    _champion_only()
    agency = Agency.objects.create(code="AG1", name="甲机构", pool="standard", capacity=10)
    run_daily(D1)
    case = Case.objects.get()
    assert (case.arm, case.strategy_version) == ("champion", "default@test-1")
    assert (case.stage, case.action) == ("agency", "agency_placement")
    placement = Placement.objects.get(case=case, recalled_on=None)
    assert placement.agency == agency and placement.recall_due_on == D1 + timedelta(days=90)
    assert case.events.filter(kind="placed").exists()
    CollectionHold.objects.create(customer=case.customer, kind="dispute",
                                  since=datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    run_daily(D1 + timedelta(days=1))
    placement.refresh_from_db()
    assert placement.recalled_on == D1 + timedelta(days=1) and placement.recall_reason == "hold"
    assert case.events.filter(kind="recalled").exists()


def test_strategy_simulate_writes_nothing(portfolio, organisation):
    run_daily(D1)
    counts = (StrategyDecision.objects.count(), CaseEvent.objects.count(),
              list(Case.objects.values_list("id", "rule_id", "assigned_to_id")))
    out = StringIO()
    call_command("strategy_simulate", "--strategy", str(DEFAULT_STRATEGY), "--as-of", "2026-12-01", "--json",
                 stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["cases"] == 3 and sum(payload["by_action"].values()) == 3
    assert {(r["segment"], r["arm"]) for r in payload["actions"]} <= {("all", "champion"), ("all", "holdout"),
                                                                      ("all", "challenger_call_first")}
    team = next(t for t in payload["workload"]["teams"] if t["team"] == "M1-M3")
    assert team["capacity"] == 4 and team["cases"] == 3
    assert counts == (StrategyDecision.objects.count(), CaseEvent.objects.count(),
                      list(Case.objects.values_list("id", "rule_id", "assigned_to_id")))


def test_strategy_simulate_refuses_an_invalid_file_listing_errors(tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_STRATEGY.read_text(encoding="utf-8").replace("share: 90", "share: 80"), encoding="utf-8")
    with pytest.raises(CommandError, match="90 %"):
        call_command("strategy_simulate", "--strategy", str(bad), "--as-of", "2026-12-01")


def test_arm_report(portfolio, organisation):
    run_daily(D1)
    out = StringIO()
    call_command("strategy_report", "--json", stdout=out)
    arms = json.loads(out.getvalue())["arms"]
    assert sum(a["cases"] for a in arms) == 3
    assert all(a["strategy_version"] == "default@2026.11.1" for a in arms)


def test_strategy_page_shows_results_per_arm(portfolio, organisation, client):
    from django.contrib.auth.models import Group

    run_daily(D1)
    boss = get_user_model().objects.create(username="boss")
    boss.groups.add(Group.objects.get(name="supervisor"))
    client.force_login(boss)
    html = client.get("/strategy/").content.decode()
    assert 'id="arm-results"' in html and "champion" in html

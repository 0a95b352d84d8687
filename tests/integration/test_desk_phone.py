"""The phone desk (issue 7): queue order and get-next, the workspace with the gate's answer per
number, dialing through the gate, outcomes (promise, callback, third party, invalid number,
dispute), recordings, the supervisor board and reassignment, the API and its errors.

Time is fixed by patching ``django.utils.timezone.now`` (the gate reads the debtor's local time).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.contact.desk import services, vocabulary as V
from arrears.contexts.contact.desk.models import Call, NumberState, QueueItem
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer
from arrears.contexts.money.servicing.models import CollectionHold, ContactRestriction
from arrears.contexts.org.users.models import StaffProfile, Team

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)


def at(hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def frozen(when: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=when)


def make_user(name: str, role: str, team: Team | None = None):
    u = get_user_model().objects.create_user(name, password="Desk-test-2026!")
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    StaffProfile.objects.create(user=u, team=team)
    return u


def make_case(n: int, *, team=None, agent=None, priority=3, band="", dpd=20, action="call", tz="Asia/Shanghai",
              emergency=False) -> Case:
    c = Customer.objects.create(external_id=f"CU-{n}", name=f"王{n}明", timezone=tz)
    Contact.objects.create(customer=c, external_id="m", kind="mobile", party="debtor", value=f"1390000{n:04d}")
    if emergency:
        Contact.objects.create(customer=c, external_id="e", kind="mobile", party="emergency", relation="兄弟",
                               party_name="王大", value=f"1370000{n:04d}")
    CardAccount.objects.create(customer=c, external_id=f"62220000{n:08d}", credit_limit=Decimal("20000.00"),
                               balance=Decimal("5000.00"), principal=Decimal("4500.00"), interest=Decimal("400.00"),
                               fees=Decimal("100.00"), minimum_due=Decimal("500.00"), overdue_amount=Decimal("800.00"),
                               oldest_unpaid_due_date=TODAY - dt.timedelta(days=dpd), as_of_extract=TODAY, dpd=dpd,
                               bucket="M1")
    return Case.objects.create(customer=c, opened_on=TODAY - dt.timedelta(days=dpd), bucket="M1", max_dpd=dpd,
                               total_balance=Decimal("5000.00"), overdue_amount=Decimal("800.00"),
                               status="in_collection", team=team, assigned_to=agent, stage="phone", action=action,
                               action_params=json.dumps({"priority": priority, "queue": "early"}) if action == "call"
                               else "", score_band=band)


@pytest.fixture
def desk(db):
    team = Team.objects.create(name="电催一组", department="collection")
    leader = make_user("leader", "team_leader", team)
    team.leader = leader
    team.save()
    a1, a2 = make_user("agent1", "collector", team), make_user("agent2", "collector", team)
    return {"team": team, "leader": leader, "a1": a1, "a2": a2}


def test_queue_order_priority_score_dpd_and_own_before_pool(desk):
    t, a1 = desk["team"], desk["a1"]
    low = make_case(1, team=t, agent=a1, priority=3, dpd=40)
    urgent = make_case(2, team=t, agent=a1, priority=2, dpd=10)
    scored = make_case(3, team=t, agent=a1, priority=3, band="A", dpd=5)
    pool = make_case(4, team=t, priority=1, dpd=90)
    make_case(5, team=t, agent=a1, action="sms")  # not a phone case
    with frozen(at(10)):
        counts = services.sync_queue()
        assert counts["queued"] == 4
        order = [r.case_id for r in __import__("arrears.contexts.contact.desk.selectors", fromlist=["x"]).queue_preview(
            a1, at(10))]
        assert order == [urgent.pk, scored.pk, low.pk, None]  # the pool case is outside a1's scope: no identity
        got = [services.get_next(a1).case_id]
        # the agent holds it until its outcome: asking again answers the same case
        again = services.get_next(a1)
        assert again.case_id == got[0] and again.resumed
    assert got == [urgent.pk]
    ev = CaseEvent.objects.filter(case=urgent, kind="desk_claimed").get()
    assert ev.to_status == "claimed" and ev.actor == a1
    assert pool.pk not in got


def test_pool_case_is_assigned_with_a_timeline_event(desk):
    t, a2 = desk["team"], desk["a2"]
    pool = make_case(7, team=t, priority=1)
    with frozen(at(10)):
        services.sync_queue()
        assert services.get_next(a2).case_id == pool.pk
    pool.refresh_from_db()
    assert pool.assigned_to == a2
    ev = CaseEvent.objects.get(case=pool, kind="assigned")
    assert ev.data["by"] == "desk_get_next" and ev.data["to"] == a2.pk


def test_callback_due_comes_first_and_not_before_its_time(desk):
    t, a1 = desk["team"], desk["a1"]
    c1, c2 = make_case(1, team=t, agent=a1, priority=1), make_case(2, team=t, agent=a1, priority=5)
    with frozen(at(10)):
        services.sync_queue()
        assert services.get_next(a1).case_id == c1.pk
        call = services.dial(a1, c1.pk, c1.customer.contacts.get().pk)
        services.post_outcome(a1, c1.pk, services.OutcomeInput(
            call.call_id, "call_debtor", "callback_requested", callback_at=dt.datetime(2026, 11, 30, 15, 0), recording_seconds=40))
        item = QueueItem.objects.get(pk=c1.pk)
        assert item.klass == V.KLASS_CALLBACK and item.due_at == at(15) and item.state == "ready"
        # before 15:00 the callback case is not offered: c2 is
        assert services.get_next(a1).case_id == c2.pk
        services.release(a1, c2.pk)
    with frozen(at(15, 1)):
        assert services.get_next(a1).case_id == c1.pk


def test_the_next_days_sync_refreshes_every_item_and_keeps_a_callbacks_time(desk):
    """Each day every ready item's DPD moves (the whole queue is updated, set-based): the new
    figures land, a callback keeps its due time, a promise due tomorrow turns its item into a
    promise follow-up due that day (the business day's midnight)."""
    t, a1, a2 = desk["team"], desk["a1"], desk["a2"]
    c1, c2, c3 = (make_case(i, team=t, agent=a1, priority=5, dpd=30) for i in (1, 2, 3))
    with frozen(at(10)):
        services.sync_queue()
        call = services.dial(a1, c1.pk, c1.customer.contacts.get().pk)
        services.post_outcome(a1, c1.pk, services.OutcomeInput(
            call.call_id, "call_debtor", "callback_requested", callback_at=dt.datetime(2026, 11, 30, 15, 0),
            recording_seconds=40))
    tomorrow = TODAY + dt.timedelta(days=1)
    PromiseToPay.objects.create(case=c3, customer=c3.customer, amount=Decimal("100.00"), currency="CNY",
                                promised_on=tomorrow + dt.timedelta(days=1), taken_on=TODAY, created_at=at(10))
    Case.objects.filter(pk__in=[c1.pk, c2.pk, c3.pk]).update(max_dpd=31, assigned_to=a2)
    Case.objects.filter(pk=c2.pk).update(action_params=json.dumps({"priority": 2, "queue": "early"}))
    with frozen(at(9, day=tomorrow)):
        counts = services.sync_queue()
    assert counts["updated"] == 3 and counts["inserted"] == 0
    items = {q.case_id: q for q in QueueItem.objects.all()}
    assert {cid: (q.dpd, q.agent_id) for cid, q in items.items()} == {c: (31, a2.pk) for c in (c1.pk, c2.pk, c3.pk)}
    assert items[c2.pk].priority == 2 and items[c1.pk].priority == 5
    assert items[c1.pk].klass == V.KLASS_CALLBACK and items[c1.pk].due_at == at(15)
    assert items[c3.pk].klass == V.KLASS_PROMISE
    assert items[c3.pk].due_at == dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(), tzinfo=SH)
    assert items[c2.pk].klass == V.KLASS_NORMAL and items[c2.pk].due_at is None


def test_callback_outside_allowed_hours_is_refused_with_the_gates_reason(desk):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        with pytest.raises(services.CallbackRefused) as e:
            services.post_outcome(a1, c.pk, services.OutcomeInput(
                call.call_id, "call_debtor", "callback_requested", callback_at=dt.datetime(2026, 11, 30, 23, 0)))
    assert e.value.reasons and e.value.next_allowed_at is not None
    assert e.value.next_allowed_at.astimezone(SH).hour == 8
    # nothing was written: the call is still open, no ledger row
    assert Call.objects.get(pk=call.call_id).state == "dialing"
    assert not ContactAttempt.objects.filter(case=c).exists()


def test_callback_in_the_debtors_own_time_zone(desk):
    """A debtor in Urumqi: 21:30 Shanghai time is 19:30 there; 08:30 Shanghai is 06:30 there."""
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1, tz="Asia/Urumqi")
    with frozen(at(12)):
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        out = services.post_outcome(a1, c.pk, services.OutcomeInput(
            call.call_id, "call_debtor", "callback_requested", callback_at=dt.datetime(2026, 11, 30, 19, 30)))  # naive = the debtor's local time (Urumqi)
    assert out.callback_at == dt.datetime(2026, 11, 30, 19, 30, tzinfo=ZoneInfo("Asia/Urumqi"))


def test_promise_to_pay_through_the_desk(desk):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        assert services.get_next(a1).case_id == c.pk
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        out = services.post_outcome(a1, c.pk, services.OutcomeInput(
            call.call_id, "call_debtor", "promise_to_pay", notes="客户同意周五还款", promise_amount="800.00",
            promise_date=dt.date(2026, 12, 4), recording_seconds=183))
    ptp = PromiseToPay.objects.get(pk=out.promise_id)
    assert ptp.amount == Decimal("800.00") and ptp.promised_on == dt.date(2026, 12, 4) and ptp.agent == a1
    call_row = Call.objects.get(pk=call.call_id)
    assert call_row.state == "completed" and call_row.result_code == "promise_to_pay"
    # the dialer adapter issued the recording reference at the dial; nobody typed it
    assert call_row.recording_id == f"REC-desk-call-{call.call_id}" and call_row.recording_seconds == 183
    # CN-REC-01 ≥ 2 years, CN-REC-02 an oral agreement: kept until settled
    assert call_row.retain_until == TODAY + dt.timedelta(days=730) and call_row.retain_until_settled
    attempt = ContactAttempt.objects.get(pk=out.attempt_id)
    assert attempt.outcome == "rpc" and attempt.at == at(10) and attempt.decision in ("allow", "allow_flagged")
    kinds = set(CaseEvent.objects.filter(case=c).values_list("kind", flat=True))
    assert {"desk_claimed", "desk_dialed", "contact_attempt", "promise_taken", "desk_outcome",
            "desk_number_status", "desk_released"} <= kinds
    assert NumberState.objects.get(contact=call_row.contact).status == "valid"


def test_a_bad_outcome_writes_nothing(desk):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        for inp, field in [
            (services.OutcomeInput(call.call_id, "call_debtor", "promise_to_pay", promise_amount="-5",
                                   promise_date=TODAY), "promise_amount"),
            (services.OutcomeInput(call.call_id, "call_debtor", "promise_to_pay", promise_amount="100",
                                   promise_date=TODAY - dt.timedelta(days=1)), "promise_date"),
            (services.OutcomeInput(call.call_id, "call_debtor", "nonsense"), "result_code"),
            (services.OutcomeInput(call.call_id, "call_third_party", "third_party"), "action_code"),
        ]:
            with pytest.raises(ValueError) as e:
                services.post_outcome(a1, c.pk, inp)
            assert getattr(e.value, "field", None) == field, (inp, e.value)
    assert Call.objects.get(pk=call.call_id).state == "dialing"
    assert not ContactAttempt.objects.filter(case=c).exists() and not PromiseToPay.objects.exists()


def test_dial_is_refused_by_the_gate_outside_hours_and_logged(desk):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(22, 30)):
        with pytest.raises(services.DialRefused) as e:
            services.dial(a1, c.pk, c.customer.contacts.get().pk)
    assert e.value.reasons and e.value.next_allowed_at.astimezone(SH) == at(8, 0, TODAY + dt.timedelta(days=1))
    assert not Call.objects.exists()
    assert CaseEvent.objects.filter(case=c, kind="contact_blocked").exists()


def test_get_next_defers_a_case_nobody_may_call_now(desk):
    t, a1 = desk["team"], desk["a1"]
    far = make_case(1, team=t, agent=a1, priority=1, tz="America/Los_Angeles")  # 02:00 there at 18:00 Shanghai
    near = make_case(2, team=t, agent=a1, priority=2)
    with frozen(at(18)):
        services.sync_queue()
        got = services.get_next(a1)
    assert got.case_id == near.pk and [d["case_id"] for d in got.deferred] == [far.pk]
    item = QueueItem.objects.get(pk=far.pk)
    assert item.state == "ready" and item.available_at > at(18)
    assert CaseEvent.objects.filter(case=far, kind="desk_deferred").exists()


def test_third_party_call_purpose_script_and_do_not_contact(desk):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1, emergency=True)
    debtor = c.customer.contacts.get(party="debtor")
    third = c.customer.contacts.get(party="emergency")
    # the debtor could not be reached: an invalid number (the gate then allows locating through a third party)
    with frozen(at(9)):
        call = services.dial(a1, c.pk, debtor.pk)
        services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "invalid_number"))
    assert NumberState.objects.get(contact=debtor).status == "invalid"
    with frozen(at(10)):
        with pytest.raises(services.DialRefused):  # the desk will not dial an invalid number
            services.dial(a1, c.pk, debtor.pk)
        with pytest.raises(services.DeskError) as e:
            services.dial(a1, c.pk, third.pk, purpose="collect")
        assert e.value.code == "bad_purpose"
        from arrears.contexts.contact.desk.selectors import workspace

        w = workspace(a1, c.pk, at(10), "zh-hans")
        text = " ".join(s.text for s in w.third_party_script.sections)
        assert "800" not in text and "逾期" not in text and "欠款" not in text  # no debt details (CN-WHO-03)
        row = next(n for n in w.numbers if n.contact_id == debtor.pk)
        assert not row.callable and row.status == "invalid"
        try:
            call = services.dial(a1, c.pk, third.pk, purpose="locate")
        except services.DialRefused as refused:  # pragma: no cover - depends on the pack's CN-WHO-02 reading
            pytest.fail(f"third-party locate call refused: {refused.reasons}")
        services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_third_party",
                                                              "third_party_do_not_contact"))
    assert ContactRestriction.objects.get(contact=third).kind == "refused"
    assert AuditEvent.objects.filter(action="contact.restricted").exists()
    with frozen(at(11)):
        with pytest.raises(services.DialRefused) as e:
            services.dial(a1, c.pk, third.pk, purpose="relay")
    assert any(r["rule_id"].startswith("CN-WHO") for r in e.value.reasons), e.value.reasons


def test_dispute_opens_a_hold_and_the_strategy_takes_the_case_off_the_phone(desk, django_capture_on_commit_callbacks,
                                                                           immediate_tasks):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        services.get_next(a1)
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            out = services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "dispute",
                                                                        notes="客户称未消费"))
        # the outcome answers before the strategy re-decides: the re-decision is queued after commit
        assert out.hold == "dispute" and out.reevaluation == "hold_changed" and len(queued) == 1
        c.refresh_from_db()
        assert c.action == "call" and QueueItem.objects.filter(pk=c.pk).exists()
        queued[0]()  # the worker runs it (the immediate task backend in tests)
    assert CollectionHold.objects.filter(customer=c.customer, kind="dispute").exists()
    c.refresh_from_db()
    assert c.action == "hold" and not QueueItem.objects.filter(pk=c.pk).exists()
    assert c.decisions.filter(trigger="hold_changed").exists()


def test_one_open_call_per_agent_and_one_agent_per_case(desk):
    t, a1, a2 = desk["team"], desk["a1"], desk["a2"]
    c1, c2 = make_case(1, team=t, agent=a1), make_case(2, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        services.get_next(a1)
        services.dial(a1, c1.pk, c1.customer.contacts.get().pk)
        with pytest.raises(services.DeskError) as e:
            services.dial(a1, c2.pk, c2.customer.contacts.get().pk)
        assert e.value.code == "call_open"
        with pytest.raises(services.DeskError) as e:
            services.release(a1, c1.pk)
        assert e.value.code == "call_open"


def test_board_and_reassign(desk, client):
    t, a1, a2, leader = desk["team"], desk["a1"], desk["a2"], desk["leader"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "promise_to_pay",
                                                              promise_amount="100", promise_date=TODAY))
        from arrears.contexts.contact.desk.selectors import board

        b = board(leader, TODAY)
        row = next(r for r in b.agents if r.username == "agent1")
        assert (row.calls, row.cases_worked, row.rpcs, row.promises) == (1, 1, 1, 1)
        services.reassign(leader, c.pk, a2.pk, reason="休假")
    c.refresh_from_db()
    assert c.assigned_to == a2
    ev = CaseEvent.objects.filter(case=c, kind="assigned").latest("id")
    assert ev.data == {"from": a1.pk, "to": a2.pk, "by": "desk_reassign"} and ev.reason == "休假"
    assert AuditEvent.objects.filter(action="desk.reassign").exists()
    assert QueueItem.objects.get(pk=c.pk).agent == a2
    client.force_login(leader)
    html = client.get(reverse("desk:board")).content.decode()
    assert "agent1" in html and "agent2" in html
    client.force_login(a1)
    assert client.get(reverse("desk:board")).status_code == 403


def test_api_next_dial_outcome(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        client.force_login(a1)  # (the session's expiry follows the frozen clock)
        services.sync_queue()
        assert client.get("/api/desk/next/").json()["own_ready"] == 1
        r = client.post("/api/desk/next/")
        assert r.status_code == 200 and r.json()["case_id"] == c.pk
        w = client.get(f"/api/desk/cases/{c.pk}/").json()
        number = w["numbers"][0]
        assert number["callable"] and "****" in number["value"]
        assert w["script"]["sections"] and w["balances"][0]["paragraph"]
        r = client.post(f"/api/desk/cases/{c.pk}/dial/", {"contact_id": number["contact_id"]},
                        content_type="application/json")
        assert r.status_code == 201, r.content
        call_id = r.json()["call_id"]
        r = client.post(f"/api/desk/cases/{c.pk}/outcome/", {"call_id": call_id, "action_code": "call_debtor",
                                                             "result_code": "no_answer"},
                        content_type="application/json")
        assert r.status_code == 200, r.content
        assert r.json()["next_available_at"].startswith("2026-11-30T12:00")
        bad = client.post(f"/api/desk/cases/{c.pk}/outcome/", {"call_id": call_id, "action_code": "call_debtor",
                                                               "result_code": "no_answer"},
                          content_type="application/json")
        assert bad.status_code == 400 and bad.json()["code"] == "call_closed"
    with frozen(at(22, 30)):
        client.force_login(a1)
        r = client.post(f"/api/desk/cases/{c.pk}/dial/", {"contact_id": number["contact_id"]},
                        content_type="application/json")
        assert r.status_code == 403 and r.json()["code"] == "dial_refused"
        assert r.json()["details"]["reasons"] and r.json()["details"]["next_allowed_at"]


def test_workspace_page_shows_blocked_number_with_reason(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(22, 30)):
        client.force_login(a1)
        html = client.get(reverse("desk:workspace", args=[c.pk])).content.decode()
    assert "不可拨打" in html and "CN-" in html and "08:00" in html
    assert "13900000001" not in html  # masked


def test_scripts_refuse_debt_details_for_third_parties(tmp_path):
    from arrears.contexts.contact.desk import callscripts
    from arrears.domain.errors import RuleDataError

    src = (callscripts.SCRIPTS_DIR / "phone.yaml").read_text(encoding="utf-8")
    bad = src.replace("请其回电{hotline}", "请其尽快还清欠款{overdue_amount}并回电{hotline}")
    (tmp_path / "default.yaml").write_text(bad.replace("stage: phone", "stage: default"), encoding="utf-8")
    with pytest.raises(RuleDataError) as e:
        callscripts.load_scripts(str(tmp_path))
    problems = "\n".join(e.value.errors)
    assert "overdue_amount" in problems and "third_party_disclosure" in problems


def test_the_database_allows_one_claim_and_one_open_call_per_agent(desk):
    """The guarantees hold even if two requests of one agent race past the service's own checks:
    the partial unique constraints refuse the second claim / the second open call."""
    from django.db import IntegrityError, transaction

    t, a1 = desk["team"], desk["a1"]
    c1, c2 = make_case(1, team=t, agent=a1), make_case(2, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        first = services.get_next(a1)
        call = services.dial(a1, first.case_id, Case.objects.get(pk=first.case_id).customer.contacts.get().pk)
        other = c2 if first.case_id == c1.pk else c1
        with pytest.raises(IntegrityError), transaction.atomic():
            QueueItem.objects.filter(pk=other.pk).update(state="claimed", claimed_by=a1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Call.objects.create(case=other, contact=other.customer.contacts.get(), party="debtor", agent=a1,
                                state="dialing", dialed_at=at(10), decision="allow")
        again = services.get_next(a1)  # the held case comes back; nothing new is claimed
        assert again.case_id == first.case_id and again.resumed
        assert QueueItem.objects.filter(claimed_by=a1, state="claimed").count() == 1
        assert Call.objects.get(pk=call.call_id).state == "dialing"


def test_desk_requests_keep_to_their_round_trip_budget(desk, django_assert_max_num_queries):
    """Latency under load is mostly round trips to the database (each one waits for a core): the
    hot requests keep to a budget, so a change that adds queries shows here, not only in the bench.
    (Counts are for a case with one number, no holds, no restrictions.)"""
    t, a1 = desk["team"], desk["a1"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        # agent lock, claim (+ its event), case, contacts, today's promises (after a promise the day's
        # calling stops), gate (2)
        with django_assert_max_num_queries(10):
            got = services.get_next(a1)
        assert got.case_id == c.pk
        with django_assert_max_num_queries(13):  # + today's promises (after a promise the day's calling stops)
            call = services.dial(a1, c.pk, c.customer.contacts.get().pk)
        with django_assert_max_num_queries(9):
            services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "no_answer"))


def test_only_the_holder_releases_a_case(desk):
    t, a1, a2 = desk["team"], desk["a1"], desk["a2"]
    c = make_case(1, team=t, agent=a1)
    with frozen(at(10)):
        services.sync_queue()
        assert services.get_next(a1).case_id == c.pk
        with pytest.raises(services.DeskError) as e:
            services.release(a2, c.pk)
        assert e.value.code == "not_claimed"
        assert QueueItem.objects.get(pk=c.pk).claimed_by == a1
        services.release(a1, c.pk, reason="wrong team")
    item = QueueItem.objects.get(pk=c.pk)
    assert item.state == "ready" and item.claimed_by is None
    assert CaseEvent.objects.filter(case=c, kind="desk_released", data__reason="wrong team").exists()

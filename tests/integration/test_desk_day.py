"""The collector's day at the phone desk (issue 15): call history, notes, the timeline in words,
the dialer's recording reference, after a promise the day's calling stops, the harassment flag
only when its rule holds, money and the card named one way, the bank's facts from one source, and
every label in the page's language.

Time is fixed by patching ``django.utils.timezone.now`` (the gate reads the debtor's local time).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.contact.desk import services
from arrears.contexts.contact.desk.models import Call, QueueItem
from arrears.contexts.contact.desk.selectors import workspace
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer

from tests.integration.test_desk_phone import SH, TODAY, at, frozen, make_case, make_user

pytestmark = pytest.mark.django_db

D = Decimal
HOTLINE = "400-820-0000"


@pytest.fixture
def desk(db):
    from arrears.contexts.org.users.models import Team

    team = Team.objects.create(name="电催一组", department="collection")
    leader = make_user("leader", "team_leader", team)
    team.leader = leader
    team.save()
    a1 = make_user("agent1", "collector", team)
    a1.last_name, a1.first_name = "陈", "静"
    a1.save()
    return {"team": team, "leader": leader, "a1": a1, "a2": make_user("agent2", "collector", team)}


def twd_case(n: int, team, agent, *, number: str = "UCI00028-01", tz: str = "Asia/Shanghai", language="zh-hans"):
    """A UCI-like case: one account in New Taiwan dollars, numbered like the demo's."""
    c = Customer.objects.create(external_id=f"UCI{n:05d}", name=f"金{n}明", timezone=tz, language=language)
    Contact.objects.create(customer=c, external_id="m", kind="mobile", party="debtor", value=f"1390000{n:04d}")
    Contact.objects.create(customer=c, external_id="e", kind="mobile", party="emergency", relation="父亲",
                           party_name="金大", value=f"1370000{n:04d}")
    CardAccount.objects.create(customer=c, external_id=number, currency="TWD", product_code="UCI-CARD",
                               credit_limit=D("20000.00"), balance=D("20334.00"), principal=D("20334.00"),
                               minimum_due=D("2033.40"), overdue_amount=D("4234.40"),
                               oldest_unpaid_due_date=TODAY - dt.timedelta(days=90), as_of_extract=TODAY, dpd=90,
                               bucket="M3")
    return Case.objects.create(
        customer=c, opened_on=TODAY - dt.timedelta(days=90), bucket="M3", max_dpd=90, status="in_collection",
        total_balance=D("20334.00"), overdue_amount=D("4234.40"), currency="TWD",
        amounts={"TWD": {"overdue": "4234.40", "balance": "20334.00"}}, team=team, assigned_to=agent,
        stage="phone", action="call", action_params=json.dumps({"priority": 2, "queue": "late"}), last_run_as_of=TODAY)


def debtor_number(case):
    return case.customer.contacts.get(party="debtor").pk


def call_with(agent, case, result: str, when: dt.datetime, **kw):
    with frozen(when):
        call = services.dial(agent, case.pk, debtor_number(case))
        services.post_outcome(agent, case.pk, services.OutcomeInput(call.call_id, "call_debtor", result, **kw))
    return call


def _page(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    html = client.get(url).content.decode()
    return html


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# ---- 1. call history and notes ------------------------------------------------------------------


def test_history_lists_every_contact_newest_first_in_words_and_the_debtors_zone(desk):
    from arrears.contexts.contact.compliance.services import record_attempt
    from arrears.contexts.contact.desk.history import contact_history
    from arrears.domain.compliance import Decision

    t, a1 = desk["team"], desk["a1"]
    c = twd_case(1, t, a1, tz="Asia/Urumqi")  # 2 hours behind Shanghai
    first = call_with(a1, c, "no_answer", at(10))
    second = call_with(a1, c, "promise_to_pay", at(13), notes="客户答应周四还", promise_amount="800.00",
                       promise_date=TODAY + dt.timedelta(days=3))
    with frozen(at(14)):  # an agency's call on the same case, from the shared ledger
        record_attempt(case=c, channel="phone", outcome="unanswered", decision=Decision("allow", [], None, "cn"),
                       contact=c.customer.contacts.get(party="debtor"), actor=None, caller_kind="agency",
                       caller="DEMO-AG", at=at(14))
        from arrears.contexts.casework.facade import add_case_note

        add_case_note(a1, c.pk, "客户要求下午联系", source="desk", now=at(14, 1))
    with translation.override("zh-hans"):
        h = contact_history(c.pk, c.customer_id)
    assert h.timezone == "Asia/Urumqi"
    kinds = [r.kind for r in h.rows]
    assert kinds == ["note", "attempt", "call", "call"], kinds  # newest first
    note, agency, promise, no_answer = h.rows
    assert note.notes == "客户要求下午联系" and note.agent == "agent1"
    assert "委外机构" in agency.agent and agency.result == "无人接听" and agency.channel == "电话"
    assert promise.local == "2026-11-30 11:00"  # 13:00 in Shanghai is 11:00 in Urumqi
    assert promise.result == "承诺还款" and promise.notes == "客户答应周四还"
    assert promise.promise == "800.00 TWD · 2026-12-03"
    assert promise.recording == f"REC-desk-call-{second.call_id}" and promise.contact == "139****0001"
    assert no_answer.result == "无人接听" and no_answer.recording == f"REC-desk-call-{first.call_id}"
    with translation.override("en"):
        h_en = contact_history(c.pk, c.customer_id)
    assert [r.result for r in h_en.rows[2:]] == ["Promise to pay", "No answer"]
    assert h_en.rows[2].promise == "TWD 800.00 · 2026-12-03"


def test_history_links_the_recording_when_the_recorder_is_configured(desk, settings):
    from arrears.contexts.contact.desk.history import contact_history

    settings.ARREARS_RECORDING_URL = "https://recorder.example/calls/{ref}"
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(2, t, a1)
    call = call_with(a1, c, "no_answer", at(10))
    (row,) = contact_history(c.pk, c.customer_id).rows
    assert row.recording_url == f"https://recorder.example/calls/REC-desk-call-{call.call_id}"


def test_a_note_is_a_typed_timeline_event_through_the_one_write(desk):
    from arrears.contexts.casework.facade import NoteRefused, add_case_note
    from arrears.contexts.casework.selectors import CaseNotFound
    from arrears.contexts.audit.models import AuditEvent  # noqa: F401  (the note itself is not audited)

    t, a1, a2 = desk["team"], desk["a1"], desk["a2"]
    c = twd_case(3, t, a1)
    other = make_case(9, team=t, agent=a2)
    with frozen(at(9)):
        add_case_note(a1, c.pk, "  已核实工作单位  ", source="case_page")
    ev = CaseEvent.objects.get(case=c, kind="note")
    assert ev.data == {"text": "已核实工作单位", "source": "case_page"} and ev.actor == a1 and ev.as_of == TODAY
    for bad in ("", "   ", "字" * 2001):
        with pytest.raises(NoteRefused) as e:
            add_case_note(a1, c.pk, bad)
        assert e.value.code == "bad_note" and e.value.field == "text"
    add_case_note(a1, c.pk, "字" * 2000)  # the limit itself is allowed
    with pytest.raises(CaseNotFound):
        add_case_note(a1, other.pk, "不是我的案件")
    boss = make_user("boss", "supervisor")
    with pytest.raises(NoteRefused) as e:
        add_case_note(boss, c.pk, "主管只能查看")
    assert e.value.code == "read_only"
    with pytest.raises(ValueError):
        add_case_note(a1, c.pk, "x", source="somewhere")
    assert CaseEvent.objects.filter(case=c, kind="note").count() == 2
    # the declared data: text required, nothing undeclared
    from arrears.contexts.casework.events import InvalidCaseEvent, check_event

    with pytest.raises(InvalidCaseEvent):
        check_event("note", {})
    with pytest.raises(InvalidCaseEvent):
        check_event("note", {"text": "x", "colour": "red"})


def test_notes_from_the_case_page_and_the_workspace_show_in_the_history(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(4, t, a1)
    client.force_login(a1)
    with frozen(at(11)):
        r = client.post(reverse("cases:note", args=[c.pk]), {"text": "案件页备注"})
        assert r.status_code == 302 and r["Location"].endswith(f"/cases/{c.pk}/#history")
        r = client.post(reverse("desk:note", args=[c.pk]), {"text": "工作台备注"})
        assert r.status_code == 302 and r["Location"].endswith(f"/desk/cases/{c.pk}/#history")
        bad = client.post(reverse("cases:note", args=[c.pk]), {"text": " "})
        assert bad.status_code == 400 and 'class="errorlist"' in bad.content.decode()
        page = _page(client, reverse("cases:detail", args=[c.pk]), "zh-hans")
        desk_page = _page(client, reverse("desk:workspace", args=[c.pk]), "zh-hans")
    for html in (page, desk_page):
        history = html[html.index('id="history"'):html.index('id="timeline"')]
        assert "案件页备注" in history and "工作台备注" in history
        assert history.index("工作台备注") < history.index("案件页备注")  # newest first
    assert [e.data["source"] for e in CaseEvent.objects.filter(case=c, kind="note").order_by("id")] == \
        ["case_page", "desk"]


# ---- 1. the timeline in words ------------------------------------------------------------------


def test_the_timeline_reads_results_in_words_never_codes(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(5, t, a1)
    with frozen(at(10)):
        services.sync_queue()
        assert services.get_next(a1).case_id == c.pk
    call = call_with(a1, c, "promise_to_pay", at(10, 5), promise_amount="800.00",
                     promise_date=TODAY + dt.timedelta(days=3))
    client.force_login(a1)
    with frozen(at(10, 10)):
        zh = _text(_page(client, reverse("cases:detail", args=[c.pk]), "zh-hans"))
        en = _text(_page(client, reverse("cases:detail", args=[c.pk]), "en"))
    zh_tl = zh[zh.index("案件时间线"):]
    en_tl = en[en.index("Timeline"):]
    for text in ("呼出本人 · 承诺还款", f"录音 REC-desk-call-{call.call_id}", "待拨打 → 处理中", "处理中 → 待拨打",
                 "未核实 → 有效", "800.00 TWD · 承诺 2026-12-03 还款 · 电话", "合规结论：允许",
                 "电话 · 本人接听（有效联络）"):
        assert text in zh_tl, text
    for text in ("Call to the debtor · Promise to pay", "To call → In progress", "Unverified → Valid",
                 "TWD 800.00 · to pay by 2026-12-03"):
        assert text in en_tl, text
    for code in ("promise_to_pay", "call_debtor", "ready", "claimed", "unverified", "allow", "rpc", "新案 → claimed"):
        assert not re.search(rf"(?<![\w-]){code}(?![\w-])", zh_tl), code
        assert not re.search(rf"(?<![\w-]){code}(?![\w-])", en_tl), code


def test_a_describer_names_an_unknown_code_and_never_shows_it_bare(desk):
    from arrears.contexts.casework.events import EventFacts, describe_event

    with translation.override("zh-hans"):
        text = describe_event(EventFacts("desk_outcome", {"call": 1, "action_code": "call_debtor",
                                                          "result_code": "shouted"}))
    assert text == "呼出本人 · 其他（shouted）"
    # a describer that fails is logged and the event shows its kind only: the page still renders
    with mock.patch.dict("arrears.contexts.casework.events.DESCRIBERS", {"desk_hold": lambda f: 1 / 0}):
        assert describe_event(EventFacts("desk_hold", {"hold": 1, "kind": "dispute", "call": 1})) == ""


# ---- 5. the dialer issues the recording reference ----------------------------------------------


def test_the_dialer_issues_the_recording_reference_and_nobody_types_one(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(6, t, a1)
    client.force_login(a1)
    with frozen(at(10)):
        r = client.post(reverse("desk-api:dial", args=[c.pk]), {"contact_id": debtor_number(c)},
                        content_type="application/json")
        assert r.status_code == 201
        call_id = r.json()["call_id"]
        assert r.json()["recording_ref"] == f"REC-desk-call-{call_id}"
        assert Call.objects.get(pk=call_id).recording_id == f"REC-desk-call-{call_id}"
        html = _page(client, reverse("desk:workspace", args=[c.pk]), "zh-hans")
        form = html[html.index('id="outcome"'):html.index("save-outcome")]
        assert 'name="recording_id"' not in form and 'name="recording_seconds"' not in form
        assert f"REC-desk-call-{call_id}" in form  # shown, issued by the dialer
        typed = client.post(reverse("desk-api:outcome", args=[c.pk]), {
            "call_id": call_id, "action_code": "call_debtor", "result_code": "rpc", "recording_id": "MINE-1"},
            content_type="application/json")
        assert typed.status_code == 400 and typed.json()["field"] == "recording_id"
        ok = client.post(reverse("desk-api:outcome", args=[c.pk]), {
            "call_id": call_id, "action_code": "call_debtor", "result_code": "rpc"}, content_type="application/json")
        assert ok.status_code == 200 and ok.json()["recording_id"] == f"REC-desk-call-{call_id}"


class _NoReferenceDialer:
    name = "no_ref"

    def dial(self, request):
        from arrears.adapters.dialer import DialResult

        return DialResult(request.call_id, "placed")


def test_a_conversation_without_a_recording_reference_is_refused(desk):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(7, t, a1)
    with frozen(at(10)):
        call = services.dial(a1, c.pk, debtor_number(c), dialer=_NoReferenceDialer())
        with pytest.raises(services.DeskError) as e:
            services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "rpc"))
        assert e.value.code == "recording_required" and "CN-REC-01" in e.value.message("zh-hans")
        # no conversation, nothing to record: the outcome is taken
        services.post_outcome(a1, c.pk, services.OutcomeInput(call.call_id, "call_debtor", "no_answer"))


# ---- 12. after a promise the day's calling stops -------------------------------------------------


def test_after_a_promise_the_case_leaves_the_days_queue_and_nobody_dials_it_again_today(desk):
    t, a1, leader = desk["team"], desk["a1"], desk["leader"]
    c = twd_case(8, t, a1)
    neighbour = twd_case(9, t, a1, number="UCI00029-01")
    with frozen(at(10)):
        services.sync_queue()
    call_with(a1, c, "promise_to_pay", at(10, 5), promise_amount="800.00", promise_date=TODAY + dt.timedelta(days=5))
    item = QueueItem.objects.get(pk=c.pk)
    assert item.state == "ready" and item.available_at >= dt.datetime(2026, 12, 1, tzinfo=SH)
    # even when the queue offers it again the same day (a sync, a supervisor), get-next defers it
    QueueItem.objects.filter(pk=c.pk).update(available_at=at(11))
    QueueItem.objects.filter(pk=neighbour.pk).update(available_at=at(23))
    with frozen(at(11)):
        got = services.get_next(a1)
    assert got.case_id is None and got.deferred and got.deferred[0]["case_id"] == c.pk
    assert got.deferred[0]["reasons"][0]["rule_id"] == "DESK-PROMISE-TODAY"
    assert got.deferred[0]["until"] == dt.datetime(2026, 12, 1, tzinfo=SH)
    # a dial by hand is refused too — the debtor, and the third party (any agent)
    for agent, contact, purpose in ((a1, debtor_number(c), None),
                                    (leader, c.customer.contacts.get(party="emergency").pk, "locate")):
        with frozen(at(15)), pytest.raises(services.DialRefused) as e:
            services.dial(agent, c.pk, contact, purpose=purpose)
        assert e.value.reasons[0]["rule_id"] == "DESK-PROMISE-TODAY" and e.value.code == "dial_refused"
        if purpose is None:  # the debtor: from the next day, when the gate allows (its morning)
            assert e.value.next_allowed_at == dt.datetime(2026, 12, 1, 8, 0, tzinfo=SH)
    assert not Call.objects.filter(case=c).exclude(state="completed").exists()
    # the workspace says so, per number, with the time calling resumes
    with frozen(at(15)), translation.override("zh-hans"):
        w = workspace(a1, c.pk, at(15), "zh-hans")
    assert w.rest_reason and all(not n.callable and n.reasons[0].startswith("DESK-PROMISE-TODAY") for n in w.numbers)
    assert w.numbers[0].next_allowed_local == "2026-12-01 08:00 (Asia/Shanghai)"  # the gate's morning
    # the neighbour case (no promise) is still called today
    with frozen(at(15)):
        services.dial(a1, neighbour.pk, debtor_number(neighbour))
    # the next day the case may be called again (the promise follow-up as designed)
    with frozen(at(10, day=TODAY + dt.timedelta(days=1))):
        services.dial(leader, c.pk, debtor_number(c))


def test_a_promise_taken_yesterday_does_not_stop_todays_calls(desk):
    from arrears.contexts.money.payments.services import take_promise

    t, a1 = desk["team"], desk["a1"]
    c = twd_case(10, t, a1)
    take_promise(c.pk, "100.00", TODAY + dt.timedelta(days=2), agent=a1, now=at(10) - dt.timedelta(days=1))
    with frozen(at(10)):
        services.dial(a1, c.pk, debtor_number(c))


def test_the_day_is_the_debtors_own(desk):
    """A promise at 23:30 in Shanghai is 21:30 in Urumqi: the Urumqi debtor's day ends at their
    midnight, 02:00 Shanghai time."""
    from arrears.contexts.money.payments.services import take_promise

    t, a1 = desk["team"], desk["a1"]
    c = twd_case(11, t, a1, tz="Asia/Urumqi")
    take_promise(c.pk, "100.00", TODAY + dt.timedelta(days=2), agent=a1, now=at(23, 30))
    rest = services.promise_rest(c.pk, "Asia/Urumqi", at(23, 30))
    assert rest is not None and rest[1] == dt.datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert services.promise_rest(c.pk, "Asia/Urumqi", rest[1]) is None


# ---- 12. the harassment flag only when its rule holds (CN-FREQ-03) --------------------------------


def _reasons(agent, case, when):
    with frozen(when), translation.override("zh-hans"):
        w = workspace(agent, case.pk, when, "zh-hans")
    (debtor,) = [n for n in w.numbers if n.party == "debtor"]
    return debtor.reasons


def test_one_answered_call_raises_no_harassment_flag(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(12, t, a1)
    call_with(a1, c, "rpc", at(10))
    assert not any("CN-FREQ-03" in r for r in _reasons(a1, c, at(10, 1)))
    client.force_login(a1)
    with frozen(at(10, 1)):
        html = _page(client, reverse("cases:detail", args=[c.pk]), "zh-hans")
    panel = html[html.index('id="contact-compliance"'):]
    assert "CN-FREQ-03" not in panel and "呼死你" not in html


def test_calling_again_within_five_minutes_of_an_unanswered_call_is_flagged(desk):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(13, t, a1)
    call_with(a1, c, "no_answer", at(10))
    flagged = [r for r in _reasons(a1, c, at(10, 5)) if r.startswith("CN-FREQ-03")]
    assert flagged and "5分钟内再次拨打刚才未接通的同一号码" in flagged[0]  # the window's edge is in
    assert not any("CN-FREQ-03" in r for r in _reasons(a1, c, at(10, 5) + dt.timedelta(seconds=1)))


# ---- 2. money and the card, one way ---------------------------------------------------------------


def test_twd_is_labelled_the_same_in_script_sms_workspace_history_and_board(desk, client):
    from arrears.contexts.contact.sms import services as sms

    t, a1, leader = desk["team"], desk["a1"], desk["leader"]
    c = twd_case(14, t, a1)
    call_with(a1, c, "promise_to_pay", at(10), promise_amount="800.00", promise_date=TODAY + dt.timedelta(days=3))
    with frozen(at(10, 5)):
        _tpl, msg, _ = sms.render_for_case(c, "reminder", as_of=TODAY)
        w = workspace(a1, c.pk, at(10, 5), "zh-hans")
    script = " ".join(s.text for s in w.script.sections)
    assert "4,234.40 TWD" in msg.text and "4,234.40 TWD" in script
    client.force_login(leader)
    with frozen(at(10, 5)):
        board = _text(_page(client, reverse("desk:board"), "zh-hans"))
        board_en = _text(_page(client, reverse("desk:board"), "en"))
        api = client.get(reverse("desk-api:board")).json()
    assert "800.00 TWD" in board and "TWD 800.00" in board_en
    for text in (msg.text, script, board, board_en, json.dumps(api)):
        assert "NT$" not in text and "CNY" not in text and "元" not in text.replace("单元", "")


def test_the_card_is_named_by_the_last_four_digits_of_its_number_in_script_and_sms(desk):
    from arrears.contexts.contact.sms import services as sms

    t, a1 = desk["team"], desk["a1"]
    c = twd_case(15, t, a1, number="UCI00028-01")
    with frozen(at(10)):
        _tpl, msg, _ = sms.render_for_case(c, "reminder", as_of=TODAY)
        w = workspace(a1, c.pk, at(10), "zh-hans")
    script = " ".join(s.text for s in w.script.sections)
    assert "尾号2801" in msg.text and "尾号2801" in script
    assert "8-01" not in script and "8-01" not in msg.text


def test_an_approval_in_twd_is_refused_without_a_recorded_rate_and_converted_with_one(desk):
    from arrears.contexts.money.servicing.services import approve_settlement, request_settlement
    from arrears.domain.settlements import ExchangeRate, NoExchangeRate

    t, a1, leader = desk["team"], desk["a1"], desk["leader"]
    c = twd_case(16, t, a1)
    account = c.customer.accounts.get()
    s = request_settlement(account.pk, waived="1000.00", deadline=TODAY + dt.timedelta(days=10), today=TODAY,
                           actor=a1)
    with pytest.raises(NoExchangeRate) as e:
        approve_settlement(s.pk, leader, TODAY)
    assert e.value.code == "no_exchange_rate" and e.value.status == 409
    assert "TWD" in e.value.message("zh-hans") and "折算汇率" in e.value.message("zh-hans")
    assert "no recorded exchange rate" in e.value.message("en")
    # a configured, dated, sourced rate: 1,000.00 TWD is 225.00 CNY, within the team leader's 2,000.00
    rate = ExchangeRate("TWD", "CNY", "0.2250", dt.date(2026, 11, 1), "test fixture")
    with mock.patch("arrears.rules.exchange_rates.exchange_rates", return_value=(rate,)):
        assert approve_settlement(s.pk, leader, TODAY).status == "approved"


# ---- 7 / findings 2-6: every label in the page's language ----------------------------------------


def test_workspace_labels_are_in_the_pages_language(desk, client):
    t, a1 = desk["team"], desk["a1"]
    c = twd_case(17, t, a1)
    client.force_login(a1)
    with frozen(at(10)):
        zh = _text(_page(client, reverse("desk:workspace", args=[c.pk]), "zh-hans"))
        en = _text(_page(client, reverse("desk:workspace", args=[c.pk]), "en"))
        case_en = _text(_page(client, reverse("cases:detail", args=[c.pk]), "en"))
        case_zh = _text(_page(client, reverse("cases:detail", args=[c.pk]), "zh-hans"))
        sms_zh = _text(_page(client, reverse("sms:case_panel", args=[c.pk]), "zh-hans"))
        sms_en = _text(_page(client, reverse("sms:case_panel", args=[c.pk]), "en"))
    assert "电话催收" in zh and "Phone" in en
    assert not re.search(r"(?<![\w@-])phone(?![\w@-])", zh) and "phone@" not in zh
    # relations in the page's language (finding 5)
    for page in (en, case_en):
        assert "Father" in page and "父亲" not in page
    assert "父亲" in zh and "父亲" in case_zh
    # the queue of the strategy's action and the SMS templates by name (findings 3, 4)
    from arrears.contexts.strategy.selectors import action_text

    for language, shown in (("zh-hans", "电话 (优先级: 2, 队列: 后期队列)"), ("en", "Call (Priority: 2, Queue: Late queue)")):
        with translation.override(language):
            assert action_text("call", json.dumps({"priority": 2, "queue": "late"})) == shown
    assert "还款提醒" in sms_zh and "Payment reminder" not in sms_zh and "reminder" not in sms_zh
    assert "Payment reminder" in sms_en and "还款提醒" not in sms_en


def test_the_english_third_party_script_is_filled_for_a_named_agent_and_explains_a_refusal(desk):
    from django.contrib.auth import get_user_model

    t, a1 = desk["team"], desk["a1"]
    c = twd_case(18, t, a1)
    # finding 2: the demo's user "collector" — named, the script is filled in both languages
    demo = get_user_model().objects.create_user("collector", password="x-Desk-2026!", first_name="静",
                                                last_name="陈")
    demo.groups.add(Group.objects.get_or_create(name="collector")[0])
    Case.objects.filter(pk=c.pk).update(assigned_to=demo)
    for language in ("en", "zh-hans"):
        with frozen(at(10)), translation.override(language):
            w = workspace(demo, c.pk, at(10), language)
        assert w.third_party_script is not None and not w.third_party_error, (language, w.third_party_error)
        text = " ".join(s.text for s in w.third_party_script.sections)
        assert "陈静" in text and f"{demo.pk:06d}" in text and HOTLINE in text and "collector" not in text
    # a user with no name is named by their login: "collector" would tell a third party what the
    # call is about (US-REGF-6D-01), so the English third-party script is refused — and says why
    demo.first_name = demo.last_name = ""
    demo.save()
    with frozen(at(10)), translation.override("en"):
        w = workspace(demo, c.pk, at(10), "en")
    assert w.third_party_script is None
    assert "collector" in w.third_party_error and "US-REGF-6D-01" in w.third_party_error
    assert w.script is not None  # the debtor hears the agent's login: nothing is disclosed to them

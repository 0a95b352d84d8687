"""SMS outbox, dispatch, receipts and replies against the real local SMPP server (issue 8), and
scenarios R04 (one reminder however often the scheduler runs), R14 (never at night in the debtor's
own zone, DST included) and R19 (one language per message, unambiguous dates and amounts).

How a crash cannot cause a second send (tested in ``test_crash_between_submit_and_status_update``):
the dispatcher commits ``submit_started_at`` on the row *before* the submit_sm is written; a worker
only ever claims rows whose ``submit_started_at`` is empty. A worker that dies after that commit —
before the SMSC's response, or after it but before ``submitted`` is written — leaves the row "in
doubt": no later pass submits it again. The SMSC's delivery receipt, which names the handset and
quotes the first octets of the text, reconciles it (→ submitted → delivered); without a receipt it
expires for review. Only an explicit refusal by the SMSC (submit_sm_resp with an error status) or a
failure before anything was written puts the row back for a retry.
"""
from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.portfolio.models import Contact
from arrears.contexts.money.servicing.models import ContactRestriction
from arrears.contexts.contact.sms import services
from arrears.contexts.contact.sms.models import InboundSms, NumberFlag, OutboundSms, SmsReplyTask
from arrears.adapters.smpp import GatewayError, Inbound, SmppGateway, SmppSettings
from devtools.smpp_testserver import SmppTestServer

from .test_scope import _case

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 4)


def _at(h, m=0, day=DAY, tz=SH):
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=tz)


@pytest.fixture
def smsc():
    with SmppTestServer() as srv:
        yield srv


@pytest.fixture
def gw(smsc):
    g = SmppGateway(SmppSettings(port=smsc.port, source_addr="10690000", timeout_s=5))
    yield g
    g.close()


def _sms_case(n: int, tz: str = "Asia/Shanghai", language: str = "zh-hans", template: str = "reminder",
              decided: dt.date = DAY) -> Case:
    case = _case(n, f"CUST-SMS-{n}")
    case.customer.timezone, case.customer.language = tz, language
    case.customer.save()
    case.action, case.action_params, case.decision_on = "sms", '{"template":"%s"}' % template, decided
    case.max_dpd, case.overdue_amount, case.total_balance = 5, Decimal("500.00"), Decimal("1234.50")
    case.save()
    return case


def _mobile(case) -> Contact:
    return Contact.objects.get(customer=case.customer, kind="mobile")


def _dispatch(now, gw, **kw):
    with mock.patch("django.utils.timezone.now", return_value=now):
        out = services.dispatch_due(now=now, gateway=gw, **kw)
    return out


def _receipts(gw, now, wait=0.5):
    deadline = time.monotonic() + wait
    n = 0
    while time.monotonic() < deadline:
        with mock.patch("django.utils.timezone.now", return_value=now):
            n += services.process_gateway_events(gw.poll(0.05), gw.name)
    return n


def _enqueue(as_of, now):
    with mock.patch("django.utils.timezone.now", return_value=now):
        return services.enqueue_from_decisions(as_of)


# ---- R04: one reminder however often the scheduler runs ---------------------------------------------
def test_r04_scheduler_every_5_minutes_sends_one_sms_then_not_before_the_interval(smsc, gw):
    """R04: 288 runs a day (every 5 minutes), twice at the same instant and after a restart (a new
    gateway session) → exactly one message, one ledger entry; the same template not before 7 days."""
    case = _sms_case(1)
    start = _at(0, 0)
    for i in range(288):
        now = start + dt.timedelta(minutes=5 * i)
        _enqueue(DAY, now)
        _enqueue(DAY, now)  # the same instant twice
        _dispatch(now, gw)
        if i == 150:  # a worker restart: a new session
            gw.close()
    assert OutboundSms.objects.filter(case=case).count() == 1
    sms = OutboundSms.objects.get(case=case)
    assert sms.status in ("submitted", "delivered")
    assert sms.submitted_at.astimezone(SH).time() == dt.time(8, 0)  # the first run inside the window
    assert smsc.duplicates == 0 and sum(smsc.messages.values()) == 1
    assert ContactAttempt.objects.filter(case=case, channel="sms", outcome="sent").count() == 1
    # the strategy decides sms again on the next days: the same template waits for its interval (7 days)
    for d in range(1, 10):
        day = DAY + dt.timedelta(days=d)
        Case.objects.filter(pk=case.pk).update(decision_on=day, max_dpd=5 + d)
        res = _enqueue(day, _at(6, 0, day))
        _dispatch(_at(9, 0, day), gw)
        if d < 7:
            assert res["too_soon"] == 1 and res["queued"] == 0, (d, res)
    days = sorted(OutboundSms.objects.filter(case=case).values_list("send_day", flat=True))
    assert days == [DAY, DAY + dt.timedelta(days=7)]  # DPD 5 → next at DPD 12
    assert smsc.duplicates == 0 and sum(smsc.messages.values()) == 2


def test_enqueue_from_decisions_is_set_based_and_idempotent():
    cases = [_sms_case(10 + i) for i in range(5)]
    Case.objects.filter(pk=cases[4].pk).update(action_params='{"template":"no_such_template"}')
    Case.objects.filter(pk=cases[3].pk).update(action_params="not json")
    first = _enqueue(DAY, _at(2))
    assert first == {"decided": 5, "queued": 3, "already_queued": 0, "too_soon": 0, "no_template": 1,
                     "bad_params": 1}
    assert _enqueue(DAY, _at(3)) == {"decided": 5, "queued": 0, "already_queued": 3, "too_soon": 0,
                                    "no_template": 1, "bad_params": 1}
    rows = OutboundSms.objects.filter(send_day=DAY)
    assert rows.count() == 3
    assert all(r.not_before == _at(8) for r in rows)  # a 02:00 run waits for 08:00 local
    assert CaseEvent.objects.filter(kind="sms_status", data__to="queued").count() == 3


def test_database_refuses_a_second_row_for_case_template_day():
    from django.db import IntegrityError, transaction

    case = _sms_case(20)
    sms = OutboundSms.objects.create(case=case, customer=case.customer, template_code="reminder", send_day=DAY,
                                     idempotency_key="x1", origin="agent", not_before=_at(8), expires_at=_at(21))
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundSms.objects.create(case=case, customer=case.customer, template_code="reminder", send_day=DAY,
                                   idempotency_key="x2", origin="strategy", not_before=_at(8), expires_at=_at(21))
    assert sms.pk


# ---- crash safety ------------------------------------------------------------------------------------
def test_crash_between_submit_and_status_update_never_sends_twice(smsc, gw):
    """The worker dies right after the SMSC accepted the submit (before ``submitted`` is written):
    later passes do not submit it again; the receipt reconciles it to submitted → delivered."""
    case = _sms_case(30)
    _enqueue(DAY, _at(7))

    class Crash(BaseException):
        pass

    real = services._record_outcome

    def crash(*a, **k):
        raise Crash()

    with mock.patch.object(services, "_record_outcome", crash), pytest.raises(Crash):
        _dispatch(_at(9), gw)
    sms = OutboundSms.objects.get(case=case)
    assert sms.status == "queued" and sms.submit_started_at is not None and sms.in_doubt
    assert sum(smsc.messages.values()) == 1
    for minutes in (10, 20, 60, 300):  # the worker comes back, again and again (lease expired too)
        _dispatch(_at(9) + dt.timedelta(minutes=minutes), gw)
    assert sum(smsc.messages.values()) == 1 and smsc.duplicates == 0
    assert services._record_outcome is real
    _receipts(gw, _at(15))  # the receipt arrived on the session
    sms.refresh_from_db()
    assert sms.status == "delivered", (sms.status, sms.error)
    assert ContactAttempt.objects.filter(case=case, channel="sms").count() == 1
    kinds = list(CaseEvent.objects.filter(case=case, kind="sms_status").order_by("id").values_list("data__to", flat=True))
    assert kinds == ["queued", "submitted", "delivered"]


def test_connection_lost_after_the_submit_left_is_in_doubt_not_retried(smsc, gw):
    """The SMSC took the message and the connection broke before submit_sm_resp."""
    case = _sms_case(31)
    _enqueue(DAY, _at(7))
    smsc.drop_after_submits = 1
    out = _dispatch(_at(9), gw)
    assert out["in_doubt"] == 1
    _dispatch(_at(10), gw)
    _dispatch(_at(11), gw)
    assert smsc.submits == 1 and len(smsc.parts_received) == 1  # nothing was written again
    sms = OutboundSms.objects.get(case=case)
    assert sms.in_doubt and sms.status == "queued"
    # no receipt ever comes: it expires for review, never resent
    _dispatch(sms.expires_at + services.RECEIPT_WAIT + dt.timedelta(minutes=1), gw)
    sms.refresh_from_db()
    assert sms.status == "expired" and smsc.submits == 1


# ---- retries, permanent failures, receipts -----------------------------------------------------------
def test_transient_refusal_is_retried_with_backoff_and_sent_once(smsc, gw):
    case = _sms_case(40)
    _enqueue(DAY, _at(7))
    smsc.throttle_first = 1
    out = _dispatch(_at(9), gw)
    assert out["retry"] == 1
    sms = OutboundSms.objects.get(case=case)
    assert sms.status == "queued" and sms.submit_started_at is None and sms.not_before == _at(9, 1)
    assert _dispatch(_at(9, 0, DAY) + dt.timedelta(seconds=30), gw)["claimed"] == 0  # backoff holds
    out = _dispatch(_at(9, 2), gw)
    assert out["submitted"] == 1
    assert smsc.submits == 3 and sum(smsc.messages.values()) == 1  # 1 refused part, then both parts once


def test_permanent_refusal_fails_and_flags_the_number_for_the_desk(smsc, gw):
    case = _sms_case(41)
    smsc.reject[_mobile(case).value] = 0x0B  # ESME_RINVDSTADR
    _enqueue(DAY, _at(7))
    assert _dispatch(_at(9), gw)["failed"] == 1
    sms = OutboundSms.objects.get(case=case)
    assert sms.status == "failed" and "0x0000000B" in sms.error
    flag = NumberFlag.objects.get(contact=_mobile(case))
    assert flag.cleared_at is None
    assert CaseEvent.objects.filter(case=case, kind="sms_number_flagged").exists()
    # the next message to that customer is not sent to the flagged number
    Case.objects.filter(pk=case.pk).update(action_params='{"template":"overdue_notice"}')
    _enqueue(DAY, _at(10))
    _dispatch(_at(10), gw)
    nxt = OutboundSms.objects.get(case=case, template_code="overdue_notice")
    assert nxt.status == "cancelled" and nxt.error == "number_flagged"


def test_undeliverable_receipt_fails_and_flags_delivered_receipts_complete(smsc, gw):
    good, bad = _sms_case(42), _sms_case(43)
    smsc.undeliverable[_mobile(bad).value] = "001"
    _enqueue(DAY, _at(7))
    assert _dispatch(_at(9), gw)["submitted"] == 2
    _receipts(gw, _at(9, 1))
    g, b = OutboundSms.objects.get(case=good), OutboundSms.objects.get(case=bad)
    assert g.status == "delivered" and g.parts == 2  # a concatenated message: both parts delivered
    assert b.status == "failed" and "UNDELIV" in b.error
    assert NumberFlag.objects.filter(contact=_mobile(bad)).exists()
    assert list(CaseEvent.objects.filter(case=good, kind="sms_status").order_by("id").values_list("data__to", flat=True)) \
        == ["queued", "submitted", "delivered"]


def test_illegal_transition_is_refused_and_writes_nothing():
    case = _sms_case(44)
    sms = OutboundSms.objects.create(case=case, customer=case.customer, template_code="reminder", send_day=DAY,
                                     idempotency_key="k44", origin="agent", not_before=_at(8), expires_at=_at(21),
                                     status="delivered")
    with pytest.raises(services.IllegalSmsTransition):
        services.transition(sms, "submitted")
    assert not CaseEvent.objects.filter(case=case, kind="sms_status").exists()
    assert set(services.TRANSITIONS["queued"]) == {"submitted", "failed", "expired", "cancelled"}


def test_per_debtor_daily_cap_defers_to_the_next_day(smsc, gw):
    case = _sms_case(45)
    user_now = _at(10)
    for code in ("reminder", "overdue_notice", "ptp_broken"):
        with mock.patch("django.utils.timezone.now", return_value=user_now):
            services.queue_for_case(case, code, now=user_now)
    out = _dispatch(_at(10), gw)
    assert out["submitted"] == 2 and out["deferred_cap"] == 1
    waiting = OutboundSms.objects.get(case=case, status="queued")
    assert waiting.not_before == _at(8, 0, DAY + dt.timedelta(days=1)) and waiting.deferred_reason == "daily_cap"
    assert _dispatch(_at(8, 0, DAY + dt.timedelta(days=1)), gw)["submitted"] == 1


def test_agent_cannot_queue_the_same_template_twice_a_day():
    case = _sms_case(46)
    with mock.patch("django.utils.timezone.now", return_value=_at(10)):
        services.queue_for_case(case, "reminder", now=_at(10))
        with pytest.raises(services.SmsRefused) as exc:
            services.queue_for_case(case, "reminder", now=_at(11))
    assert exc.value.code == "duplicate_today"
    with pytest.raises(services.SmsRefused) as exc:
        services.queue_for_case(case, "nope", now=_at(11))
    assert exc.value.code == "no_template"


def test_rate_limiter_spaces_messages():
    clock = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        clock[0] += s

    lim = services.RateLimiter(10, clock=lambda: clock[0], sleep=sleep)
    for _ in range(30):
        lim.acquire()
    assert clock[0] == pytest.approx(2.0, abs=0.01)  # 10 at once, then 10 per second


# ---- inbound ----------------------------------------------------------------------------------------
def test_opt_out_reply_opts_the_number_out_and_the_gate_then_refuses(smsc, gw):
    case = _sms_case(50)
    mobile = _mobile(case)
    gw.ensure_bound()
    smsc.send_mo("+86 " + mobile.value, "ＴＤ")
    _receipts(gw, _at(12))
    assert ContactRestriction.objects.filter(contact=mobile, kind="opted_out").exists()
    inbound = InboundSms.objects.get()
    assert inbound.outcome == "opted_out" and inbound.customer_id == case.customer_id
    assert CaseEvent.objects.filter(case=case, kind="sms_opt_out").exists()
    _enqueue(DAY, _at(7))
    _dispatch(_at(13), gw)
    sms = OutboundSms.objects.get(case=case)
    assert sms.status == "cancelled" and sms.error == "opted_out"
    assert sum(smsc.messages.values()) == 0


def test_other_reply_becomes_a_task_for_the_cases_agent(smsc, gw):
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.create_user("agent_sms", password="x-Agent-2026-pw")
    case = _sms_case(51)
    Case.objects.filter(pk=case.pk).update(assigned_to=agent)
    gw.ensure_bound()
    smsc.send_mo(_mobile(case).value, "我下周五还款，谢谢")
    _receipts(gw, _at(12))
    task = SmsReplyTask.objects.get()
    assert task.case_id == case.pk and task.assigned_to == agent and task.inbound.text == "我下周五还款，谢谢"
    assert CaseEvent.objects.filter(case=case, kind="sms_reply").exists()
    # the SMSC redelivers the same deliver_sm: one inbound row
    services.handle_inbound(Inbound(_mobile(case).value, "x", _at(12), ref=task.inbound.gateway_ref), "smpp")
    assert InboundSms.objects.count() == 1


def test_reply_from_an_unknown_number_is_kept_unmatched():
    services.handle_inbound(Inbound("13999999999", "TD", _at(12), ref="u1"), "smpp")
    assert InboundSms.objects.get().outcome == "unmatched" and not ContactRestriction.objects.exists()


# ---- R14: never at night in the debtor's own zone --------------------------------------------------
@pytest.mark.parametrize("day", [dt.date(2025, 3, 5), dt.date(2025, 3, 9)])  # an ordinary day and NY's DST day
def test_r14_debtors_in_three_zones_only_inside_their_local_window(smsc, gw, day):
    """Jobs at 08:00 and 20:00 UTC; D1 New York, D2 Tokyo, D3 Berlin; window 08:00–21:00 local."""
    debtors = {"America/New_York": _sms_case(61, "America/New_York", decided=day),
               "Asia/Tokyo": _sms_case(62, "Asia/Tokyo", decided=day),
               "Europe/Berlin": _sms_case(63, "Europe/Berlin", decided=day)}
    utc = ZoneInfo("UTC")
    _enqueue(day, _at(0, 0, day, utc))
    runs = [_at(8, 0, day, utc), _at(20, 0, day, utc)]
    # the job runs at 08:00 and 20:00 UTC; the worker also wakes at every held message's time (what
    # tasks.schedule_wakeup asks the queue for) — all in time order
    jobs = list(runs)
    for _ in range(8):
        waiting = OutboundSms.objects.filter(status="queued", submit_started_at__isnull=True) \
            .order_by("not_before").values_list("not_before", flat=True).first()
        times = [t for t in jobs] + ([waiting] if waiting else [])
        if not times:
            break
        now = min(times)
        if now in jobs:
            jobs.remove(now)
        _dispatch(now, gw)
    ny = OutboundSms.objects.get(case=debtors["America/New_York"])
    assert ny.submitted_at == _at(8, 0, day, ZoneInfo("America/New_York"))  # held from 03:00/04:00 to 08:00 local
    for tz, case in debtors.items():
        sms = OutboundSms.objects.get(case=case)
        assert sms.status in ("submitted", "delivered"), (tz, sms.status, sms.error)
        local = sms.submitted_at.astimezone(ZoneInfo(tz))
        assert dt.time(8) <= local.time() < dt.time(21), (tz, local)
        att = ContactAttempt.objects.get(case=case, channel="sms")
        assert att.at == sms.submitted_at
        ev = CaseEvent.objects.get(case=case, kind="sms_status", data__to="submitted")
        assert ev.data["local_time"] == local.isoformat()  # each attempt logged with its local time
    assert smsc.duplicates == 0 and sum(smsc.messages.values()) == 3


# ---- R19: one language per message ------------------------------------------------------------------
def test_r19_language_of_the_debtor_and_full_fallback(smsc, gw):
    en = _sms_case(71, language="en-US")
    fr = _sms_case(72, language="fr-FR")
    zh = _sms_case(73, language="zh-hans")
    for c in (en, fr, zh):
        c.customer.accounts.update(oldest_unpaid_due_date=dt.date(2025, 2, 3), external_id=f"6222000011112{c.pk:03d}")
    Case.objects.filter(pk__in=[en.pk, fr.pk, zh.pk]).update(overdue_amount=Decimal("1234.50"),
                                                             action_params='{"template":"overdue_notice"}',
                                                             last_run_as_of=dt.date(2025, 2, 3))
    _enqueue(DAY, _at(7))
    _dispatch(_at(9), gw)
    e, f, z = (OutboundSms.objects.get(case=c) for c in (en, fr, zh))
    assert {e.status, f.status, z.status} <= {"submitted", "delivered"}, (e.error, f.error, z.error)
    assert e.language == "en" and not e.language_fallback
    assert e.body.startswith("【Shenzhen Example Bank】") and e.body.endswith("Reply TD to opt out")
    assert "3 February 2025" in e.body and "CNY 1,234.50" in e.body
    import re

    assert not re.search(r"[\u4e00-\u9fff]", e.body)  # no Chinese anywhere in the English message
    assert f.language == "zh-hans" and f.language_fallback == "fr-fr→zh-hans"  # the fallback is logged
    assert f.body.startswith("【深圳示例银行】") and f.body.endswith("回复TD退订") and "2025年2月3日" in f.body
    assert "1,234.50元" in f.body and not re.search(r"[A-Za-z]{3,}", f.body.replace("TD", ""))
    assert z.body == f.body.replace(f"尾号{f.body.split('尾号')[1][:4]}", f"尾号{z.body.split('尾号')[1][:4]}")
    ev = CaseEvent.objects.get(case=fr, kind="sms_status", data__to="submitted")
    assert ev.data["language_fallback"] == "fr-fr→zh-hans"
    assert {text for (_n, text) in smsc.messages} == {e.body, f.body, z.body}


def test_content_is_screened_again_for_every_rendered_message(smsc, gw):
    """A version that slipped through (inserted directly) is caught when the message is rendered."""
    from arrears.contexts.contact.sms.models import SmsTemplate

    SmsTemplate.objects.filter(code="reminder", language="zh-hans").update(
        body="再不还钱就上门找你，通知你单位领导。尾号{{ card_last4 }}")
    case = _sms_case(80)
    _enqueue(DAY, _at(7))
    out = _dispatch(_at(9), gw)
    sms = OutboundSms.objects.get(case=case)
    assert out["failed"] == 1 and sms.status == "failed" and "screening" in CaseEvent.objects.get(
        case=case, kind="sms_status", data__to="failed").data["problems"]
    assert sum(smsc.messages.values()) == 0


def test_gateway_unreachable_is_retried_not_in_doubt():
    case = _sms_case(81)
    _enqueue(DAY, _at(7))
    dead = SmppGateway(SmppSettings(port=1, reconnect_tries=1, timeout_s=0.5), sleep=lambda s: None)
    out = _dispatch(_at(9), dead)
    assert out["retry"] == 1
    sms = OutboundSms.objects.get(case=case)
    assert sms.submit_started_at is None and sms.status == "queued" and sms.attempts == 1
    assert isinstance(GatewayError("x"), Exception)

"""SMS pages (template editor with htmx preview, case panel) and the SMPP client against the local
SMPP 3.4 server: bind, wrong credentials, submit_sm with UCS-2/GSM-7 and UDH/SAR concatenation,
delivery receipts, enquire_link, replies and reconnects."""
from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from arrears.contexts.contact.sms.models import OutboundSms, SmsTemplate
from arrears.adapters.smpp import Inbound, Outgoing, Receipt, SmppGateway, SmppSettings, Submitted
from devtools.smpp_testserver import SmppTestServer

from .test_scope import _case


# ---- SMPP against the local server ---------------------------------------------------------------
def _gw(srv, **kw):
    return SmppGateway(SmppSettings(port=srv.port, source_addr="10690000", timeout_s=5, **kw), sleep=lambda s: None)


def _poll_until(gw, n, wait=2.0):
    got = []
    deadline = time.monotonic() + wait
    while len(got) < n and time.monotonic() < deadline:
        got += gw.poll(0.05)
    return got


@pytest.mark.parametrize("concat", ["udh", "sar"])
def test_submit_concatenated_ucs2_and_gsm7_and_receipts(concat):
    zh = "【深圳示例银行】" + "尊敬的客户，您的信用卡已逾期，请尽快还款。" * 6 + "回复TD退订"
    en = "Your card payment is overdue {ref} [x] € " * 6
    with SmppTestServer(system_id="bank", password="pw") as srv:
        gw = _gw(srv, system_id="bank", password="pw", concat=concat)
        res = gw.submit_many([Outgoing("a", "13800000001", zh), Outgoing("b", "13800000002", en)])
        assert all(isinstance(r, Submitted) for r in res)
        assert len(res[0].message_ids) == 3 and len(res[1].message_ids) == 2
        assert srv.messages[("13800000001", zh)] == 1 and srv.messages[("13800000002", en)] == 1
        codings = {p["destination"]: p["data_coding"] for p in srv.parts_received}
        assert codings == {"13800000001": 8, "13800000002": 0}
        if concat == "udh":
            assert all(p["esm_class"] & 0x40 for p in srv.parts_received)
        else:
            assert all(p["sar"][1] for p in srv.parts_received) and not any(p["esm_class"] & 0x40
                                                                             for p in srv.parts_received)
        receipts = [e for e in _poll_until(gw, 5) if isinstance(e, Receipt)]
        assert {r.message_id for r in receipts} == set(res[0].message_ids + res[1].message_ids)
        assert all(r.state == "DELIVRD" and r.error == "000" for r in receipts)
        gw.close()


def test_bind_with_wrong_password_is_refused_and_reported():
    from arrears.adapters.smpp import GatewayError

    with SmppTestServer(system_id="bank", password="pw") as srv:
        gw = _gw(srv, system_id="bank", password="wrong", reconnect_tries=2)
        with pytest.raises(GatewayError) as exc:
            gw.ensure_bound()
        assert exc.value.transient and not exc.value.maybe_sent and srv.binds == 0


def test_enquire_link_reply_and_reconnect():
    with SmppTestServer() as srv:
        gw = _gw(srv)
        gw.enquire_link()
        assert srv.enquire_links == 1
        srv.send_mo("13800000009", "退订")
        ev = _poll_until(gw, 1)
        assert ev and isinstance(ev[0], Inbound) and ev[0].text == "退订" and ev[0].source == "13800000009"
        srv.drop_connections()
        time.sleep(0.1)
        res = gw.submit_many([Outgoing("r", "13800000003", "hello")])
        assert isinstance(res[0], Submitted) and gw.binds == 2 and srv.binds == 2
        gw.close()


def test_refusal_statuses_come_back_with_their_code():
    with SmppTestServer() as srv:
        srv.reject["13800000004"] = 0x0B
        srv.throttle_first = 1
        gw = _gw(srv)
        r1, r2 = gw.submit_many([Outgoing("t", "13800000005", "x"), Outgoing("u", "13800000004", "y")])
        assert r1.status == 0x58 and r1.transient and not r1.maybe_sent
        assert r2.status == 0x0B and not r2.transient
        gw.close()


# ---- pages ------------------------------------------------------------------------------------------
def _user(db, role: str):
    u = get_user_model().objects.create_user(f"sms_{role}", password="Sms-test-2026!")
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    return u


@pytest.mark.django_db
def test_editor_refuses_sandbox_escape_and_saves_a_screened_version(client, db):
    client.force_login(_user(db, "supervisor"))
    url = reverse("sms:templates")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"code": "reminder", "language": "zh-hans", "body": "您好{{ ''.__class__ }}",
                            "min_interval_days": 7})
    assert bad.status_code == 400 and SmsTemplate.objects.filter(code="reminder").count() == 2
    threat = client.post(url, {"code": "reminder", "language": "zh-hans", "min_interval_days": 7,
                               "body": "再不还钱就上门找你，尾号{{ card_last4 }}", "variables": ["card_last4"]})
    assert threat.status_code == 400 and "CN-PROHIBIT" in threat.content.decode()
    ok = client.post(url, {"code": "reminder", "language": "zh-hans", "min_interval_days": 7, "activate": "on",
                           "body": "您尾号{{ card_last4 }}的信用卡已逾期，请尽快还款。", "variables": ["card_last4"]})
    assert ok.status_code == 302
    active = SmsTemplate.objects.get(code="reminder", language="zh-hans", status="active")
    assert active.version == 2 and active.created_by.username == "sms_supervisor"


@pytest.mark.django_db
def test_preview_shows_segments_via_htmx(client, db):
    client.force_login(_user(db, "team_leader"))
    resp = client.post(reverse("sms:preview"), {"body": "您尾号{{ card_last4 }}的信用卡已逾期。" * 4,
                                                "variables": ["card_last4"], "language": "zh-hans"},
                       HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and "UCS-2" in html and "【深圳示例银行】" in html and "回复TD退订" in html
    assert "共 2 条" in html
    # the team leader may view but not save
    assert client.post(reverse("sms:templates"), {"code": "x1", "language": "zh-hans", "body": "您好",
                                                  "min_interval_days": 7}).status_code == 403


@pytest.mark.django_db
def test_collectors_cannot_open_the_template_page(client, db):
    client.force_login(_user(db, "collector"))
    assert client.get(reverse("sms:templates")).status_code == 403


@pytest.mark.django_db
def test_case_panel_send_and_read_only_roles(client, db):
    collector = _user(db, "collector")
    case = _case(90, "CUST-SMS-PAGE")
    case.assigned_to = collector
    case.save()
    client.force_login(collector)
    url = reverse("sms:case_panel", args=[case.pk])
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    resp = client.post(url, {"action": "send", "template": "reminder"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and OutboundSms.objects.filter(case=case, origin="agent").count() == 1
    again = client.post(url, {"action": "send", "template": "reminder"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and OutboundSms.objects.filter(case=case).count() == 1
    client.force_login(_user(db, "compliance_officer"))
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "send", "template": "overdue_notice"}).status_code == 403
    detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert url in detail  # the case page loads the panel

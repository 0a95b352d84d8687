"""The case money API (promises, plans, settlements) and the case page's money panel: scope and
roles, maker-checker through the API, the timeline naming the money events in both languages."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone, translation

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.models import Case
from arrears.contexts.casework.selectors import event_label, open_case_for_customer
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Customer
from arrears.contexts.money.servicing.models import CollectionHold, Settlement
from arrears.contexts.org.users.models import Team

pytestmark = pytest.mark.django_db
CONTENTS = {"balance": "欠款1,200.00元，本金1,200.00元，人民币", "repayment": "每月15日还款，共3期",
            "charges": "还款期间不计收年费和利息", "no_new_cards": "结清前不向任何银行申领信用卡",
            "rights_and_breach": "逾期超过5天视为违约", "other": "无"}


def _user(django_user_model, name, *roles):
    u = django_user_model.objects.create_user(name, password="Money-api-2026!")
    for r in roles:
        u.groups.add(Group.objects.get_or_create(name=r)[0])
    return u


@pytest.fixture
def world(django_user_model):
    today = timezone.localdate()
    customer = Customer.objects.create(external_id="CUST-M", name="李四", timezone="Asia/Shanghai")
    CardAccount.objects.create(customer=customer, external_id="ACC-M", credit_limit=D("5000.00"),
                               balance=D("1200.00"), principal=D("1200.00"), overdue_amount=D("400.00"),
                               oldest_unpaid_due_date=today - timedelta(days=20), as_of_extract=today, dpd=20,
                               bucket="M1")
    collector = _user(django_user_model, "col", "collector")
    leader = _user(django_user_model, "lead", "team_leader")
    team = Team.objects.create(name="催收一组", department="collection", leader=leader)
    case = Case.objects.create(customer=customer, opened_on=today - timedelta(days=20), bucket="M1", max_dpd=20,
                               total_balance=D("1200.00"), overdue_amount=D("400.00"), assigned_to=collector,
                               team=team)
    other = Customer.objects.create(external_id="CUST-O", name="王五", timezone="Asia/Shanghai")
    out = Case.objects.create(customer=other, opened_on=today, bucket="M1", max_dpd=5, total_balance=D("10.00"),
                              overdue_amount=D("10.00"))
    users = {"collector": collector, "leader": leader,
             "compliance": _user(django_user_model, "comp", "compliance_officer"),
             "supervisor": _user(django_user_model, "sup", "supervisor"),
             "agency": _user(django_user_model, "agc", "agency_collector")}
    return users, case, out, today


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_promise_taken_listed_and_scoped(world):
    users, case, out, today = world
    c = _client(users["collector"])
    url = f"/api/v1/payments/cases/{case.pk}/promises/"
    body = {"amount": "300.00", "promised_on": (today + timedelta(days=3)).isoformat(), "channel": "phone"}
    r = c.post(url, body, content_type="application/json")
    assert r.status_code == 201, r.content
    p = PromiseToPay.objects.get(pk=r.json()["id"])
    assert (p.amount, p.agent_id, p.status, p.case_id) == (D("300.00"), users["collector"].pk, "open", case.pk)
    listed = c.get(url).json()["results"]
    assert [(x["id"], x["amount"], x["status"]) for x in listed] == [(p.pk, "300.00", "open")]
    bad = c.post(url, {**body, "promised_on": (today - timedelta(days=1)).isoformat()},
                 content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "promised_on"
    # read-only role: may read, may not write
    comp = _client(users["compliance"])
    assert comp.get(url).status_code == 200
    assert comp.post(url, body, content_type="application/json").status_code == 403
    # outside the scope: 404 whatever the method, and audited
    before = AuditEvent.objects.filter(action="access.denied").count()
    assert c.post(f"/api/v1/payments/cases/{out.pk}/promises/", body,
                  content_type="application/json").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 1
    assert PromiseToPay.objects.count() == 1


def test_plan_maker_checker_and_signing_through_the_api(world):
    users, case, _, today = world
    c = _client(users["collector"])
    base = f"/api/v1/payments/cases/{case.pk}/plans/"
    r = c.post(base, {"account": "ACC-M", "term_months": 3, "first_due": (today + timedelta(days=10)).isoformat(),
                      "contents": CONTENTS, "hardship_confirmed": True, "willing_to_repay": True},
               content_type="application/json")
    assert r.status_code == 201, r.content
    plan_id = r.json()["id"]
    assert r.json()["total"] == "1200.00"
    # 61 months and no contents: every problem at once (DRF caps the term first)
    assert c.post(base, {"account": "ACC-M", "term_months": 61, "first_due": today.isoformat(), "contents": {},
                         "hardship_confirmed": True, "willing_to_repay": True},
                  content_type="application/json").status_code == 400
    # an empty request lists the missing fields; a collector may not approve at all; the maker may
    # not approve even with the checker's role
    assert c.post(base, {}, content_type="application/json").status_code == 400
    assert c.post(base + "approve/", {"plan": plan_id}, content_type="application/json").status_code == 403
    both = _user_with_roles(users["collector"], "team_leader")
    refused = _client(both).post(base + "approve/", {"plan": plan_id}, content_type="application/json")
    assert refused.status_code == 400 and "maker-checker" in refused.json()["details"]["problems"][0]
    leader = _client(users["leader"])
    ok = leader.post(base + "approve/", {"plan": plan_id}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = leader.post(base + "approve/", {"plan": plan_id}, content_type="application/json")
    assert again.status_code == 409  # approved → approved is not in the map
    assert c.post(base + "sign/", {"plan": plan_id, "signature": " "}, content_type="application/json").status_code == 400
    signed = c.post(base + "sign/", {"plan": plan_id, "signature": "recording:REC-9"},
                    content_type="application/json")
    assert signed.status_code == 200 and signed.json()["status"] == "active"
    assert CollectionHold.objects.get(reference=f"plan:{plan_id}").kind == "payment_plan"
    rows = c.get(base).json()["results"]
    assert rows[0]["status"] == "active" and rows[0]["amount_due_now"] == "0.00"
    assert rows[0]["next_due_date"] == (today + timedelta(days=10)).isoformat()
    # a plan id of another customer is not found through this case
    assert leader.post(base + "approve/", {"plan": plan_id + 999}, content_type="application/json").status_code == 400


def _user_with_roles(user, *roles):
    for r in roles:
        user.groups.add(Group.objects.get_or_create(name=r)[0])
    return user


def test_settlement_request_and_approval_within_authority(world):
    users, case, _, today = world
    c = _client(users["collector"])
    base = f"/api/v1/payments/cases/{case.pk}/settlements/"
    body = {"account": "ACC-M", "waived": "480.00", "deadline": (today + timedelta(days=14)).isoformat(),
            "reason": "困难减免"}
    r = c.post(base, body, content_type="application/json")
    assert r.status_code == 201 and r.json()["payoff"] == "720.00"
    big = r.json()["id"]
    # 480.00 of 1,200.00 = 40 % > a team leader's 30 % → refused with the reason; a supervisor (50 %) may
    refused = _client(users["leader"]).post(base + "approve/", {"settlement": big}, content_type="application/json")
    assert refused.status_code == 400 and "exceeds" in refused.json()["details"]["problems"][0]
    ok = _client(users["supervisor"]).post(base + "approve/", {"settlement": big}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert Settlement.objects.get(pk=big).approved_by_id == users["supervisor"].pk
    assert c.post(base + "approve/", {"settlement": big}, content_type="application/json").status_code == 403
    assert _client(users["agency"]).post(base, body, content_type="application/json").status_code == 404  # not placed
    wrong = c.post(base, {**body, "account": "ACC-OTHER"}, content_type="application/json")
    assert wrong.status_code == 400
    assert [s["status"] for s in c.get(base).json()["results"]] == ["approved"]


def test_case_page_money_panel_and_event_labels(world):
    users, case, _, today = world
    c = _client(users["collector"])
    c.post(f"/api/v1/payments/cases/{case.pk}/promises/",
           {"amount": "300.00", "promised_on": (today + timedelta(days=3)).isoformat()}, content_type="application/json")
    with translation.override("zh-hans"):
        html = c.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-money"' in html and 'id="case-promises"' in html and "300.00" in html
    assert "待兑现" in html  # the promise's status
    for code in ("promise_kept", "promise_broken", "waiver_recorded", "payment_posted", "plan_active",
                 "settlement_paid"):
        with translation.override("zh-hans"):
            assert event_label(code) != code
    with translation.override("zh-hans"):
        assert event_label("waiver_recorded") == "减免入账"


def test_open_case_for_customer_selector(world):
    users, case, _, today = world
    ref = open_case_for_customer(case.customer_id)
    assert (ref.id, ref.customer_id, ref.status, ref.timezone, ref.is_closed) == (
        case.pk, case.customer_id, case.status, "Asia/Shanghai", False)
    Case.objects.filter(pk=case.pk).update(status="closed_paid", closed_on=today)
    assert open_case_for_customer(case.customer_id) is None
    assert open_case_for_customer(case.customer_id, latest=True).id == case.pk

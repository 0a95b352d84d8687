"""The field agent's phone page in a real browser (Chromium via Playwright): phone viewport,
geolocation granted at the debtor's address; check-in, visit report, check-out.

The server's clock is fixed at 10:00 on the visit day (the compliance gate forbids visits
22:00–08:00, so the test must not depend on when it runs). Screenshot: ``field_mobile.png``.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from arrears.contexts.casework.models import Case
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.contact.fieldwork import services
from arrears.contexts.contact.fieldwork.models import FieldCredential, FieldVisit
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer
from arrears.contexts.org.users.models import StaffProfile, Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ARREARS_SCREENSHOTS", "/tmp"))
BJ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)
HOME = (22.5444302, 114.0397861)
NOW = dt.datetime.combine(DAY, dt.time(10, 0), tzinfo=BJ)


@pytest.fixture
def visit(db):
    User = get_user_model()
    leader = User.objects.create_user("leader", password="x-Field-2026")
    leader.groups.add(Group.objects.get_or_create(name="team_leader")[0])
    team = Team.objects.create(name="外访一组", department="field", leader=leader, districts=["福田区"])
    agents = []
    for name, number in (("fa1", "F0001"), ("fa2", "F0002")):
        u = User.objects.create_user(name, password="x-Field-2026", first_name="外访" + name[-1])
        u.groups.add(Group.objects.get_or_create(name="field_agent")[0])
        StaffProfile.objects.create(user=u, team=team)
        FieldCredential.objects.create(user=u, staff_number=number, issuer="示范银行信用卡中心")
        agents.append(u)
    c = Customer.objects.create(external_id="CF0001", name="张三", district="福田区")
    Contact.objects.create(customer=c, external_id="h", kind="home_address", party="debtor",
                           value="广东省深圳市福田区景田路88号", district="福田区", latitude=HOME[0], longitude=HOME[1])
    CardAccount.objects.create(customer=c, external_id="A1", credit_limit=Decimal("10000.00"),
                               balance=Decimal("5000.00"), as_of_extract=DAY, dpd=75, bucket="M3")
    case = Case.objects.create(customer=c, opened_on=DAY - dt.timedelta(days=70), bucket="M3", max_dpd=75,
                               total_balance=Decimal("5000.00"), status="in_collection")
    with mock.patch("django.utils.timezone.now", return_value=NOW - dt.timedelta(days=1)):
        v = services.request_visit(case, actor=agents[0], day=DAY, reason="电话失联")
        v = services.approve(v, actor=leader, agent=agents[0], partner=agents[1])
    return v, agents[0]


def test_check_in_report_and_check_out_on_a_phone(live_server, browser, visit):
    from playwright.sync_api import expect

    v, agent = visit
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        client = Client()
        client.force_login(agent)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
            has_touch=True, geolocation={"latitude": HOME[0] + 0.0002, "longitude": HOME[1], "accuracy": 12},
            permissions=["geolocation"])
        try:
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": live_server.url}])
            page = context.new_page()
            page.set_default_timeout(20000)
            page.goto(live_server.url + "/field/")
            expect(page.locator("#staff-id [data-staff-number]")).to_have_text("F0001")
            expect(page.locator("#staff-id [data-issuer]")).to_have_text("示范银行信用卡中心")
            expect(page.locator("#route")).to_contain_text("景田路88号")  # own visit, visit day: full address
            page.locator("#route a", has_text=f"C{v.case_id}").click()
            page.wait_for_url(re.compile(rf".*/field/cases/{v.case_id}/$"))
            expect(page.locator("#geo-status")).to_have_attribute("data-ready", "1")
            assert float(page.locator("#checkin-form input[name=lat]").input_value()) == pytest.approx(HOME[0] + 0.0002)
            page.fill("#rec", "BWC-0302-01")
            page.locator("#checkin").click()
            expect(page.locator("#visit")).to_have_attribute("data-status", "in_progress")
            page.screenshot(path=str(SHOTS / "field_mobile.png"), full_page=True)
            # the report: met the debtor, a promise
            page.select_option("#met", "met_debtor")
            page.select_option("#outcome", "promise")
            page.fill("#amount", "1500.00")
            page.fill("#pdate", (DAY + dt.timedelta(days=7)).isoformat())
            page.fill("#notes", "本人在家，同意下周还款")
            page.locator("#submit-report").click()
            expect(page.locator("#reported")).to_be_visible()
            page.locator("#checkout").click()
            expect(page.locator("#history")).to_contain_text("已完成")
            expect(page.locator("#visit")).to_have_count(0)
            # the page fits the phone: no horizontal scrolling
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        finally:
            context.close()
    v.refresh_from_db()
    assert v.status == "done" and v.outcome == "met_debtor" and v.checkin_distance_m < 50
    assert v.recording_ref == "BWC-0302-01"
    assert PromiseToPay.objects.get(case_id=v.case_id).amount == Decimal("1500.00")
    assert ContactAttempt.objects.filter(case_id=v.case_id, channel="field_visit", outcome="rpc").exists()
    assert FieldVisit.objects.filter(pk=v.pk, checkout_at=NOW).exists()

"""The phone desk in a real browser (Chromium through Playwright), issue 7.

An agent logs in, takes the next case from the queue, sees the call workspace (a third party who
refused further contact is shown blocked, with the gate's reason), dials the debtor through the
gate and records a promise to pay. The business clock is fixed at 10:00 Shanghai time (the gate
reads the debtor's local time). Screenshot: ``$ARREARS_SCREENSHOTS/phone_desk.png``.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest

from arrears.contexts.contact.desk import services
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.money.servicing.models import ContactRestriction

from tests.integration.test_desk_phone import SH, TODAY, make_case, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ARREARS_SCREENSHOTS", "/tmp"))
NOW = dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=SH)


@pytest.fixture
def clock():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


def test_agent_takes_next_case_and_records_a_promise(live_server, page, clock):
    from arrears.contexts.org.users.models import Team

    team = Team.objects.create(name="电催浏览器组", department="collection")
    agent = make_user("phone-agent", "collector", team)
    agent.set_password("Phone-desk-e2e-2026")
    agent.save()
    case = make_case(41, team=team, agent=agent, priority=1, emergency=True)
    third = case.customer.contacts.get(party="emergency")
    ContactRestriction.objects.create(contact=third, kind="refused", since=NOW - dt.timedelta(days=2))
    services.sync_queue()

    page.goto(live_server.url + "/desk/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "phone-agent")
    page.fill("#id_password", "Phone-desk-e2e-2026")
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(f"{live_server.url}/desk/")
    page.locator("#next-case").click()
    page.wait_for_url(f"{live_server.url}/desk/cases/{case.pk}/")

    # the third party who refused is blocked, with the reason from the gate
    blocked = page.locator(f"#numbers tr[data-contact='{third.pk}']")
    assert "不可拨打" in blocked.inner_text()
    assert "CN-WHO" in blocked.locator("td.reasons").inner_text()
    assert blocked.locator("button.dial").count() == 1
    # the debtor's number is masked and callable
    debtor = case.customer.contacts.get(party="debtor")
    row = page.locator(f"#numbers tr[data-contact='{debtor.pk}']")
    assert "****" in row.inner_text() and "可拨打" in row.inner_text()
    assert "13900000041" not in page.content()
    assert page.locator("#script").inner_text().strip() and page.locator("#balance").inner_text().count("¥") >= 0

    # the blocked third party: dialing is refused and the refusal is shown
    blocked.locator("button.dial").click()
    page.wait_for_selector("#dial-refusal")
    assert "CN-WHO" in page.locator("#dial-refusal").inner_text()

    row = page.locator(f"#numbers tr[data-contact='{debtor.pk}']")
    row.locator("button.dial").click()
    page.wait_for_selector("#outcome form")
    page.select_option("#id_result_code", "promise_to_pay")
    page.fill("#id_promise_amount", "800.00")
    page.fill("#id_promise_date", (TODAY + dt.timedelta(days=3)).isoformat())
    # the dialer issued the recording reference: shown, never typed
    assert page.locator("#id_recording_id").count() == 0 and "REC-desk-call-" in page.locator("#recording-ref").inner_text()
    page.fill("#id_notes", "客户承诺周四还款")
    page.screenshot(path=str(SHOTS / "phone_desk.png"), full_page=True)
    page.locator("#save-outcome").click()
    page.wait_for_url(f"{live_server.url}/desk/")
    assert "已记录承诺还款" in page.content()

    ptp = PromiseToPay.objects.get(case=case)
    assert ptp.amount == Decimal("800.00") and ptp.promised_on == TODAY + dt.timedelta(days=3) and ptp.agent == agent

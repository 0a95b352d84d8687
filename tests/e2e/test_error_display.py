"""Errors are shown in a real browser (issue 14): a duplicate SMS send in the case's SMS panel
(an htmx post answered 409) and an invalid template save (an htmx post answered 400) put the
refusal on the page, in the page's language, with the offending input highlighted — before, htmx
dropped both responses and the page showed nothing."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from arrears.core.errors import ErrorCode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "errors-e2e-Passw0rd"


def _user(name: str, role: str):
    u = get_user_model().objects.create_user(name, password=PASSWORD)
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    return u


def _login(page, base_url: str, name: str, next_path: str) -> None:
    page.goto(base_url + next_path)
    page.fill("#id_username", name)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(re.compile(".*" + re.escape(next_path) + "$"))


@pytest.fixture
def sms_world(db):
    from arrears.contexts.contact.sms import services
    from arrears.contexts.contact.sms.models import SmsTemplate
    from tests.integration.test_scope import _case

    collector = _user("collector", "collector")
    supervisor = _user("supervisor", "supervisor")
    if not SmsTemplate.objects.filter(code="reminder", language="zh-hans", status="active").exists():
        services.save_template(code="reminder", language="zh-hans", body="您的信用卡已逾期，请尽快还款。", variables=[],
                               name="还款提醒", min_interval_days=0, note="", actor=supervisor, activate=True)
    case = _case(95, "CUST-E2E-ERR")
    case.assigned_to = collector
    case.save()
    return case


def test_a_duplicate_sms_send_is_shown_in_the_panel(live_server, page, sms_world):
    from playwright.sync_api import expect

    case = sms_world
    _login(page, live_server.url, "collector", f"/sms/cases/{case.pk}/")
    panel = page.locator("#sms")
    panel.locator("select[name=template]").select_option("reminder")
    panel.locator("button[type=submit]", has_text="加入发送队列").click()
    expect(page.locator("#sms-outbox tbody tr.sms-queued")).to_have_count(1)
    page.locator("#sms select[name=template]").select_option("reminder")
    page.locator("#sms button[type=submit]", has_text="加入发送队列").click()
    box = page.locator('#sms [data-error-code="duplicate_today"]')
    expect(box).to_be_visible()
    expect(box).to_contain_text(ErrorCode.DUPLICATE_TODAY.message_zh)
    expect(page.locator("#sms select[name=template]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#page-error")).to_be_hidden()


def test_an_invalid_template_save_is_shown(live_server, page, sms_world):
    from playwright.sync_api import expect

    _login(page, live_server.url, "supervisor", "/sms/templates/")
    page.fill("#id_code", "reminder")
    page.fill("#id_body", "您好 {{ unknown_thing }}")
    page.locator("button[name=action][value=save]").click()
    box = page.locator('[data-error-code="template_refused"]')
    expect(box).to_be_visible()
    expect(box).to_contain_text(ErrorCode.TEMPLATE_REFUSED.message_zh)
    expect(box).to_contain_text("unknown_thing")

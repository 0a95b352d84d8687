"""Errors on the pages (issue 14): a refusal is shown through the one error partial, in the page's
language, with the offending input named for highlighting, and — for htmx requests — marked so
the page's script swaps it in although its status is 4xx (before, a duplicate SMS send and an
invalid template save failed on the server while the page showed nothing). No raw error code is
shown to a person."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from arrears.contexts.contact.sms.models import OutboundSms
from arrears.core.errors import ErrorCode
from arrears.core.pages import ERROR_HEADER

from .test_scope import _case
from .test_sms_pages_and_smpp import _user

STATIC = Path(__file__).resolve().parents[2] / "src" / "arrears" / "static"


def _client(user, language: str) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    c.force_login(user)
    return c


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _shows(resp, code: ErrorCode, language: str, *, field: str | None = None, message: str | None = None) -> str:
    html = resp.content.decode()
    assert resp[ERROR_HEADER] == code.value, resp.headers
    assert f'data-error-code="{code.value}"' in html
    message = message or (code.message_en if language == "en" else code.message_zh)
    assert message in _visible_text(html), html[:3000]
    if field is not None:
        assert f'data-error-field="{field}"' in html
    assert code.value not in _visible_text(html)  # the code is an attribute, never text
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_duplicate_sms_send_shows_its_error_in_the_panel(db, language):
    collector = _user(db, "collector")
    case = _case(91, "CUST-SMS-ERR")
    case.assigned_to = collector
    case.save()
    c = _client(collector, language)
    url = reverse("sms:case_panel", args=[case.pk])
    assert c.post(url, {"action": "send", "template": "reminder"}, HTTP_HX_REQUEST="true").status_code == 200
    again = c.post(url, {"action": "send", "template": "reminder"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and OutboundSms.objects.filter(case=case).count() == 1
    html = _shows(again, ErrorCode.DUPLICATE_TODAY, language, field="template")
    assert html.lstrip().startswith("{") is False and 'id="sms"' in html  # the panel itself, to swap in
    # without htmx: the full page shows the same
    page = c.post(url, {"action": "send", "template": "reminder"})
    _shows(page, ErrorCode.DUPLICATE_TODAY, language, field="template")
    # an empty choice is bad input, on the field
    _shows(c.post(url, {"action": "send"}, HTTP_HX_REQUEST="true"), ErrorCode.INVALID_INPUT, language,
           field="template", message="Please choose a template." if language == "en" else "请选择模板。")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_invalid_template_save_shows_every_problem(db, language):
    c = _client(_user(db, "supervisor"), language)
    resp = c.post(reverse("sms:templates"), {"action": "save", "code": "reminder", "language": "zh-hans",
                                              "min_interval_days": 7, "body": "您好 {{ unknown_thing }}"},
                  HTTP_HX_REQUEST="true", HTTP_HX_TARGET="body")
    assert resp.status_code == 400
    html = _shows(resp, ErrorCode.TEMPLATE_REFUSED, language, field="variables")
    assert "unknown_thing" in _visible_text(html)  # the problem itself is listed
    # a form error (interval out of range) is marked too, and shown on its field
    bad = c.post(reverse("sms:templates"), {"action": "save", "code": "reminder", "language": "zh-hans",
                                             "min_interval_days": 999, "body": "您好"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400
    _shows(bad, ErrorCode.INVALID_INPUT, language, field="min_interval_days")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_refused_reveal_is_swapped_in(db, language):
    collector = _user(db, "collector")
    case = _case(92, "CUST-REVEAL-ERR")
    case.assigned_to = collector
    case.save()
    resp = _client(collector, language).post(reverse("cases:reveal", args=[case.pk]),
                                             {"target": "customer.name", "reason": ""}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 400
    _shows(resp, ErrorCode.REASON_REQUIRED, language, field="reason",
           message="Please give a reason." if language == "en" else "请填写查看原因。")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_stale_page_link_says_so(db, language):
    collector = _user(db, "collector")
    c = _client(collector, language)
    resp = c.get(reverse("cases:list") + "?after=not-a-cursor", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200  # the first page, with the reason
    html = resp.content.decode()
    message = ErrorCode.INVALID_CURSOR.message_en if language == "en" else ErrorCode.INVALID_CURSOR.message_zh
    assert message in _visible_text(html) and 'data-error-code="invalid_cursor"' in html


@pytest.mark.django_db
def test_every_page_loads_the_error_script_and_its_messages(db):
    c = _client(_user(db, "supervisor"), "en")
    html = c.get(reverse("sms:templates")).content.decode()
    assert "arrears.js" in html and 'id="page-error"' in html
    assert "The server cannot be reached" in html  # the page-level messages, in the page's language
    script = (STATIC / "arrears.js").read_text()
    assert "X-Arrears-Error" in script and "shouldSwap = true" in script and "htmx:responseError" in script
    assert "data-error-field" in script


@pytest.mark.parametrize("language,title", [("zh-hans", "无权访问"), ("en", "Access denied")])
def test_a_page_the_role_may_not_open_says_so_in_the_page_language(db, language, title):
    resp = _client(_user(db, "collector"), language).get("/sms/templates/")
    assert resp.status_code == 403
    text = _visible_text(resp.content.decode())
    assert title in text and "Forbidden" not in text

"""One error shape for every API (issue 14): payments, cases and the phone desk answer bad input,
out-of-scope, conflicts, unknown objects, wrong methods and anonymous calls with
``{"code", "message", "field", "details"}``, the status of the code, and the message in the
request's language (zh-hans by default; en by Accept-Language or the language cookie)."""
from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client

from arrears.core.errors import ErrorCode

from .test_desk_phone import make_case, make_user
from .test_money_posting import make_account

SHAPE = {"code", "message", "field", "details"}


def _client(user, language: str | None = None, *, cookie: bool = False) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language) if language and not cookie else Client()
    if language and cookie:
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        c.force_login(user)
    return c


def _error(resp, status: int, code: str, *, field=None, language="zh-hans") -> dict:
    body = resp.json()
    assert resp.status_code == status, (resp.status_code, body)
    assert set(body) == SHAPE, body
    assert body["code"] == code, body
    assert body["field"] == field, body
    assert isinstance(body["details"], dict)
    c = ErrorCode(code)
    assert body["message"] == (c.message_en if language == "en" else c.message_zh), body
    return body


@pytest.fixture
def world(db, django_user_model):
    from django.contrib.auth.models import Group

    from arrears.contexts.org.users.models import Team

    account, case = make_account()
    poster = django_user_model.objects.create_user("poster", password="x" * 12)
    poster.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    team = Team.objects.create(name="电催一组", department="collection")
    agent = make_user("agent1", "collector", team)
    other = make_user("agent2", "collector", Team.objects.create(name="电催二组", department="collection"))
    desk_case = make_case(1, team=team, agent=agent)
    return {"case": case, "poster": poster, "agent": agent, "other": other, "desk_case": desk_case}


@pytest.mark.parametrize("language,cookie", [("zh-hans", False), ("en", False), ("en", True)])
def test_payments_errors_in_one_shape(world, language, cookie):
    c = _client(world["poster"], language, cookie=cookie)
    body = {"account": "A1", "external_id": "E-1", "amount": "40.00", "paid_at": "2025-03-16T10:00:00+08:00"}
    assert c.post("/api/v1/payments/", body, content_type="application/json").status_code == 201
    # DRF validation: every field error listed, the first field named
    bad = _error(c.post("/api/v1/payments/", {**body, "amount": "abc", "paid_at": "x"}, content_type="application/json"),
                 400, "invalid_input", field="amount", language=language)
    assert set(bad["details"]["errors"]) == {"amount", "paid_at"}
    # a refusal of the service, with the offending field
    _error(c.post("/api/v1/payments/", {**body, "external_id": "E-2", "amount": "-1.00"},
                  content_type="application/json"), 400, "invalid_input", field="amount", language=language)
    # unknown account on posting (bad input) and on the balance (not found)
    _error(c.post("/api/v1/payments/", {**body, "account": "NOPE"}, content_type="application/json"),
           400, "invalid_input", field="account", language=language)
    _error(c.get("/api/v1/payments/balance/?account=NOPE&as_of=2025-03-16"), 404, "not_found", field="account",
           language=language)
    _error(c.get("/api/v1/payments/balance/?account=A1&as_of=16.03.2025"), 400, "invalid_input", field="as_of",
           language=language)
    # the same payment id with other figures
    conflict = _error(c.post("/api/v1/payments/", {**body, "amount": "41.00"}, content_type="application/json"),
                      409, "payment_conflict", field="external_id", language=language)
    assert "already posted" in conflict["details"]["detail"]
    # wrong method, anonymous, a role without posting rights
    _error(c.delete("/api/v1/payments/"), 405, "method_not_allowed", language=language)
    _error(_client(None, language, cookie=cookie).post("/api/v1/payments/", body, content_type="application/json"),
           403, "forbidden", language=language)
    _error(_client(world["agent"], language, cookie=cookie).post("/api/v1/payments/", body,
                                                                   content_type="application/json"),
           403, "forbidden", language=language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_case_and_servicing_errors_in_one_shape(world, language):
    case = world["case"]
    c = _client(world["poster"], language)
    _error(c.get("/api/v1/cases/99999/"), 404, "not_found", language=language)
    _error(c.get("/api/v1/cases/?after=not-a-cursor"), 400, "invalid_cursor", field="after", language=language)
    _error(c.get("/api/v1/cases/?dpd_min=-3"), 400, "invalid_input", field="dpd_min", language=language)
    # out of scope: a collector of another team sees no such case
    other = _client(world["other"], language)
    _error(other.get(f"/api/v1/payments/cases/{case.pk}/promises/"), 404, "not_found", language=language)
    # the service's refusal lists every problem
    leader = _client(world["poster"], language)
    refused = _error(leader.post(f"/api/v1/payments/cases/{case.pk}/plans/approve/", {"plan": 999},
                                 content_type="application/json"), 400, "servicing_refused", language=language)
    assert refused["details"]["problems"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_desk_errors_in_one_shape(world, language):
    case = world["desk_case"]
    agent = _client(world["agent"], language)
    # not held by the agent
    _error(agent.post(f"/api/desk/cases/{case.pk}/release/"), 400, "not_claimed", field="case_id", language=language)
    # a number that is not a number
    _error(agent.post(f"/api/desk/cases/{case.pk}/dial/", {"contact_id": "x"}, content_type="application/json"),
           400, "invalid_input", field="contact_id", language=language)
    # wrong method on a case in scope
    _error(agent.get(f"/api/desk/cases/{case.pk}/dial/"), 405, "method_not_allowed", language=language)
    # out of scope: 404 before anything else
    _error(_client(world["other"], language).post(f"/api/desk/cases/{case.pk}/dial/", {"contact_id": 1},
                                                   content_type="application/json"),
           404, "not_found", language=language)
    # a role that may not use the desk queue
    _error(_client(world["poster"], language).post("/api/desk/next/"), 403, "forbidden", language=language)


def test_an_unexpected_exception_is_a_logged_500(world, monkeypatch, caplog):
    from arrears.contexts.contact.desk import selectors

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(selectors, "queue_status", broken)
    c = Client(raise_request_exception=False)
    c.force_login(world["agent"])
    with caplog.at_level(logging.ERROR, logger="arrears.errors"):
        resp = c.get("/api/desk/next/")
    assert resp.status_code == 500
    assert any("ZeroDivisionError" in r.getMessage() and r.exc_info for r in caplog.records)

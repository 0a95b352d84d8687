"""Property-based API test of the phone desk (issue 7): schemathesis generates requests from the
OpenAPI schema drf-spectacular builds, for every ``/api/desk/`` operation, and sends them through
Django's WSGI application with an authenticated session (and its CSRF token); no request may end in
a server error (5xx). Runs in the normal suite (CI), on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, settings

from arrears.contexts.contact.desk import services

from .test_desk_phone import at, make_case, make_user

CSRF = "Desk0schemathesis0csrf0token0000"  # a 32-character CSRF secret, sent as cookie and header


@pytest.fixture
def desk_schema(db):
    """The live schema of the desk endpoints, bound to the WSGI app, with a team, an agent, three
    phone cases (one held by the agent, with an open call) so that real ids exist."""
    from drf_spectacular.generators import SchemaGenerator

    from arrears.contexts.org.users.models import Team

    team = Team.objects.create(name="属性测试组", department="collection")
    agent = make_user("prop-agent", "administrator", team)
    agent.is_superuser = agent.is_staff = True
    agent.save()
    cases = [make_case(900 + i, team=team, agent=agent, emergency=True) for i in range(3)]
    with mock.patch("django.utils.timezone.now", return_value=at(10)):
        services.sync_queue()
        services.get_next(agent)
        services.dial(agent, cases[0].pk, cases[0].customer.contacts.get(party="debtor").pk)
    client = Client()
    client.force_login(agent)
    raw = SchemaGenerator().get_schema(request=None, public=True)
    raw["paths"] = {p: v for p, v in raw["paths"].items() if p.startswith("/api/desk/")}
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    schema.test_state = {"session": client.cookies["sessionid"].value, "cases": [c.pk for c in cases]}
    # like Django's test client: keep the test's connection (and its transaction) across requests
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schema
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_desk_api_never_answers_a_server_error(desk_schema):
    """Every desk operation, up to 40 generated requests each (positive and negative data)."""
    from hypothesis import given

    state = desk_schema.test_state
    seen = []
    for result in desk_schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            if "id" in (case.path_parameters or {}) and case.path_parameters["id"] % 3 == 0:
                # a third of the calls go to a real case (generated ids are mostly unknown: 404)
                case.path_parameters["id"] = state["cases"][case.path_parameters["id"] % len(state["cases"])]
            response = case.call(cookies={"sessionid": state["session"], "csrftoken": CSRF},
                                 headers={"X-CSRFToken": CSRF})
            assert response.status_code < 500, (case.method, case.formatted_path, case.body,
                                                response.status_code, response.text[:2000])
            assert response.status_code not in (401,), "the session was not accepted"
            seen.append((case.method, response.status_code))

        check()
    statuses = {code for _, code in seen}
    assert any(200 <= c < 300 for c in statuses), statuses  # real successes, not only refusals
    assert any(m == "POST" and c != 403 for m, c in seen), "every POST was refused (session/CSRF)"


def test_schema_lists_every_desk_operation(desk_schema):
    ops = {(op.method.upper(), op.path) for op in (r.ok() for r in desk_schema.get_all_operations())}
    assert ("POST", "/api/desk/next/") in ops and ("POST", "/api/desk/cases/{id}/outcome/") in ops
    assert len(ops) >= 10

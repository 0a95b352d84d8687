"""Data scope, generated from the URL configuration and the API schema (issue 3).

Every route is exercised for every role against an in-scope and an out-of-scope case. A route
must declare its scope (``arrears.contexts.casework.scope.declares_scope`` or ``arrears_scope`` on the
view class) or be on the short public list below, so a new endpoint without a scope rule fails.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from arrears.contexts.org.agencies.models import Agency, Placement
from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.models import Case
from arrears.contexts.casework.scope import SCOPE_KINDS, scope_for, visible_cases
from arrears.contexts.contact.fieldwork.models import FieldVisit
from arrears.contexts.legal.models import LegalReferral
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer
from arrears.contexts.money.servicing.models import ServiceContact
from arrears.contexts.org.users.models import StaffProfile, Team
from arrears.contexts.org.users.roles import ROLES

pytestmark = pytest.mark.django_db

#: Routes that serve no case data and need no scope: (url name or path prefix, why).
PUBLIC = {
    "login": "the login form",
    "logout": "ends the session",
    "set_language": "switches the language",
    "": "redirects to the case list",
}
#: The Django admin does not apply the data scope; only administrators may read case data there
#: (checked in test_admin_shows_case_data_to_administrators_only).
ADMIN_PREFIX = "admin/"
GLOBAL_ROLES = {"administrator", "compliance_officer", "supervisor"}
TODAY = dt.date(2026, 11, 30)


def _walk(resolver: URLResolver, prefix: str = ""):
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p, route)
        elif isinstance(p, URLPattern):
            yield route, p


def _scope_of(callback) -> str | None:
    for obj in (callback, getattr(callback, "view_class", None), getattr(callback, "cls", None)):
        kind = getattr(obj, "arrears_scope", None)
        if kind:
            return kind
    return None


def app_routes():
    out = []
    for route, p in _walk(get_resolver()):
        if route.startswith(ADMIN_PREFIX):
            continue
        name = p.name or ""
        out.append((route, name, p.callback))
    return out


def _case(n: int, customer_no: str) -> Case:
    c = Customer.objects.create(external_id=customer_no, name=f"客户{n}", national_id=f"44030419900101{n:03d}X",
                                timezone="Asia/Shanghai")
    Contact.objects.create(customer=c, external_id=f"{customer_no}-M", kind="mobile", party="debtor",
                           value=f"1380000{n:04d}")
    Contact.objects.create(customer=c, external_id=f"{customer_no}-H", kind="home_address", party="debtor",
                           value=f"广东省深圳市福田区某路{n}号")
    CardAccount.objects.create(customer=c, external_id=f"ACC-{customer_no}", credit_limit=Decimal("1000.00"),
                               balance=Decimal("500.00"), as_of_extract=TODAY, dpd=40, bucket="M2",
                               oldest_unpaid_due_date=TODAY - dt.timedelta(days=40))
    return Case.objects.create(customer=c, opened_on=TODAY, bucket="M2", max_dpd=40,
                               total_balance=Decimal("500.00"), overdue_amount=Decimal("50.00"))


@pytest.fixture
def world(db):
    """One user per role; case A is in every role's scope, case B in none (but the global roles'),
    case R was placed with the agency and recalled."""
    User = get_user_model()
    users = {}
    for r in ROLES:
        u = User.objects.create_user(f"u_{r.code}", password="Scope-test-2026!", is_staff=r.staff,
                                     is_superuser=r.superuser)
        u.groups.add(Group.objects.get_or_create(name=r.code)[0])
        users[r.code] = u
    a, b, recalled = _case(1, "CUST-IN-A"), _case(2, "CUST-OUT-B"), _case(3, "CUST-RECALLED-R")
    team = Team.objects.create(name="催收一组", department="collection", leader=users["team_leader"])
    other = Team.objects.create(name="催收二组", department="collection")
    member = User.objects.create_user("member", password="x-Scope-test-2026")
    StaffProfile.objects.create(user=member, team=other)
    a.assigned_to, a.team = users["collector"], team
    a.save()
    b.assigned_to, b.team = member, other
    b.save()
    FieldVisit.objects.create(case=a, agent=users["field_agent"], scheduled_on=TODAY)
    LegalReferral.objects.create(case=a, referred_on=TODAY)
    LegalReferral.objects.create(case=b, referred_on=TODAY, status=LegalReferral.Status.WITHDRAWN)
    ServiceContact.objects.create(customer=a.customer, at=dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC),
                                  channel="hotline", handled_by=users["customer_service"])
    agency = Agency.objects.create(code="AG1", name="某某资产管理", whitelisted=True)
    StaffProfile.objects.create(user=users["agency_collector"], agency=agency)
    Placement.objects.create(case=a, agency=agency, placed_on=TODAY)
    Placement.objects.create(case=recalled, agency=agency, placed_on=TODAY - dt.timedelta(days=90),
                             recalled_on=TODAY - dt.timedelta(days=1))
    return users, a, b, recalled


def test_every_route_declares_its_scope():
    missing = [(route, name) for route, name, cb in app_routes()
               if name not in PUBLIC and _scope_of(cb) not in SCOPE_KINDS]
    assert not missing, f"routes without a data-scope rule: {missing}"


def test_every_api_operation_declares_its_scope():
    from django.urls import resolve
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["paths"], "the API schema lists no paths"
    for path in schema["paths"]:
        url = path.replace("{pk}", "1").replace("{id}", "1")
        assert _scope_of(resolve(url).func) in SCOPE_KINDS, path


def test_scope_per_role(world):
    users, a, b, recalled = world
    for code, user in users.items():
        seen = set(visible_cases(user).values_list("pk", flat=True))
        if code in GLOBAL_ROLES:
            assert {a.pk, b.pk, recalled.pk} <= seen, code
        else:
            assert a.pk in seen and b.pk not in seen and recalled.pk not in seen, (code, seen)
    assert scope_for(users["compliance_officer"]).read_only and scope_for(users["supervisor"]).read_only
    assert not scope_for(users["administrator"]).read_only


def _request(client, route: str, name: str, cb, pk: int | None, htmx: bool = False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    url = "/" + route.replace("<int:pk>", str(pk)) if pk is not None else "/" + route
    if "reveal" in name:
        return client.post(url, {"target": "customer.name", "reason": "核实身份"}, **headers)
    return client.get(url, **headers)


@pytest.mark.parametrize("role", [r.code for r in ROLES])
def test_permission_matrix(world, client, role):
    users, a, b, recalled = world
    client.force_login(users[role])
    sees_all = role in GLOBAL_ROLES
    for route, name, cb in app_routes():
        kind = _scope_of(cb)
        if name in PUBLIC:
            continue
        if kind == "case":
            for htmx in (False, True):
                ok = _request(client, route, name, cb, a.pk, htmx)
                assert ok.status_code != 404, (role, route, "in scope")
                denied_before = AuditEvent.objects.filter(action="access.denied").count()
                out = _request(client, route, name, cb, b.pk, htmx)
                if sees_all:
                    assert out.status_code != 404, (role, route)
                else:
                    assert out.status_code == 404, (role, route, "out of scope")
                    assert b"CUST-OUT-B" not in out.content
                    assert AuditEvent.objects.filter(action="access.denied").count() == denied_before + 1, route
                recalled_resp = _request(client, route, name, cb, recalled.pk, htmx)
                assert (recalled_resp.status_code == 404) != sees_all, (role, route, "recalled")
        elif kind == "case_list":
            for htmx in (False, True):
                resp = _request(client, route, name, cb, None, htmx)
                assert resp.status_code == 200, (role, route)
                body = resp.content
                assert b"CUST-IN-A" in body, (role, route)
                assert (b"CUST-OUT-B" in body) == sees_all, (role, route)
                assert (b"CUST-RECALLED-R" in body) == sees_all, (role, route)
        elif kind == "none":
            resp = _request(client, route, name, cb, None)
            allowed = getattr(cb, "arrears_roles", None)  # role-restricted pages (e.g. the strategy page)
            if allowed is not None and role not in allowed:
                assert resp.status_code == 403, (role, route)
            else:
                assert resp.status_code == 200 and b"CUST-IN-A" not in resp.content, (role, route)
        else:  # pragma: no cover - caught by test_every_route_declares_its_scope
            pytest.fail(f"{route} has no scope rule")


def test_out_of_scope_search_finds_nothing(world, client):
    users, a, b, _ = world
    client.force_login(users["collector"])
    html = client.get(reverse("cases:list"), {"q": "CUST-OUT-B"}).content.decode()
    assert f"/cases/{b.pk}/" not in html  # (the search box echoes the term; no row matches)
    html = client.get(reverse("cases:list"), {"q": "CUST-IN-A"}).content.decode()
    assert f"/cases/{a.pk}/" in html


def test_agency_sees_nothing_after_recall(world, client):
    users, a, _, _ = world
    client.force_login(users["agency_collector"])
    assert client.get(reverse("cases:detail", args=[a.pk])).status_code == 200
    Placement.objects.filter(case=a).update(recalled_on=TODAY)
    assert client.get(reverse("cases:detail", args=[a.pk])).status_code == 404
    assert b"CUST-IN-A" not in client.get(reverse("api-case-list")).content


def test_role_change_takes_effect_at_the_next_request(world, client):
    users, a, b, _ = world
    user = users["collector"]
    client.force_login(user)
    assert client.get(reverse("cases:detail", args=[b.pk])).status_code == 404
    user.groups.add(Group.objects.get(name="supervisor"))
    assert client.get(reverse("cases:detail", args=[b.pk])).status_code == 200
    user.groups.clear()
    assert client.get(reverse("cases:detail", args=[a.pk])).status_code == 404


def test_admin_shows_case_data_to_administrators_only(world, client):
    users, a, _, _ = world
    for code in ("team_leader", "compliance_officer", "supervisor"):
        client.force_login(users[code])
        resp = client.get("/admin/cases/case/")
        assert resp.status_code in (302, 403), code
        resp = client.get(f"/admin/portfolio/customer/{a.customer_id}/change/")
        assert resp.status_code in (302, 403), code
    client.force_login(users["administrator"])
    assert client.get("/admin/cases/case/").status_code == 200


def test_search_by_phone_and_national_id_respects_scope(world, client):
    users, a, b, _ = world
    client.force_login(users["collector"])
    html = client.get(reverse("cases:list"), {"q": "138 0000 0001"}).content.decode()
    assert f"/cases/{a.pk}/" in html
    html = client.get(reverse("cases:list"), {"q": "13800000002"}).content.decode()  # B's phone
    assert f"/cases/{b.pk}/" not in html
    client.force_login(users["supervisor"])
    html = client.get(reverse("cases:list"), {"q": "13800000002"}).content.decode()
    assert f"/cases/{b.pk}/" in html


def test_taking_the_administrator_role_away_takes_its_powers_away(world, client):
    users, a, b, _ = world
    admin = users["administrator"]
    admin.groups.set([Group.objects.get(name="collector")])
    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.is_staff
    client.force_login(admin)
    assert client.get(reverse("cases:detail", args=[b.pk])).status_code == 404
    assert client.get("/admin/cases/case/").status_code in (302, 403)
    admin.groups.add(Group.objects.get(name="administrator"))
    admin.refresh_from_db()
    assert admin.is_superuser and admin.is_staff


def test_reveal_of_another_customers_contact_is_denied_and_audited(world, client):
    users, a, b, _ = world
    client.force_login(users["collector"])
    foreign = Contact.objects.get(customer=b.customer, kind="mobile")
    before = AuditEvent.objects.filter(action="access.denied").count()
    resp = client.post(reverse("cases:reveal", args=[a.pk]), {"target": f"contact.{foreign.pk}.value",
                                                             "reason": "核实号码"})
    assert resp.status_code == 404 and b"13800000002" not in resp.content
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 1


def test_pages_with_personal_data_are_not_cached(world, client):
    users, a, _, _ = world
    client.force_login(users["collector"])
    for url in (reverse("cases:list"), reverse("cases:detail", args=[a.pk]), reverse("cases:export"),
                reverse("api-case-list"), reverse("api-case-detail", args=[a.pk])):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_list_views_are_audited_without_the_search_term(world, client):
    users, a, _, _ = world
    client.force_login(users["collector"])
    client.get(reverse("cases:list"), {"q": "13800000001", "bucket": "M2"})
    ev = AuditEvent.objects.filter(action="pii.view", data__view="case_list").latest("id")
    assert ev.data["cases"] == [a.pk] and ev.data["searched"] is True
    assert "13800000001" not in str(ev.data)
    client.get(reverse("api-case-list"))
    assert AuditEvent.objects.filter(action="pii.view", data__view="api_case_list").exists()


def test_api_refuses_http_basic_and_never_recurses(world, client):
    import base64

    creds = base64.b64encode(b"u_collector:wrong-password").decode()
    resp = client.get(reverse("api-case-list"), HTTP_AUTHORIZATION=f"Basic {creds}")
    assert resp.status_code in (401, 403)
    ok = Client().post(reverse("login"), {"username": "u_collector", "password": "Scope-test-2026!"})
    assert ok.status_code == 302  # not locked out by that one request

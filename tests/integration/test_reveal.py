"""Revealing a full personal value: only for roles that need it, with a reason, rate-limited,
audited; a field agent sees an address only on the day of their own visit (issue 3, DESIGN §4)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework import services
from arrears.contexts.contact.fieldwork.models import FieldVisit
from arrears.contexts.portfolio.models import Contact

from .test_scope import _case

pytestmark = pytest.mark.django_db


def _user(name: str, role: str):
    u = get_user_model().objects.create_user(name, password="Reveal-test-2026!")
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    return u


@pytest.fixture
def case():
    return _case(7, "CUST-REVEAL")


def test_collector_reveals_phone_with_reason_and_it_is_audited(client, case):
    collector = _user("c1", "collector")
    case.assigned_to = collector
    case.save()
    client.force_login(collector)
    phone = Contact.objects.get(customer=case.customer, kind="mobile")
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "13800000007" not in page and "138****0007" in page
    assert f"contact.{phone.pk}.value" in page  # the control is offered

    resp = client.post(reverse("cases:reveal", args=[case.pk]),
                       {"target": f"contact.{phone.pk}.value", "reason": "客户来电核实号码"}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and "13800000007" in resp.content.decode()
    ev = AuditEvent.objects.filter(action="pii.reveal").latest("id")
    assert (ev.actor_id, ev.object_id, ev.reason) == (collector.pk, str(case.pk), "客户来电核实号码")
    assert ev.data["target"] == f"contact.{phone.pk}.value" and "13800000007" not in str(ev.data)
    assert AuditEvent.objects.filter(action="pii.view", object_id=str(case.pk)).exists()


def test_reason_is_required(client, case):
    collector = _user("c2", "collector")
    case.assigned_to = collector
    case.save()
    client.force_login(collector)
    resp = client.post(reverse("cases:reveal", args=[case.pk]), {"target": "customer.name", "reason": ""})
    assert resp.status_code == 400 and "客户7" not in resp.content.decode()
    assert AuditEvent.objects.filter(action="pii.reveal_refused", data__refusal="reason_required").exists()


def test_role_without_the_need_cannot_reveal(client, case):
    collector = _user("c3", "collector")
    case.assigned_to = collector
    case.save()
    client.force_login(collector)
    resp = client.post(reverse("cases:reveal", args=[case.pk]),
                       {"target": "customer.national_id", "reason": "想看看"})
    assert resp.status_code == 403 and "44030419900101007X" not in resp.content.decode()
    client.force_login(_user("s1", "compliance_officer"))  # reads everything, reveals nothing
    resp = client.post(reverse("cases:reveal", args=[case.pk]), {"target": "customer.name", "reason": "质检抽查"})
    assert resp.status_code == 403


def test_reveals_are_rate_limited(client, case, settings):
    settings.ARREARS_REVEAL_LIMIT_PER_HOUR = 3
    collector = _user("c4", "collector")
    case.assigned_to = collector
    case.save()
    client.force_login(collector)
    url = reverse("cases:reveal", args=[case.pk])
    codes = [client.post(url, {"target": "customer.name", "reason": "核实身份"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 403, 403]
    assert AuditEvent.objects.filter(action="pii.reveal", actor=collector).count() == 3


def test_field_agent_sees_address_only_on_the_visit_day(case):
    agent = _user("f1", "field_agent")
    today = timezone.localdate()
    visit = FieldVisit.objects.create(case=case, agent=agent, scheduled_on=today + dt.timedelta(days=1))
    home = Contact.objects.get(customer=case.customer, kind="home_address")
    target = f"contact.{home.pk}.value"
    with pytest.raises(services.RevealRefused):
        services.reveal_personal_value(agent, case.pk, target, "明天外访", today=today)
    visit.scheduled_on = today
    visit.save()
    assert "福田区某路7号" in services.reveal_personal_value(agent, case.pk, target, "今日外访", today=today)


def test_reveal_outside_scope_is_404_and_audited(client, case):
    client.force_login(_user("c5", "collector"))
    resp = client.post(reverse("cases:reveal", args=[case.pk]), {"target": "customer.name", "reason": "核实身份"})
    assert resp.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", object_id=str(case.pk)).exists()

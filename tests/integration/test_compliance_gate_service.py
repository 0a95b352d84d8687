"""The compliance gate service (issue 4, points 5 and 8): every channel asks one service, refusals
land on the case timeline, the ledger is shared by bank teams, agencies and robots, field visits are
scheduled through the gate, the backtest replays the ledger, and the case page shows the panel."""
from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from arrears.contexts.org.agencies.models import Agency, Placement
from arrears.contexts.casework.models import CaseEvent
from arrears.contexts.contact.compliance import services
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.contexts.contact.compliance.selectors import contact_status
from arrears.contexts.contact.fieldwork.models import FieldVisit
from arrears.contexts.portfolio.models import Contact
from arrears.rules.compliance_packs import load_compliance_pack

from .test_scope import _case

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 4)


def _at(h: int, m: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=BJ)


@pytest.fixture
def case():
    return _case(11, "CUST-GATE")


@pytest.fixture
def mobile(case):
    return Contact.objects.get(customer=case.customer, kind="mobile")


def _now(at: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=at)


def test_call_at_2230_is_denied_until_0800_and_logged_on_the_timeline(case, mobile):
    with _now(_at(22, 30)):
        d = services.check_contact(case=case, channel="phone", contact=mobile)
    assert d.decision == "deny" and "CN-HOURS-01" in d.rule_ids
    assert d.next_allowed_at == _at(8, 0, DAY + dt.timedelta(days=1))
    ev = CaseEvent.objects.get(case=case, kind="contact_blocked")
    assert ev.data["channel"] == "phone" and "CN-HOURS-01" in ev.data["rule_ids"]
    assert ev.data["next_allowed_at"] == d.next_allowed_at.isoformat()
    assert ev.data["pack_version"] == d.pack_version and ev.data["reasons"][0]["zh"] and ev.data["reasons"][0]["en"]
    with pytest.raises(services.ContactRefused):
        services.record_attempt(case=case, channel="phone", outcome="connected", decision=d, contact=mobile)
    assert not ContactAttempt.objects.exists()


def test_allowed_call_is_recorded_in_the_ledger_and_on_the_timeline(case, mobile):
    with _now(_at(10)):
        d = services.check_contact(case=case, channel="phone", contact=mobile)
        assert d.decision == "allow", d.to_dict()
        a = services.record_attempt(case=case, channel="phone", outcome="unanswered", decision=d, contact=mobile,
                                    caller="催收一组")
    assert (a.party, a.decision, a.pack_version, a.at) == ("debtor", "allow", d.pack_version, _at(10))
    assert CaseEvent.objects.filter(case=case, kind="contact_attempt", data__attempt=a.pk).exists()
    assert not CaseEvent.objects.filter(case=case, kind="contact_blocked").exists()


def test_bank_team_and_agency_share_one_daily_cap(case, mobile):
    """GB/T cap of 3 connected calls per debtor per day (applied to cards by the bank's overlay),
    counted over the shared ledger: 2 by a bank team + 1 by the agency → the 4th call is denied."""
    agency = Agency.objects.create(code="AG01", name="某催收公司", whitelisted=True)
    Placement.objects.create(case=case, agency=agency, placed_on=DAY - dt.timedelta(days=10))
    pack = load_compliance_pack("cn", overlay="example_bank")
    with _now(_at(9)):  # the outsourcing notice, sent by the bank before the agency calls
        n = services.check_contact(case=case, channel="sms", purpose="outsourcing_notice", pack=pack)
        services.record_attempt(case=case, channel="sms", outcome="delivered", decision=n, purpose="outsourcing_notice")
    calls = [("bank", "催收一组", 10), ("bank", "催收二组", 11), ("agency", "AG01", 12)]
    for kind, caller, hour in calls:
        with _now(_at(hour)):
            d = services.check_contact(case=case, channel="phone", contact=mobile, caller_kind=kind, caller=caller,
                                       pack=pack)
            assert d.allowed, (caller, d.to_dict())
            services.record_attempt(case=case, channel="phone", outcome="connected", decision=d, contact=mobile,
                                    caller_kind=kind, caller=caller)
    for kind, caller in (("agency", "AG01"), ("bank", "催收一组")):
        with _now(_at(15)):
            d = services.check_contact(case=case, channel="phone", contact=mobile, caller_kind=kind, caller=caller,
                                       pack=pack)
        assert d.decision == "deny" and "CN-FREQ-02" in d.rule_ids, (caller, d.to_dict())
        assert d.next_allowed_at == _at(8, 0, DAY + dt.timedelta(days=1))
    assert CaseEvent.objects.filter(case=case, kind="contact_blocked").count() == 2


def test_non_whitelisted_agency_is_refused(case, mobile):
    agency = Agency.objects.create(code="AG02", name="未入白名单公司", whitelisted=False)
    Placement.objects.create(case=case, agency=agency, placed_on=DAY - dt.timedelta(days=3))
    with _now(_at(10)):
        d = services.check_contact(case=case, channel="phone", contact=mobile, caller_kind="agency", caller="AG02")
    assert d.decision == "deny" and "CN-OUT-02" in d.rule_ids


def test_field_visit_goes_through_the_gate(case):
    agent = get_user_model().objects.create_user("visitor", password="Visit-test-2026!")
    with _now(_at(9)):
        with pytest.raises(services.ContactRefused) as refused:
            services.schedule_field_visit(case=case, agent=agent, day=DAY + dt.timedelta(days=1), start=dt.time(7, 0))
        assert "CN-HOURS-01" in refused.value.decision.rule_ids
        assert not FieldVisit.objects.exists()
        assert CaseEvent.objects.filter(case=case, kind="contact_blocked", data__channel="field_visit").exists()
        visit = services.schedule_field_visit(case=case, agent=agent, day=DAY + dt.timedelta(days=1))
    assert visit.scheduled_on == DAY + dt.timedelta(days=1) and visit.agent == agent


def test_backtest_lists_a_violation_recorded_directly_in_the_ledger(case, mobile):
    ok = ContactAttempt.objects.create(customer=case.customer, case=case, at=_at(10), channel="phone",
                                       contact=mobile, outcome="connected", decision="allow", caller="催收一组")
    bad = ContactAttempt.objects.create(customer=case.customer, case=case, at=_at(23), channel="phone",
                                        contact=mobile, outcome="unanswered", decision="allow", caller="AG-LEGACY")
    before = ContactAttempt.objects.count(), CaseEvent.objects.count()
    out = StringIO()
    call_command("compliance_backtest", "--from", "2026-03-01", "--to", "2026-03-31", stdout=out)
    text = out.getvalue()
    assert f"#{bad.pk} CUST-GATE" in text and "CN-HOURS-01" in text and f"#{ok.pk} " not in text
    assert "2 attempts checked, 1 violations" in text
    out = StringIO()
    call_command("compliance_backtest", "--from", "2026-03-01", "--to", "2026-03-31", "--json", stdout=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[0]["attempt"] == bad.pk and lines[0]["decision"] == "deny" and "CN-HOURS-01" in lines[0]["rule_ids"]
    assert lines[-1]["summary"]["violations"] == 1
    assert (ContactAttempt.objects.count(), CaseEvent.objects.count()) == before  # writes nothing
    out = StringIO()
    call_command("compliance_backtest", "--from", "2026-03-05", "--to", "2026-03-06", stdout=out)
    assert "0 attempts checked, 0 violations" in out.getvalue()


def test_contact_status_is_read_only(case):
    s = contact_status(case, _at(22, 30))
    assert [r.channel for r in s.rows] == ["phone", "sms", "field_visit"]
    assert all(r.decision == "deny" and "CN-HOURS-01" in r.rule_ids for r in s.rows)
    assert s.rows[0].next_allowed_local == "2026-03-05 08:00 (Asia/Shanghai)"
    assert not CaseEvent.objects.filter(kind="contact_blocked").exists()
    assert all(r.allowed for r in contact_status(case, _at(10)).rows)


def test_case_page_shows_the_panel_in_both_languages(client, case, admin_user):
    client.force_login(admin_user)
    url = reverse("cases:detail", args=[case.pk])
    with _now(_at(22, 30)):
        zh = client.get(url).content.decode()
        assert "联络合规" in zh and "禁止" in zh and "CN-HOURS-01" in zh and "2026-03-05 08:00" in zh
        client.post(reverse("set_language"), {"language": "en", "next": url})
        en = client.get(url).content.decode()
    assert "Contact compliance" in en and "Denied" in en and "2026-03-05 08:00" in en
    panel = re.search(r'<section class="card" id="contact-compliance">(.*?)</section>', en, re.S).group(1)
    assert not re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", " ", panel)), panel
    assert not CaseEvent.objects.filter(kind="contact_blocked").exists()


# --- holds and restrictions from the database ------------------------------------------------------


def test_open_dispute_holds_collection_and_a_breached_plan_does_not(case, mobile):
    from arrears.contexts.money.servicing.models import CollectionHold

    with _now(_at(10)):
        assert services.check_contact(case=case, channel="phone", contact=mobile).decision == "allow"
        hold = CollectionHold.objects.create(customer=case.customer, kind="dispute", since=_at(9) - dt.timedelta(days=1))
        d = services.check_contact(case=case, channel="phone", contact=mobile)
        assert d.decision in ("deny", "escalate"), d.to_dict()
        hold.delete()
        CollectionHold.objects.create(customer=case.customer, kind="payment_plan", since=_at(9) - dt.timedelta(days=3),
                                      breached=True)
        assert services.check_contact(case=case, channel="phone", contact=mobile).decision == "allow"


def test_a_third_party_who_refused_is_not_contacted_again(case):
    from arrears.contexts.money.servicing.models import ContactRestriction

    emergency = Contact.objects.create(customer=case.customer, external_id="EM-1", kind="mobile", party="emergency",
                                       party_name="李四", relation="朋友", value="13900001111")
    with _now(_at(10)):
        ContactRestriction.objects.create(contact=emergency, kind="refused", since=_at(9) - dt.timedelta(days=2))
        d = services.check_contact(case=case, channel="phone", contact=emergency, party="emergency", purpose="locate")
    assert d.decision == "deny", d.to_dict()


def test_facts_read_everything_that_stands_in_one_statement(case, mobile, django_assert_num_queries):
    """Restrictions, holds, an accepted legal referral and an open placement come back together
    (one UNION ALL read, plus the outsourcing notice of the placed case) with their values typed
    as before: aware times, dates, booleans, the agency's code."""
    from arrears.contexts.legal.models import LegalReferral
    from arrears.contexts.money.servicing.models import CollectionHold, ContactRestriction

    agency = Agency.objects.create(code="AG-F", name="外包甲", whitelisted=True)
    Placement.objects.create(case=case, agency=agency, placed_on=DAY - dt.timedelta(days=40),
                             recalled_on=DAY - dt.timedelta(days=20))
    Placement.objects.create(case=case, agency=agency, placed_on=DAY - dt.timedelta(days=5))
    ref = LegalReferral.objects.create(case=case, referred_on=DAY - dt.timedelta(days=2), status="accepted")
    h1 = CollectionHold.objects.create(customer=case.customer, kind="dispute", since=_at(9) - dt.timedelta(days=1),
                                       until=_at(9) + dt.timedelta(days=9), breached=True, reference="D-1")
    ContactRestriction.objects.create(contact=mobile, kind="opted_out", since=_at(8))
    ContactRestriction.objects.create(contact=mobile, kind="do_not_contact", since=_at(7))
    contacts = list(case.customer.contacts.all())
    with django_assert_num_queries(2):  # the standing rows; the placed case's outsourcing notice
        facts = services.build_facts(case.customer, case, contacts=contacts)
    hold = next(h for h in facts.holds if h.kind == "dispute")
    assert (hold.since, hold.until, hold.breached, hold.reference) == (h1.since, h1.until, True, "D-1")
    lit = next(h for h in facts.holds if h.kind == "litigation")
    assert lit.reference == f"legal-referral-{ref.pk}" and lit.since == _at(0, 0, DAY - dt.timedelta(days=2))
    assert facts.assignment.agency == "AG-F" and facts.assignment.since == _at(0, 0, DAY - dt.timedelta(days=5))
    assert facts.parties["debtor"].do_not_contact
    assert [(b.medium, b.since) for b in facts.medium_blocks] == [("text", _at(8))]

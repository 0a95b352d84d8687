"""Retention: the policy's legal floor, ``purge --dry-run`` lists, ``purge`` erases and records,
a second purge does nothing, customers with an open case (or a recent closure) are untouched."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from arrears.contexts.audit import retention as policy
from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.audit.services import record
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer, Statement
from arrears.pipeline import retention

AS_OF = dt.date(2025, 3, 20)


def customer(n: int, *cases: tuple[str, dt.date, dt.date | None]) -> Customer:
    """A customer with a mobile, an emergency contact, an account, a statement, a payment and
    ``cases`` as (status, opened_on, closed_on)."""
    c = Customer.objects.create(
        external_id=f"RT{n:05d}", name=f"王{n}", national_id=f"44030419800101{n:04d}", birth_date=dt.date(1980, 1, 1),
        sex="M", district="南山区",
    )
    Contact.objects.create(customer=c, external_id="m", kind="mobile", value=f"1380000{n:04d}")
    Contact.objects.create(customer=c, external_id="e", kind="mobile", party="emergency", party_name="赵六",
                           relation="配偶", value=f"1390000{n:04d}", latitude=22.5, longitude=113.9)
    acct = CardAccount.objects.create(customer=c, external_id=f"AC{n:05d}", credit_limit=Decimal("10000.00"),
                                      balance=Decimal("0.00"), as_of_extract=AS_OF)
    Statement.objects.create(account=acct, statement_date=dt.date(2018, 1, 1), due_date=dt.date(2018, 1, 21),
                             closing_balance=Decimal("1200.00"), minimum_due=Decimal("120.00"))
    Payment.objects.create(account=acct, external_id=f"P{n}", paid_at=timezone.now(), local_date=dt.date(2018, 2, 1),
                           amount=Decimal("1200.00"))
    for status, opened, closed in cases:
        case = Case.objects.create(customer=c, status=status, opened_on=opened, closed_on=closed, bucket="M1",
                                   max_dpd=35, total_balance=Decimal("1200.00"))
        CaseEvent.objects.create(case=case, at=timezone.now(), kind="opened", to_status=status)
    return c


@pytest.fixture
def population(db):
    long_ago = AS_OF - dt.timedelta(days=2000)
    return {
        # last case closed 2000 days ago, nothing open: due
        "due": customer(1, ("closed_paid", long_ago - dt.timedelta(days=90), long_ago)),
        # two closed cases, the later one closed 1900 days ago: due
        "due2": customer(2, ("closed_cured", dt.date(2015, 1, 1), dt.date(2015, 3, 1)),
                         ("closed_paid", dt.date(2019, 1, 1), AS_OF - dt.timedelta(days=1900))),
        # closed 1826 days ago exactly: not yet ("more than" the period)
        "edge": customer(3, ("closed_paid", dt.date(2019, 1, 1), AS_OF - dt.timedelta(days=1826))),
        # closed recently: kept
        "recent": customer(4, ("closed_paid", dt.date(2024, 1, 1), dt.date(2024, 6, 1))),
        # an old closed case but another one open: kept
        "open": customer(5, ("closed_paid", dt.date(2015, 1, 1), long_ago), ("in_collection", dt.date(2025, 1, 1), None)),
        # never had a case: not a collections record, kept
        "nocase": customer(6),
    }


def run(*args) -> dict:
    out = io.StringIO()
    call_command("purge", "--as-of", AS_OF.isoformat(), "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_policy_defaults_and_floor(settings):
    p = policy.policy()
    assert p == {"call_recordings": 730, "audit_events": None, "closed_case_personal_data": 1826}
    for bad in (729, 365, 0, "730", None):
        with pytest.raises(ImproperlyConfigured, match=r"730 days.*第六十八条"):
            policy.validate({**p, "call_recordings": bad})
    with pytest.raises(ImproperlyConfigured, match="audit log"):
        policy.validate({**p, "audit_events": 3650})
    with pytest.raises(ImproperlyConfigured, match="positive"):
        policy.validate({**p, "closed_case_personal_data": 0})
    with pytest.raises(ImproperlyConfigured, match="unknown data class"):
        policy.validate({**p, "call_recording": 800})
    assert policy.validate({**p, "call_recordings": 1095})["call_recordings"] == 1095


@pytest.mark.parametrize("env, message", [
    ({"ARREARS_RETENTION_CALL_RECORDINGS_DAYS": "365"}, "below the legal minimum of 730 days"),
    ({"ARREARS_RETENTION_CLOSED_CASE_PII_DAYS": "five years"}, "a whole number of days"),
])
def test_startup_refuses_an_unlawful_or_invalid_policy(env, message, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "arrears.manage", "check"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "ARREARS_DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}", **env},
    )
    assert proc.returncode != 0
    assert message in proc.stderr


def test_dry_run_lists_what_would_go_and_changes_nothing(population):
    before = AuditEvent.objects.count()
    result = run("--dry-run")
    assert result["dry_run"] is True and result["count"] == 2
    items = {i["external_id"]: i for i in result["items"]}
    assert set(items) == {"RT00001", "RT00002"}
    assert items["RT00001"]["data_class"] == "closed_case_personal_data"
    assert items["RT00001"]["customer_id"] == population["due"].pk
    assert items["RT00001"]["days_since_close"] == 2000
    assert "no open case" in items["RT00001"]["reason"] and "2000 days" in items["RT00001"]["reason"]
    assert items["RT00002"]["last_closed_on"] == (AS_OF - dt.timedelta(days=1900)).isoformat()
    assert AuditEvent.objects.count() == before
    assert Customer.objects.filter(purged_at__isnull=False).count() == 0
    assert Customer.objects.get(pk=population["due"].pk).name == "王1"
    out = io.StringIO()
    call_command("purge", "--dry-run", "--as-of", AS_OF.isoformat(), stdout=out)
    assert "2 customer(s) would" in out.getvalue() and "RT00001" in out.getvalue()


def test_purge_erases_personal_data_keeps_the_financial_record_and_records_it(population):
    due = population["due"]
    counts = {m: m.objects.count() for m in (Customer, Contact, CardAccount, Statement, Payment, Case, CaseEvent)}
    result = run()
    assert result["purged"] == 2 and result["contacts_erased"] == 4 and result["skipped"] == 0

    c = Customer.objects.get(pk=due.pk)
    assert (c.name, c.national_id, c.birth_date) == (retention.ERASED_NAME, "", None)
    assert c.purged_at is not None and c.external_id == "RT00001"
    assert c.national_id_hash == ""  # the blind index follows (written through the ORM)
    for contact in c.contacts.all():
        assert (contact.value, contact.party_name, contact.latitude, contact.longitude) == ("", "", None, None)
        assert contact.value_hash == ""
    # the financial record stays
    assert {m: m.objects.count() for m in counts} == counts
    assert c.accounts.get().payments.get().amount == Decimal("1200.00")
    # the raw rows hold no trace of the old values
    with connection.cursor() as cur:
        cur.execute("SELECT name, national_id, birth_date FROM portfolio_customer WHERE id = %s", [due.pk])
        name_raw, nid_raw, birth_raw = cur.fetchone()
        cur.execute("SELECT value, party_name, latitude, longitude FROM portfolio_contact WHERE customer_id = %s",
                    [due.pk])
        contact_raw = cur.fetchall()
    assert nid_raw == "" and "王1" not in name_raw and birth_raw is None
    assert all(r == ("", "", None, None) for r in contact_raw)

    # others untouched
    for key in ("edge", "recent", "open", "nocase"):
        other = Customer.objects.get(pk=population[key].pk)
        assert other.purged_at is None and other.name == population[key].name
        assert other.national_id == population[key].national_id
        assert sorted(other.contacts.values_list("value", flat=True)) == sorted(
            population[key].contacts.values_list("value", flat=True))

    events = list(AuditEvent.objects.filter(action="retention.purge").order_by("id"))
    per_customer = [e for e in events if e.object_type == "portfolio.customer"]
    assert sorted(e.object_id for e in per_customer) == sorted([str(due.pk), str(population["due2"].pk)])
    e = next(e for e in per_customer if e.object_id == str(due.pk))
    assert e.data["data_class"] == "closed_case_personal_data" and e.data["contacts"] == 2
    assert e.actor_label == "system" and "no open case" in e.reason
    assert "王1" not in json.dumps(e.data, ensure_ascii=False)
    summary = events[-1]
    assert summary.object_type == "" and summary.data["summary"] is True and summary.data["customers"] == 2

    # a second purge does nothing to anyone
    purged_at = c.purged_at
    again = run()
    assert again["count"] == 0 and again["purged"] == 0
    assert Customer.objects.get(pk=due.pk).purged_at == purged_at
    assert AuditEvent.objects.filter(action="retention.purge", object_type="portfolio.customer").count() == 2

    # purge never touches the audit log: the chain is whole
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue()


def test_open_case_customer_is_untouched_even_with_a_short_period(population, settings):
    settings.ARREARS_RETENTION = {**settings.ARREARS_RETENTION, "closed_case_personal_data": 30}
    result = run()
    purged = {i["external_id"] for i in result["items"]}
    assert purged == {"RT00001", "RT00002", "RT00003", "RT00004"}
    assert Customer.objects.get(pk=population["open"].pk).purged_at is None
    assert Customer.objects.get(pk=population["open"].pk).name == "王5"
    assert Customer.objects.get(pk=population["nocase"].pk).purged_at is None


def test_as_of_decides_and_a_reopened_case_stops_the_purge(population):
    early = io.StringIO()
    call_command("purge", "--dry-run", "--as-of", (AS_OF - dt.timedelta(days=100)).isoformat(), "--json", stdout=early)
    assert [i["external_id"] for i in json.loads(early.getvalue())["items"]] == ["RT00001"]

    # a case opened between plan and purge: skipped inside the transaction
    due = population["due"]
    items = retention.plan(AS_OF)
    Case.objects.create(customer=due, status="open", opened_on=AS_OF, bucket="M1", max_dpd=5,
                        total_balance=Decimal("10.00"))
    original_plan = retention.plan
    try:
        retention.plan = lambda as_of=None: items
        result = retention.purge(AS_OF)
    finally:
        retention.plan = original_plan
    assert result.skipped == 1 and result.purged == 1
    assert Customer.objects.get(pk=due.pk).purged_at is None


def test_purge_records_the_actor(population):
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.create_user("dpo1", password="dpo-Passw0rd-1")
    run("--actor", "dpo1", "--reason", "quarterly retention run")
    events = AuditEvent.objects.filter(action="retention.purge")
    assert {e.actor_id for e in events} == {officer.pk}
    assert {e.reason for e in events} == {"quarterly retention run"}
    record("pii.view", obj=population["due"])  # the log stays writable and whole
    assert AuditEvent.objects.order_by("-id").first().prev_hash == events.order_by("-id").first().hash


def test_a_customer_who_comes_back_is_purged_again_after_the_new_case(population):
    due = population["due"]
    run()
    first = Customer.objects.get(pk=due.pk).purged_at
    # the customer is delinquent again: the card system sends their data, a new case opens and closes
    c = Customer.objects.get(pk=due.pk)
    c.name, c.national_id = "王1", "440304198001010001"
    c.save()
    reopened = first.date() + dt.timedelta(days=1)
    Case.objects.create(customer=c, status="closed_paid", opened_on=reopened, closed_on=reopened + dt.timedelta(days=60),
                        bucket="M1", max_dpd=40, total_balance=Decimal("10.00"))
    assert run()["count"] == 0  # the new closure's retention period has not passed
    later = reopened + dt.timedelta(days=60 + 1827)
    out = io.StringIO()
    call_command("purge", "--as-of", later.isoformat(), "--json", stdout=out)
    assert "RT00001" in [i["external_id"] for i in json.loads(out.getvalue())["items"]]
    c.refresh_from_db()
    assert (c.name, c.national_id) == (retention.ERASED_NAME, "") and c.purged_at > first


def test_purge_erases_the_field_visit_personal_data_too(population):
    """Registered erasers run in the purge: the visit's positions, report notes, consent giver and
    photo content go; the photo's SHA-256 and server time stay as evidence it existed."""
    from django.contrib.auth import get_user_model

    from arrears.contexts.contact.fieldwork.models import FieldVisit, VisitPhoto, VisitReport

    agent = get_user_model().objects.create(username="fa")
    case = population["due"].cases.get()
    visit = FieldVisit.objects.create(case=case, agent=agent, scheduled_on=dt.date(2019, 1, 5), status="done",
                                      outcome="met_debtor", checkin_lat=22.54, checkin_lon=114.05,
                                      checkout_lat=22.54, checkout_lon=114.06)
    VisitReport.objects.create(visit=visit, met="met_debtor", result="promise", notes="客户称下月还款",
                               consent_by="张三", submitted_by=agent, submitted_at=timezone.now())
    VisitPhoto.objects.create(visit=visit, content=b"\xff\xd8jpeg", content_type="image/jpeg", size=6,
                              sha256="a" * 64, received_at=timezone.now(), lat=22.5, lon=114.0, uploaded_by=agent)
    run()
    visit.refresh_from_db()
    assert (visit.checkin_lat, visit.checkin_lon, visit.checkout_lat, visit.checkout_lon) == (None, None, None, None)
    report = VisitReport.objects.get(visit=visit)
    assert (report.notes, report.consent_by) == ("", "")
    photo = VisitPhoto.objects.get(visit=visit)
    assert (bytes(photo.content), photo.lat, photo.lon, photo.sha256) == (b"", None, None, "a" * 64)

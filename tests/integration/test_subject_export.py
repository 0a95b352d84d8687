"""Subject access (PIPL Art. 45): ``arrears export_subject`` gives everything held about one
customer as JSON, and records a ``subject.export`` audit event."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.audit.services import record
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import BucketHistory, CardAccount, Contact, Customer, Statement

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 3, 20)


@pytest.fixture
def subject():
    collector = get_user_model().objects.create_user("collector42", password="collector-Passw0rd-42")
    c = Customer.objects.create(external_id="UCI00001", name="张三丰", national_id="440304199001011234",
                                birth_date=dt.date(1990, 1, 1), sex="M", district="南山区")
    mobile = Contact.objects.create(customer=c, external_id="m", kind="mobile", value="13812345678")
    Contact.objects.create(customer=c, external_id="e", kind="mobile", party="emergency", party_name="李四",
                           relation="朋友", value="13987654321")
    acct = CardAccount.objects.create(
        customer=c, external_id="6222000000000001", credit_limit=Decimal("50000"), balance=Decimal("1234.5"),
        principal=Decimal("1000"), interest=Decimal("234.5"), overdue_amount=Decimal("300.1"), as_of_extract=AS_OF,
        dpd=45, bucket="M2",
    )
    Statement.objects.create(account=acct, statement_date=dt.date(2025, 2, 1), due_date=dt.date(2025, 2, 21),
                             closing_balance=Decimal("1234.50"), minimum_due=Decimal("123.45"), delinquency_status=1)
    Payment.objects.create(account=acct, external_id="P1", paid_at=timezone.make_aware(dt.datetime(2025, 1, 6, 20, 15)),
                           local_date=dt.date(2025, 1, 6), amount=Decimal("300"))
    BucketHistory.objects.create(account=acct, as_of=dt.date(2025, 2, 5), dpd=1, bucket="M1", roll="new")
    case = Case.objects.create(customer=c, status="in_collection", opened_on=dt.date(2025, 2, 5), bucket="M2",
                               max_dpd=45, total_balance=Decimal("1234.50"), assigned_to=collector)
    CaseEvent.objects.create(case=case, at=timezone.now(), kind="opened", to_status="open", actor=collector,
                             reason="日终批处理：客户逾期，立案")
    record("pii.reveal", actor=collector, obj=mobile, reason="客户来电核实", data={"field": "value"})
    record("pii.view", actor=collector, obj=case)
    # about someone else: not exported
    other = Customer.objects.create(external_id="UCI00002", name="王五")
    record("pii.view", actor=collector, obj=other)
    record("auth.login", actor=collector, obj=collector)
    return c



def export(*args) -> dict:
    out = io.StringIO()
    call_command("export_subject", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_export_gives_encrypted_birth_date_and_coordinates_as_iso_date_and_numbers(subject):
    Contact.objects.create(customer=subject, external_id="h", kind="home_address", value="深圳市南山区科技园1号",
                           latitude=22.54187654321098, longitude=113.95912345678901)
    doc = export("UCI00001")
    assert doc["customer"]["birth_date"] == "1990-01-01"
    home = next(c for c in doc["contacts"] if c["external_id"] == "h")
    assert (home["latitude"], home["longitude"]) == (22.54187654321098, 113.95912345678901)  # JSON numbers, exact
    assert {c["latitude"] for c in doc["contacts"] if c["external_id"] != "h"} == {None}


def test_export_holds_everything_about_the_customer(subject):
    doc = export("UCI00001")
    assert doc["format"] == "arrears.subject_export/1"
    cust = doc["customer"]
    assert (cust["external_id"], cust["name"], cust["national_id"], cust["birth_date"]) == (
        "UCI00001", "张三丰", "440304199001011234", "1990-01-01")
    assert "national_id_hash" not in cust  # keyed hashes are not the subject's data
    assert sorted(c["value"] for c in doc["contacts"]) == ["13812345678", "13987654321"]
    assert {c["party_name"] for c in doc["contacts"]} == {"", "李四"}
    assert all("value_hash" not in c for c in doc["contacts"])

    (acct,) = doc["accounts"]
    assert (acct["balance"], acct["credit_limit"], acct["overdue_amount"], acct["interest"]) == (
        "1234.50", "50000.00", "300.10", "234.50")
    assert acct["as_of_extract"] == "2025-03-20"
    (st,) = doc["statements"]
    assert (st["closing_balance"], st["minimum_due"], st["due_date"]) == ("1234.50", "123.45", "2025-02-21")
    (pay,) = doc["payments"]
    assert (pay["amount"], pay["local_date"]) == ("300.00", "2025-01-06")
    assert dt.datetime.fromisoformat(pay["paid_at"]) == timezone.make_aware(dt.datetime(2025, 1, 6, 20, 15))
    assert doc["bucket_history"][0]["bucket"] == "M1"
    (case,) = doc["cases"]
    assert (case["status"], case["total_balance"], case["opened_on"]) == ("in_collection", "1234.50", "2025-02-05")
    assert "assigned_to_id" not in case  # staff accounts are not exported
    (event,) = doc["case_events"]
    assert event["kind"] == "opened" and "actor_id" not in event

    actions = sorted((e["action"], e["object_type"]) for e in doc["audit_events"])
    assert actions == [("pii.reveal", "portfolio.contact"), ("pii.view", "cases.case")]
    reveal = next(e for e in doc["audit_events"] if e["action"] == "pii.reveal")
    assert reveal["reason"] == "客户来电核实" and "ip" not in reveal and "actor_label" not in reveal
    assert "王五" not in json.dumps(doc, ensure_ascii=False)
    assert doc["counts"]["contacts"] == 2 and doc["counts"]["audit_events"] == 2


def test_export_is_audited_and_written_privately(subject, tmp_path):
    out_file = tmp_path / "subject.json"
    call_command("export_subject", str(subject.pk), "--pk", "--output", str(out_file), "--actor", "collector42",
                 "--reason", "客户申请查阅（工单 123）", stdout=io.StringIO(), stderr=io.StringIO())
    text = out_file.read_text(encoding="utf-8")
    assert json.loads(text)["customer"]["external_id"] == "UCI00001"
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    event = AuditEvent.objects.filter(action="subject.export").get()
    assert (event.object_type, event.object_id) == ("portfolio.customer", str(subject.pk))
    assert event.actor_label == "collector42" and event.reason == "客户申请查阅（工单 123）"
    assert event.data["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert event.data["output"] == str(out_file.resolve()) and event.data["counts"]["payments"] == 1
    assert "张三丰" not in json.dumps(event.data, ensure_ascii=False)


def test_export_to_stdout_is_audited_too(subject):
    export("UCI00001")
    event = AuditEvent.objects.filter(action="subject.export").get()
    assert event.data["output"] == "stdout" and event.actor_label == "system"
    assert "PIPL" in event.reason


def test_unknown_customer(subject):
    with pytest.raises(CommandError, match="no customer"):
        call_command("export_subject", "UCI99999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no customer"):
        call_command("export_subject", "abc", "--pk", stdout=io.StringIO())
    assert not AuditEvent.objects.filter(action="subject.export").exists()


def test_purged_customer_export_shows_the_erasure(subject):
    subject.cases.update(status="closed_paid", closed_on=AS_OF - dt.timedelta(days=3000))
    call_command("purge", "--as-of", AS_OF.isoformat(), "--json", stdout=io.StringIO())
    doc = export("UCI00001")
    assert doc["customer"]["national_id"] == "" and doc["customer"]["purged_at"]
    assert {c["value"] for c in doc["contacts"]} == {""}
    assert doc["payments"][0]["amount"] == "300.00"
    assert "retention.purge" in {e["action"] for e in doc["audit_events"]}


def test_records_of_other_apps_pointing_at_the_customer_are_included(subject):
    from django.apps import apps

    if not apps.is_installed("arrears.contexts.money.servicing"):
        pytest.skip("no servicing app")
    ServiceContact = apps.get_model("servicing", "ServiceContact")
    staff = get_user_model().objects.get(username="collector42")
    ServiceContact.objects.create(customer=subject, at=timezone.now(), channel="hotline", handled_by=staff,
                                  summary="客户咨询还款方式")
    other = Customer.objects.get(external_id="UCI00002")
    ServiceContact.objects.create(customer=other, at=timezone.now(), channel="hotline", summary="别人的来电")
    doc = export("UCI00001")
    (found,) = doc["related"]["servicing.servicecontact"]
    assert found["summary"] == "客户咨询还款方式" and found["customer_id"] == subject.pk
    assert "handled_by_id" not in found
    assert "别人的来电" not in json.dumps(doc, ensure_ascii=False)

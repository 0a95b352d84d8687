"""One write for the timeline and the audit log: ``record_case_event`` writes the case event and,
for an audited kind, its audit event, in one transaction — both or neither."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from arrears.contexts.audit import facade as audit_facade
from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.facade import EventRow, InvalidCaseEvent, record_case_event, record_case_events
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.portfolio.models import Customer
from arrears.core.errors import ArrearsError

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 20)


@pytest.fixture
def case():
    customer = Customer.objects.create(external_id="EV00001", name="张三")
    return Case.objects.create(customer=customer, status="in_collection", opened_on=DAY, bucket="M1", max_dpd=35,
                               total_balance=Decimal("100.00"))


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("agent7", password="agent-Passw0rd-7")


def test_an_audited_kind_writes_the_event_and_its_audit_event(case, agent):
    data = {"contact": 5, "kind": "do_not_call", "call": 9}
    assert record_case_event(case.pk, "desk_restriction", data, as_of=DAY, actor=agent) == 1
    ev = CaseEvent.objects.get(case=case)
    assert (ev.kind, ev.data, ev.actor_id, ev.as_of) == ("desk_restriction", data, agent.pk, DAY)
    (au,) = AuditEvent.objects.all()
    assert (au.action, au.object_type, au.object_id, au.actor_id, au.data) == (
        "contact.restricted", "cases.case", str(case.pk), agent.pk, data)


def test_the_audit_event_may_be_about_another_object_with_its_own_details(case, agent):
    record_case_event(case.pk, "desk_hold", {"hold": 3, "kind": "dispute", "call": 9}, as_of=DAY, actor=agent,
                      reason="客户投诉", audit_obj=("compliance.collectionhold", 3), audit_data={"kind": "dispute"},
                      audit_reason="dispute raised on the call")
    au = AuditEvent.objects.get()
    assert (au.action, au.object_type, au.object_id, au.data, au.reason) == (
        "collection.hold_opened", "compliance.collectionhold", "3", {"kind": "dispute"}, "dispute raised on the call")
    assert CaseEvent.objects.get().reason == "客户投诉"


def test_a_kind_that_is_not_audited_writes_no_audit_event(case):
    record_case_event(case.pk, "bucket_changed", {"from": "M1", "to": "M2", "dpd": 31}, as_of=DAY)
    assert CaseEvent.objects.filter(kind="bucket_changed").count() == 1
    assert not AuditEvent.objects.exists()


def test_a_kind_audited_when_its_data_says_so(case, agent):
    record_case_event(case.pk, "assigned", {"from": None, "to": agent.pk, "by": "desk_get_next"}, actor=agent)
    assert not AuditEvent.objects.exists()
    record_case_event(case.pk, "assigned", {"from": agent.pk, "to": None, "by": "desk_reassign"}, actor=agent)
    assert AuditEvent.objects.get().action == "desk.reassign"
    assert CaseEvent.objects.filter(kind="assigned").count() == 2


def test_without_a_case_only_the_audit_event_is_written(agent):
    data = {"payment": "P1", "amount": "10.00", "allocation": {}, "credit": "0.00", "order": []}
    assert record_case_event(None, "payment_posted", data, actor=agent, audit_obj=("payments.payment", 1)) == 0
    assert not CaseEvent.objects.exists()
    assert AuditEvent.objects.get().action == "payments.posted"
    assert record_case_event(None, "promise_broken", {"promise": 1}) == 0
    assert AuditEvent.objects.count() == 1


def test_bad_data_is_refused_and_nothing_is_written(case, agent):
    with pytest.raises(InvalidCaseEvent) as info:
        record_case_event(case.pk, "desk_restriction", {"contact": 5, "kind": "do_not_call"}, actor=agent)
    assert isinstance(info.value, ArrearsError) and "call: required" in info.value.details["problems"]
    with pytest.raises(InvalidCaseEvent):  # one bad event in a batch: none of the batch
        record_case_events([EventRow(case.pk, "bucket_changed", DAY, data={"from": "M1", "to": "M2", "dpd": 31}),
                            EventRow(case.pk, "bucket_changed", DAY, data={"from": "M1", "to": "M2"})])
    assert not CaseEvent.objects.exists() and not AuditEvent.objects.exists()


# no test transaction around these: the write's own transaction is the one that rolls back
@pytest.mark.django_db(transaction=True)
def test_a_failing_audit_write_rolls_back_the_case_events_and_the_audit_events(case, agent, monkeypatch):
    real = audit_facade.record_audit_event
    calls = []

    def second_one_fails(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise RuntimeError("the audit log refused the append")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit_facade, "record_audit_event", second_one_fails)
    with pytest.raises(RuntimeError):
        record_case_events([
            EventRow(case.pk, "desk_restriction", DAY, actor_id=agent.pk, data={"contact": 5, "kind": "x", "call": 1}),
            EventRow(case.pk, "bucket_changed", DAY, data={"from": "M1", "to": "M2", "dpd": 31}),
            EventRow(case.pk, "desk_hold", DAY, actor_id=agent.pk, data={"hold": 2, "kind": "dispute", "call": 1}),
        ])
    assert calls == ["contact.restricted", "collection.hold_opened"]  # the first audit event was written …
    assert not AuditEvent.objects.exists()  # … and rolled back with the rest
    assert not CaseEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_audit_write_rolls_back_the_single_event(case, agent, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("the audit log refused the append")

    monkeypatch.setattr(audit_facade, "record_audit_event", refuse)
    with pytest.raises(RuntimeError):
        record_case_event(case.pk, "desk_hold", {"hold": 2, "kind": "dispute", "call": 1}, actor=agent)
    assert not CaseEvent.objects.exists()


def test_inside_a_callers_transaction_a_failure_undoes_the_callers_work_too(case, agent, monkeypatch):
    from django.db import transaction

    def refuse(*args, **kwargs):
        raise RuntimeError("the audit log refused the append")

    monkeypatch.setattr(audit_facade, "record_audit_event", refuse)
    with pytest.raises(RuntimeError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(bucket="M2")  # the caller's own write
        record_case_event(case.pk, "desk_hold", {"hold": 2, "kind": "dispute", "call": 1}, actor=agent)
    case.refresh_from_db()
    assert case.bucket == "M1" and not CaseEvent.objects.exists()


def test_the_bulk_write_audits_with_each_events_actor(case, agent):
    n = record_case_events([
        EventRow(case.pk, "plan_active", DAY, "approved", "active", agent.pk, data={"plan": 4, "signature": "s"},
                 audit_obj=("servicing.paymentplan", 4)),
        EventRow(case.pk, "promise_kept", DAY, "open", "kept", data={"promise": 8}),
    ])
    assert n == 2
    au = AuditEvent.objects.get()
    assert (au.action, au.actor_id, au.object_type) == ("servicing.plan_active", agent.pk, "servicing.paymentplan")

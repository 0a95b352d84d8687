"""Payments file, explain_balance command, API idempotency, and concurrent postings on PostgreSQL."""
from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal as D
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from arrears.apps.payments.models import Payment
from arrears.apps.portfolio.models import CardAccount

from .test_money_posting import make_account

HEADER = "payment_id,account_id,paid_at,amount,channel\n"


def _file(tmp_path, body: str, name="payments.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


@pytest.mark.django_db
def test_bad_file_refused_whole_with_file_row_column_reason(tmp_path):
    make_account()
    p = _file(tmp_path, "P1,A1,2025-03-16T10:00:00+08:00,10.00,bank\n"
                        "P2,NOPE,2025-03-16T10:00:00+08:00,10.00,bank\n"
                        "P3,A1,2025-03-16T10:00:00+08:00,-5.00,bank\n"
                        "P4,A1,2025-03-16T10:00:00+08:00,1.2.3,bank\n"
                        "P5,A1,2025-03-18T10:00:00+08:00,5.00,bank\n")
    with pytest.raises(CommandError) as e:
        call_command("post_payments", str(p), "--as-of", "2025-03-17")
    msg = str(e.value)
    assert "payments.csv line 3, column account_id: account_id 'NOPE' is not a known account" in msg
    assert "payments.csv line 4, column amount: must be greater than 0" in msg
    assert "payments.csv line 5, column amount" in msg
    assert "payments.csv line 6, column paid_at: paid on 2025-03-18" in msg
    assert Payment.objects.count() == 0  # nothing from a rejected file


@pytest.mark.django_db
def test_same_file_twice_posts_once_and_reversal_row(tmp_path):
    account, case = make_account(principal="300.00", overdue="300.00", extract=date(2025, 3, 5), dpd=4)
    p = _file(tmp_path, "P1,A1,2025-03-10T10:00:00+08:00,100.00,bank\n")
    out = StringIO()
    call_command("post_payments", str(p), "--as-of", "2025-03-10", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"posted": 1, "repeated": 0, "reversed": 0}
    out = StringIO()
    call_command("post_payments", str(p), "--as-of", "2025-03-10", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"posted": 0, "repeated": 1, "reversed": 0}
    assert Payment.objects.filter(account=account).count() == 1
    r = tmp_path / "rev" / "payments.csv"
    r.parent.mkdir()
    r.write_text("payment_id,account_id,paid_at,amount,channel,reverses\n"
                 "R1,A1,2025-03-12T09:00:00+08:00,100.00,bank,P1\n", encoding="utf-8")
    out = StringIO()
    call_command("post_payments", str(r), "--as-of", "2025-03-12", "--json", stdout=out)
    assert json.loads(out.getvalue())["reversed"] == 1
    assert Payment.objects.get(external_id="P1").reversed_on == date(2025, 3, 12)


@pytest.mark.django_db
def test_explain_balance_command_json_hand_worked():
    # principal 1,000.00 on 01 Mar (extract); minimum 300.00 due 05 Mar unpaid → 违约金 5 % = 15.00
    # charged 06 Mar; 100.00 paid 11 Mar → penalty 15.00, interest 5.00 (1,000 × 0.0005 × 10), principal 80.00.
    # As of 21 Mar: interest 11 → 21 Mar on 920.00 = 920 × 0.0005 × 10 = 4.60; owed 920.00 + 4.60 = 924.60.
    from arrears.apps.portfolio.models import Statement

    account, _ = make_account(principal="1000.00", overdue="0.00", extract=date(2025, 3, 1), dpd=0, bucket="M0")
    Statement.objects.create(account=account, statement_date=date(2025, 2, 10), due_date=date(2025, 3, 5),
                             closing_balance=D("1000.00"), minimum_due=D("300.00"))
    from arrears.apps.payments.services import post_payment
    from datetime import datetime
    from zoneinfo import ZoneInfo

    post_payment(account.pk, "P1", "100.00", datetime(2025, 3, 11, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    out = StringIO()
    call_command("explain_balance", "A1", "--as-of", "2025-03-21", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["amount_owed"] == "924.60"
    assert [(p["start"], p["days"], p["base"], p["amount"]) for p in data["interest_periods"]] == [
        ("2025-03-01", 5, "1000.00", "2.50"), ("2025-03-06", 5, "1000.00", "2.50"), ("2025-03-11", 10, "920.00", "4.60")]
    assert data["penalties"][0]["amount"] == "15.00" and data["penalties"][0]["unpaid_minimum"] == "300.00"
    assert data["payments"][0]["applied"] == {"fees": "0.00", "penalty": "15.00", "interest": "5.00",
                                              "principal": "80.00"}
    assert "年化利率 18.25%" in data["paragraph_zh"] and "annual rate 18.25%" in data["paragraph_en"]
    with pytest.raises(CommandError):
        call_command("explain_balance", "NOPE", "--as-of", "2025-03-21")


def _poster(django_user_model, name="sup"):
    u = django_user_model.objects.create_user(name, password="x" * 12)
    u.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return u


@pytest.mark.django_db
def test_api_retry_posts_once(django_user_model):
    make_account()
    c = Client()
    c.force_login(_poster(django_user_model))
    body = {"account": "A1", "external_id": "API-1", "amount": "40.00", "paid_at": "2025-03-16T10:00:00+08:00"}
    r1 = c.post("/api/v1/payments/", body, content_type="application/json")
    r2 = c.post("/api/v1/payments/", body, content_type="application/json")
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json()["payment_id"] == r2.json()["payment_id"]
    r3 = c.post("/api/v1/payments/", {**body, "amount": "41.00"}, content_type="application/json")
    assert r3.status_code == 409 and r3.json()["field"] == "external_id"
    bad = c.post("/api/v1/payments/", {**body, "external_id": "API-2", "amount": "-1.00"},
                 content_type="application/json")
    assert bad.status_code == 400
    anon = Client().post("/api/v1/payments/", body, content_type="application/json")
    assert anon.status_code == 403
    bal = c.get("/api/v1/payments/balance/?account=A1&as_of=2025-03-16")
    assert bal.status_code == 200 and bal.json()["paid"] == "40.00"


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_never_over_apply_postgresql(django_user_model):
    """R20 + row locks: 8 parallel requests, 4 distinct payments of 30.00 and each sent twice, on
    one account owing 100.00 (+0.05 interest on 16 Mar). Exactly 4 payments post; the account ends
    with credit 120.00 − 100.05 = 19.95, the case closed, no payment applied twice."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (row locks); set ARREARS_DATABASE_URL=postgres://…")
    account, case = make_account()
    user = _poster(django_user_model, "sup-conc")
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def send(i: int) -> None:
        from django.db import connections

        try:
            c = Client()
            c.force_login(user)
            barrier.wait()
            r = c.post("/api/v1/payments/", {"account": "A1", "external_id": f"C-{i % 4}", "amount": "30.00",
                                             "paid_at": "2025-03-16T10:00:00+08:00"},
                       content_type="application/json")
            codes.append(r.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * 4 + [201] * 4
    assert Payment.objects.filter(account=account).count() == 4
    account = CardAccount.objects.get(pk=account.pk)
    assert account.balance == D("-19.95") and account.dpd == 0
    case.refresh_from_db()
    assert case.status == "closed_paid"
    applied = sum(D(p.allocation["applied"]["principal"]) + D(p.allocation["applied"]["interest"])
                  for p in Payment.objects.filter(account=account))
    assert applied == D("100.05")

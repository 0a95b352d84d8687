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

from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import CardAccount

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
    # Extract 01 Mar: principal 1,000.00 from the statement of 10 Feb (due 05 Mar, minimum 300.00),
    # still in its interest-free period (CARD: 50 days; the due date comes first). Nothing is paid
    # by 05 Mar, so the period is lost: on 06 Mar interest is charged back to the statement date,
    # 10 Feb → 06 Mar = 24 days × 1,000.00 × 0.0005 = 12.00 (nothing for 01 → 06 Mar on top: those
    # days are inside the 24). 违约金 5 % × 300.00 = 15.00 on 06 Mar. 06 → 11 Mar: 5 × 1,000 ×
    # 0.0005 = 2.50. 100.00 paid 11 Mar → penalty 15.00, interest 12.00 + 2.50 = 14.50, principal
    # 70.50 → 929.50 left. 11 → 21 Mar: 10 × 929.50 × 0.0005 = 4.6475 → 4.65. Owed 934.15.
    from arrears.contexts.portfolio.models import Statement

    account, _ = make_account(principal="1000.00", overdue="0.00", extract=date(2025, 3, 1), dpd=0, bucket="M0")
    Statement.objects.create(account=account, statement_date=date(2025, 2, 10), due_date=date(2025, 3, 5),
                             closing_balance=D("1000.00"), minimum_due=D("300.00"))
    from arrears.contexts.money.payments.services import post_payment
    from datetime import datetime
    from zoneinfo import ZoneInfo

    post_payment(account.pk, "P1", "100.00", datetime(2025, 3, 11, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    out = StringIO()
    call_command("explain_balance", "A1", "--as-of", "2025-03-21", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["amount_owed"] == "934.15"
    assert [(p["start"], p["days"], p["base"], p["amount"], p["kind"]) for p in data["interest_periods"]] == [
        ("2025-02-10", 24, "1000.00", "12.00", "free_period_lost"), ("2025-03-06", 5, "1000.00", "2.50", "daily"),
        ("2025-03-11", 10, "929.50", "4.65", "daily")]
    assert data["interest_free"][0]["kept"] is False and data["interest_free"][0]["free_until"] == "2025-03-05"
    assert data["penalties"][0]["amount"] == "15.00" and data["penalties"][0]["unpaid_minimum"] == "300.00"
    assert data["payments"][0]["applied"] == {"fees": "0.00", "penalty": "15.00", "interest": "14.50",
                                              "principal": "70.50"}
    assert "年化利率 18.25%" in data["paragraph_zh"] and "annual rate 18.25%" in data["paragraph_en"]
    assert "不享受免息还款期" in data["paragraph_zh"] and "interest-free period is lost" in data["paragraph_en"]
    with pytest.raises(CommandError):
        call_command("explain_balance", "NOPE", "--as-of", "2025-03-21")


@pytest.mark.django_db
def test_statement_paid_in_full_by_due_date_bears_no_interest():
    # Same statement (1,000.00, 10 Feb, due 05 Mar) paid in full on 04 Mar: the interest-free
    # period is kept — no interest for any day, nothing owed, no 违约金, the case closes as paid.
    from arrears.contexts.portfolio.models import Statement
    from arrears.contexts.money.payments.services import post_payment
    from datetime import datetime
    from zoneinfo import ZoneInfo

    account, case = make_account(principal="1000.00", overdue="0.00", extract=date(2025, 3, 1), dpd=0, bucket="M0")
    Statement.objects.create(account=account, statement_date=date(2025, 2, 10), due_date=date(2025, 3, 5),
                             closing_balance=D("1000.00"), minimum_due=D("300.00"))
    post_payment(account.pk, "P1", "1000.00", datetime(2025, 3, 4, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
    out = StringIO()
    call_command("explain_balance", "A1", "--as-of", "2025-03-21", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["interest_periods"] == [] and data["penalties"] == []
    assert data["amount_owed"] == "0.00" and data["interest_free"][0]["kept"] is True
    assert "享受免息还款期" in data["paragraph_zh"]
    case.refresh_from_db()
    assert case.status == "closed_paid"


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


R20_SEEDS = (20250316, 7, 99)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", R20_SEEDS)
def test_r20_randomised_parallel_postings_duplicates_and_reversals_postgresql(django_user_model, seed):
    """R20, randomised and repeated: 100 requests in random order from 8 threads over 3 accounts —
    payments drawn from a small pool per account (so most are sent several times) and reversals of
    pool payments (some arrive before the payment they reverse and are refused). Each account owes
    100.00 principal (extract 15 Mar) + 0.05 interest (1 day) on 16 Mar; amounts are multiples of
    7.00 so no residual ever falls within the write-off tolerance. Invariants, whatever the order:

    * each external id is posted exactly once (one 201, the repeats 200) and reversed at most once;
    * the stored account equals a serial replay: balance = 100.05 − P, where P is the sum of the
      payments posted and not reversed; credit = P − 100.05 exactly when P > 100.05, else 0;
    * no payment's stored allocation applies more than its amount (applied + credit = amount), and
      the replay never applies more than is owed (applied total + owed = 100.05);
    * the case is open exactly when less than the overdue 100.00 is paid.
    """
    import random
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from arrears.contexts.casework.selectors import open_case_for_customer
    from arrears.contexts.money.payments.models import BalanceAdjustment
    from arrears.contexts.money.payments.services import account_explanation

    if connection.vendor != "postgresql":
        pytest.skip("R20 concurrency test needs PostgreSQL (SELECT … FOR UPDATE row locks; SQLite serialises "
                    "all writers); run with ARREARS_DATABASE_URL=postgres://…")
    rng = random.Random(seed)
    accounts = {n: make_account(ext=n, cust=f"C-{n}")[0] for n in ("A1", "A2", "A3")}
    pool = {n: {f"{n}-P{i}": D(7 * rng.randint(1, 5)) for i in range(6)} for n in accounts}
    ops = []
    for _ in range(100):
        n = rng.choice(list(accounts))
        pid = rng.choice(list(pool[n]))
        ops.append(("reverse" if rng.random() < 0.2 else "post", n, pid))
    rng.shuffle(ops)
    user = _poster(django_user_model, f"sup-r20-{seed}")
    lock = threading.Lock()
    results: list[tuple[str, str, str, int]] = []

    def send(op) -> None:
        kind, n, pid = op
        try:
            c = Client()
            c.force_login(user)
            if kind == "post":
                r = c.post("/api/v1/payments/", {"account": n, "external_id": pid, "amount": str(pool[n][pid]),
                                                 "paid_at": "2025-03-16T10:00:00+08:00"},
                           content_type="application/json")
            else:
                r = c.post("/api/v1/payments/reversals/", {"account": n, "external_id": pid,
                                                           "reversed_on": "2025-03-16"},
                           content_type="application/json")
            with lock:
                results.append((kind, n, pid, r.status_code))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool_exec:
        list(pool_exec.map(send, ops))
    assert len(results) == 100, f"seed {seed}: requests lost"
    for kind, n, pid, code in results:
        allowed = {200, 201} if kind == "post" else {200, 201, 400}
        assert code in allowed, (seed, kind, n, pid, code)
    for n, account in accounts.items():
        posts = {pid: [c for k, a, p, c in results if k == "post" and a == n and p == pid] for pid in pool[n]}
        revs = {pid: [c for k, a, p, c in results if k == "reverse" and a == n and p == pid] for pid in pool[n]}
        for pid, codes in posts.items():
            assert codes.count(201) == (1 if codes else 0) and codes.count(200) == len(codes) - (1 if codes else 0), \
                (seed, pid, codes)
            assert revs[pid].count(201) <= 1, (seed, pid, revs[pid])
        stored = {p.external_id: p for p in Payment.objects.filter(account=account)}
        assert set(stored) == {pid for pid, codes in posts.items() if codes}, seed  # each id posted once
        reversed_ids = {pid for pid, codes in revs.items() if 201 in codes}
        assert {pid for pid, p in stored.items() if p.status == "reversed"} == reversed_ids, seed
        for p in stored.values():
            applied = sum((D(v) for v in p.allocation.get("applied", {}).values()), D("0"))
            assert applied + D(p.allocation.get("credit", "0")) == p.amount, (seed, p.external_id, p.allocation)
        paid = sum((p.amount for pid, p in stored.items() if pid not in reversed_ids), D("0.00"))
        account = CardAccount.objects.get(pk=account.pk)
        exp, _ = account_explanation(account, date(2025, 3, 16))
        assert not BalanceAdjustment.objects.filter(account=account).exists(), seed
        assert account.balance == D("100.05") - paid, (seed, n, paid, account.balance)
        assert exp.credit == max(paid - D("100.05"), D("0.00")), (seed, n, paid, exp.credit)
        applied_total = sum((p.applied.total for p in exp.payments), D("0.00"))
        assert applied_total + exp.closing.total == D("100.05") and applied_total <= D("100.05"), seed
        assert applied_total + exp.credit == paid, seed
        assert (open_case_for_customer(account.customer_id) is not None) == (paid < D("100.00")), (seed, n, paid)

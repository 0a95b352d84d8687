"""The collections desk in a real browser (Chromium through Playwright).

Log in through the form, filter the work list to M3 (htmx swaps the table), open a case, see the
masked phone number and never the raw one, switch to English. Screenshots of the list and the case
page go to ``$ARREARS_SCREENSHOTS`` (default ``/tmp``) as ``desk_list.png`` and ``desk_detail.png``.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import BucketHistory, CardAccount, Contact, Customer, Statement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ARREARS_SCREENSHOTS", "/tmp"))
AS_OF = dt.date(2025, 3, 20)
RAW_PHONE = "13812345678"
PASSWORD = "desk-e2e-Passw0rd"


def _case(n: int, *, dpd: int, bucket: str, balance: str, name: str, phone: str, status="in_collection", user=None):
    customer = Customer.objects.create(
        external_id=f"CU{n:06d}", name=name, national_id=f"44030419900101{n:04d}", sex="F", district="福田区"
    )
    Contact.objects.create(customer=customer, external_id="m", kind="mobile", value=phone)
    Contact.objects.create(customer=customer, external_id="h", kind="home_address", value=f"广东省深圳市福田区福华三路{n}号")
    amount = Decimal(balance)
    account = CardAccount.objects.create(
        customer=customer, external_id=f"6222{n:012d}", credit_limit=Decimal("50000.00"), balance=amount,
        principal=amount - Decimal("612.40"), interest=Decimal("512.40"), fees=Decimal("100.00"),
        minimum_due=(amount / 10).quantize(Decimal("0.01")), overdue_amount=(amount * Decimal("0.3")).quantize(Decimal("0.01")),
        oldest_unpaid_due_date=AS_OF - dt.timedelta(days=dpd), as_of_extract=AS_OF, dpd=dpd, bucket=bucket,
        last_run_as_of=AS_OF,
    )
    for m in range(4):
        sd = dt.date(2025, 3, 1) - dt.timedelta(days=30 * m)
        Statement.objects.create(
            account=account, statement_date=sd, due_date=sd + dt.timedelta(days=20), closing_balance=amount,
            minimum_due=(amount / 10).quantize(Decimal("0.01")), delinquency_status=min(3, m + 1),
        )
    BucketHistory.objects.create(account=account, as_of=AS_OF - dt.timedelta(days=dpd - 1), dpd=1, bucket="M1", previous_bucket="M0", roll="new")
    Payment.objects.create(
        account=account, external_id=f"P{n}", paid_at=timezone.make_aware(dt.datetime(2025, 1, 6, 20, 15)),
        local_date=dt.date(2025, 1, 6), amount=Decimal("300.00"), channel="bank_transfer",
    )
    case = Case.objects.create(
        customer=customer, status=status, opened_on=AS_OF - dt.timedelta(days=dpd), bucket=bucket, max_dpd=dpd,
        total_balance=amount, overdue_amount=account.overdue_amount, assigned_to=user, last_run_as_of=AS_OF,
    )
    CaseEvent.objects.create(
        case=case, at=timezone.make_aware(dt.datetime(2025, 1, 1, 2)), as_of=case.opened_on, kind="opened",
        to_status="open", reason="daily run",
    )
    CaseEvent.objects.create(
        case=case, at=timezone.make_aware(dt.datetime(2025, 1, 2, 9, 30)), kind="status_changed",
        from_status="open", to_status=status, actor=user,
    )
    return case


@pytest.fixture
def desk_data(db):
    user = get_user_model().objects.create_user("collector", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="collector")[0])
    cases = {
        "m1": _case(1, dpd=20, bucket="M1", balance="4200.00", name="李娜", phone="13900000001", user=user),
        "m3": _case(2, dpd=75, bucket="M3", balance="56789.12", name="张三", phone=RAW_PHONE, user=user),
        "m3b": _case(3, dpd=64, bucket="M3", balance="9100.50", name="王小明", phone="13700000003", status="on_hold"),
        "m5": _case(4, dpd=140, bucket="M5", balance="23000.00", name="欧阳娜娜", phone="13600000004", user=user),
    }
    return user, cases


def _login(page, base_url: str) -> None:
    page.goto(base_url + "/cases/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "collector")
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(re.compile(r".*/cases/$"))


def test_collector_filters_opens_case_and_switches_language(live_server, page, desk_data):
    from playwright.sync_api import expect

    _, cases = desk_data
    _login(page, live_server.url)
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(3)  # the collector's own three cases; m3b is someone else's

    # Filter to M3: htmx swaps the table and pushes the filter into the address bar.
    page.locator("label.chip", has_text="M3").click()
    page.wait_for_url(re.compile(r".*bucket=M3.*"))
    expect(rows).to_have_count(1)
    expect(page.locator("#case-results")).to_contain_text(f"C{cases['m3'].pk}")
    expect(page.locator("#case-results")).not_to_contain_text(f"C{cases['m1'].pk}")
    expect(page.locator("#case-results")).not_to_contain_text(f"C{cases['m3b'].pk}")
    expect(page.locator(".summary .count")).to_contain_text("共 1 件案件")
    page.screenshot(path=str(SHOTS / "desk_list.png"), full_page=True)

    # Open the case: masked phone, never the raw one.
    page.locator("a.caselink", has_text=f"C{cases['m3'].pk}").click()
    page.wait_for_url(re.compile(rf".*/cases/{cases['m3'].pk}/.*"))
    expect(page.locator("[data-pii=phone]")).to_have_text("138****5678")
    expect(page.locator("[data-pii=name]")).to_have_text("张*")
    expect(page.locator("[data-pii=national_id]")).to_have_text("4403**********0002")
    assert RAW_PHONE not in page.content()
    expect(page.locator("#accounts")).to_contain_text("56,789.12元")
    page.screenshot(path=str(SHOTS / "desk_detail.png"), full_page=True)

    # Switch to English: the same page, English labels.
    page.locator(".langswitch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#customer h2")).to_have_text("Customer")
    expect(page.locator(".kpis")).to_contain_text("Days past due")
    expect(page.locator("#accounts")).to_contain_text("Principal")
    expect(page.locator("#timeline")).to_contain_text("Status changed")
    expect(page.locator("h1 .status")).to_have_text("In collection")
    expect(page.locator("[data-pii=phone]")).to_have_text("138****5678")
    page.screenshot(path=str(SHOTS / "desk_detail_en.png"), full_page=True)

    # Back to the filtered list, in English.
    page.locator("a.back").click()
    page.wait_for_url(re.compile(r".*bucket=M3.*"))
    expect(page.locator(".summary .count")).to_contain_text("1 case")
    expect(rows).to_have_count(1)


def test_list_works_without_javascript(live_server, browser, desk_data):
    from playwright.sync_api import expect

    _, cases = desk_data
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        _login(page, live_server.url)
        page.locator("label.chip", has_text="M3").click()
        page.locator("input[name=dpd_min]").fill("70")
        page.locator(".filters button[type=submit]").click()
        page.wait_for_url(re.compile(r"^(?=.*bucket=M3)(?=.*dpd_min=70).*$"))
        rows = page.locator("table.cases tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(f"C{cases['m3'].pk}")
        # Logging out is a POST form, also without JavaScript.
        page.locator("form.logout button").click()
        page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    finally:
        context.close()


def test_collector_cannot_open_another_collectors_case_by_url(live_server, page, desk_data):
    """Data scope holds when the URL is typed: another collector's case answers 404."""
    from playwright.sync_api import expect

    _, cases = desk_data
    _login(page, live_server.url)
    response = page.goto(f"{live_server.url}/cases/{cases['m3b'].pk}/")
    assert response.status == 404
    assert "13700000003" not in page.content() and "王" not in page.locator("main").inner_text()
    response = page.goto(f"{live_server.url}/cases/{cases['m3'].pk}/")
    assert response.status == 200
    expect(page.locator("[data-pii=phone]")).to_have_text("138****5678")

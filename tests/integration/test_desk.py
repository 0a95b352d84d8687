"""The collections desk: case list (filters, keyset pages), case page (masked PII), login, language,
admin, roles."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arrears.contexts.casework import selectors
from arrears.contexts.casework.models import Case, CaseEvent
from arrears.contexts.casework.selectors import CaseFilter, InvalidCursor, case_detail, case_list
from arrears.contexts.money.payments.models import Payment
from arrears.contexts.portfolio.models import BucketHistory, CardAccount, Contact, Customer, Statement
from arrears.contexts.org.users.roles import ROLES
from arrears.contexts.org.users.services import ensure_demo_users

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 3, 20)
RAW_PHONE = "13812345678"
RAW_ID = "440304199001011234"
RAW_NAME = "张三丰"
RAW_ADDRESS = "广东省深圳市南山区科技园路1号2栋301室"
RAW_EMERGENCY_PHONE = "13987654321"

BUCKET_OF = [(0, "M0"), (30, "M1"), (60, "M2"), (90, "M3"), (120, "M4"), (150, "M5"), (180, "M6")]


def bucket_for(dpd: int) -> str:
    for upper, name in BUCKET_OF:
        if dpd <= upper:
            return name
    return "M7+"


_seq = iter(range(1, 10**9))


def make_case(
    *,
    dpd: int,
    balance: str = "1000.00",
    status: str = "in_collection",
    bucket: str | None = None,
    assigned_to=None,
    name: str = "李四",
    phone: str | None = None,
) -> Case:
    n = next(_seq)
    customer = Customer.objects.create(
        external_id=f"CU{n:07d}", name=name, national_id=f"4403041990{n:08d}", sex="M", district="南山区"
    )
    if phone:
        Contact.objects.create(customer=customer, external_id="m", kind="mobile", value=phone)
    amount = Decimal(balance)
    CardAccount.objects.create(
        customer=customer, external_id=f"AC{n:07d}", credit_limit=Decimal("50000.00"), balance=amount,
        principal=amount, overdue_amount=amount, as_of_extract=AS_OF, dpd=dpd, bucket=bucket or bucket_for(dpd),
    )
    return Case.objects.create(
        customer=customer, status=status, opened_on=AS_OF - dt.timedelta(days=dpd), bucket=bucket or bucket_for(dpd),
        max_dpd=dpd, total_balance=amount, overdue_amount=amount, assigned_to=assigned_to, last_run_as_of=AS_OF,
    )


@pytest.fixture
def collector(db):
    user = get_user_model().objects.create_user("collector1", password="correct-horse-9")
    user.groups.add(Group.objects.get_or_create(name="collector")[0])
    return user


@pytest.fixture
def supervisor(db):
    """Sees every case (read-only): the desk's list mechanics are tested through this user; data
    scope per role is tested in test_scope.py."""
    user = get_user_model().objects.create_user("supervisor1", password="correct-horse-9")
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return user


@pytest.fixture
def desk(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def portfolio(db):
    """A spread of cases across buckets, statuses and balances."""
    return {
        "m1": make_case(dpd=12, balance="800.00", status="open"),
        "m2": make_case(dpd=45, balance="15000.00"),
        "m3a": make_case(dpd=61, balance="5000.00"),
        "m3b": make_case(dpd=75, balance="25000.50", status="on_hold"),
        "m3c": make_case(dpd=90, balance="120000.00"),
        "m4": make_case(dpd=100, balance="9999.99"),
        "m7": make_case(dpd=400, balance="3000.00", status="closed_written_off"),
    }


@pytest.fixture
def rich_case(db, collector):
    """One case with everything the case page shows, with known raw personal data."""
    customer = Customer.objects.create(
        external_id="CU-RICH", name=RAW_NAME, national_id=RAW_ID, sex="M", district="南山区",
        birth_date=dt.date(1990, 1, 1),
    )
    Contact.objects.create(customer=customer, external_id="m", kind="mobile", value=RAW_PHONE)
    Contact.objects.create(customer=customer, external_id="h", kind="home_address", value=RAW_ADDRESS)
    Contact.objects.create(customer=customer, external_id="e", kind="email", value="zhangsanfeng@example.com")
    Contact.objects.create(
        customer=customer, external_id="x", kind="mobile", party="emergency", party_name="王五", relation="配偶",
        value=RAW_EMERGENCY_PHONE,
    )
    a1 = CardAccount.objects.create(
        customer=customer, external_id="6222000011112222", credit_limit=Decimal("50000.00"),
        balance=Decimal("12345.67"), principal=Decimal("11000.00"), interest=Decimal("1095.67"),
        fees=Decimal("250.00"), minimum_due=Decimal("1234.57"), overdue_amount=Decimal("3703.70"),
        oldest_unpaid_due_date=dt.date(2025, 1, 8), as_of_extract=AS_OF, dpd=71, bucket="M3",
    )
    a2 = CardAccount.objects.create(
        customer=customer, external_id="6222000033334444", credit_limit=Decimal("10000.00"),
        balance=Decimal("1000.00"), principal=Decimal("1000.00"), as_of_extract=AS_OF, dpd=10, bucket="M1",
    )
    for m in range(15):
        sd = dt.date(2025, 3, 1) - dt.timedelta(days=30 * m)
        Statement.objects.create(
            account=a1, statement_date=sd, due_date=sd + dt.timedelta(days=20),
            closing_balance=Decimal("12000.00") + m, minimum_due=Decimal("1200.00"), delinquency_status=2,
        )
    Statement.objects.create(
        account=a2, statement_date=dt.date(2025, 3, 1), due_date=dt.date(2025, 3, 21),
        closing_balance=Decimal("1000.00"), minimum_due=Decimal("100.00"), delinquency_status=-1,
    )
    BucketHistory.objects.create(account=a1, as_of=dt.date(2025, 1, 9), dpd=1, bucket="M1", previous_bucket="M0", roll="new")
    BucketHistory.objects.create(account=a1, as_of=dt.date(2025, 2, 8), dpd=31, bucket="M2", previous_bucket="M1", roll="forward")
    BucketHistory.objects.create(account=a1, as_of=dt.date(2025, 3, 10), dpd=61, bucket="M3", previous_bucket="M2", roll="forward")
    for p in range(25):
        Payment.objects.create(
            account=a1, external_id=f"PAY{p:03d}", paid_at=timezone.make_aware(dt.datetime(2024, 12, 1, 10) + dt.timedelta(days=p)),
            local_date=dt.date(2024, 12, 1) + dt.timedelta(days=p), amount=Decimal("100.50"), channel="alipay",
        )
    case = Case.objects.create(
        customer=customer, status="in_collection", opened_on=dt.date(2025, 1, 9), bucket="M3", max_dpd=71,
        total_balance=Decimal("13345.67"), overdue_amount=Decimal("3703.70"), assigned_to=collector,
        last_run_as_of=AS_OF,
    )
    CaseEvent.objects.create(
        case=case, at=timezone.make_aware(dt.datetime(2025, 1, 9, 2)), as_of=dt.date(2025, 1, 9), kind="opened",
        to_status="open", reason="daily run",
    )
    CaseEvent.objects.create(
        case=case, at=timezone.make_aware(dt.datetime(2025, 1, 10, 9)), kind="status_changed",
        from_status="open", to_status="in_collection", actor=collector, reason="first call",
    )
    return case


def ids(page) -> list[int]:
    return [r.id for r in page.rows]


def rows_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="caselink" href="/cases/(\d+)/', html)]


# --- access ---------------------------------------------------------------------------------------


def test_login_required_for_list_and_case(client, rich_case):
    for url in (reverse("cases:list"), reverse("cases:detail", args=[rich_case.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_expired_session_in_an_htmx_request_sends_the_browser_to_login(client):
    response = client.get(
        reverse("cases:list"), {"bucket": "M3"}, HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/cases/?bucket=M2",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/cases/%3Fbucket%3DM2"


def test_login_through_the_form_lands_on_the_list(client, collector):
    response = client.post(reverse("login"), {"username": "collector1", "password": "correct-horse-9"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("cases:list")
    bad = client.post(reverse("login"), {"username": "collector1", "password": "wrong"})
    assert bad.status_code == 200 and "id_username" in bad.content.decode()


def test_logout_is_a_post(desk):
    assert desk.get(reverse("cases:list")).status_code == 200
    response = desk.post(reverse("logout"))
    assert response.status_code == 302
    assert desk.get(reverse("cases:list")).status_code == 302


# --- list filters ---------------------------------------------------------------------------------


def test_filter_by_bucket(portfolio, admin_user):
    page = case_list(admin_user, CaseFilter(buckets=("M3",)))
    assert ids(page) == [portfolio[k].pk for k in ("m3c", "m3b", "m3a")]
    page = case_list(admin_user, CaseFilter(buckets=("M1", "M4")))
    assert set(ids(page)) == {portfolio["m1"].pk, portfolio["m4"].pk}


def test_filter_by_dpd_range_is_inclusive(portfolio, admin_user):
    page = case_list(admin_user, CaseFilter(dpd_min=45, dpd_max=90))
    assert ids(page) == [portfolio[k].pk for k in ("m3c", "m3b", "m3a", "m2")]
    assert ids(case_list(admin_user, CaseFilter(dpd_min=101))) == [portfolio["m7"].pk]


def test_filter_by_status(portfolio, admin_user):
    assert ids(case_list(admin_user, CaseFilter(statuses=("on_hold",)))) == [portfolio["m3b"].pk]
    page = case_list(admin_user, CaseFilter(statuses=("open", "closed_written_off")))
    assert ids(page) == [portfolio["m7"].pk, portfolio["m1"].pk]


def test_filter_by_balance(portfolio, admin_user):
    page = case_list(admin_user, CaseFilter(balance_min=Decimal("5000.00"), balance_max=Decimal("25000.50")))
    assert set(ids(page)) == {portfolio[k].pk for k in ("m2", "m3a", "m3b", "m4")}
    assert ids(case_list(admin_user, CaseFilter(balance_min=Decimal("25000.51"), balance_max=Decimal("200000")))) == [
        portfolio["m3c"].pk
    ]


def test_filters_combine(portfolio, collector, admin_user):
    assert ids(case_list(admin_user, CaseFilter(buckets=("M3",), statuses=("in_collection",), balance_max=Decimal("10000")))) == [
        portfolio["m3a"].pk
    ]
    mine = make_case(dpd=70, assigned_to=collector)
    assert ids(case_list(admin_user, CaseFilter(assigned_to_id=collector.pk))) == [mine.pk]


def test_search_by_case_customer_and_account_number(portfolio, admin_user):
    case = portfolio["m2"]
    account = case.customer.accounts.get()
    for q in (f"C{case.pk}", str(case.pk), case.customer.external_id, account.external_id):
        assert ids(case_list(admin_user, CaseFilter(q=q))) == [case.pk], q
    assert ids(case_list(admin_user, CaseFilter(q="nobody"))) == []


def test_list_view_filters_from_query_string(desk, portfolio):
    html = desk.get(reverse("cases:list"), {"bucket": "M3"}).content.decode()
    assert rows_in(html) == [portfolio[k].pk for k in ("m3c", "m3b", "m3a")]
    html = desk.get(
        reverse("cases:list"),
        {"dpd_min": "60", "dpd_max": "100", "status": ["in_collection", "on_hold"], "balance_min": "9000"},
    ).content.decode()
    assert rows_in(html) == [portfolio[k].pk for k in ("m4", "m3c", "m3b")]


def test_list_shows_masked_names_and_money(desk, db):
    make_case(dpd=70, balance="1234567.8", name="欧阳娜娜")
    html = desk.get(reverse("cases:list")).content.decode()
    assert "欧***" in html and "欧阳娜娜" not in html
    assert "1,234,567.80元" in html  # the one money formatter: CNY is 元 in Chinese


def test_invalid_filter_values_are_reported_and_ignored(desk, portfolio):
    response = desk.get(reverse("cases:list"), {"dpd_min": "abc", "bucket": ["M3", "M99"], "balance_min": "-5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert len(rows_in(html)) == len(portfolio)  # every filter was invalid: nothing filtered
    response = desk.get(reverse("cases:list"), {"dpd_min": "90", "dpd_max": "10"})
    assert 'role="alert"' in response.content.decode()


def test_htmx_request_gets_the_table_fragment(desk, portfolio):
    response = desk.get(reverse("cases:list"), {"q": "", "dpd_min": "", "bucket": "M3"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response["HX-Push-Url"] == "/cases/?bucket=M3"  # empty fields left out of the address bar
    assert response.status_code == 200
    assert "<html" not in html and "<table" in html
    assert rows_in(html) == [portfolio[k].pk for k in ("m3c", "m3b", "m3a")]
    assert "HX-Request" in response["Vary"]
    # The language switch keeps the filter the table now shows (out-of-band update).
    assert 'id="lang-next" value="/cases/?bucket=M3" hx-swap-oob="true"' in html
    full = desk.get(reverse("cases:list"), {"bucket": "M3"}).content.decode()
    assert "<html" in full and 'id="case-results"' in full and 'hx-get="/cases/"' in full
    # A history restore needs the whole page.
    restore = desk.get(reverse("cases:list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()


# --- keyset pages ---------------------------------------------------------------------------------


def test_cursor_pages_have_no_duplicates_and_no_gaps(db, admin_user):
    # Many ties on max_dpd so that the id tie-breaker matters.
    for i in range(37):
        make_case(dpd=[30, 61, 61, 61, 75, 90, 200][i % 7], status=["open", "in_collection"][i % 2])
    expected = list(Case.objects.order_by("-max_dpd", "-id").values_list("id", flat=True))

    seen, pages, page = [], [], case_list(admin_user, CaseFilter(), limit=5)
    assert page.is_first_page and page.prev_cursor is None
    while True:
        pages.append(ids(page))
        seen += ids(page)
        if not page.next_cursor:
            break
        page = case_list(admin_user, CaseFilter(), after=page.next_cursor, limit=5)
    assert seen == expected
    assert len(set(seen)) == len(seen) == 37
    assert [len(p) for p in pages] == [5] * 7 + [2]

    # Walking back with the previous-page cursors gives the same pages in reverse.
    back = [ids(page)]
    while page.prev_cursor:
        page = case_list(admin_user, CaseFilter(), before=page.prev_cursor, limit=5)
        back.append(ids(page))
    assert back == list(reversed(pages))
    assert page.is_first_page


def test_cursor_pages_with_a_filter(db, admin_user):
    for i in range(23):
        make_case(dpd=61 + i % 4, status="in_collection" if i % 3 else "open")
    flt = CaseFilter(buckets=("M3",), statuses=("in_collection",))
    expected = list(
        Case.objects.filter(bucket="M3", status="in_collection").order_by("-max_dpd", "-id").values_list("id", flat=True)
    )
    seen, page = [], case_list(admin_user, flt, limit=4)
    while True:
        seen += ids(page)
        if not page.next_cursor:
            break
        page = case_list(admin_user, flt, after=page.next_cursor, limit=4)
    assert seen == expected


def test_list_view_pages_through_links(desk, db):
    for i in range(57):
        make_case(dpd=31 + i % 5)
    expected = list(Case.objects.order_by("-max_dpd", "-id").values_list("id", flat=True))
    first = desk.get(reverse("cases:list"), {"bucket": "M2"}).content.decode()
    assert rows_in(first) == expected[:50]
    assert "共 57 件案件" in first
    next_href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "bucket=M2" in next_href and "offset" not in next_href.lower()
    second = desk.get(next_href).content.decode()
    assert rows_in(second) == expected[50:]
    assert 'rel="next"' not in second
    prev_href = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert rows_in(desk.get(prev_href).content.decode()) == expected[:50]


def test_bad_cursor(desk, portfolio, admin_user):
    with pytest.raises(InvalidCursor):
        case_list(admin_user, CaseFilter(), after="not-a-cursor")
    with pytest.raises(InvalidCursor):
        case_list(admin_user, CaseFilter(), after=selectors.encode_cursor(5, 1)[:-2] + "!!")
    response = desk.get(reverse("cases:list"), {"after": "garbage"})
    assert response.status_code == 200
    assert len(rows_in(response.content.decode())) == len(portfolio)


def test_list_queries_use_no_offset_and_a_capped_count(portfolio, monkeypatch, admin_user):
    with CaptureQueriesContext(connection) as ctx:
        page = case_list(admin_user, CaseFilter(buckets=("M3",)), limit=2)
        case_list(admin_user, CaseFilter(buckets=("M3",)), after=page.next_cursor, limit=2)
    sql = " ".join(q["sql"].upper() for q in ctx.captured_queries)
    assert "OFFSET" not in sql
    counts = [q["sql"].upper() for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in q for q in counts)
    case_queries = [q for q in ctx.captured_queries if "cases_case" in q["sql"]]
    assert len(case_queries) == 4  # one page query and one capped count per page (+ the user's roles)

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    page = case_list(admin_user, CaseFilter())
    assert page.count == 3 and page.count_capped


def test_capped_count_is_shown_as_more_than(desk, portfolio, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    html = desk.get(reverse("cases:list")).content.decode()
    assert "超过 5 件案件" in html


# --- case page ------------------------------------------------------------------------------------


def test_case_page_shows_masked_personal_data_only(desk, rich_case):
    response = desk.get(reverse("cases:detail", args=[rich_case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****5678" in html
    assert "4403**********1234" in html
    assert "张**" in html
    assert "广东省深圳市南山区****" in html
    assert "z****@example.com" in html
    assert "139****4321" in html and "王*" in html
    for raw in (RAW_PHONE, RAW_ID, RAW_NAME, RAW_ADDRESS, RAW_EMERGENCY_PHONE, "zhangsanfeng", "科技园", "王五", "19900101"):
        assert raw not in html, raw


def test_case_detail_never_carries_raw_pii(rich_case, admin_user):
    detail = case_detail(admin_user, rich_case.pk)
    blob = repr(detail)
    for raw in (RAW_PHONE, RAW_ID, RAW_NAME, RAW_ADDRESS, RAW_EMERGENCY_PHONE, "王五"):
        assert raw not in blob, raw


def test_case_page_shows_accounts_balance_history_and_timeline(desk, rich_case, admin_user):
    detail = case_detail(admin_user, rich_case.pk)
    assert [a.external_id for a in detail.accounts] == ["6222000011112222", "6222000033334444"]
    a1 = detail.accounts[0]
    assert (a1.principal, a1.interest, a1.fees, a1.balance) == (
        Decimal("11000.00"), Decimal("1095.67"), Decimal("250.00"), Decimal("12345.67")
    )
    assert len(a1.statements) == 12
    assert a1.statements[0].statement_date == dt.date(2025, 3, 1)
    assert [s.statement_date for s in a1.statements] == sorted((s.statement_date for s in a1.statements), reverse=True)
    assert len(detail.accounts[1].statements) == 1
    assert [h.bucket for h in a1.bucket_history] == ["M3", "M2", "M1"]
    assert len(detail.payments) == 20 and detail.payments[0].external_id == "PAY024"
    assert [e.kind for e in detail.events] == ["status_changed", "opened"]
    (totals,) = detail.totals
    assert totals.balance == Decimal("13345.67") and totals.accounts == 2

    html = desk.get(reverse("cases:detail", args=[rich_case.pk])).content.decode()
    for text in (
        "12,345.67元", "1,095.67元", "250.00元", "3,703.70元", "1,234.57元", "13,345.67元",
        "100.50元", "逾期 2 期", "全额还款", "前滚", "支付宝", "催收中", "新案 → 催收中", "first call",
        "2025-03-01", "PAY024",
    ):
        assert text in html, text
    assert "PAY004" not in html  # only the latest 20 payments


def test_case_page_queries_do_not_grow_with_accounts(desk, rich_case, django_assert_max_num_queries, admin_user):
    with django_assert_max_num_queries(8):  # 7 reads of the page + the user's roles for the scope
        case_detail(admin_user, rich_case.pk)


def test_unknown_case_is_404(desk, settings):
    settings.DEBUG = False
    response = desk.get(reverse("cases:detail", args=[999999]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_back_link_keeps_the_list_filter(desk, rich_case):
    html = desk.get(reverse("cases:list"), {"bucket": "M3"}).content.decode()
    href = re.search(r'class="caselink" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    page = desk.get(href).content.decode()
    assert 'href="/cases/?bucket=M3"' in page


# --- language -------------------------------------------------------------------------------------


def test_english_switch(desk, rich_case):
    zh = desk.get(reverse("cases:list")).content.decode()
    assert "逾期天数" in zh and "案件列表" in zh
    response = desk.post(reverse("set_language"), {"language": "en", "next": reverse("cases:list") + "?bucket=M3"})
    assert response.status_code == 302 and response["Location"] == "/cases/?bucket=M3"
    en = desk.get(reverse("cases:list"), {"bucket": "M3"}).content.decode()
    assert '<html lang="en">' in en
    for text in ("Cases", "Days past due", "Bucket", "Outstanding balance", "In collection", "Log out", "1 case"):
        assert text in en, text
    for text in ("逾期天数", "案件列表", "催收中", "退出登录", "欠款余额"):
        assert text not in en, text
    page = desk.get(reverse("cases:detail", args=[rich_case.pk])).content.decode()
    for text in ("Customer", "Principal", "Interest", "Late fees", "Statements", "Payments", "Timeline", "Forward", "Alipay", "2 cycles late"):
        assert text in page, text
    assert "138****5678" in page
    assert not re.search(r"[\u4e00-\u9fff]", _visible_text(page).replace("南山区", "").replace("中文", "")), (
        re.findall(r"[\u4e00-\u9fff]+", _visible_text(page))
    )


def _visible_text(html: str) -> str:
    """Text a user sees, less masked personal data and the customer's district (data, not labels)."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    for data in ("张**", "王*", "广东省深圳市南山区****", "配偶"):
        text = text.replace(data, "")
    return text


# --- admin and roles ------------------------------------------------------------------------------


def test_roles_are_seeded_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.code for r in ROLES}
    leader = Group.objects.get(name="team_leader")
    # the admin does not apply the data scope: case data is not readable there except by admins
    assert not leader.permissions.filter(codename="view_case").exists()
    assert leader.permissions.filter(codename="view_dailyrun").exists()
    assert not leader.permissions.filter(codename="change_dailyrun").exists()


def test_ensure_demo_users_is_idempotent():
    first = ensure_demo_users(None)
    assert [u for u, _, _ in first] == [r.code for r in ROLES]
    assert all(pw for _, _, pw in first)
    again = ensure_demo_users(None)
    assert all(pw is None for _, _, pw in again)  # existing users keep their password
    User = get_user_model()
    assert User.objects.filter(username__in=[r.code for r in ROLES]).count() == len(ROLES)
    admin = User.objects.get(username="administrator")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="team_leader").is_staff
    assert User.objects.get(username="compliance_officer").is_staff
    assert not User.objects.get(username="collector").is_staff
    assert User.objects.get(username="collector").groups.filter(name="collector").exists()
    ensure_demo_users("a-shared-demo-pass")
    assert User.objects.get(username="collector").check_password("a-shared-demo-pass")
    assert User.objects.get(username="collector").check_password(first[0][2]) is False


def test_admin_is_read_only_and_masked(client, rich_case):
    ensure_demo_users("a-shared-demo-pass")
    client.force_login(get_user_model().objects.get(username="administrator"))
    customer = rich_case.customer
    account = customer.accounts.first()
    urls = [
        reverse("admin:cases_case_changelist"), reverse("admin:cases_case_change", args=[rich_case.pk]),
        reverse("admin:cases_caseevent_changelist"), reverse("admin:portfolio_customer_changelist"),
        reverse("admin:portfolio_customer_change", args=[customer.pk]), reverse("admin:portfolio_cardaccount_changelist"),
        reverse("admin:portfolio_cardaccount_change", args=[account.pk]), reverse("admin:portfolio_statement_changelist"),
        reverse("admin:portfolio_buckethistory_changelist"), reverse("admin:payments_payment_changelist"),
        reverse("admin:portfolio_dailyrun_changelist"), reverse("admin:portfolio_importbatch_changelist"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for raw in (RAW_PHONE, RAW_ID, RAW_NAME, RAW_ADDRESS):
            assert raw not in html, (url, raw)
    found = client.get(reverse("admin:cases_case_changelist"), {"q": "CU-RICH"}).content.decode()
    assert f"C{rich_case.pk}" in found
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    response = client.post(reverse("admin:cases_case_change", args=[rich_case.pk]), {"status": "closed_paid"})
    assert response.status_code == 403
    rich_case.refresh_from_db()
    assert rich_case.status == "in_collection"

"""Amounts are never summed across currencies (issue 14, fault 6g) — the rendering side.

A debtor owes 100.00 CNY and 50.00 USD overdue (balances 1,200.00 CNY and 80.00 USD, minimum
payments 30.00 CNY and 25.00 USD). Every SMS template and every call script, in Chinese and in
English, shows both amounts each with its own currency and never their sum (150.00, 1,280.00,
55.00); so do the case page, the work list, the call workspace, the queue and the export; a board
that totals amounts over many cases totals them per currency.

The case's figures per currency come from ``Case.amounts`` (written by the daily run); a case
without them (``{}``, older rows) falls back to its one currency's figures.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from arrears.contexts.casework.models import Case
from arrears.contexts.casework.selectors import CurrencyAmounts, case_amounts
from arrears.contexts.contact.desk import services as desk_services
from arrears.contexts.contact.desk.callscripts import load_scripts
from arrears.contexts.money.payments.models import PromiseToPay
from arrears.contexts.portfolio.models import CardAccount, Contact, Customer
from arrears.contexts.contact.sms import services as sms_services
from arrears.contexts.org.users.models import StaffProfile, Team

pytestmark = pytest.mark.django_db

D = Decimal
SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)
NOW = dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=SH)
from arrears.rules import RULES_DIR
SMS_TEMPLATES_YAML = RULES_DIR / "sms" / "templates.yaml"

#: what each language must show, and the cross-currency sums that must appear nowhere
EXPECTED = {
    "zh-hans": {"overdue": ("100.00元", "50.00 USD"), "balance": ("1,200.00元", "80.00 USD"),
                "minimum": ("30.00元", "25.00 USD")},
    "en": {"overdue": ("CNY 100.00", "USD 50.00"), "balance": ("CNY 1,200.00", "USD 80.00"),
           "minimum": ("CNY 30.00", "USD 25.00")},
}
SUMS = ("150.00", "1,280.00", "1280.00", "55.00")


def frozen(when: dt.datetime = NOW):
    return mock.patch("django.utils.timezone.now", return_value=when)


def make_user(name: str, role: str, team: Team | None = None):
    u = get_user_model().objects.create_user(name, password="Currency-test-2026!")
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    StaffProfile.objects.create(user=u, team=team)
    return u


@pytest.fixture
def org(db):
    team = Team.objects.create(name="电催一组", department="collection")
    leader = make_user("leader", "team_leader", team)
    team.leader = leader
    team.save()
    return {"team": team, "leader": leader, "agent": make_user("agent1", "collector", team)}


def _account(customer, number: str, currency: str, *, principal: str, interest: str, fees: str, overdue: str,
             minimum: str, dpd: int) -> CardAccount:
    balance = D(principal) + D(interest) + D(fees)
    return CardAccount.objects.create(
        customer=customer, external_id=number, currency=currency, credit_limit=D("20000.00"), balance=balance,
        principal=D(principal), interest=D(interest), fees=D(fees), minimum_due=D(minimum), overdue_amount=D(overdue),
        oldest_unpaid_due_date=TODAY - dt.timedelta(days=dpd), as_of_extract=TODAY, dpd=dpd, bucket="M2")


def two_currency_case(org, n: int = 1, *, language: str = "zh-hans", stage: str = "phone") -> Case:
    """100.00 CNY + 50.00 USD overdue; balances 1,200.00 CNY + 80.00 USD; minimum 30.00 CNY + 25.00 USD."""
    c = Customer.objects.create(external_id=f"CU-FX-{n}", name="王小明", timezone="Asia/Shanghai", language=language)
    Contact.objects.create(customer=c, external_id=f"m{n}", kind="mobile", party="debtor", value=f"1390000{n:04d}")
    Contact.objects.create(customer=c, external_id=f"e{n}", kind="mobile", party="emergency", relation="兄弟",
                           party_name="王大", value=f"1370000{n:04d}")
    _account(c, f"62220000111{n:05d}", "CNY", principal="1100.00", interest="80.00", fees="20.00", overdue="100.00",
             minimum="30.00", dpd=40)
    _account(c, f"62220000333{n:05d}", "USD", principal="70.00", interest="8.00", fees="2.00", overdue="50.00",
             minimum="25.00", dpd=35)
    return Case.objects.create(
        customer=c, opened_on=TODAY - dt.timedelta(days=40), bucket="M2", max_dpd=40, status="in_collection",
        # the primary currency's figures (the one with the largest overdue amount) …
        total_balance=D("1200.00"), overdue_amount=D("100.00"), currency="CNY",
        # … and every currency's, as the daily run writes them
        amounts={"CNY": {"overdue": "100.00", "balance": "1200.00"}, "USD": {"overdue": "50.00", "balance": "80.00"}},
        team=org["team"], assigned_to=org["agent"], stage=stage, action="call",
        action_params=json.dumps({"priority": 3, "queue": "early"}), last_run_as_of=TODAY)


def assert_every_currency(text: str, language: str, *figures: str) -> None:
    for figure in figures:
        for shown in EXPECTED[language][figure]:
            assert shown in text, f"{shown!r} missing ({language}, {figure}): {text}"
    for total in SUMS:
        assert total not in text, f"a cross-currency sum {total!r} ({language}): {text}"


# ---- the one accessor -------------------------------------------------------------------------------
def test_case_amounts_per_currency_primary_first(org):
    case = two_currency_case(org)
    assert case_amounts(case) == [CurrencyAmounts("CNY", D("100.00"), D("1200.00")),
                                  CurrencyAmounts("USD", D("50.00"), D("80.00"))]
    case.currency, case.overdue_amount, case.total_balance = "USD", D("50.00"), D("80.00")
    assert [a.currency for a in case_amounts(case)] == ["USD", "CNY"]  # the case's primary currency first


def test_case_amounts_falls_back_to_the_case_currency_when_empty(org):
    case = two_currency_case(org)
    Case.objects.filter(pk=case.pk).update(amounts={})  # an older row
    case.refresh_from_db()
    assert case_amounts(case) == [CurrencyAmounts("CNY", D("100.00"), D("1200.00"))]


# ---- every SMS template, both languages -------------------------------------------------------------
def _shipped_sms_templates() -> list[tuple[str, str]]:
    data = yaml.safe_load(SMS_TEMPLATES_YAML.read_text(encoding="utf-8"))
    return [(t["code"], language) for t in data["templates"] for language in t["bodies"]]


def test_every_sms_template_shows_each_currency_and_never_the_sum(org):
    from arrears.contexts.contact.sms.models import SmsTemplate

    shipped = _shipped_sms_templates()
    active = set(SmsTemplate.objects.filter(status=SmsTemplate.Status.ACTIVE).values_list("code", "language"))
    assert set(shipped) <= active and {lang for _c, lang in shipped} == {"zh-hans", "en"}
    case = two_currency_case(org)
    rendered = 0
    for code, language in sorted(active):
        case.customer.language = language
        case.customer.save()
        tpl, message, fallback = sms_services.render_for_case(case, code, as_of=TODAY)
        assert (message.language, fallback) == (language, "")
        figures = [f for f, var in (("overdue", "overdue_amount"), ("balance", "total_balance"),
                                    ("minimum", "minimum_due")) if var in tpl.variables]
        assert figures, f"template {code}/{language} shows no amount"
        assert_every_currency(message.text, language, *figures)
        rendered += 1
    assert rendered >= 6


# ---- every call script, both languages --------------------------------------------------------------
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_call_script_shows_each_currency_and_never_the_sum(org, language):
    from arrears.contexts.contact.desk.selectors import workspace

    case = two_currency_case(org)
    stages = sorted(load_scripts())
    assert {"default", "phone", "sms"} <= set(stages)
    for stage in stages:
        Case.objects.filter(pk=case.pk).update(stage=stage)
        with frozen():
            w = workspace(org["agent"], case.pk, NOW, language)
        assert not w.script_error and w.script is not None and w.script.stage == stage, w.script_error
        debtor = " ".join(s.text for s in w.script.sections)
        assert_every_currency(debtor, language, "overdue", "balance", "minimum")
        # the third-party script carries no amount at all (CN-WHO-03)
        third = " ".join(s.text for s in w.third_party_script.sections)
        assert not any(a in third for f in EXPECTED[language].values() for a in f)


# ---- pages ----------------------------------------------------------------------------------------------
def _get(client, url: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _kpi(html: str, label: str) -> str:
    """The text of the KPI box labelled ``label`` on a case or workspace page."""
    start = html.index(f'<span class="label">{label}</span>')
    return html[start:html.index("</div>", start)]


@pytest.mark.parametrize(("language", "overdue_label", "balance_label"),
                         [("zh-hans", "逾期金额", "欠款余额"), ("en", "Overdue amount", "Balance")])
def test_case_page_shows_both_amounts(org, client, language, overdue_label, balance_label):
    case = two_currency_case(org)
    client.force_login(org["agent"])
    with frozen():
        html = _get(client, reverse("cases:detail", args=[case.pk]), language)
    assert_every_currency(html, language, "overdue", "balance", "minimum")
    for label, figure in ((overdue_label, "overdue"), (balance_label, "balance")):
        kpi = _kpi(html, label)
        assert all(a in kpi for a in EXPECTED[language][figure]), kpi


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_work_list_workspace_and_queue_show_both_amounts(org, client, language):
    case = two_currency_case(org)
    client.force_login(org["agent"])
    with frozen():
        desk_services.sync_queue()
        listing = _get(client, reverse("cases:list"), language)
        page = _get(client, reverse("desk:workspace", args=[case.pk]), language)
        queue = _get(client, reverse("desk:home"), language)
    assert_every_currency(listing, language, "overdue", "balance")
    assert_every_currency(page, language, "overdue", "balance", "minimum")
    assert_every_currency(queue, language, "balance")


def test_export_lists_each_currency(org, client):
    two_currency_case(org)
    client.force_login(org["agent"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with frozen():
        body = client.get(reverse("cases:export")).content.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(body)))
    got = dict(zip(header, row))
    assert got["Balance"] == "CNY 1,200.00, USD 80.00"
    assert got["Overdue amount"] == "CNY 100.00, USD 50.00"
    assert got["Currency"] == "CNY, USD"


def test_api_case_detail_and_list_carry_every_currency(org, client):
    case = two_currency_case(org)
    client.force_login(org["agent"])
    with frozen():
        detail = client.get(reverse("api-case-detail", args=[case.pk])).json()
        listing = client.get(reverse("api-case-list")).json()
    want = [{"currency": "CNY", "overdue": "100.00", "balance": "1200.00"},
            {"currency": "USD", "overdue": "50.00", "balance": "80.00"}]
    assert detail["amounts"] == want
    assert listing["results"][0]["amounts"] == want
    with frozen():
        desk_services.sync_queue()
        workspace = client.get(reverse("desk-api:workspace", args=[case.pk])).json()
        queue = client.get(reverse("desk-api:queue")).json()
    assert workspace["amounts"] == want and queue[0]["amounts"] == want
    assert {(b["currency"], b["amount_owed"]) for b in workspace["balances"]} == {("CNY", "1200.00"), ("USD", "80.00")}


# ---- boards: totals per currency --------------------------------------------------------------------
def test_supervisor_board_totals_promised_amounts_per_currency(org, client):
    from arrears.contexts.contact.desk.selectors import board

    a, b = two_currency_case(org, 1), two_currency_case(org, 2)
    for case, amount, currency in ((a, "60.00", "CNY"), (b, "40.00", "CNY"), (a, "50.00", "USD")):
        PromiseToPay.objects.create(case=case, customer=case.customer, amount=D(amount), currency=currency,
                                    promised_on=TODAY + dt.timedelta(days=3), agent=org["agent"], created_at=NOW,
                                    taken_on=TODAY)
    with frozen():
        got = board(org["leader"], TODAY)
    row = next(r for r in got.agents if r.username == "agent1")
    assert row.promises == 3
    assert row.promised_amounts == {"CNY": D("100.00"), "USD": D("50.00")}
    assert got.totals["promised_amounts"] == {"CNY": D("100.00"), "USD": D("50.00")}
    client.force_login(org["leader"])
    for language in ("zh-hans", "en"):
        with frozen():
            html = _get(client, reverse("desk:board"), language)
        for shown in EXPECTED[language]["overdue"]:  # 100.00 CNY and 50.00 USD promised
            assert html.count(shown) >= 2, (shown, html)  # the agent's row and the total
        assert "150.00" not in html
    with frozen():
        api = client.get(reverse("desk-api:board"), {"day": TODAY.isoformat()}).json()
    api_row = next(r for r in api["agents"] if r["username"] == "agent1")
    assert api_row["promised_amounts"] == {"CNY": "100.00", "USD": "50.00"}
    assert api["totals"]["promised_amounts"] == {"CNY": "100.00", "USD": "50.00"}


def test_board_filter_formats_a_total_per_currency():
    from django.template import Context, Template

    t = Template('{% load desk %}{{ totals|amounts }}|{{ rows|amounts:"overdue" }}|{{ none|amounts }}')
    ctx = Context({"totals": {"CNY": D("100.00"), "USD": D("50.00")},
                   "rows": [CurrencyAmounts("CNY", D("100.00"), D("1200.00")),
                            CurrencyAmounts("USD", D("50.00"), D("80.00"))], "none": {}})
    with translation.override("zh-hans"):
        assert t.render(ctx) == "100.00元、50.00 USD|100.00元、50.00 USD|–"
    with translation.override("en"):
        assert t.render(ctx) == "CNY 100.00, USD 50.00|CNY 100.00, USD 50.00|–"


def test_existing_databases_get_the_english_overdue_notice_that_fits_two_currencies():
    import importlib

    from django.apps import apps

    from arrears.contexts.contact.sms.models import SmsTemplate

    m = importlib.import_module("arrears.contexts.contact.sms.migrations.0003_overdue_notice_en_two_currencies")
    current = SmsTemplate.objects.get(code=m.CODE, language=m.LANGUAGE, status="active")
    assert current.body == m.BODY  # a new database loads the shorter body as version 1
    # a database migrated before: version 1 as first shipped is the active one
    SmsTemplate.objects.filter(pk=current.pk).update(body=m.SHIPPED_V1)
    m.forward(apps, None)
    v1, v2 = SmsTemplate.objects.filter(code=m.CODE, language=m.LANGUAGE).order_by("version")
    assert (v1.status, v2.status, v2.version, v2.body, v2.parts) == ("retired", "active", 2, m.BODY, 3)
    m.forward(apps, None)  # idempotent: the active body is no longer the shipped version 1
    assert SmsTemplate.objects.filter(code=m.CODE, language=m.LANGUAGE).count() == 2
    m.backward(apps, None)
    assert SmsTemplate.objects.get(code=m.CODE, language=m.LANGUAGE, status="active").version == 1
    # an edited template is left alone
    SmsTemplate.objects.filter(code=m.CODE, language=m.LANGUAGE).update(body="Edited {{ overdue_amount }}.")
    m.forward(apps, None)
    assert SmsTemplate.objects.filter(code=m.CODE, language=m.LANGUAGE).count() == 1


def test_strategy_results_total_payments_per_currency(org, client):
    from django.core.management import call_command

    from arrears.contexts.money.payments.models import Payment
    from arrears.contexts.strategy.models import StrategyDecision
    from arrears.contexts.strategy.selectors import active_strategy, arm_results

    version = active_strategy("default")[0].key  # the page shows the active version's arms
    cases = [two_currency_case(org, 1), two_currency_case(org, 2)]
    paid = {("CNY", 1): "60.00", ("CNY", 2): "40.00", ("USD", 1): "50.00"}
    for n, case in enumerate(cases, 1):
        StrategyDecision.objects.create(case=case, as_of=TODAY, strategy_version=version, segment="all",
                                        arm="champion", rule_id="r", action="call", stage="phone", created_at=NOW)
        for account in case.customer.accounts.all():
            if (account.currency, n) in paid:
                Payment.objects.create(account=account, external_id=f"P{n}{account.currency}", paid_at=NOW,
                                       local_date=TODAY, amount=D(paid[(account.currency, n)]))
    (row,) = arm_results()
    assert row["cases"] == 2 and row["paid_amounts"] == {"CNY": "100.00", "USD": "50.00"}
    out = io.StringIO()
    call_command("strategy_report", stdout=out)
    assert "paid CNY 100.00, USD 50.00" in out.getvalue() and "150.00" not in out.getvalue()
    boss = make_user("boss", "supervisor")
    client.force_login(boss)
    html = _get(client, reverse("strategy:page"), "zh-hans")
    section = html[html.index('id="arm-results"'):]
    assert "100.00元、50.00 USD" in section and "150.00" not in section


def test_workspace_timeline_labels_a_promise_with_its_currency(org):
    from arrears.contexts.contact.desk.selectors import workspace
    from arrears.contexts.money.payments.services import take_promise

    case = two_currency_case(org)
    take_promise(case.pk, "60.00", TODAY + dt.timedelta(days=2), agent=org["agent"], now=NOW)
    for language, shown in (("zh-hans", "60.00元"), ("en", "CNY 60.00")):
        with frozen(), translation.override(language):
            w = workspace(org["agent"], case.pk, NOW, language)
        (row,) = [t for t in w.timeline if t.kind == "promise_taken"]
        assert row.detail.startswith(shown + " · "), row.detail

"""The collector's day in a real browser (issue 15, done-when), in Chinese and in English.

The data is the demo's, built the way ``arrears demo`` builds it: the first rows of the real UCI
card portfolio through the extract reader and loader, the demo users, the demo organisation
(teams, capacities, names), the daily run (strategy, allocation, the desk queue) and the demo's
work. The business clock is fixed at 10:00 Shanghai time on a Monday (the gate reads the
debtor's local time; the test must not depend on when it runs).

The collector: takes the next case, reads its history and the call script, dials the debtor
through the gate (the default dialer issues the recording reference), records a promise to pay
(the day's calling of that debtor stops), writes a note, and proposes an instalment plan (through
the case money API: the plan pages are another part of the issue), then sees it on the case
page. Every page is checked for what it shows and for words not in its language (raw codes,
English on Chinese pages, Chinese on English ones: :mod:`tests.e2e.page_words`). A screenshot of
every step goes to ``var/screenshots/test_role_collector_day/<step>-<lang>.png``.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from tests.e2e.page_words import language_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SH = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2026, 12, 7)  # a Monday
NOW = dt.datetime.combine(AS_OF, dt.time(10, 0), tzinfo=SH)
PASSWORD = "Collector-day-e2e-2026"
UCI_ROWS = 600
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "test_role_collector_day"
HOTLINE = "400-820-0000"

#: what each step must show, per language
WORDS = {
    "zh": {"next": "取下一个案件", "stage": "电话催收", "saved": "已登记通话结果：承诺还款", "promise": "承诺还款",
           "call": "呼出本人 · 承诺还款", "rest": "客户今天已承诺还款", "history": "联络历史", "note_saved": "备注已保存",
           "plan": "待审批", "ending": "尾号", "not_callable": "不可拨打", "relation_self": "本人"},
    "en": {"next": "Next case", "stage": "Phone", "saved": "Call outcome recorded: Promise to pay",
           "promise": "Promise to pay", "call": "Call to the debtor · Promise to pay",
           "rest": "The customer promised today", "history": "Contact history", "note_saved": "Note saved",
           "plan": "Awaiting approval", "ending": "ending", "not_callable": "Not callable", "relation_self": "Self"},
}


@pytest.fixture
def clock():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


@pytest.fixture
def demo(tmp_path, clock):
    """The demo's data on the first rows of the UCI portfolio, built as ``arrears demo`` builds it."""
    from arrears.contexts.org.facade import ensure_demo_users
    from arrears.contexts.portfolio.facade import load_extract, read_uci
    from arrears.pipeline.daily import run_daily
    from devtools.demo_seed import seed_demo_organisation, seed_demo_work

    source = settings.DATA_DIR / "uci_default_of_credit_card_clients.csv"
    lines = source.read_text(encoding="utf-8").splitlines()[:UCI_ROWS + 1]
    sample = tmp_path / "uci_sample.csv"
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_extract(read_uci(sample, AS_OF), "uci")
    ensure_demo_users(PASSWORD)
    seed_demo_organisation()
    run_daily(AS_OF)
    seed_demo_work(AS_OF)
    return AS_OF


def _shot(page, step: str, lang: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # sticky table heads stay where they belong in a full-page shot
    page.screenshot(path=str(SHOTS / f"{step}-{lang}.png"), full_page=True)


def _data_words(case_id: int) -> tuple[str, ...]:
    """The people's and places' names a page of this case shows as data (masked as shown)."""
    from django.contrib.auth import get_user_model

    from arrears.contexts.casework.models import Case
    from arrears.contexts.org.users.models import Team
    from arrears.contexts.portfolio.facade import customer_contacts, mask_contact_value
    from arrears.domain.masking import mask_name

    case = Case.objects.select_related("customer").get(pk=case_id)
    name = case.customer.name
    words = {mask_name(name), name[:1], case.customer.district}
    for c in customer_contacts(case.customer_id):
        words |= {mask_name(c.party_name), mask_contact_value(c.kind, c.value), c.district}
    for u in get_user_model().objects.all():
        words |= {f"{u.last_name}{u.first_name}", u.username}
    words |= set(Team.objects.values_list("name", flat=True))
    return tuple(w for w in words if w)


def _check_language(page, lang: str, case_id: int | None = None) -> None:
    data = _data_words(case_id) if case_id else (*_all_user_words(), *_masked_customer_names())
    problems = language_problems(page, lang, data=data)
    assert not problems, "\n".join(problems[:20])


def _masked_customer_names():
    """The queue lists many customers: their masked names (data, in the data's own script)."""
    from arrears.contexts.portfolio.models import Customer
    from arrears.domain.masking import mask_name

    return {mask_name(n) for n in Customer.objects.values_list("name", flat=True)}


def _all_user_words():
    from django.contrib.auth import get_user_model

    from arrears.contexts.org.users.models import Team

    for u in get_user_model().objects.all():
        yield f"{u.last_name}{u.first_name}"
        yield u.username
    yield from Team.objects.values_list("name", flat=True)


def _login(page, base: str, lang: str) -> None:
    page.goto(base + "/desk/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "collector")
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(f"{base}/desk/")
    # the user's explicit choice of language
    page.locator(f"form.langswitch button[value={'en' if lang == 'en' else 'zh-hans'}]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == ("en" if lang == "en" else "zh-hans")


def _own_ready(page) -> int:
    return int(page.locator("#own-ready").inner_text().strip())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_collectors_day(live_server, page, demo, lang):
    from arrears.contexts.casework.models import Case, CaseEvent
    from arrears.contexts.contact.desk.models import Call, QueueItem
    from arrears.contexts.money.payments.models import PromiseToPay
    from arrears.contexts.money.servicing.models import PaymentPlan

    w = WORDS[lang]
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, base, lang)

    # 1. my queue: the cases the allocation gave me, amounts in New Taiwan dollars
    assert w["next"] in page.locator("#next-case").inner_text()
    ready_before = _own_ready(page)
    assert ready_before > 0
    preview = page.locator("#queue-preview").inner_text()
    assert "TWD" in preview and "NT$" not in preview and "CNY" not in preview
    _check_language(page, lang)
    _shot(page, "01-queue", lang)

    # 2. the next case: the workspace with the script, the numbers and the history
    page.locator("#next-case").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/desk/cases/\d+/$"))
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    case = Case.objects.select_related("customer").get(pk=case_id)
    assert case.assigned_to.username == "collector" and case.stage == "phone"
    assert page.locator("#stage").inner_text().strip() == w["stage"]
    script = page.locator("#script").inner_text()
    account = case.customer.accounts.order_by("-dpd").first()
    last4 = re.sub(r"\D", "", account.external_id)[-4:]
    assert f"{w['ending']}{'' if lang == 'zh' else ' '}{last4}" in script  # the card by its number's last four
    assert HOTLINE in script and "TWD" in script and "NT$" not in script
    third = page.locator("#third-party-script").inner_text()
    assert HOTLINE in third and "陈静" in third and "collector" not in third  # filled, in both languages
    assert "TWD" not in third  # no debt detail to a third party
    debtor_row = page.locator("#numbers tr[data-contact]").first
    assert w["relation_self"] in debtor_row.inner_text()
    assert "****" in debtor_row.inner_text()
    page.locator("#history").scroll_into_view_if_needed()
    assert w["history"] in page.locator("#history").inner_text()
    _check_language(page, lang, case_id)
    _shot(page, "02-workspace", lang)

    # 3. dial the debtor through the gate; the dialer issues the recording reference
    debtor = case.customer.contacts.get(party="debtor", kind="mobile")
    page.locator(f"#numbers tr[data-contact='{debtor.pk}'] button.dial").click()
    page.wait_for_selector("#outcome form")
    call = Call.objects.get(case=case, state="dialing")
    assert call.recording_id == f"REC-desk-call-{call.pk}" and call.dialer == "record_only"
    assert call.recording_id in page.locator("#recording-ref").inner_text()
    assert page.locator("#outcome input[name=recording_id]").count() == 0
    _check_language(page, lang, case_id)
    _shot(page, "03-dialled", lang)

    # 4. the debtor promises to pay in three days: the day's calling of this debtor stops
    promised_on = AS_OF + dt.timedelta(days=3)
    page.select_option("#id_result_code", "promise_to_pay")
    page.fill("#id_promise_amount", "800.00")
    page.fill("#id_promise_date", promised_on.isoformat())
    page.fill("#id_notes", "客户承诺周四还款" if lang == "zh" else "Will pay on Thursday")
    page.locator("#save-outcome").click()
    page.wait_for_url(f"{base}/desk/")
    assert w["saved"] in page.locator("body").inner_text()
    assert _own_ready(page) == ready_before - 1  # the case left the day's queue
    assert f"C{case_id}" not in page.locator("#queue-preview").inner_text()
    item = QueueItem.objects.get(pk=case_id)
    assert item.available_at >= dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(0), tzinfo=SH)
    ptp = PromiseToPay.objects.get(case=case)
    assert ptp.currency == "TWD" and ptp.promised_on == promised_on and ptp.agent.username == "collector"
    _check_language(page, lang)
    _shot(page, "04-promise-saved", lang)

    # 5. back on the case: nobody is to call it again today; the history and the timeline in words
    page.goto(f"{base}/desk/cases/{case_id}/")
    assert w["rest"] in page.locator("#promise-rest").inner_text()
    row = page.locator(f"#numbers tr[data-contact='{debtor.pk}']").inner_text()
    assert w["not_callable"] in row and "DESK-PROMISE-TODAY" in row
    history = page.locator("#history-table tbody tr").first.inner_text()
    amount = "800.00 TWD" if lang == "zh" else "TWD 800.00"
    assert w["promise"] in history and f"{amount} · {promised_on.isoformat()}" in history
    assert call.recording_id in history and "****" in history  # the number masked
    timeline = page.locator("#timeline").inner_text()
    assert w["call"] in timeline
    body = page.locator("body").inner_text()
    assert "CN-FREQ-03" not in body and "呼死你" not in body and "call-bombing" not in body
    _check_language(page, lang, case_id)
    _shot(page, "05-history", lang)

    # a dial now is refused, with the reason, in the page's language
    page.locator(f"#numbers tr[data-contact='{debtor.pk}'] button.dial").click()
    page.wait_for_selector("#dial-refusal")
    assert "DESK-PROMISE-TODAY" in page.locator("#dial-refusal").inner_text()
    assert Call.objects.filter(case=case).count() == 1
    _check_language(page, lang, case_id)
    _shot(page, "06-dial-refused", lang)

    # 6. a note from the workspace: in the history, newest first
    note = "客户下午在家" if lang == "zh" else "Customer at home in the afternoon"
    page.fill("#id_note_text", note)
    page.locator("#save-note").click()
    page.wait_for_url(re.compile(rf"/desk/cases/{case_id}/#history$"))
    assert w["note_saved"] in page.locator("body").inner_text()
    first = page.locator("#history-table tbody tr").first
    assert note in first.inner_text() and "history-note" in (first.get_attribute("class") or "")
    assert CaseEvent.objects.filter(case=case, kind="note", data__text=note, data__source="desk").exists()
    _check_language(page, lang, case_id)
    _shot(page, "07-note", lang)

    # 7. a plan proposal (the case money API; the plan pages are another part of the issue)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    contents = {"balance": "欠款按账户余额计", "repayment": "每月还款，共6期", "charges": "分期期间不计收利息",
                "no_new_cards": "结清前不申领新卡", "rights_and_breach": "逾期超过5天视为违约", "other": "无"}
    r = page.request.post(f"{base}/api/v1/payments/cases/{case_id}/plans/", data={
        "account": account.external_id, "term_months": 6, "first_due": (AS_OF + dt.timedelta(days=14)).isoformat(),
        "contents": contents, "hardship_confirmed": True, "willing_to_repay": True},
        headers={"X-CSRFToken": csrf, "Referer": f"{base}/cases/{case_id}/"})
    assert r.status == 201, r.text()
    plan = PaymentPlan.objects.get(pk=r.json()["id"])
    assert plan.status == "proposed" and plan.currency == "TWD"

    # 8. the case page: the plan, the history with the call and the note, the timeline in words
    page.goto(f"{base}/cases/{case_id}/")
    plans = page.locator("#case-plans").inner_text()
    assert w["plan"] in plans and "TWD" in plans
    case_history = page.locator("#history").inner_text()
    assert note in case_history and w["promise"] in case_history and call.recording_id in case_history
    assert w["call"] in page.locator("#timeline").inner_text()
    _check_language(page, lang, case_id)
    _shot(page, "08-case-page", lang)

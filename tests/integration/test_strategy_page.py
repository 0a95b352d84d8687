"""The strategy page (issue 5, point 8) and the case page's strategy panel (point 5): viewing
permissions, upload with every validation error listed and nothing stored, upload + activation
(audited, the old version retired), the diff between versions, today's action counts, and the case
page showing the decision in force, why it was chosen and the decision history."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.casework.models import Case
from arrears.contexts.portfolio.models import CardAccount, Customer
from arrears.contexts.strategy import selectors
from arrears.contexts.strategy.diff import structural_diff
from arrears.contexts.strategy.models import StrategyDecision, StrategyVersion
from arrears.contexts.strategy.permissions import MANAGE_ROLES, VIEW_ROLES
from arrears.contexts.org.users.roles import ROLES
from arrears.rules.strategy_loader import DEFAULT_STRATEGY, parse_strategy

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 30)
DEFAULT_TEXT = DEFAULT_STRATEGY.read_text(encoding="utf-8")


def new_version(text: str = DEFAULT_TEXT, version: str = "2026.12.1") -> str:
    """The default strategy as a new version: a parameter changed, a rule added, a rule removed."""
    text = text.replace('version: "2026.11.1"', f'version: "{version}"')
    text = text.replace('field_balance_min: "10000.00"', 'field_balance_min: "8000.00"')
    text = text.replace(
        "      - id: call-late\n",
        "      - id: voice-m1\n"
        "        when: {bucket: {in: [M1]}, dpd: {max: 10}}\n"
        "        action: {type: voice_robot, campaign: early_m1}\n"
        "        reevaluate_after_days: 2\n"
        "        reason: {zh-hans: M1初期智能语音提醒, en: early M1 — voice robot reminder}\n"
        "      - id: call-late\n",
    )
    start = text.index("      - id: sms-m2\n")
    end = text.index("      - id: reminder\n")
    return text[:start] + text[end:]


INVALID = DEFAULT_TEXT.replace('version: "2026.11.1"', 'version: "2026.99.9"').replace(
    "action: {type: legal_referral}", "action: {type: court_order}", 1).replace(
    "balance: {min: $legal_balance_min}", "balance: {min: $no_such_threshold}", 1).replace(
    "share: 90, ladder: standard", "share: 80, ladder: standard")


def user_with(role: str, username: str | None = None):
    r = next(x for x in ROLES if x.code == role)
    u = get_user_model().objects.create_user(username or f"u_{role}", password="Strategy-test-2026!",
                                             is_staff=r.staff, is_superuser=r.superuser)
    u.groups.add(Group.objects.get_or_create(name=role)[0])
    return u


@pytest.fixture
def supervisor_client(client):
    client.force_login(user_with("supervisor"))
    return client


def _case(n: int, **decision) -> Case:
    c = Customer.objects.create(external_id=f"CU-S{n}", name=f"客户{n}", national_id=f"44030419900101{n:03d}X")
    CardAccount.objects.create(customer=c, external_id=f"ACC-S{n}", credit_limit=Decimal("50000.00"),
                               balance=Decimal("60000.00"), as_of_extract=AS_OF, dpd=100, bucket="M4",
                               oldest_unpaid_due_date=AS_OF - dt.timedelta(days=100))
    return Case.objects.create(customer=c, opened_on=AS_OF - dt.timedelta(days=100), bucket="M4", max_dpd=100,
                               total_balance=Decimal("60000.00"), overdue_amount=Decimal("9000.00"),
                               status="in_collection", **decision)


# --- permissions --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r.code for r in ROLES])
def test_who_may_view_and_who_may_change(client, role):
    selectors.active_strategy()
    client.force_login(user_with(role))
    page = client.get(reverse("strategy:page"))
    assert page.status_code == (200 if role in VIEW_ROLES else 403), role
    assert client.get(reverse("strategy:diff")).status_code == (200 if role in VIEW_ROLES else 403), role
    upload = client.post(reverse("strategy:upload"), {"text": new_version(), "note": "x"})
    if role in MANAGE_ROLES:
        assert upload.status_code == 302, role
    else:
        assert upload.status_code == 403, role
        assert not StrategyVersion.objects.filter(version="2026.12.1").exists()
    sv = StrategyVersion.objects.filter(version="2026.12.1").first() or StrategyVersion.objects.first()
    act = client.post(reverse("strategy:activate"), {"version": sv.pk, "confirm": "on"})
    assert act.status_code == (302 if role in MANAGE_ROLES else 403), role
    nav = client.get(reverse("cases:list")).content.decode()
    assert (reverse("strategy:page") in nav) == (role in VIEW_ROLES), role
    if role in VIEW_ROLES:
        assert ("上传新版本" in page.content.decode()) == (role in MANAGE_ROLES), role


def test_logged_out_user_is_sent_to_login(client):
    resp = client.get(reverse("strategy:page"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


# --- the page ----------------------------------------------------------------------------------------

def test_page_shows_the_active_strategy_as_tables(supervisor_client):
    html = supervisor_client.get(reverse("strategy:page")).content.decode()
    assert "default@2026.11.1" in html and "生效中" in html
    # stages with minimum stay, every parameter, segments with arms and shares
    assert "外访" in html and "min_stay" not in html
    for p in ("reminder_max_dpd", "sms_after_attempts", "field_after_attempts", "field_balance_min",
              "legal_balance_min", "legal_after_failed_visits", "agency_pool"):
        assert f'data-param="{p}"' in html, p
    assert "challenger_call_first" in html and "5 %" in html and "90 %" in html and "holdout" in html
    # each ladder in order, with readable conditions, actions, flags, reasons and the otherwise row
    assert 'id="ladder-standard"' in html and 'id="ladder-call_first"' in html
    standard = html[html.index('id="ladder-standard"'):html.index('id="ladder-call_first"')]
    ids = ["hold", "promise-open", "legal-m4", "legal-broken-plan", "agency-m4", "field-no-contact",
           "field-m2-balance", "sms-broken-promise", "sms-no-contact", "sms-m2", "reminder", "call-early", "call-late",
           "standard.otherwise"]
    positions = [standard.index(f'data-rule="{i}"') for i in ids]
    assert positions == sorted(positions)
    legal = standard[standard.index('data-rule="legal-m4"'):standard.index('data-rule="legal-broken-plan"')]
    assert "欠款余额 ≥ 50,000.00 ($legal_balance_min)" in legal
    assert "账龄 ≥ M4" in legal
    assert "转法务" in legal and "逾期M4及以上且欠款达到法务审查金额" in legal
    agency = standard[standard.index('data-rule="agency-m4"'):standard.index('data-rule="field-no-contact"')]
    assert "允许跳阶段" in agency and "委外池: standard" in agency
    assert "立即生效" in standard[standard.index('data-rule="hold"'):standard.index('data-rule="promise-open"')]
    assert "否则（以上规则均不适用）" in standard and "无适用规则，不采取动作" in standard


def test_page_in_english_shows_reasons_in_english(supervisor_client):
    supervisor_client.cookies.load({"django_language": "en"})
    html = supervisor_client.get(reverse("strategy:page"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "M4 or worse with a balance at the legal review threshold" in html
    assert "逾期M4及以上且欠款达到法务审查金额" not in html
    assert "Default: phone → SMS → field visit → legal / agency" in html


def test_todays_action_counts(supervisor_client):
    selectors.active_strategy()
    for n, (seg, arm, action) in enumerate([("all", "champion", "call"), ("all", "champion", "call"),
                                             ("all", "holdout", "none"), ("high_balance", "champion", "legal_referral")]):
        case = _case(n, segment=seg, arm=arm, action=action, rule_id="x", decision_on=AS_OF - dt.timedelta(days=n % 2),
                     strategy_version="default@2026.11.1", stage="phone")
        StrategyDecision.objects.create(case=case, as_of=case.decision_on, strategy_version="default@2026.11.1",
                                        segment=seg, arm=arm, rule_id="x", action=action, stage="phone",
                                        created_at=timezone.now())
    counts = selectors.action_counts()
    assert counts.as_of == AS_OF and counts.total == 4 and counts.decided_total == 2
    by = {r.action: (r.in_force, r.decided) for r in counts.by_action}
    assert by == {"call": (2, 1), "none": (1, 1), "legal_referral": (1, 0)}
    arms = {(r.segment, r.arm): r.total for r in counts.by_arm}
    assert arms == {("all", "champion"): 2, ("all", "holdout"): 1, ("high_balance", "champion"): 1}
    html = supervisor_client.get(reverse("strategy:page")).content.decode()
    assert "最近决策日 2026-11-30" in html and 'data-action="legal_referral"' in html


# --- upload ----------------------------------------------------------------------------------------------

def test_invalid_upload_lists_every_error_and_stores_nothing(supervisor_client):
    selectors.active_strategy()
    before = (StrategyVersion.objects.count(), AuditEvent.objects.filter(action__startswith="strategy.").count())
    resp = supervisor_client.post(reverse("strategy:upload"), {
        "file": SimpleUploadedFile("bad.yaml", INVALID.encode(), content_type="text/yaml"), "note": "bad"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'id="upload-errors"' in html
    errors = html[html.index('id="upload-errors"'):html.index("</ul>", html.index('id="upload-errors"'))]
    assert "court_order" in errors            # unknown action
    assert "no_such_threshold" in errors      # unknown parameter
    assert "shares add up to 90" in errors    # arm shares
    assert errors.count("<li>") >= 3
    assert (StrategyVersion.objects.count(),
            AuditEvent.objects.filter(action__startswith="strategy.").count()) == before


def test_upload_of_unparseable_text_and_empty_form(supervisor_client):
    resp = supervisor_client.post(reverse("strategy:upload"), {"text": "name: [unclosed"})
    assert resp.status_code == 400 and "not valid YAML" in resp.content.decode()
    resp = supervisor_client.post(reverse("strategy:upload"), {"text": "  "})
    assert resp.status_code == 400 and "请选择策略文件或粘贴策略内容。" in resp.content.decode()
    assert not StrategyVersion.objects.exclude(note="packaged").exists()


def test_same_version_with_different_content_is_refused(supervisor_client):
    selectors.active_strategy()
    changed = DEFAULT_TEXT.replace('agency_pool: standard', 'agency_pool: premium')
    resp = supervisor_client.post(reverse("strategy:upload"), {"text": changed})
    assert resp.status_code == 400 and "already exists with different content" in resp.content.decode()


def test_upload_then_activate_is_audited_and_retires_the_old_version(supervisor_client):
    old, _ = selectors.active_strategy()
    resp = supervisor_client.post(reverse("strategy:upload"), {
        "file": SimpleUploadedFile("v2.yaml", new_version().encode()), "note": "lower field threshold"})
    new = StrategyVersion.objects.get(name="default", version="2026.12.1")
    assert new.status == "draft" and new.note == "lower field threshold" and new.uploaded_by.username == "u_supervisor"
    assert resp.status_code == 302 and resp["Location"].endswith(f"?b={new.pk}&a={old.pk}")
    assert AuditEvent.objects.filter(action="strategy.uploaded", object_id=str(new.pk)).exists()

    # the confirmation is required
    resp = supervisor_client.post(reverse("strategy:activate"), {"version": new.pk})
    assert resp.status_code == 400
    new.refresh_from_db()
    assert new.status == "draft"

    resp = supervisor_client.post(reverse("strategy:activate"), {"version": new.pk, "confirm": "on",
                                                                  "reason": "pilot"})
    assert resp.status_code == 302
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.status == "active" and new.activated_by.username == "u_supervisor" and new.activated_at
    assert old.status == "retired"
    event = AuditEvent.objects.filter(action="strategy.activated").latest("id")
    assert event.object_id == str(new.pk) and event.actor.username == "u_supervisor" and event.reason == "pilot"
    assert event.data["replaces"] == ["default@2026.11.1"]
    assert selectors.active_strategy()[0].pk == new.pk
    html = supervisor_client.get(reverse("strategy:page")).content.decode()
    assert "default@2026.12.1" in html and "已停用" in html and "lower field threshold" in html


# --- diff ------------------------------------------------------------------------------------------------

def test_diff_between_two_versions(supervisor_client):
    old, _ = selectors.active_strategy()
    supervisor_client.post(reverse("strategy:upload"), {"text": new_version()})
    new = StrategyVersion.objects.get(version="2026.12.1")
    resp = supervisor_client.get(reverse("strategy:diff"), {"a": old.pk, "b": new.pk})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert '<span class="d-del">-  field_balance_min: &quot;10000.00&quot;' in html
    assert '<span class="d-add">+  field_balance_min: &quot;8000.00&quot;' in html
    assert '<span class="d-add">+      - id: voice-m1</span>' in html
    summary = html[html.index('id="diff-summary"'):html.index('id="diff-text"')]
    assert "voice-m1" in summary[summary.index('data-diff="rules-added"'):]
    assert "sms-m2" in summary[summary.index('data-diff="rules-removed"'):]
    assert "$field_balance_min" in summary and "10000.00" in summary and "8000.00" in summary
    assert 'id="activate-form"' in html  # a supervisor may activate the draft from here
    # htmx: only the result
    part = supervisor_client.get(reverse("strategy:diff"), {"a": new.pk, "b": old.pk}, HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith("<div id=\"diff-result\">")


def test_structural_diff_reports_changed_rules_and_order():
    a = parse_strategy(DEFAULT_TEXT)
    text = DEFAULT_TEXT.replace("reevaluate_after_days: 7\n        reason: {zh-hans: 多次电话未联系到本人, en: repeated calls",
                                "reevaluate_after_days: 5\n        reason: {zh-hans: 多次电话未联系到本人, en: repeated calls", 1)
    d = structural_diff(a, parse_strategy(text))
    assert [(c.rule_id, c.attrs) for c in d.rules_changed] == [("field-no-contact", ("reevaluate_after_days",))]
    assert not d.rules_added and not d.rules_removed and not d.params_changed and not d.order_changed
    assert structural_diff(a, a).empty


def test_team_leader_sees_diff_without_activate(client):
    old, _ = selectors.active_strategy()
    client.force_login(user_with("supervisor", "boss"))
    client.post(reverse("strategy:upload"), {"text": new_version()})
    client.force_login(user_with("team_leader"))
    html = client.get(reverse("strategy:diff")).content.decode()
    assert "voice-m1" in html and 'id="activate-form"' not in html


# --- the case page ------------------------------------------------------------------------------------

def test_case_page_shows_decision_why_and_history(supervisor_client):
    sv, _ = selectors.active_strategy()
    case = _case(7, stage="legal", stage_since=AS_OF, strategy_version=sv.key, segment="all", arm="champion",
                 rule_id="legal-m4", action="legal_referral", action_params="{}", decision_on=AS_OF,
                 next_review_on=AS_OF + dt.timedelta(days=30))
    common = {"case": case, "strategy_version": sv.key, "segment": "all", "arm": "champion",
              "created_at": timezone.now()}
    StrategyDecision.objects.create(**common, as_of=AS_OF - dt.timedelta(days=20), rule_id="field-m2-balance",
                                    action="field_visit", action_params='{"priority":1}', stage="field",
                                    previous_stage="sms", facts={"bucket": "M3"})
    StrategyDecision.objects.create(**common, as_of=AS_OF - dt.timedelta(days=6), trigger="visit_reported",
                                    rule_id="field-m2-balance", action="field_visit",
                                    action_params='{"priority":1}', stage="field", previous_stage="field")
    StrategyDecision.objects.create(**common, as_of=AS_OF, rule_id="legal-m4", action="legal_referral",
                                    stage="legal", previous_stage="field",
                                    facts={"bucket": "M4", "balance": "60000.00", "dpd": 100, "hold": False})
    html = supervisor_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    panel = html[html.index('id="strategy-decision"'):html.index('id="contact-compliance"')]
    assert "转法务" in panel and "法务" in panel and "自 2026-11-30 起" in panel
    assert "default@2026.11.1" in panel and "legal-m4" in panel and "2026-12-30" in panel
    assert "逾期M4及以上且欠款达到法务审查金额" in panel
    why = panel[panel.index('id="decision-why"'):panel.index("</table>", panel.index('id="decision-why"'))]
    assert "账龄 ≥ M4" in why and "欠款余额 ≥ 50,000.00" in why
    assert "60,000.00" in why and why.count("✓") == 2
    hist = panel[panel.index('id="decision-history"'):]
    rows = hist.split("<tr")[2:]
    assert len(rows) == 3
    assert "2026-11-30" in rows[0] and "外访 → 法务" in rows[0] and "stage-change" in rows[0]
    assert "外访反馈" in rows[1] and "stage-change" not in rows[1]
    assert "短信催收 → 外访" in rows[2] and "外访 (优先级: 1)" in rows[2]
    with override("en"):
        d = selectors.case_decision(case.pk)
    assert d.reason == "M4 or worse with a balance at the legal review threshold"
    assert [(w.fact, w.holds) for w in d.why] == [("M4", True), ("60,000.00", True)]


def test_case_page_without_decision_and_holdout(supervisor_client):
    case = _case(8)
    html = supervisor_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "该案件尚未按催收策略决策。" in html
    sv, _ = selectors.active_strategy()
    case.strategy_version, case.rule_id, case.action, case.segment, case.arm = (
        sv.key, "holdout.holdout", "none", "all", "holdout")
    case.save()
    d = selectors.case_decision(case.pk)
    assert d.neutral and not d.rule_unknown and d.reason == "对照组（不施加催收动作）" and not d.history
    html = supervisor_client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "对照组（不施加催收动作）" in html and "没有决策记录。" in html


def test_admin_is_read_only(client):
    sv, _ = selectors.active_strategy()
    client.force_login(user_with("administrator"))
    assert client.get("/admin/strategy/strategyversion/").status_code == 200
    assert client.get(f"/admin/strategy/strategyversion/{sv.pk}/change/").status_code == 200
    assert client.get("/admin/strategy/strategydecision/").status_code == 200
    assert client.get("/admin/strategy/strategyversion/add/").status_code == 403

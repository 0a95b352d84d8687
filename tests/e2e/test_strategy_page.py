"""The strategy page in a real browser (Chromium through Playwright).

A supervisor logs in, opens the strategy page from the navigation, uploads an invalid strategy
file and sees every validation error, uploads a valid new version, looks at the diff against the
active version and activates it (with the confirmation). Screenshots go to
``$ARREARS_SCREENSHOTS`` (default ``/tmp``) as ``strategy_page.png`` and ``strategy_diff.png``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from arrears.contexts.audit.models import AuditEvent
from arrears.contexts.strategy.models import StrategyVersion
from arrears.contexts.strategy.selectors import active_strategy
from arrears.rules.strategy_loader import DEFAULT_STRATEGY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ARREARS_SCREENSHOTS", "/tmp"))
PASSWORD = "strategy-e2e-Passw0rd"
DEFAULT_TEXT = DEFAULT_STRATEGY.read_text(encoding="utf-8")
VALID = DEFAULT_TEXT.replace('version: "2026.11.1"', 'version: "2026.12.1"').replace(
    "legal_after_failed_visits: 2", "legal_after_failed_visits: 3")
INVALID = DEFAULT_TEXT.replace('version: "2026.11.1"', 'version: "2026.12.9"').replace(
    "action: {type: legal_referral}", "action: {type: court_order}", 1).replace(
    "share: 90, ladder: standard", "share: 80, ladder: standard")


@pytest.fixture
def supervisor(db):
    user = get_user_model().objects.create_user("supervisor", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    active_strategy()  # the packaged default is the active version
    return user


def _login(page, base_url: str) -> None:
    page.goto(base_url + "/cases/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit].primary").click()
    page.wait_for_url(re.compile(r".*/cases/$"))


def test_supervisor_uploads_views_diff_and_activates(live_server, page, supervisor):
    from playwright.sync_api import expect

    _login(page, live_server.url)
    page.locator(".mainnav a", has_text="催收策略").click()
    page.wait_for_url(re.compile(r".*/strategy/$"))
    expect(page.locator("#shown-key")).to_have_text("default@2026.11.1")
    expect(page.locator("#ladder-standard")).to_contain_text("逾期M4及以上且欠款达到法务审查金额")
    page.screenshot(path=str(SHOTS / "strategy_page.png"), full_page=True)

    # An invalid file: refused, every error listed, nothing stored.
    page.set_input_files("#id_file", files=[{"name": "bad.yaml", "mimeType": "text/yaml",
                                             "buffer": INVALID.encode()}])
    page.locator("#upload-submit").click()
    errors = page.locator("#upload-errors li")
    expect(errors.first).to_be_visible()
    assert errors.count() >= 2
    expect(page.locator("#upload-errors")).to_contain_text("court_order")
    expect(page.locator("#upload-errors")).to_contain_text("shares add up to 90")
    assert not StrategyVersion.objects.filter(version="2026.12.9").exists()

    # A valid new version: stored as a draft, then the diff against the active version.
    page.set_input_files("#id_file", files=[{"name": "v2.yaml", "mimeType": "text/yaml",
                                             "buffer": VALID.encode()}])
    page.fill("#id_note", "三次外访失败再转法务")
    page.locator("#upload-submit").click()
    page.wait_for_url(re.compile(r".*/strategy/diff/\?.*"))
    expect(page.locator("#diff-summary")).to_contain_text("$legal_after_failed_visits")
    expect(page.locator("#diff-text .d-add", has_text="legal_after_failed_visits: 3")).to_have_count(1)
    expect(page.locator("#diff-text .d-del", has_text="legal_after_failed_visits: 2")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "strategy_diff.png"), full_page=True)

    # Activation needs the confirmation box; then the new version is active, the old one retired.
    page.locator("#id_confirm").check()
    page.fill("#id_reason", "试点")
    page.locator("#activate-submit").click()
    page.wait_for_url(re.compile(r".*/strategy/$"))
    expect(page.locator("#shown-key")).to_have_text("default@2026.12.1")
    expect(page.locator("tr[data-version='default@2026.11.1']")).to_contain_text("已停用")
    expect(page.locator("tr[data-version='default@2026.12.1']")).to_contain_text("三次外访失败再转法务")
    assert StrategyVersion.objects.get(version="2026.12.1").status == "active"
    event = AuditEvent.objects.filter(action="strategy.activated").latest("id")
    assert event.actor_label == "supervisor" and event.reason == "试点"

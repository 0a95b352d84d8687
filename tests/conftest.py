"""Shared test configuration.

The suite runs on whatever database ``ARREARS_DATABASE_URL`` names (SQLite by default; `.ci/run`
runs it again on PostgreSQL). Browser tests need Debian's Chromium at ``/usr/bin/chromium`` (or
``ARREARS_CHROMIUM``) and skip with a message where it is absent.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The suite does not time things (issue 15 item 9): hypothesis's speed checks — a deadline per
# example and the "input generation is slow" health check — fail on a loaded machine, not on a
# wrong rule. One profile for every property test; a test may still narrow its own settings.
from hypothesis import HealthCheck, settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile(
    "arrears", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
hypothesis_settings.load_profile("arrears")


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("ARREARS_CHROMIUM", "/usr/bin/chromium")
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "src" / "arrears" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _audit_flush_allowed():
    """Transactional tests end with ``flush``: let it empty the append-only audit table of the
    throwaway test database (see arrears/contexts/audit/management/commands/flush.py)."""
    from django.conf import settings

    settings.ARREARS_AUDIT_FLUSH_ALLOWED = True
    yield


#: The fixed PII key of the test suite (URL-safe base64 of bytes 0..31): never a developer's key.
TEST_PII_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


@pytest.fixture(scope="session", autouse=True)
def _fixed_pii_key():
    """Personal data is encrypted with a fixed test key (not ``ARREARS_PII_KEY``, not var/pii.key)."""
    from django.test import override_settings

    with override_settings(PII_KEY=TEST_PII_KEY, PII_OLD_KEYS=[]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Tests create many users: a fast hasher there (production keeps Django's PBKDF2 default)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"browser test skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    p = context.new_page()
    p.set_default_timeout(15000)
    yield p
    context.close()


@pytest.fixture
def immediate_tasks(settings):
    """Background tasks run at once when enqueued (django-tasks' immediate backend) — for tests
    that follow work through the worker. Otherwise the suite uses the configured database backend
    (``ARREARS_TASKS_BACKEND``): tasks are queued rows that nothing runs (pytest-django reads the
    settings before this file, so an environment default here would be too late)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
    yield

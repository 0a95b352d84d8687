"""Security basics (issue 3 point 7): password rules, login throttling with lockout, idle session
timeout, CSRF, secure headers, ``check --deploy`` with production settings, no secret in the repo."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from arrears.contexts.audit.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("weak", ["12345678901", "password123", "short1!"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_login_locks_out_after_repeated_failures_and_is_audited(client):
    get_user_model().objects.create_user("victim", password="Correct-horse-2026")
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        resp = client.post(url, {"username": "victim", "password": "wrong"})
        assert resp.status_code in (200, 429, 403)
    # locked: even the right password is refused now
    resp = client.post(url, {"username": "victim", "password": "Correct-horse-2026"})
    assert resp.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT
    assert AuditEvent.objects.filter(action="auth.lockout").exists()
    # another user from the same address is not locked out
    get_user_model().objects.create_user("other", password="Correct-horse-2026")
    other = client.post(url, {"username": "other", "password": "Correct-horse-2026"})
    assert other.status_code == 302


def test_successful_login_is_audited(client):
    get_user_model().objects.create_user("alice", password="Correct-horse-2026")
    resp = client.post(reverse("login"), {"username": "alice", "password": "Correct-horse-2026"},
                       REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="pytest-agent")
    assert resp.status_code == 302
    ev = AuditEvent.objects.filter(action="auth.login").latest("id")
    assert ev.ip == "10.1.2.3" and ev.user_agent == "pytest-agent" and ev.actor_label == "alice"


def test_idle_session_timeout_is_configured():
    assert settings.SESSION_COOKIE_AGE <= 3600 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_HTTPONLY


def test_csrf_is_enforced_on_posts():
    csrf_client = Client(enforce_csrf_checks=True)
    resp = csrf_client.post(reverse("login"), {"username": "x", "password": "y"})
    assert resp.status_code == 403


def test_secure_headers(client, admin_user):
    client.force_login(admin_user)
    resp = client.get(reverse("cases:list"))
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "ARREARS_DEBUG": "0",
        "ARREARS_SECRET_KEY": "k" * 20 + "Zq8#vL2!pR5@xW9$mN3^bT6&yH1*cJ4(",
        "ARREARS_PII_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "ARREARS_ALLOWED_HOSTS": "collections.example.cn",
        "ARREARS_DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    }
    proc = subprocess.run([sys.executable, "-m", "arrears.manage", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_production_refuses_to_start_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env.update({"ARREARS_DEBUG": "0", "ARREARS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    proc = subprocess.run([sys.executable, "-m", "arrears.manage", "check"], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode != 0 and "ARREARS_SECRET_KEY" in proc.stderr


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"""SECRET_KEY\s*=\s*['"][^'"]{20,}['"]"""),
    re.compile(r"""(?i)(password|passwd|secret)\s*=\s*['"][A-Za-z0-9+/=!@#$%^&*]{12,}['"]"""),
]


def test_no_secret_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    hits = []
    for rel in tracked.stdout.splitlines():
        path = ROOT / rel
        if rel.startswith("tests/") or path.suffix in {".csv", ".geojson", ".mo", ".png", ".js"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        hits += [f"{rel}: {p.pattern}" for p in SECRET_PATTERNS if p.search(text)]
    assert not hits, hits
    assert not (ROOT / "var" / "pii.key").exists() or "var/pii.key" not in tracked.stdout

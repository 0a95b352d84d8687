"""Settings, read from the environment.

Environment variables:
- ``ARREARS_DATABASE_URL``: database URL (``postgres://…`` or ``sqlite:///…``). Default: an SQLite
  file ``./var/arrears.sqlite3`` under the current directory.
- ``ARREARS_SECRET_KEY``: Django secret key. Required when ``ARREARS_DEBUG`` is off; a development
  key is generated per process otherwise.
- ``ARREARS_PII_KEY``: key for personal data at rest (URL-safe base64 of 32 random bytes; see
  docs/privacy.md). Required when ``ARREARS_DEBUG`` is off; a development key is kept in
  ``var/pii.key`` otherwise. ``ARREARS_PII_OLD_KEYS``: earlier keys, comma-separated, readable
  during ``arrears rotate_pii_key``.
- ``ARREARS_TIME_ZONE``: the business time zone (IANA name). Default ``Asia/Shanghai``.
- ``ARREARS_DEBUG``: ``1`` for development (the default), ``0`` for production.
- ``ARREARS_ALLOWED_HOSTS``: comma-separated host names.
- ``ARREARS_RETENTION_CALL_RECORDINGS_DAYS`` (default 730, never less) and
  ``ARREARS_RETENTION_CLOSED_CASE_PII_DAYS`` (default 1826): retention (docs/privacy.md).
- ``ARREARS_AUDIT_FLUSH_ALLOWED``: ``1`` lets ``flush`` empty the append-only audit log
  (throwaway databases only).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: The directory the command runs in: ``./var`` (SQLite default, run artefacts) lives under it.
WORK_DIR = Path(os.environ.get("ARREARS_HOME", os.getcwd())).resolve()
VAR_DIR = WORK_DIR / "var"

DEBUG = os.environ.get("ARREARS_DEBUG", "1") == "1"


def _dev_secret_key() -> str:
    """Development only: a random key kept in ./var/secret.key, so restarts keep sessions."""
    path = VAR_DIR / "secret.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = "dev-" + secrets.token_urlsafe(40)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = os.environ.get("ARREARS_SECRET_KEY") or (_dev_secret_key() if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("ARREARS_SECRET_KEY must be set when ARREARS_DEBUG=0")
PII_KEY = os.environ.get("ARREARS_PII_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("ARREARS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "arrears.contexts.org.users",
    "arrears.contexts.portfolio",
    "arrears.contexts.money.payments",
    "arrears.contexts.casework",
    "arrears.contexts.org.agencies",
    "arrears.contexts.contact.fieldwork",
    "arrears.contexts.legal",
    "arrears.contexts.money.servicing",
    "arrears.contexts.audit",
    "arrears.pipeline",
    "arrears.contexts.contact.compliance",
    "arrears.contexts.strategy",
    "arrears.contexts.contact.desk",
    "arrears.contexts.contact.sms",
]

# Background work (DESIGN §3): Django's tasks framework (django-tasks backport). Production and the
# demo use the database backend with a worker process (`arrears db_worker`, which `arrears demo`
# starts beside the server); ARREARS_TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend
# runs tasks eagerly (tests ask for it with the `immediate_tasks` fixture).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("ARREARS_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "arrears.contexts.audit.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # logs an unexpected exception of a page with its traceback (the 500 stays)
    "arrears.core.middleware.LogUnexpectedErrorsMiddleware",
    # last, as django-axes asks: turns a locked-out login into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "arrears.config.urls"
WSGI_APPLICATION = "arrears.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_url() -> str:
    url = os.environ.get("ARREARS_DATABASE_URL")
    if url:
        return url
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{VAR_DIR / 'arrears.sqlite3'}"


DATABASES = {"default": dj_database_url.parse(_database_url(), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ARREARS_TEST_SQLITE", "")} if os.environ.get("ARREARS_TEST_SQLITE") else {}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("ARREARS_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:list"
LOGOUT_REDIRECT_URL = "login"

#: Idle timeout: a session ends after this many seconds without a request (default 30 minutes).
SESSION_COOKIE_AGE = int(os.environ.get("ARREARS_SESSION_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("ARREARS_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"arrears": {"handlers": ["stderr"], "level": os.environ.get("ARREARS_LOG_LEVEL", "INFO")}},
}

#: Rule data (bucket ladder, strategies, compliance packs) shipped with the package.
RULES_DIR = PACKAGE_DIR / "rules"
#: Reference data shipped with the package (UCI portfolio, Shenzhen districts).
DATA_DIR = PACKAGE_DIR / "data"


def _days(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name}={raw!r}: a whole number of days is required") from None


#: Retention per data class, in days (docs/privacy.md "Retention"); validated at startup by
#: arrears.contexts.audit.retention.check_settings. Environment overrides: ARREARS_RETENTION_<CLASS>_DAYS.
ARREARS_RETENTION = {
    # collection call recordings: at least 730 days (2011 商业银行信用卡业务监督管理办法 Art. 68)
    "call_recordings": _days("ARREARS_RETENTION_CALL_RECORDINGS_DAYS", 730),
    # the audit log is kept: never purged (None)
    "audit_events": None,
    # a customer's personal data, counted from the day their last case closed (no case open)
    "closed_case_personal_data": _days("ARREARS_RETENTION_CLOSED_CASE_PII_DAYS", 1826),
}
#: ``flush`` may empty the append-only audit table (throwaway databases only; the test suite sets it).
ARREARS_AUDIT_FLUSH_ALLOWED = os.environ.get("ARREARS_AUDIT_FLUSH_ALLOWED", "0") == "1"


# --- Login throttling (django-axes): 5 failures for a username from one address lock it for 15 min
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ARREARS_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = float(os.environ.get("ARREARS_LOGIN_LOCKOUT_HOURS", 0.25))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- Behind a reverse proxy (ARREARS_BEHIND_PROXY=1): trust its X-Forwarded-Proto for HTTPS and its
# X-Forwarded-For for the client address (login lockout and the audit log's IP). Only set this
# when the proxy overwrites those headers.
BEHIND_PROXY = os.environ.get("ARREARS_BEHIND_PROXY", "0") == "1"
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# --- JSON API (DRF): the desk's session (logged in through the throttled login); every read goes
# through the data scope
REST_FRAMEWORK = {
    # session only: HTTP Basic would send passwords with every call and bypass the login throttle
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # every error answers one JSON shape {"code", "message", "field", "details"} (arrears.core.errors)
    "EXCEPTION_HANDLER": "arrears.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Arrears API",
    "DESCRIPTION": "Credit-card collections (催收管理系统): cases in the caller's data scope.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

#: Revealing full personal values: at most this many per user per hour (each needs a reason).
ARREARS_REVEAL_LIMIT_PER_HOUR = int(os.environ.get("ARREARS_REVEAL_LIMIT_PER_HOUR", 20))

# --- Personal data at rest (arrears.core.privacy; docs/privacy.md "Encryption at rest")
#: Earlier PII keys, still accepted for reading until ``arrears rotate_pii_key`` has re-encrypted
#: everything under ``PII_KEY`` (which is set near the top, next to SECRET_KEY).
PII_OLD_KEYS = [k.strip() for k in os.environ.get("ARREARS_PII_OLD_KEYS", "").split(",") if k.strip()]
#: Rows per transaction of ``arrears rotate_pii_key``.
PII_ROTATION_BATCH = int(os.environ.get("ARREARS_PII_ROTATION_BATCH", 2000))

# --- money (issue 6) ---
# Payment posting, promises, plans and settlements (arrears.contexts.money.payments / servicing). Amounts are
# plain decimal strings (yuan, two decimals); the services read these with the same defaults.
from decimal import Decimal as _Decimal  # noqa: E402

#: A promise counts as kept when paid ≥ amount − this (e.g. a bank charge taken off the transfer).
ARREARS_PTP_TOLERANCE = _Decimal(os.environ.get("ARREARS_PTP_TOLERANCE", "1.00"))
#: Days after the promised date a payment still counts towards the promise.
ARREARS_PTP_GRACE_DAYS = int(os.environ.get("ARREARS_PTP_GRACE_DAYS", 2))
#: Days an instalment of a signed plan may be late before the plan is breached (collection resumes).
ARREARS_PLAN_GRACE_DAYS = int(os.environ.get("ARREARS_PLAN_GRACE_DAYS", 5))
#: After a payoff, a residual owed at or below this is written off (with an event), not left open.
ARREARS_RESIDUAL_WRITE_OFF = _Decimal(os.environ.get("ARREARS_RESIDUAL_WRITE_OFF", "1.00"))
#: 容差还款 (PBoC 银发〔2016〕111号): an unpaid remainder of the minimums at or below this counts as
#: paid — for opening/closing cases, 违约金 and the interest-free period alike (issuers often set
#: 10.00). One setting; read through arrears.core.settings.repayment_tolerance().
ARREARS_REPAYMENT_TOLERANCE = _Decimal(os.environ.get("ARREARS_REPAYMENT_TOLERANCE", "0.00"))

# --- sms (issue 8) ---
# The SMS channel (arrears.contexts.contact.sms; docs/sms.md). The policy (send window, caps, retries, rate,
# signature, opt-out line and keywords) is rule data in arrears/rules/sms/policy.yaml; the
# provider's connection settings come from the environment:
#   ARREARS_SMS_GATEWAY      log (development: logged, never sent; the default with ARREARS_DEBUG=1)
#                            or smpp (the carrier's SMSC; the default in production)
#   ARREARS_SMPP_HOST / _PORT / _SYSTEM_ID / _PASSWORD / _SYSTEM_TYPE: the SMPP 3.4 account
#   ARREARS_SMPP_SOURCE_ADDR: the sender number (10690…) ; ARREARS_SMPP_CONCAT: udh (default) or sar
#   ARREARS_SMPP_WINDOW: outstanding submit_sm (default 32); ARREARS_SMPP_ENQUIRE_LINK_S (default 30)
ARREARS_SMS_GATEWAY = os.environ.get("ARREARS_SMS_GATEWAY", "log" if DEBUG else "smpp")
ARREARS_SMPP = {
    "host": os.environ.get("ARREARS_SMPP_HOST", "127.0.0.1"),
    "port": int(os.environ.get("ARREARS_SMPP_PORT", 2775)),
    "system_id": os.environ.get("ARREARS_SMPP_SYSTEM_ID", ""),
    "password": os.environ.get("ARREARS_SMPP_PASSWORD", ""),
    "system_type": os.environ.get("ARREARS_SMPP_SYSTEM_TYPE", ""),
    "source_addr": os.environ.get("ARREARS_SMPP_SOURCE_ADDR", ""),
    "concat": os.environ.get("ARREARS_SMPP_CONCAT", "udh"),
    "window": int(os.environ.get("ARREARS_SMPP_WINDOW", 32)),
    "enquire_link_s": float(os.environ.get("ARREARS_SMPP_ENQUIRE_LINK_S", 30)),
    "timeout_s": float(os.environ.get("ARREARS_SMPP_TIMEOUT_S", 10)),
}
if ARREARS_SMS_GATEWAY not in ("log", "smpp"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"ARREARS_SMS_GATEWAY={ARREARS_SMS_GATEWAY!r}: use log or smpp")
if ARREARS_SMPP["concat"] not in ("udh", "sar"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"ARREARS_SMPP_CONCAT={ARREARS_SMPP['concat']!r}: use udh or sar")

# --- phone desk (docs/dialer.md) ---
# The dialer adapter (ARREARS_DIALER, a dotted class path; default the record-only adapter) issues
# each call's recording reference; ARREARS_RECORDING_URL is the call recorder's address of one
# recording with {ref} for the reference (e.g. https://recorder.example/calls/{ref}): the contact
# history links each call's recording there. Empty (the default): the reference is shown as text.
ARREARS_RECORDING_URL = os.environ.get("ARREARS_RECORDING_URL", "")

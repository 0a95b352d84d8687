"""Retention per data class (``settings.ARREARS_RETENTION``) and the hooks of the purge of personal data.

Data classes (days):

- ``call_recordings``: collection call recordings, kept at least :data:`MIN_CALL_RECORDING_DAYS`
  (2011 商业银行信用卡业务监督管理办法 Art. 68 requires keeping collection recordings for at least
  two years). A shorter setting refuses to start (:func:`check_settings`). Arrears stores no
  recordings itself yet; anything that purges them must use :func:`policy` and this floor.
- ``audit_events``: the audit log is kept, never purged (must be ``None``).
- ``closed_case_personal_data``: the personal data of a customer with no open case is erased
  this many days after their latest case closed. The financial record (accounts, statements,
  payments, bucket history, cases and their timeline) stays; the customer row stays with its
  customer number, marked ``purged_at``.

The purge itself crosses contexts (cases, customers, other contexts' records), so it lives in
:mod:`arrears.pipeline.retention` (``arrears purge``); contexts that hold personal data of a
customer register an eraser here (:func:`register_eraser`, from ``AppConfig.ready``).
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: 2011 商业银行信用卡业务监督管理办法 Art. 68: collection recordings kept at least 2 years.
MIN_CALL_RECORDING_DAYS = 730
DEFAULTS = {"call_recordings": 730, "audit_events": None, "closed_case_personal_data": 1826}

CLOSED_CASE_PII = "closed_case_personal_data"


def policy() -> dict:
    """The validated retention policy: ``{data class: days or None}``."""
    configured = getattr(settings, "ARREARS_RETENTION", None) or {}
    return validate({**DEFAULTS, **configured})


def validate(p: dict) -> dict:
    """Check a retention policy; raise :class:`ImproperlyConfigured` with the reason."""
    unknown = sorted(set(p) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION: unknown data class(es) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}"
        )
    rec = p["call_recordings"]
    if not isinstance(rec, int) or isinstance(rec, bool) or rec < MIN_CALL_RECORDING_DAYS:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['call_recordings'] = {rec!r} days is below the legal minimum of "
            f"{MIN_CALL_RECORDING_DAYS} days: collection call recordings must be kept at least 2 years "
            "(2011 商业银行信用卡业务监督管理办法 第六十八条). "
            f"Set ARREARS_RETENTION_CALL_RECORDINGS_DAYS to {MIN_CALL_RECORDING_DAYS} or more."
        )
    if p["audit_events"] is not None:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['audit_events'] = {p['audit_events']!r}: the audit log is append-only and kept; "
            "it must be None (never purged)."
        )
    pii = p[CLOSED_CASE_PII]
    if not isinstance(pii, int) or isinstance(pii, bool) or pii < 1:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['{CLOSED_CASE_PII}'] = {pii!r}: a positive number of days is required "
            "(ARREARS_RETENTION_CLOSED_CASE_PII_DAYS)."
        )
    return dict(p)


def check_settings() -> None:
    """Called at startup (``AuditConfig.ready``): refuse to run with an unlawful policy."""
    policy()


#: Other contexts' personal data about a customer (SMS texts, visit notes, photos, positions …): name →
#: function ``erase(customer) -> int`` (records erased), run by :func:`run_erasers` in the purge's
#: transaction before the customer's own fields are erased.
ERASERS: dict[str, Callable] = {}


def register_eraser(name: str, fn: Callable) -> None:
    """Let an app erase its own personal data of a purged customer (call from ``AppConfig.ready``)."""
    ERASERS[name] = fn


def run_erasers(customer) -> int:
    """Run every registered eraser on ``customer`` (in the caller's transaction: the purge's);
    returns the records they erased."""
    return sum(int(fn(customer) or 0) for fn in ERASERS.values())

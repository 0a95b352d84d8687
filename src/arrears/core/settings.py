"""Typed access to the project's own settings (``ARREARS_*``), each declared once here.

The values come from Django settings (``arrears.config.settings``, filled from the environment);
this module gives each its type, unit and default, so no caller parses a setting itself.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings


def _decimal(name: str, default: str) -> Decimal:
    return Decimal(str(getattr(settings, name, default))).quantize(Decimal("0.01"))


def repayment_tolerance() -> Decimal:
    """``ARREARS_REPAYMENT_TOLERANCE`` (容差还款, PBoC 银发〔2016〕111号): an unpaid remainder of the
    minimum payments at or below it counts as paid — for opening, keeping and closing a case, for
    违约金 and for the interest-free period alike. Major units of the account's currency (yuan for
    CNY), Decimal ≥ 0; default 0.00."""
    return _decimal("ARREARS_REPAYMENT_TOLERANCE", "0.00")


def residual_write_off_limit() -> Decimal:
    """``ARREARS_RESIDUAL_WRITE_OFF``: a residual at or below it after a payment is written off
    (尾差核销), with an audit and a case event. Major units; default 1.00."""
    return _decimal("ARREARS_RESIDUAL_WRITE_OFF", "1.00")


def promise_tolerance() -> Decimal:
    """``ARREARS_PTP_TOLERANCE``: a promise counts as kept when paid ≥ promised − this. Major units; default 1.00."""
    return _decimal("ARREARS_PTP_TOLERANCE", "1.00")


def promise_grace_days() -> int:
    """``ARREARS_PTP_GRACE_DAYS``: calendar days after the promised date that a payment still counts; default 2."""
    return int(getattr(settings, "ARREARS_PTP_GRACE_DAYS", 2))


def recording_url_template() -> str:
    """``ARREARS_RECORDING_URL``: the call recorder's address of one recording, with ``{ref}`` where
    the recording reference goes (``https://recorder.example/calls/{ref}``); the contact history
    links each call's recording there. Default ``""``: no recorder to link to (the reference is
    shown as text)."""
    return str(getattr(settings, "ARREARS_RECORDING_URL", "") or "")

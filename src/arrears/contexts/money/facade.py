"""The money context's facade: the only module of this context that another context (or the daily
pipeline) imports. Functions here take and return plain values or the frozen dataclasses declared
here, never this context's models; see docs/architecture.md for what the context owns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- used by the contact context


# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline


@dataclass(frozen=True)
class PaymentRecord:
    """A payment on a card account (``amount`` Decimal in the account's currency; ``local_date``
    the debtor's local date; ``status`` posted or reversed)."""

    account_id: int
    external_id: str
    paid_at: datetime
    local_date: date
    amount: Decimal
    channel: str
    status: str


def latest_payments(account_ids: list[int], limit: int) -> list[PaymentRecord]:
    """The latest ``limit`` payments on these accounts, newest first (``paid_at``, then id); one
    query."""
    from .payments.models import Payment

    return [PaymentRecord(p.account_id, p.external_id, p.paid_at, p.local_date, p.amount, p.channel, p.status)
            for p in Payment.objects.filter(account_id__in=account_ids).order_by("-paid_at", "-id")[:limit]]


def subject_records(customer_id: int) -> dict:
    """The customer's payments for subject access, JSON-ready (:func:`arrears.core.privacy.export.row`):
    ``{"payments": [...], "_labels": {"payments": "payments.payment"}}``."""
    from arrears.core.privacy.export import rows

    from .payments.models import Payment

    return {"payments": rows(Payment.objects.filter(account__customer_id=customer_id)),
            "_labels": {"payments": Payment._meta.label_lower}}

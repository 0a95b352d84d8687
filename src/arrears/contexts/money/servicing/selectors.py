"""Reads for servicing: a customer's payment plans and settlements, as plain dataclasses (for the
case page's money panel and the JSON API)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .models import PaymentPlan, Settlement

#: Plans and settlements the panel shows per customer (newest first).
LIMIT = 10


@dataclass(frozen=True)
class PlanView:
    """A plan: ``status``/``status_label``, amounts in ``currency`` (yuan), the maker and checker,
    and — for an active plan — where it stands on ``as_of`` (amount due now, next instalment,
    overdue amount and DPD of its oldest unpaid instalment; ``next_due_date`` is the oldest unpaid
    instalment's due date, else the next one's)."""

    id: int
    status: str
    status_label: str
    total: Decimal
    currency: str
    term_months: int
    created_on: date
    requested_by: str
    approved_by: str
    signed: bool
    amount_due_now: Decimal | None = None
    next_due_date: date | None = None
    overdue_amount: Decimal | None = None
    dpd: int | None = None


@dataclass(frozen=True)
class SettlementView:
    """A settlement / waiver (减免): ``waived`` of ``owed`` if ``payoff`` is paid by ``deadline``;
    amounts in ``currency`` (the settled account's)."""

    id: int
    status: str
    status_label: str
    owed: Decimal
    waived: Decimal
    payoff: Decimal
    deadline: date
    requested_on: date
    requested_by: str
    approved_by: str
    currency: str = "CNY"


def customer_plans(customer_id: int, as_of: date) -> list[PlanView]:
    """The customer's plans, newest first (at most :data:`LIMIT`); active ones with their position."""
    from .services import plan_position

    out = []
    for p in (PaymentPlan.objects.filter(customer_id=customer_id).select_related("requested_by", "approved_by")
              .order_by("-created_on", "-id")[:LIMIT]):
        extra = {}
        if p.status == PaymentPlan.Status.ACTIVE:
            pos = plan_position(p.pk, as_of)
            nxt = pos.first_unpaid or pos.next_instalment
            extra = {"amount_due_now": pos.amount_due_now, "next_due_date": nxt[1] if nxt else None,
                     "overdue_amount": pos.overdue_amount, "dpd": pos.dpd}
        out.append(PlanView(p.pk, p.status, str(p.get_status_display()), p.total, p.currency, p.term_months,
                            p.created_on, getattr(p.requested_by, "username", ""),
                            getattr(p.approved_by, "username", ""), p.signed_at is not None, **extra))
    return out


def customer_settlements(customer_id: int) -> list[SettlementView]:
    """The customer's settlements, newest first (at most :data:`LIMIT`)."""
    return [SettlementView(s.pk, s.status, str(s.get_status_display()), s.owed, s.waived, s.payoff, s.deadline,
                           s.requested_on, getattr(s.requested_by, "username", ""),
                           getattr(s.approved_by, "username", ""), s.account.currency)
            for s in (Settlement.objects.filter(customer_id=customer_id)
                      .select_related("requested_by", "approved_by", "account")
                      .order_by("-requested_on", "-id")[:LIMIT])]


def holds_relation() -> str:
    """Every collection hold, handed to the strategy (registered in ServicingConfig.ready; columns
    in ``arrears.contexts.strategy.relations.RELATIONS``): ``customer_id``, ``kind``, ``breached``,
    ``since``, ``until`` (NULL: open-ended)."""
    from .models import CollectionHold

    return f"SELECT customer_id, kind, breached, since, until FROM {CollectionHold._meta.db_table}"

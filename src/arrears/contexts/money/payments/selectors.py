"""Reads for money: promise-kept rates per agent and team, an account's balance explanation, a
case's promises, plans and settlements (the case page's money panel and the API)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from .models import PromiseToPay

EVALUATED = ("kept", "partly_kept", "broken")


def _rate(kept: int, evaluated: int) -> str:
    if not evaluated:
        return "0.0000"
    return str((Decimal(kept) / Decimal(evaluated)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def promise_kept_rates(start: date, end: date) -> dict:
    """PTP kept rate (兑现率) per agent and per team for promises due ``start`` … ``end`` (local
    dates, inclusive): ``kept / evaluated`` where evaluated = kept + partly kept + broken (open and
    cancelled promises are left out). Rates are 4-decimal strings (``"0.3333"``). Returns
    ``{"agents": [{agent_id, username, team_id, kept, partly_kept, broken, evaluated, kept_rate}],
    "teams": [{team_id, kept, evaluated, kept_rate}]}``. One grouped query each."""
    qs = PromiseToPay.objects.filter(promised_on__gte=start, promised_on__lte=end, status__in=EVALUATED)
    agg = dict(kept=Count("id", filter=Q(status="kept")), partly_kept=Count("id", filter=Q(status="partly_kept")),
               broken=Count("id", filter=Q(status="broken")), evaluated=Count("id"))
    agents = [
        {"agent_id": r["agent_id"], "username": r["agent__username"], "team_id": r["agent__staff_profile__team_id"],
         "kept": r["kept"], "partly_kept": r["partly_kept"], "broken": r["broken"], "evaluated": r["evaluated"],
         "kept_rate": _rate(r["kept"], r["evaluated"])}
        for r in qs.values("agent_id", "agent__username", "agent__staff_profile__team_id").annotate(**agg)
        .order_by("agent_id")
    ]
    teams = [
        {"team_id": r["agent__staff_profile__team_id"], "kept": r["kept"], "evaluated": r["evaluated"],
         "kept_rate": _rate(r["kept"], r["evaluated"])}
        for r in qs.values("agent__staff_profile__team_id").annotate(**agg).order_by("agent__staff_profile__team_id")
    ]
    return {"agents": agents, "teams": teams}


def parse_as_of(text: str) -> date:
    """A business date ``YYYY-MM-DD``; :class:`~.services.PaymentError` (a ``ValueError``, field
    ``as_of``) with a clear message otherwise."""
    from .services import PaymentError

    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise PaymentError(f"as_of {text!r} is not a date (YYYY-MM-DD)", "as_of") from None


def explain_account(account_external_id: str, as_of: date):
    """The :class:`~arrears.domain.balance.Explanation` of the account with this card-system
    number as of ``as_of``. Raises :class:`~.services.AccountNotFound` (a ``LookupError``) for an
    unknown account, :class:`~.services.PaymentError` (a ``ValueError``) for a date before the
    account's extract."""
    from arrears.contexts.portfolio.facade import account_id_for, account_state

    from .services import AccountNotFound, account_explanation

    account_id = account_id_for(account_external_id)
    account = account_state(account_id) if account_id is not None else None
    if account is None:
        raise AccountNotFound(f"unknown account {account_external_id!r}", "account")
    return account_explanation(account, as_of)[0]


@dataclass(frozen=True)
class PromiseView:
    """A promise to pay on a case: ``amount`` (yuan, ``currency``) by ``promised_on`` (the
    debtor's local date), taken on ``taken_on`` via ``channel`` by ``agent``; ``status`` and its
    label; ``paid_amount`` counted towards it at the last evaluation."""

    id: int
    amount: Decimal
    currency: str
    promised_on: date
    taken_on: date | None
    channel: str
    agent: str
    status: str
    status_label: str
    paid_amount: Decimal
    evaluated_on: date | None

    @property
    def channel_label(self) -> str:
        """The channel the promise was taken on, in the active language."""
        from .events import promise_channel_label

        return promise_channel_label(self.channel)


@dataclass(frozen=True)
class CaseMoney:
    """The case page's money panel: the case's promises (newest first) and the customer's plans and
    settlements (:mod:`arrears.contexts.money.servicing.selectors`)."""

    case_id: int
    promises: list
    plans: list
    settlements: list

    @property
    def empty(self) -> bool:
        return not (self.promises or self.plans or self.settlements)


#: Promises listed per case (newest first).
PROMISES_PER_CASE = 50


def case_promises(case_id: int, limit: int = PROMISES_PER_CASE) -> list[PromiseView]:
    """The case's promises, newest first (one query)."""
    qs = (PromiseToPay.objects.filter(case_id=case_id).select_related("agent")
          .order_by("-created_at", "-id")[:limit])
    return [PromiseView(p.pk, p.amount, p.currency, p.promised_on, p.taken_on, p.channel,
                        getattr(p.agent, "username", ""), p.status, str(p.get_status_display()), p.paid_amount,
                        p.evaluated_on) for p in qs]


def case_money(case_id: int, customer_id: int, as_of: date) -> CaseMoney:
    """Everything the money panel shows for a case of ``customer_id`` as of the local date ``as_of``.
    The caller has checked the case is in the user's data scope."""
    from arrears.contexts.money.servicing.selectors import customer_plans, customer_settlements

    return CaseMoney(case_id, case_promises(case_id), customer_plans(customer_id, as_of),
                     customer_settlements(customer_id))


def credits_since_extract(as_of: date, schema):
    """Everything that may count as paid towards the minimums as of ``as_of``, for the daily run:
    payments dated after their account's extract date and adjustments (waivers, settlement
    discounts, residual write-offs) dated from it, each with ``until`` (its reversal date or NULL).
    Arrow table ``(account_id, local_date, amount, until, kind)`` typed by ``schema``; which of them
    count on a date is :func:`arrears.domain.delinquency.POOL_SQL`'s rule."""
    from arrears.core import dbio

    from .models import BalanceAdjustment, Payment

    p, b = Payment._meta.db_table, BalanceAdjustment._meta.db_table
    acc = Payment._meta.get_field("account").related_model._meta.db_table
    return dbio.read_arrow(
        f"SELECT p.account_id, p.local_date, CAST(p.amount AS TEXT) AS amount, p.reversed_on AS until, "
        f"'payment' AS kind FROM {p} p JOIN {acc} a ON a.id = p.account_id "
        f"WHERE p.local_date > a.as_of_extract AND p.local_date <= %s "
        f"UNION ALL "
        f"SELECT j.account_id, j.local_date, CAST(j.principal + j.interest + j.penalty + j.fees AS TEXT) AS amount, "
        f"j.reversed_on AS until, j.kind FROM {b} j JOIN {acc} a ON a.id = j.account_id "
        f"WHERE j.local_date >= a.as_of_extract AND j.local_date <= %s",
        [as_of, as_of], schema=schema)


# --- relations handed to the strategy (registered in PaymentsConfig.ready; columns documented in
# arrears.contexts.strategy.relations.RELATIONS) --------------------------------------------------

def payments_relation() -> str:
    """Every payment, reversed ones included: ``account_id``, ``local_date``, ``amount``, ``status``."""
    from .models import Payment

    return f"SELECT account_id, local_date, amount, status FROM {Payment._meta.db_table}"


def promises_relation() -> str:
    """Every promise to pay: ``id``, ``case_id``, ``customer_id``, ``created_at``, ``promised_on``, ``status``."""
    return (f"SELECT id, case_id, customer_id, created_at, promised_on, status "
            f"FROM {PromiseToPay._meta.db_table}")

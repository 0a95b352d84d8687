"""Reads for money: promise-kept rates per agent and team, an account's balance explanation."""
from __future__ import annotations

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


def explain_account(account_external_id: str, as_of: date):
    """The :class:`~arrears.domain.balance.Explanation` of the account with this card-system
    number as of ``as_of``. Raises ``LookupError`` for an unknown account, ``ValueError`` for a date
    before the account's extract."""
    from arrears.apps.portfolio.models import CardAccount

    from .services import account_explanation

    account = CardAccount.objects.filter(external_id=account_external_id).first()
    if account is None:
        raise LookupError(f"unknown account {account_external_id!r}")
    return account_explanation(account, as_of)[0]

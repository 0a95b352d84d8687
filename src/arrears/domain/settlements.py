"""Settlements and waivers (减免): the status map, the approver's authority, and the outcome.

A request names what is owed and the amount to waive (``waived``); the payoff is owed − waived and
must be paid by a deadline. An approver may approve only within the authority of one of their
roles: an absolute amount limit **and** a percentage-of-owed limit (both must hold). Limits per
role are data (``arrears/contexts/money/servicing/authority.yaml``), in one currency (yuan, CNY). A
waiver in another currency — the UCI demo's New Taiwan dollars — is converted into the limits'
currency at a recorded rate (rule data ``arrears/rules/exchange_rates.yaml``: each rate dated, with
its source; :func:`amount_in`) or, without one, refused (:class:`NoExchangeRate`): the limits are
never compared with an amount in another currency as if it were yuan. The person who asked may not
approve (maker-checker). Paid by the deadline → ``paid`` (the waiver takes effect and is recorded);
otherwise → ``void`` (nothing is waived).

An approved settlement fixes the agreed ``payoff``. Interest and 违约金 keep accruing between the
request and the payment, so on the day the agreed payoff is reached (:func:`payoff_reached_on`)
everything still owed on the account is waived — the agreed ``waived`` plus what accrued since
the request — as one recorded waiver (:func:`settlement_waiver`), and the account is paid off.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.core.errors import ErrorCode
from arrears.core.machine import TransitionMap

from .errors import DomainError, IllegalTransition
from .money import ZERO, format_money, money, quantize, to_decimal
from .payments import Components

__all__ = ["TRANSITIONS", "check_transition", "AuthorityLimit", "authority_problems", "outcome",
           "payoff_reached_on", "settlement_waiver", "ExchangeRate", "NoExchangeRate", "amount_in"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"paid", "void"}),
    # a reversal of the payment that reached the payoff: unpaid again, or void past the deadline
    "paid": frozenset({"approved", "void"}),
    "void": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}


#: The settlement map as the one transition helper checks it (:mod:`arrears.core.machine`).
MACHINE = TransitionMap("settlement", TRANSITIONS, error=IllegalTransition)


def check_transition(from_status: str, to_status: str) -> str:
    """``to_status`` if the settlement map allows it; :class:`IllegalTransition` otherwise."""
    return MACHINE.check(from_status, to_status)


@dataclass(frozen=True, slots=True)
class AuthorityLimit:
    """A role may approve waivers up to ``max_amount`` (yuan) and ``max_percent`` (fraction of
    what is owed, e.g. ``Decimal("0.30")``)."""

    role: str
    max_amount: Decimal
    max_percent: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_amount", money(self.max_amount))
        pct = to_decimal(self.max_percent, "max_percent")
        if not 0 <= pct <= 1:
            raise DomainError(f"{self.role}: max_percent must be a fraction 0…1, got {pct}")
        object.__setattr__(self, "max_percent", pct)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """``1 from_currency = rate to_currency``, as published on ``as_of`` by ``source``."""

    from_currency: str
    to_currency: str
    rate: Decimal
    as_of: date
    source: str

    def __post_init__(self) -> None:
        rate = to_decimal(self.rate, "rate")
        if rate <= 0:
            raise DomainError(f"{self.from_currency}→{self.to_currency}: the rate must be > 0, got {rate}")
        object.__setattr__(self, "rate", rate)


class NoExchangeRate(DomainError):
    """An amount must be compared with limits in another currency and no rate is recorded for it."""

    code = ErrorCode.NO_EXCHANGE_RATE

    def __init__(self, currency: str, target: str) -> None:
        super().__init__((f"审批权限以{target}核定，{currency}没有登记的折算汇率（rules/exchange_rates.yaml），"
                          "无法判断审批权限，不能审批。",
                          f"Approval limits are set in {target} and {currency} has no recorded exchange rate "
                          "(rules/exchange_rates.yaml), so the approval cannot be checked."),
                         detail=f"no {currency}→{target} rate", field="currency",
                         details={"currency": currency, "limits_currency": target})


def amount_in(amount: Decimal, currency: str, target: str, rates: Iterable[ExchangeRate] = ()) -> Decimal:
    """``amount`` (in ``currency``) in ``target``: itself when the currencies are the same, else at
    the latest recorded rate ``currency → target`` (rounded once, with the money rule). Raises
    :class:`NoExchangeRate` when none is recorded. Example: 10,000.00 TWD at 0.2250 → 2,250.00 CNY."""
    if currency == target:
        return money(amount)
    found = [r for r in rates if r.from_currency == currency and r.to_currency == target]
    if not found:
        raise NoExchangeRate(currency, target)
    return quantize(money(amount) * max(found, key=lambda r: r.as_of).rate)


def authority_problems(roles: Iterable[str], limits: Mapping[str, AuthorityLimit], owed: Decimal,
                       waived: Decimal, *, currency: str = "CNY", limits_currency: str = "CNY",
                       rates: Iterable[ExchangeRate] = ()) -> list[str]:
    """Empty when one of ``roles`` may approve waiving ``waived`` of ``owed`` (both in
    ``currency``); otherwise why not. The amount limits are in ``limits_currency``: another
    currency is converted at a recorded rate (:func:`amount_in`; :class:`NoExchangeRate` raised
    when there is none). Example: a team leader (≤ 2,000.00 and ≤ 30 %) may waive 300.00 of
    1,000.00 but not 400.00."""
    owed, waived = money(owed), money(waived)
    if owed <= 0 or waived < 0 or waived > owed:
        return [f"waived {waived} must be between 0 and what is owed ({owed})"]
    share = waived / owed if owed else ZERO
    held = [limits[r] for r in roles if r in limits]
    if not held:
        return ["the approver holds no role with waiver authority"]
    compared = amount_in(waived, currency, limits_currency, rates)
    for lim in held:
        if compared <= lim.max_amount and share <= lim.max_percent:
            return []
    best = ", ".join(f"{lim.role}: ≤ {format_money(lim.max_amount, limits_currency, 'en')} and "
                     f"≤ {lim.max_percent * 100:.0f}%" for lim in held)
    shown = format_money(waived, currency, "en") + (
        f" (= {format_money(compared, limits_currency, 'en')})" if currency != limits_currency else "")
    return [f"waiving {shown} ({share * 100:.2f}% of {format_money(owed, currency, 'en')}) exceeds the "
            f"approver's authority ({best})"]


def outcome(payoff: Decimal, paid: Decimal, deadline: date, as_of: date, tolerance: Decimal = ZERO) -> str | None:
    """``"paid"`` when ``paid`` ≥ payoff − tolerance (on or before the deadline), ``"void"`` when the
    deadline has passed without that, ``None`` while still open."""
    if money(paid) >= money(payoff) - money(tolerance):
        return "paid"
    return "void" if as_of > deadline else None


def payoff_reached_on(payments: Sequence[tuple[date, Decimal]], payoff: Decimal, deadline: date,
                      tolerance: Decimal = ZERO) -> date | None:
    """The local date on which the payments (``(local_date, amount)``, any order) first add up to
    the agreed ``payoff`` (less ``tolerance``) on or before ``deadline``; ``None`` if they never do.
    Example: payoff 700.00, payments 400.00 on 18 Mar and 300.00 on 20 Mar → 20 Mar."""
    target, paid = money(payoff) - money(tolerance), ZERO
    for day, amount in sorted(payments, key=lambda p: p[0]):
        if day > deadline:
            break
        paid += money(amount)
        if paid >= target:
            return day
    return None


def settlement_waiver(remaining: Components, agreed_waived: Decimal) -> tuple[Components, Decimal]:
    """What a paid settlement waives: everything ``remaining`` on the account on the payoff day
    (the agreed waiver plus interest / 违约金 / fees accrued since the request, per part), and how
    much of that is beyond ``agreed_waived`` (≥ 0.00; the accrual since the request). Example:
    agreed 300.00 of 1,000.00, 2.50 interest accrued before the 700.00 payoff → remaining 302.50
    principal, waived 302.50 of which 2.50 beyond the agreement."""
    agreed = money(agreed_waived)
    return remaining, max(remaining.total - agreed, ZERO)

"""Payment plans (个性化分期还款协议, 2011 商业银行信用卡业务监督管理办法 第七十条).

Regulation (``tests/fixtures/compliance_RULES.md`` CN-PLAN-01, LEGAL_SERVICE_AGENCIES.md HS-01/02):

* eligibility: "确认信用卡欠款金额超出持卡人还款能力、且持卡人仍有还款意愿" — the debt exceeds the
  cardholder's ability to repay **and** the cardholder is willing to repay;
* term at most **60 months** (5 years);
* the agreement states at least the **six contents** of :data:`REQUIRED_CONTENTS`;
* once signed, collection stops, except when the cardholder does not perform (breach).

The schedule's instalments sum **exactly** to the plan balance (equal instalments rounded down to
the fen, the last one takes the remainder); due dates are worked out from the anchor (anchor + n
months), never from the previous date, so a 31st never drifts to the 28th for good (R15).
Plan position (:func:`position`) uses the same oldest-first instalment logic as delinquency:
"amount due now" skips paid instalments (R22) and a missed instalment makes the plan overdue from
its own due date, not from the last one (R23).
"""
from __future__ import annotations

import calendar as _cal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from .delinquency import DueItem, PaymentEvent, delinquency
from arrears.core.machine import TransitionMap

from .errors import DomainError, IllegalTransition
from .money import ZERO, money

__all__ = [
    "MAX_TERM_MONTHS",
    "REQUIRED_CONTENTS",
    "TRANSITIONS",
    "check_transition",
    "add_months",
    "Instalment",
    "schedule",
    "check_plan",
    "eligibility",
    "PlanPosition",
    "position",
]

MAX_TERM_MONTHS = 60

#: The six mandatory contents of 第七十条, key → (中文, English).
REQUIRED_CONTENTS: dict[str, tuple[str, str]] = {
    "balance": ("欠款余额、结构、币种", "balance, composition and currency"),
    "repayment": ("还款周期、方式、币种、日期和每期还款金额",
                  "repayment cycle, method, currency, dates and amount per instalment"),
    "charges": ("还款期间是否计收年费、利息和其他费用",
                "whether annual fees, interest and other charges accrue during repayment"),
    "no_new_cards": ("未全部结清前不得向任何银行申领信用卡的承诺",
                     "undertaking not to apply for a card at any bank until fully repaid"),
    "rights_and_breach": ("双方的权利义务和违约责任", "rights, obligations and liability for breach"),
    "other": ("与还款有关的其他事项", "other repayment matters"),
}

#: The declared status map of a plan (HardshipPlan in LEGAL_SERVICE_AGENCIES.md §2.2).
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"approved", "rejected", "cancelled"}),
    "approved": frozenset({"active", "cancelled"}),
    "active": frozenset({"completed", "breached"}),
    "breached": frozenset(),
    "completed": frozenset(),
    "rejected": frozenset(),
    "cancelled": frozenset(),
}


#: The payment plan map as the one transition helper checks it (:mod:`arrears.core.machine`).
MACHINE = TransitionMap("payment plan", TRANSITIONS, error=IllegalTransition)


def check_transition(from_status: str, to_status: str) -> str:
    """``to_status`` if the plan map allows ``from → to``; :class:`IllegalTransition` otherwise."""
    return MACHINE.check(from_status, to_status)


def add_months(anchor: date, n: int, rule: str = "same_day") -> date:
    """``anchor`` + ``n`` months. ``same_day``: the anchor's day, clamped to the month's last day
    (31 Jan + 1 → 28 Feb, + 2 → 31 Mar). ``end_of_month``: always the month's last day."""
    if rule not in ("same_day", "end_of_month"):
        raise DomainError(f"unknown month rule {rule!r}")
    months = anchor.year * 12 + anchor.month - 1 + n
    y, m = divmod(months, 12)
    last = _cal.monthrange(y, m + 1)[1]
    return date(y, m + 1, last if rule == "end_of_month" else min(anchor.day, last))


@dataclass(frozen=True, slots=True)
class Instalment:
    """Instalment ``number`` (1-based) of ``amount`` (Decimal) due ``due_date``."""

    number: int
    due_date: date
    amount: Decimal


def schedule(total: Decimal, months: int, first_due: date, rule: str = "same_day") -> list[Instalment]:
    """Monthly instalments for ``total`` over ``months``: equal amounts rounded down to the fen, the
    last one takes the remainder, so they sum exactly to ``total``. 1,000.00 over 3 → 333.33,
    333.33, 333.34. Raises :class:`DomainError` for a term outside 1…60 or a total ≤ 0."""
    total = money(total)
    if not 1 <= months <= MAX_TERM_MONTHS:
        raise DomainError(f"plan term must be 1…{MAX_TERM_MONTHS} months (第七十条), got {months}")
    if total <= 0:
        raise DomainError(f"plan balance must be positive, got {total}")
    each = (total / months).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    out = [Instalment(i + 1, add_months(first_due, i, rule), each) for i in range(months - 1)]
    out.append(Instalment(months, add_months(first_due, months - 1, rule), total - each * (months - 1)))
    return out


def check_plan(total: Decimal, instalments: Sequence[Instalment], contents: Mapping[str, str],
               term_months: int) -> list[str]:
    """Every problem with a proposed plan (empty when it may go for approval): term > 60 months,
    a missing or blank one of the six contents, instalments that do not sum to the balance, a
    non-positive instalment, due dates not increasing."""
    problems = []
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        problems.append(f"term {term_months} months: must be 1…{MAX_TERM_MONTHS} (第七十条)")
    for key, (zh, en) in REQUIRED_CONTENTS.items():
        if not str(contents.get(key) or "").strip():
            problems.append(f"content {key!r} ({zh} / {en}) is missing (第七十条)")
    extra = sorted(set(contents) - set(REQUIRED_CONTENTS))
    if extra:
        problems.append(f"unknown content keys {extra}")
    summed = sum((i.amount for i in instalments), ZERO)
    if summed != money(total):
        problems.append(f"instalments sum to {summed}, not the plan balance {money(total)}")
    if any(i.amount <= 0 for i in instalments):
        problems.append("every instalment must be positive")
    dates = [i.due_date for i in instalments]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        problems.append("instalment due dates must strictly increase")
    return problems


def eligibility(*, hardship_confirmed: bool, willing_to_repay: bool, overdue_amount: Decimal,
                has_active_plan: bool) -> list[str]:
    """Reasons the customer may **not** have a plan (empty: eligible), per 第七十条: the debt must
    be confirmed to exceed the ability to repay, the customer must be willing, something must be
    owed, and only one plan at a time."""
    reasons = []
    if not hardship_confirmed:
        reasons.append("hardship not confirmed: the debt must exceed the cardholder's ability to repay")
    if not willing_to_repay:
        reasons.append("the cardholder has not shown willingness to repay")
    if money(overdue_amount) <= 0:
        reasons.append("nothing is overdue")
    if has_active_plan:
        reasons.append("the customer already has an active plan")
    return reasons


@dataclass(frozen=True)
class PlanPosition:
    """A plan as of a date. ``amount_due_now``: unpaid on instalments due on or before ``as_of``;
    ``first_unpaid``: (number, due_date, outstanding) of the oldest unpaid instalment or ``None``;
    ``next_instalment``: the first instalment due after ``as_of`` (number, due_date, outstanding);
    ``overdue_amount`` / ``dpd``: strictly past due (R10: due today is not overdue); ``missed``:
    an instalment is past due; ``breached``: ``dpd`` > grace days; ``paid_off``: nothing left."""

    as_of: date
    amount_due_now: Decimal
    first_unpaid: tuple[int, date, Decimal] | None
    next_instalment: tuple[int, date, Decimal] | None
    overdue_amount: Decimal
    dpd: int
    missed: bool
    breached: bool
    paid_off: bool
    outstanding: Decimal


def position(instalments: Sequence[Instalment], payments: Sequence[PaymentEvent], as_of: date,
             grace_days: int = 0) -> PlanPosition:
    """Where a plan stands as of ``as_of``; payments go to instalments oldest first (R22, R23).

    R22: 3 × 100.00 due 1 Feb, 1 Mar, 1 Apr, 100.00 paid 1 Feb; as of 5 Mar → due now 100.00
    (instalment 2, DPD 4), next 1 Apr 100.00. R23: 500.00 due 15 Mar + 500.00 due 31 Mar, nothing
    paid: 20 Mar → overdue 500.00, DPD 5, missed; 5 Apr → 1,000.00, DPD 21.
    """
    items = [DueItem(str(i.number), i.due_date, i.amount) for i in instalments]
    d = delinquency(items, payments, as_of)
    unpaid = [s for s in d.items if s.outstanding > 0]
    due_now = sum((s.outstanding for s in unpaid if s.due_date <= as_of), ZERO)
    first = (int(unpaid[0].ref), unpaid[0].due_date, unpaid[0].outstanding) if unpaid else None
    nxt = next(((int(s.ref), s.due_date, s.outstanding) for s in unpaid if s.due_date > as_of), None)
    return PlanPosition(
        as_of=as_of, amount_due_now=due_now, first_unpaid=first, next_instalment=nxt,
        overdue_amount=d.overdue_amount, dpd=d.dpd, missed=d.dpd > 0, breached=d.dpd > grace_days,
        paid_off=not unpaid, outstanding=d.outstanding_amount,
    )

"""Balance explanation: what a cardholder owes on a date and why, exact to the fen.

:func:`explain` starts from an **opening position** (the parts owed on the card system's extract
date: principal, interest, 违约金, fees) and replays, day by day up to ``as_of``:

* **interest** per period between events, on principal only (CN-RATE-02: no interest on fees),
  at the product's rate and day-count basis; each period is rounded once with the money rule
  (:func:`arrears.domain.interest.interest`). The base is the unpaid principal
  (``interest_method: unpaid_portion``) or the opening principal until it is paid off
  (``full_balance``). A period is half-open ``[start, end)``: a payment on day P stops interest on
  what it paid from day P. The position "as of D" includes interest for the days before D and
  every payment dated on or before D.
* **违约金** once per minimum payment (a :class:`~arrears.domain.delinquency.DueItem`) due on or
  after the opening date and still (partly) unpaid at the end of its due date: charged the next
  day, ``penalty.rate`` × unpaid minimum within ``[minimum, maximum]``.
* **interest-free period** (免息还款期, per the product's ``interest_free_days``): the principal of a
  statement still inside its period at the opening (:class:`GraceStatement`) bears no interest
  until its due date (at most ``statement_date + interest_free_days``). Paid in full by the due
  date (payments on or before it ≥ the statement's unpaid amount) → it never bears interest.
  Otherwise the period is lost and interest runs from the **statement date** (the posting date the
  card system gives us), charged on the day after the period as ``free_period_lost`` periods on the
  statement's principal — the unpaid part between payments (``unpaid_portion``) or all of it
  (``full_balance``); from then on it accrues like any principal. Payments lower interest-bearing
  (revolving) principal before the statement's interest-free principal.
* **payments**, each through the allocation waterfall (:func:`arrears.domain.payments.allocate`)
  in the product's order; an overpayment is kept as a credit that absorbs later charges.

Only the payments **not** reflected in the opening position may be given (those dated after the
extract date); one dated before the opening raises :class:`DomainError`.

The result (:class:`Explanation`) is data (``to_dict``) and a plain paragraph in Chinese or
English (:meth:`Explanation.paragraph`) for the phone script and letters. The notice helpers
:func:`claim` (R06, R07: interest per line on its own amount and DPD, fixed fee never lost) and
:func:`render_notice` (R18: amounts from the ledger, unknown placeholders refused) live here too.
"""
from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .calendar import days_past_due
from .delinquency import DueItem, PaymentEvent, allocate_oldest_first
from .errors import DomainError
from .interest import interest
from .money import ZERO, format_money, money, to_decimal
from .payments import Components, allocate
from .products import COMPONENTS, ProductTerms

__all__ = [
    "GraceStatement",
    "GraceOutcome",
    "InterestPeriod",
    "PenaltyCharge",
    "AppliedPayment",
    "Adjustment",
    "Explanation",
    "explain",
    "ClaimLine",
    "Claim",
    "claim",
    "NOTICE_FIELDS",
    "render_notice",
]


@dataclass(frozen=True, slots=True)
class GraceStatement:
    """A statement (账单) whose interest-free period (免息还款期) is still running at the opening.

    ``statement_date`` 账单日 (interest runs from it when the period is lost); ``due_date``
    到期还款日; ``amount`` the statement balance still unpaid at the opening — what must be paid in
    full by the due date (Decimal ≥ 0, yuan); ``principal`` the interest-bearing part of it that is
    interest-free meanwhile (≤ ``amount``; capped at the opening principal by :func:`explain`).
    """

    ref: str
    statement_date: date
    due_date: date
    amount: Decimal
    principal: Decimal

    def __post_init__(self) -> None:
        if self.due_date < self.statement_date:
            raise DomainError(f"statement {self.ref!r}: due date {self.due_date} before statement date "
                              f"{self.statement_date}")
        object.__setattr__(self, "amount", money(self.amount))
        object.__setattr__(self, "principal", money(self.principal))
        if self.amount < 0 or self.principal < 0:
            raise DomainError(f"statement {self.ref!r}: amounts must not be negative")


@dataclass(frozen=True, slots=True)
class GraceOutcome:
    """What became of a statement's interest-free period: ``free_until`` its last interest-free
    day, ``paid_by_due`` paid from the opening up to the due date, ``kept`` (paid in full: no
    interest) or lost (``interest`` charged from the statement date, see ``free_period_lost``
    periods); ``decided_on`` the day after the period (``None`` while it is still running)."""

    ref: str
    statement_date: date
    due_date: date
    free_until: date
    amount: Decimal
    principal: Decimal
    paid_by_due: Decimal
    kept: bool | None
    interest: Decimal = ZERO
    decided_on: date | None = None


@dataclass(frozen=True, slots=True)
class InterestPeriod:
    """Interest for the days ``start`` … ``end - 1`` (``days``) on ``base`` at ``annual_rate``
    (``daily_rate`` shown too); ``amount`` rounded once to the fen. ``kind``: ``"daily"`` (accrued
    as the days pass) or ``"free_period_lost"`` (charged after a statement's interest-free period
    was lost, back to its statement date; ``ref`` names the statement)."""

    start: date
    end: date
    days: int
    base: Decimal
    daily_rate: Decimal
    annual_rate: Decimal
    amount: Decimal
    kind: str = "daily"
    ref: str = ""


@dataclass(frozen=True, slots=True)
class PenaltyCharge:
    """违约金 for the minimum payment ``due_ref`` due ``due_date``, unpaid ``unpaid_minimum`` at the end
    of that day; charged on ``charged_on`` (the next day)."""

    due_ref: str
    due_date: date
    charged_on: date
    unpaid_minimum: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """A payment and how the waterfall applied it (``applied`` per part, ``credit`` left over)."""

    ref: str
    local_date: date
    amount: Decimal
    applied: Components
    credit: Decimal


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An amount taken off without a payment (waiver 减免, settlement discount, residual write-off)
    on ``local_date``: ``amounts`` per part (each capped at what is owed then); ``kind`` names it."""

    ref: str
    local_date: date
    amounts: Components
    kind: str = "waiver"


@dataclass(frozen=True)
class Explanation:
    """The breakdown of an account's balance as of ``as_of``; every amount a 2-decimal Decimal.

    ``closing.total - credit`` is what is owed (:attr:`amount_owed`, never negative: a credit
    larger than the charges shows as ``credit``).
    """

    as_of: date
    opened_on: date
    currency: str
    product_code: str
    product_version: str
    allocation_order: tuple[str, ...]
    annual_rate: Decimal
    daily_rate: Decimal
    opening: Components
    interest_periods: tuple[InterestPeriod, ...]
    penalties: tuple[PenaltyCharge, ...]
    payments: tuple[AppliedPayment, ...]
    closing: Components
    credit: Decimal
    rate_zh: str = ""
    rate_en: str = ""
    adjustments: tuple[Adjustment, ...] = field(default_factory=tuple)
    interest_free: tuple[GraceOutcome, ...] = field(default_factory=tuple)

    @property
    def amount_owed(self) -> Decimal:
        """Everything owed after payments (Decimal ≥ 0)."""
        return self.closing.total

    @property
    def interest_charged(self) -> Decimal:
        return sum((p.amount for p in self.interest_periods), ZERO)

    @property
    def penalty_charged(self) -> Decimal:
        return sum((p.amount for p in self.penalties), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    def to_dict(self) -> dict:
        """JSON-ready dict; amounts and rates as strings (exact), dates ISO 8601."""
        return {
            "as_of": self.as_of.isoformat(),
            "opened_on": self.opened_on.isoformat(),
            "currency": self.currency,
            "product": {"code": self.product_code, "version": self.product_version,
                        "annual_rate": str(self.annual_rate), "daily_rate": str(self.daily_rate),
                        "allocation_order": list(self.allocation_order)},
            "opening": self.opening.as_dict(),
            "interest_periods": [
                {"start": p.start.isoformat(), "end": p.end.isoformat(), "days": p.days, "base": str(p.base),
                 "daily_rate": str(p.daily_rate), "annual_rate": str(p.annual_rate), "amount": str(p.amount),
                 "kind": p.kind, "ref": p.ref}
                for p in self.interest_periods
            ],
            "interest_free": [
                {"ref": g.ref, "statement_date": g.statement_date.isoformat(), "due_date": g.due_date.isoformat(),
                 "free_until": g.free_until.isoformat(), "amount": str(g.amount), "principal": str(g.principal),
                 "paid_by_due": str(g.paid_by_due), "kept": g.kept, "interest": str(g.interest),
                 "decided_on": g.decided_on.isoformat() if g.decided_on else None}
                for g in self.interest_free
            ],
            "penalties": [
                {"due_ref": c.due_ref, "due_date": c.due_date.isoformat(), "charged_on": c.charged_on.isoformat(),
                 "unpaid_minimum": str(c.unpaid_minimum), "rate": str(c.rate), "amount": str(c.amount)}
                for c in self.penalties
            ],
            "payments": [
                {"ref": p.ref, "local_date": p.local_date.isoformat(), "amount": str(p.amount),
                 "applied": p.applied.as_dict(), "credit": str(p.credit)}
                for p in self.payments
            ],
            "adjustments": [
                {"ref": a.ref, "kind": a.kind, "local_date": a.local_date.isoformat(), "amounts": a.amounts.as_dict()}
                for a in self.adjustments
            ],
            "closing": self.closing.as_dict(),
            "interest_charged": str(self.interest_charged),
            "penalty_charged": str(self.penalty_charged),
            "paid": str(self.paid),
            "credit": str(self.credit),
            "amount_owed": str(self.amount_owed),
            "paragraph_zh": self.paragraph("zh"),
            "paragraph_en": self.paragraph("en"),
        }

    def paragraph(self, language: str = "zh") -> str:
        """The explanation as one plain paragraph (``"zh"`` or ``"en"``) for scripts and letters."""
        en = language.startswith("en")

        def amt(v: Decimal) -> str:
            return format_money(v, self.currency, "en" if en else "zh")

        def day(d: date) -> str:
            return d.isoformat() if en else f"{d.year}年{d.month}月{d.day}日"

        names_zh = {"fees": "费用", "penalty": "违约金", "interest": "利息", "principal": "本金"}
        c = self.closing
        out: list[str] = []
        if en:
            out.append(
                f"As of {day(self.as_of)} you owe {amt(self.amount_owed)}: principal {amt(c.principal)}, "
                f"interest {amt(c.interest)}, late-payment penalty {amt(c.penalty)}, fees {amt(c.fees)}."
            )
            out.append(
                f"On {day(self.opened_on)} the balance was {amt(self.opening.total)} (principal "
                f"{amt(self.opening.principal)}, interest {amt(self.opening.interest)}, penalty "
                f"{amt(self.opening.penalty)}, fees {amt(self.opening.fees)})."
            )
            for g in self.interest_free:
                if g.kept is None:
                    out.append(f"The statement of {day(g.statement_date)} is interest-free until {day(g.free_until)} "
                               f"if {amt(g.amount)} is paid in full by {day(g.due_date)}.")
                elif g.kept:
                    out.append(f"The statement of {day(g.statement_date)} was paid in full by {day(g.due_date)}: "
                               f"no interest on its principal {amt(g.principal)}.")
                else:
                    out.append(f"The statement of {day(g.statement_date)} ({amt(g.amount)}) was not paid in full by "
                               f"{day(g.due_date)} (paid {amt(g.paid_by_due)}): the interest-free period is lost "
                               f"and interest runs from the statement date.")
            for p in self.interest_periods:
                out.append(f"Interest at the {self.rate_en}: {p.days} days from {day(p.start)} on "
                           f"{amt(p.base)} = {amt(p.amount)}"
                           + (" (interest-free period lost)." if p.kind == "free_period_lost" else "."))
            for q in self.penalties:
                out.append(f"Late-payment penalty charged {day(q.charged_on)}: {q.rate * 100:f}% of the unpaid "
                           f"minimum payment {amt(q.unpaid_minimum)} due {day(q.due_date)} = {amt(q.amount)}.")
            for p in self.payments:
                parts = ", ".join(f"{n} {amt(getattr(p.applied, n))}" for n in self.allocation_order
                                  if getattr(p.applied, n) > 0)
                out.append(f"Payment of {amt(p.amount)} on {day(p.local_date)} paid {parts or 'nothing owed'}"
                           + (f", leaving a credit of {amt(p.credit)}" if p.credit > 0 else "") + ".")
            for a in self.adjustments:
                out.append(f"Waived on {day(a.local_date)} ({a.kind}): {amt(a.amounts.total)}.")
            if self.credit > 0:
                out.append(f"Credit balance in your favour: {amt(self.credit)}.")
            return " ".join(out)
        out.append(
            f"截至{day(self.as_of)}，您的欠款合计{amt(self.amount_owed)}：本金{amt(c.principal)}，"
            f"利息{amt(c.interest)}，违约金{amt(c.penalty)}，费用{amt(c.fees)}。"
        )
        out.append(
            f"{day(self.opened_on)}账户欠款为{amt(self.opening.total)}（本金{amt(self.opening.principal)}，"
            f"利息{amt(self.opening.interest)}，违约金{amt(self.opening.penalty)}，费用{amt(self.opening.fees)}）。"
        )
        for g in self.interest_free:
            if g.kept is None:
                out.append(f"{day(g.statement_date)}账单如在{day(g.due_date)}前全额还款{amt(g.amount)}，"
                           f"免息至{day(g.free_until)}。")
            elif g.kept:
                out.append(f"{day(g.statement_date)}账单已在到期还款日{day(g.due_date)}前全额还款，"
                           f"本金{amt(g.principal)}享受免息还款期，不计利息。")
            else:
                out.append(f"{day(g.statement_date)}账单{amt(g.amount)}未在到期还款日{day(g.due_date)}前全额还款"
                           f"（已还{amt(g.paid_by_due)}），不享受免息还款期，自账单日起计息。")
        for p in self.interest_periods:
            out.append(f"利息按{self.rate_zh}计算：自{day(p.start)}起{p.days}天，以{amt(p.base)}为基数，"
                       f"计{amt(p.amount)}" + ("（免息期失效补计）。" if p.kind == "free_period_lost" else "。"))
        for q in self.penalties:
            out.append(f"{day(q.charged_on)}收取违约金{amt(q.amount)}：按{day(q.due_date)}到期未还最低还款额"
                       f"{amt(q.unpaid_minimum)}的{q.rate * 100:f}%计算。")
        for p in self.payments:
            parts = "、".join(f"{names_zh[n]}{amt(getattr(p.applied, n))}" for n in self.allocation_order
                             if getattr(p.applied, n) > 0)
            out.append(f"{day(p.local_date)}还款{amt(p.amount)}，依次冲抵{parts or '（无欠款）'}"
                       + (f"，余{amt(p.credit)}作为溢缴款" if p.credit > 0 else "") + "。")
        for a in self.adjustments:
            out.append(f"{day(a.local_date)}减免{amt(a.amounts.total)}（{a.kind}）。")
        if self.credit > 0:
            out.append(f"您的账户有溢缴款{amt(self.credit)}。")
        return "".join(out)


def _absorb(owed: Components, credit: Decimal, order: tuple[str, ...]) -> tuple[Components, Decimal]:
    if credit <= 0 or owed.total == 0:
        return owed, credit
    a = allocate(credit, owed, order)
    return a.remaining, a.credit


def explain(
    opening: Components,
    opened_on: date,
    terms: ProductTerms,
    as_of: date,
    *,
    due_items: Sequence[DueItem] = (),
    payments: Sequence[PaymentEvent] = (),
    opening_credit: Decimal = ZERO,
    currency: str | None = None,
    adjustments: Sequence[Adjustment] = (),
    statements: Sequence[GraceStatement] = (),
    tolerance: Decimal = ZERO,
) -> Explanation:
    """Explain the balance as of ``as_of`` (see the module docstring).

    ``opening``: parts owed at the start of ``opened_on`` (the extract date). ``due_items``:
    minimum payments (all of them, also those due before the opening: they take payments oldest
    first); 违约金 is charged only for those due on or after ``opened_on`` and before ``as_of``.
    ``payments``: payments not in the opening position (dated on or after ``opened_on``); those
    after ``as_of`` are ignored. ``opening_credit``: a credit already on the account.
    ``adjustments``: waivers and write-offs, applied after the payments of their day.
    ``statements``: statements whose interest-free period may still run at the opening; those whose
    period (to ``min(due_date, statement_date + interest_free_days)``) ended before ``opened_on``,
    or dated after it, are ignored (the card system already charged or will bill them).
    ``tolerance``: 容差还款 (PBoC 银发〔2016〕111号, ``ARREARS_REPAYMENT_TOLERANCE``): a minimum or a
    statement left unpaid by at most this much counts as paid (no 违约金, interest-free period kept).
    Adjustments (waivers, write-offs) dated by the due date count as paid for both, like payments.

    Raises :class:`DomainError` if ``as_of`` is before ``opened_on`` or a payment is dated before
    ``opened_on``; ``TypeError`` for non-dates or floats.
    """
    if as_of < opened_on:
        raise DomainError(f"explain: as_of {as_of} is before the opening date {opened_on}")
    early = [p.ref for p in payments if p.local_date < opened_on]
    if early:
        raise DomainError(f"explain: payments {early} are dated before the opening {opened_on} "
                          "(they are already in the opening position)")
    order = terms.allocation_order
    pays = sorted((p for p in payments if p.local_date <= as_of), key=lambda p: p.local_date)
    tolerance = money(tolerance)
    # what counts as paid towards minimums and statements: payments, and waivers / write-offs
    settles = pays + [PaymentEvent(a.ref, a.local_date, a.amounts.total) for a in adjustments
                      if opened_on <= a.local_date <= as_of and a.amounts.total > 0]

    # interest-free periods still running at the opening, oldest statement first; their principal
    # together never exceeds the opening principal
    graces: list[tuple[GraceStatement, date]] = []
    if terms.interest_free_days > 0:
        room = opening.principal
        for g in sorted(statements, key=lambda g: (g.statement_date, g.ref)):
            last = min(g.due_date, g.statement_date + timedelta(days=terms.interest_free_days))
            if not (g.statement_date <= opened_on <= last) or room <= 0:
                continue
            principal = min(g.principal, room)
            room -= principal
            graces.append((GraceStatement(g.ref, g.statement_date, g.due_date, g.amount, principal), last))
    active: dict[str, Decimal] = {g.ref: g.principal for g, _ in graces}   # original free principal
    history: dict[str, list[tuple[date, Decimal]]] = {g.ref: [(g.statement_date, g.principal)] for g, _ in graces}

    # penalty events: minimum payments due in [opened_on, as_of) unpaid at the end of their due date
    charges: list[tuple[date, DueItem]] = [
        (i.due_date + timedelta(days=1), i) for i in due_items if opened_on <= i.due_date < as_of
    ]
    events: list[tuple[date, int, object]] = [(d, 0, i) for d, i in charges] + [(p.local_date, 1, p) for p in pays]
    events += [(a.local_date, 2, a) for a in adjustments if opened_on <= a.local_date <= as_of]
    events += [(last + timedelta(days=1), -1, (g, last)) for g, last in graces if last < as_of]
    events.sort(key=lambda e: (e[0], e[1]))

    owed = opening
    credit = money(opening_credit)
    owed, credit = _absorb(owed, credit, order)
    full_base = opening.principal
    periods: list[InterestPeriod] = []
    penalties: list[PenaltyCharge] = []
    applied: list[AppliedPayment] = []
    adjusted: list[Adjustment] = []
    outcomes: dict[str, GraceOutcome] = {}
    cursor = opened_on

    def free_unpaid() -> dict[str, Decimal]:
        """Unpaid interest-free principal per running statement: payments lower the revolving
        (interest-bearing) principal first, then the oldest statement's free principal."""
        left = min(sum(active.values(), ZERO), owed.principal)
        out: dict[str, Decimal] = {}
        for g, _ in reversed(graces):  # the newest statement keeps its free principal longest
            if g.ref in active:
                out[g.ref] = min(active[g.ref], left)
                left -= out[g.ref]
        return out

    def note_history(when: date) -> None:
        for ref, value in free_unpaid().items():
            if history[ref][-1][1] != value:
                history[ref].append((when, value))

    def accrue(until: date) -> None:
        nonlocal owed, credit, cursor
        if until <= cursor:
            return
        free = sum(free_unpaid().values(), ZERO)
        if terms.interest_method == "full_balance":
            revolving_unpaid = owed.principal - free
            base = max(full_base - sum(active.values(), ZERO), ZERO) if revolving_unpaid > 0 else ZERO
        else:
            base = owed.principal - free
        if base > 0:
            amount = interest(base, terms.annual_rate, cursor, until, terms.basis)
            periods.append(InterestPeriod(cursor, until, (until - cursor).days, base, terms.daily_rate,
                                          terms.annual_rate, amount))
            owed = owed.plus(interest=amount)
            owed, credit = _absorb(owed, credit, order)
        cursor = until

    def decide_grace(when: date, g: GraceStatement, last: date) -> None:
        nonlocal owed, credit
        paid = sum((p.amount for p in settles if p.local_date <= g.due_date), ZERO)
        kept = paid >= g.amount - tolerance
        charged = ZERO
        if not kept:
            if terms.interest_method == "full_balance":
                segments = [(g.statement_date, when, g.principal)]
            else:
                marks = [(d, v) for d, v in history[g.ref] if d < when]
                segments = [(d, (marks[i + 1][0] if i + 1 < len(marks) else when), v) for i, (d, v) in enumerate(marks)]
            for start, end, base in segments:
                if base > 0 and end > start:
                    amount = interest(base, terms.annual_rate, start, end, terms.basis)
                    periods.append(InterestPeriod(start, end, (end - start).days, base, terms.daily_rate,
                                                  terms.annual_rate, amount, "free_period_lost", g.ref))
                    charged += amount
        del active[g.ref]
        outcomes[g.ref] = GraceOutcome(g.ref, g.statement_date, g.due_date, last, g.amount, g.principal, paid, kept,
                                       charged, when)
        if charged > 0:
            owed = owed.plus(interest=charged)
            owed, credit = _absorb(owed, credit, order)

    note_history(opened_on)
    for when, kind, obj in events:
        accrue(when)
        if kind == -1:
            decide_grace(when, *obj)  # type: ignore[misc]
        elif kind == 0:
            item: DueItem = obj  # type: ignore[assignment]
            paid_by_due = [p for p in settles if p.local_date <= item.due_date]
            state = next(s for s in allocate_oldest_first(list(due_items), paid_by_due, item.due_date)
                         if s.ref == item.ref)
            fee = terms.penalty.amount(state.outstanding) if state.outstanding > tolerance else ZERO
            if fee > 0:
                penalties.append(PenaltyCharge(item.ref, item.due_date, when, state.outstanding,
                                               terms.penalty.rate, fee))
                owed = owed.plus(penalty=fee)
                owed, credit = _absorb(owed, credit, order)
        elif kind == 2:
            adj: Adjustment = obj  # type: ignore[assignment]
            taken = Components(**{n: min(getattr(adj.amounts, n), getattr(owed, n)) for n in COMPONENTS})
            owed = owed.minus(taken)
            adjusted.append(Adjustment(adj.ref, adj.local_date, taken, adj.kind))
            note_history(when)
        else:
            p: PaymentEvent = obj  # type: ignore[assignment]
            a = allocate(p.amount, owed, order)
            owed = a.remaining
            credit += a.credit
            applied.append(AppliedPayment(p.ref, p.local_date, p.amount, a.applied, a.credit))
            note_history(when)
    accrue(as_of)
    for g, last in graces:  # periods still running on as_of
        if g.ref not in outcomes:
            paid = sum((p.amount for p in settles if p.local_date <= g.due_date), ZERO)
            outcomes[g.ref] = GraceOutcome(g.ref, g.statement_date, g.due_date, last, g.amount, g.principal, paid,
                                           True if paid >= g.amount - tolerance else None)
    return Explanation(
        as_of=as_of, opened_on=opened_on, currency=currency or terms.currency, product_code=terms.code,
        product_version=terms.version, allocation_order=order, annual_rate=terms.annual_rate,
        daily_rate=terms.daily_rate, opening=opening, interest_periods=tuple(periods),
        penalties=tuple(penalties), payments=tuple(applied), closing=owed, credit=credit,
        rate_zh=terms.rate_display("zh"), rate_en=terms.rate_display("en"), adjustments=tuple(adjusted),
        interest_free=tuple(outcomes[g.ref] for g, _ in graces),
    )


# ---------------------------------------------------------------------------- notices


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One overdue item on a notice: ``ref``, its own ``due_date`` and ``outstanding`` amount."""

    ref: str
    due_date: date
    outstanding: Decimal


@dataclass(frozen=True)
class Claim:
    """A notice's amounts: per line ``(ref, outstanding, dpd, interest)``, the fixed ``fee`` and the
    totals; ``total = outstanding + interest + fee``."""

    lines: tuple[tuple[str, Decimal, int, Decimal], ...]
    fee: Decimal
    outstanding: Decimal
    interest: Decimal
    total: Decimal


def claim(
    lines: Sequence[ClaimLine],
    as_of: date,
    annual_rate: Decimal | str,
    fixed_fee: Decimal | str = ZERO,
    basis: str = "actual/365",
) -> Claim:
    """Amounts claimed on a (consolidated) notice as of ``as_of``.

    Each line's interest is worked out on **its own** outstanding amount over its own overdue days
    (R07); a zero rate gives 0.00 interest but never drops the fixed fee (R06: 1,000.00 outstanding,
    DPD 20, 0 % and a 50.00 fee → 1,050.00). Lines not yet overdue get 0 DPD and no interest.
    """
    rate = to_decimal(annual_rate, "annual_rate")
    fee = money(fixed_fee)
    out = []
    for line in lines:
        amount = money(line.outstanding)
        dpd = days_past_due(as_of, line.due_date) if line.due_date < as_of else 0
        line_interest = interest(amount, rate, line.due_date, as_of, basis) if dpd > 0 else ZERO
        out.append((line.ref, amount, dpd, line_interest))
    outstanding = sum((r[1] for r in out), ZERO)
    total_interest = sum((r[3] for r in out), ZERO)
    return Claim(tuple(out), fee, outstanding, total_interest, outstanding + total_interest + fee)


#: Placeholders a collection notice may use (R18); anything else is refused.
NOTICE_FIELDS: tuple[str, ...] = ("amount_due", "original_amount", "paid_to_date", "due_date", "dpd", "fees")


def render_notice(template: str, values: dict[str, object], currency: str = "CNY", language: str = "zh") -> str:
    """Fill ``template`` (``str.format`` syntax, e.g. ``"请还款{amount_due}"``) from ``values``.

    ``values`` must hold every placeholder the template uses, each one of :data:`NOTICE_FIELDS`;
    Decimal amounts are formatted as money in ``currency``/``language``, dates ISO 8601. Raises
    :class:`DomainError` naming any unknown or missing placeholder (never a literal ``{amount_due}``
    or a blank to the debtor, R18).
    """
    used = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    unknown = sorted({n for n in used if n not in NOTICE_FIELDS})
    missing = sorted({n for n in used if n in NOTICE_FIELDS and (n not in values or values[n] in (None, ""))})
    if unknown or missing:
        raise DomainError(f"notice template: unknown placeholder(s) {unknown}, missing value(s) {missing}")
    shown: dict[str, str] = {}
    for n in set(used):
        v = values[n]
        if isinstance(v, Decimal):
            shown[n] = format_money(v, currency, language)
        elif isinstance(v, date):
            shown[n] = v.isoformat()
        else:
            shown[n] = str(v)
    return template.format(**shown)


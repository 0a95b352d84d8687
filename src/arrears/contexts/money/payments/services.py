"""Writes for money: posting and reversing payments, waivers, promises to pay.

Posting (:func:`post_payment`) in one transaction:

1. lock the account row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transaction
   holds the write lock), so concurrent postings on one account run one after the other and can
   never apply the same balance twice;
2. idempotency by ``(account, external_id)``: a payment already posted with the same amount and
   time is answered as before (``created=False``); the same id with other figures is refused
   (:class:`PaymentConflict`);
3. replay the account's position since its extract with the product's terms
   (:func:`arrears.domain.balance.explain`: interest, 违约金, waterfall in the product's order) and
   its delinquency (:func:`arrears.domain.delinquency.delinquency`), store the new payment's
   allocation and order on it (R03), write the account's parts, overdue amount, oldest unpaid due
   date, DPD and bucket (``arrears.rules.load_bucket_ladder``);
4. a residual at or below ``ARREARS_RESIDUAL_WRITE_OFF`` after the payment is written off with an
   adjustment, an audit event and a case event (never a silent drop);
5. re-evaluate the customer's case (position, or cure → closed via ``transition_many``), the
   case's open promises, plans and settlements; audit and timeline events;
6. after commit, ask the strategy to re-evaluate the case (R20: it reads the committed payment).

A reversal or chargeback (:func:`reverse_payment`) keeps the payment, marks it ``reversed`` from
``reversed_on``, and replays: the delinquency reopens from the reversal date (DPD counts again from
the original oldest unpaid due date; a closed case is followed by a new one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from arrears.contexts.casework import facade as casework
from arrears.contexts.portfolio import facade as portfolio
from arrears.contexts.portfolio.facade import AccountState
from arrears.contexts.strategy.facade import reevaluate_after_commit
from arrears.core import dbio
from arrears.core.machine import TransitionMap
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain import promises as promise_rules
from arrears.domain.balance import Adjustment, Explanation, GraceStatement, explain
from arrears.domain.calendar import local_date
from arrears.core.settings import promise_grace_days, promise_tolerance, repayment_tolerance, residual_write_off_limit
from arrears.domain import cases as case_rules
from arrears.domain.delinquency import (Credit, DueItem, delinquency, extract_due_items,
                                        pool)
from arrears.domain.errors import DomainError
from arrears.domain.money import ZERO, money
from arrears.domain.payments import Components
from arrears.rules import load_bucket_ladder
from arrears.rules.products import load_product

from .models import AccountPosition, BalanceAdjustment, Payment, PromiseToPay


REASON_PAID = gettext_noop("还款入账：欠款已全部结清")
REASON_CURED = gettext_noop("还款入账：逾期已全部还清（出催）")
REASON_REOPENED = gettext_noop("还款冲正：客户重新逾期，立案")

#: Declared status map of a payment: a posted payment may be reversed once; reversed is final.
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {"posted": frozenset({"reversed"}), "reversed": frozenset()}
PAYMENT_MACHINE = TransitionMap("payment", PAYMENT_TRANSITIONS)


class PaymentError(ArrearsError, ValueError):
    """A payment cannot be posted or reversed; ``field`` names the offending input."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class AccountNotFound(ArrearsError, LookupError):
    """No card account with this card-system number (``field``: the input that named it)."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, message: str, field: str | None = "account") -> None:
        super().__init__(message, field=field)


class PaymentConflict(PaymentError):
    """The external payment id was already posted with different figures."""

    code = ErrorCode.PAYMENT_CONFLICT


@dataclass
class PostingResult:
    """What a posting did: ``payment_id``, ``created`` (False: an idempotent repeat), the
    ``allocation`` stored on the payment, the account's new figures, and side effects."""

    payment_id: int
    created: bool
    allocation: dict
    account: dict
    written_off: str = "0.00"
    case: dict = field(default_factory=dict)
    promises: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- position


def _due_items(account: AccountState) -> list[DueItem]:
    """The minimum payments the account owes from its extract on (one rule:
    :func:`arrears.domain.delinquency.extract_due_items`, the daily run's ``DUE_ITEMS_SQL``)."""
    stmts = [(st.due_date, st.minimum_due) for st in portfolio.account_statements(account.id)]
    return extract_due_items(account.as_of_extract, account.extract_overdue_amount,
                             account.extract_oldest_unpaid_due_date, stmts)


def _items_from_account(account: AccountState) -> list[list]:
    """:func:`_due_items` as stored on the position: ``[ref, due_date ISO, amount]``."""
    return [[i.ref, i.due_date.isoformat(), str(i.amount)] for i in _due_items(account)]


def _position(account: AccountState) -> AccountPosition:
    """The account's position row, (re)captured from the account when a newer extract arrived."""
    pos = AccountPosition.objects.filter(account_id=account.id).first()
    if pos is not None and pos.opened_on == account.as_of_extract:
        return pos
    opening = Components(principal=money(account.principal), interest=money(account.interest), penalty=ZERO,
                         fees=money(account.fees))
    values = dict(opened_on=account.as_of_extract, opening=opening.as_dict(), items=_items_from_account(account),
                  principal=opening.principal, interest=opening.interest, penalty=ZERO, fees=opening.fees,
                  credit=pos.credit if pos is not None else ZERO, as_of=account.as_of_extract)
    if pos is None:
        return AccountPosition.objects.create(account_id=account.id, **values)
    for k, v in values.items():
        setattr(pos, k, v)
    pos.save()
    return pos


def credits(account: AccountState) -> list[Credit]:
    """Everything that may count as paid on the account: its payments (until their reversal) and
    its adjustments (until reversed). Which count on a date: :func:`arrears.domain.delinquency.pool`."""
    pays = [Credit(ref, d, money(a), rev, "payment") for ref, d, a, rev in
            Payment.objects.filter(account_id=account.id).order_by("local_date", "paid_at", "id")
            .values_list("external_id", "local_date", "amount", "reversed_on")]
    adjs = [Credit(f"{a.kind}:{a.reference}", a.local_date, a.total, a.reversed_on, a.kind)
            for a in BalanceAdjustment.objects.filter(account_id=account.id).order_by("local_date", "id")]
    return pays + adjs


def _adjustments(account: AccountState, pos: AccountPosition, as_of: date) -> list[Adjustment]:
    rows = (BalanceAdjustment.objects
            .filter(account_id=account.id, local_date__gte=pos.opened_on, local_date__lte=as_of)
            .filter(Q(reversed_on__isnull=True) | Q(reversed_on__gt=as_of)))
    return [Adjustment(f"{a.kind}:{a.reference}", a.local_date,
                       Components(principal=a.principal, interest=a.interest, penalty=a.penalty, fees=a.fees), a.kind)
            for a in rows.order_by("local_date", "id")]


def _grace_statements(account: AccountState, pos: AccountPosition, opening: Components) -> list[GraceStatement]:
    """Statements of the extract whose interest-free period (免息还款期) may still run at the
    opening: dated on or before it and due on or after it. The statement balance still unpaid at
    the opening is its ``closing_balance`` within what the account owed then; its interest-free
    principal is that within the opening principal."""
    rows = sorted((st.statement_date, st.due_date, st.closing_balance)
                  for st in portfolio.account_statements(account.id)
                  if st.statement_date <= pos.opened_on and st.due_date >= pos.opened_on)
    return [GraceStatement(f"stmt:{s.isoformat()}", s, d, min(money(b), opening.total), min(money(b), opening.principal))
            for s, d, b in rows if b and b > 0]


def account_explanation(account: AccountState, as_of: date) -> tuple[Explanation, object]:
    """The balance explanation and delinquency of ``account`` (an
    :class:`~arrears.contexts.portfolio.facade.AccountState`, or anything with its fields) as of
    ``as_of`` (no writes except capturing the position after a new extract). ``as_of`` must not
    precede the extract date. The product's interest-free period applies to the statements still
    inside it at the extract."""
    pos = _position(account)
    if as_of < pos.opened_on:
        raise PaymentError(f"as_of {as_of} is before the account's extract date {pos.opened_on}", "as_of")
    terms = load_product(account.product_code)
    items = _due_items(account)
    every = credits(account)
    pays = pool([c for c in every if c.kind == "payment"], pos.opened_on, as_of)
    # waivers and write-offs count towards the minimums like a payment does (oldest first)
    counted = pays + pool([c for c in every if c.kind != "payment"], pos.opened_on, as_of)
    adjs = _adjustments(account, pos, as_of)
    opening = Components(**{k: Decimal(v) for k, v in pos.opening.items()})
    exp = explain(opening, pos.opened_on, terms, as_of, due_items=items, payments=pays, adjustments=adjs,
                  currency=account.currency, statements=_grace_statements(account, pos, opening),
                  tolerance=repayment_tolerance())
    return exp, delinquency(items, counted, as_of)



def _write_account(account: AccountState, exp: Explanation, dlq, as_of: date, cause: str) -> AccountState:
    """Store the account's replayed figures (through the portfolio, which owns the account); a
    bucket move writes one bucket-history row with its ``cause`` (payment, reversal, settlement,
    waiver, write_off). Returns the account as stored."""
    c = exp.closing
    stored = portfolio.write_replayed_figures(
        account.id, principal=c.principal, interest=c.interest, fees=c.penalty + c.fees, balance=c.total - exp.credit,
        overdue_amount=dlq.overdue_amount, oldest_unpaid_due_date=dlq.oldest_unpaid_due_date, dpd=dlq.dpd,
        bucket=load_bucket_ladder().bucket_for(dlq.dpd), as_of=as_of, cause=cause)
    AccountPosition.objects.filter(account_id=account.id).update(
        principal=c.principal, interest=c.interest, penalty=c.penalty, fees=c.fees, credit=exp.credit, as_of=as_of,
        product_version=exp.product_version)
    return stored


# ----------------------------------------------------------------------------- case


def _open_case(customer_id: int):
    return casework.open_case_for_customer(customer_id)


def _case_event(case_id: int | None, kind: str, as_of: date, data: dict, actor=None, reason: str = "",
                **audit) -> None:
    """The case's timeline event and, for an audited kind, its audit event (``audit``: what it is
    about, ``audit_obj`` / ``audit_data`` / ``audit_reason``) — one call, casework's write path;
    without a case, only the audit event."""
    casework.record_case_event(case_id, kind, data, as_of=as_of, actor=actor, reason=reason, **audit)


def reevaluate_customer(customer_id: int, as_of: date, *, trigger: str = "payment_posted") -> dict:
    """Bring the customer's case in line with their accounts as of ``as_of``, by the one case rule
    the daily run uses (:func:`arrears.domain.cases.customer_position` / :func:`~arrears.domain.cases.case_action`,
    tolerance ``ARREARS_REPAYMENT_TOLERANCE``).

    An open case gets the new bucket / DPD / per-currency amounts; when the customer is no longer
    delinquent it is closed (:func:`~arrears.domain.cases.closing_status`: ``closed_paid`` when
    nothing is owed in any currency, else ``closed_cured``) through ``transition_many``. Without an
    open case, a customer who is delinquent again (after a reversal) gets a new case. Returns what
    happened.
    """
    ladder = load_bucket_ladder()
    accounts = [case_rules.AccountFigures(cur, dpd, money(bal), money(od)) for dpd, bal, od, cur in
                portfolio.customer_account_figures(customer_id)]
    p = case_rules.customer_position(accounts, ladder, repayment_tolerance())
    case = _open_case(customer_id)
    current = None if case is None else casework.case_position(case.id)
    action = case_rules.case_action(p, current)
    row = lambda cid, prev: (cid, p.bucket, prev, p.max_dpd, p.total_balance, p.overdue_amount, p.currency,  # noqa: E731
                             p.amounts_json())
    if action == "open":
        casework.open_cases([casework.NewCase(customer_id, p.bucket, p.max_dpd, p.total_balance, p.overdue_amount,
                                              p.currency, p.amounts_json())], as_of, reason=REASON_REOPENED)
        case = _open_case(customer_id)
        return {"case_id": case.id if case else None, "action": "opened", "bucket": p.bucket, "dpd": p.max_dpd}
    if action == "none" and case is None:
        return {"case_id": None, "action": "none"}
    if action in ("update", "none"):
        if action == "update":
            casework.update_positions([row(case.id, case.bucket)], as_of)
        return {"case_id": case.id, "action": "updated", "bucket": p.bucket, "dpd": p.max_dpd}
    casework.update_positions([row(case.id, case.bucket)], as_of)
    owed = [balance for _dpd, balance, _od, _cur in portfolio.customer_account_figures(customer_id)]
    target = case_rules.closing_status(owed).value
    casework.transition_many([(case.id, case.status)], target, as_of=max(as_of, case.opened_on),
                    reason=REASON_PAID if target == "closed_paid" else REASON_CURED, data={"trigger": trigger})
    return {"case_id": case.id, "action": target, "bucket": p.bucket, "dpd": p.max_dpd}


# ----------------------------------------------------------------------------- posting


def _lock_account(account_id: int) -> AccountState:
    """The account, its row locked until the transaction ends; :class:`PaymentError` when unknown."""
    account = portfolio.account_state(account_id, lock=True)
    if account is None:
        raise PaymentError(f"unknown account id {account_id}", "account")
    return account


def _same(p: Payment, amount: Decimal, paid_at: datetime) -> bool:
    return money(p.amount) == amount and p.paid_at == paid_at


def _residual(account: AccountState, exp: Explanation, as_of: date, reference: str) -> Decimal:
    limit = residual_write_off_limit()
    owed = exp.closing.total
    if not (ZERO < owed <= limit) or not exp.payments or exp.payments[-1].local_date != as_of:
        return ZERO
    c = exp.closing
    BalanceAdjustment.objects.create(
        account_id=account.id, kind=BalanceAdjustment.Kind.RESIDUAL, local_date=as_of, principal=c.principal,
        interest=c.interest, penalty=c.penalty, fees=c.fees, reference=reference, created_at=timezone.now())
    return owed  # audited with its case event (residual_written_off, in _post)


def post_payment(
    account_id: int,
    external_id: str,
    amount: Decimal | str,
    paid_at: datetime,
    *,
    channel: str = "bank_transfer",
    source: str = Payment.Source.API,
    actor=None,
    today: date | None = None,
) -> PostingResult:
    """Post one payment (see the module docstring); idempotent by ``(account_id, external_id)``.

    ``amount``: Decimal or plain string > 0 with ≤ 2 decimals (yuan); ``paid_at``: aware datetime,
    not in the future (its local date in the customer's time zone decides delinquency).
    Raises :class:`PaymentError` (``field`` set) for bad input or an unknown account,
    :class:`PaymentConflict` when ``external_id`` was posted with other figures.
    """
    try:
        amount = money(amount)
    except (DomainError, TypeError) as exc:
        raise PaymentError(f"amount: {exc}", "amount") from None
    if amount <= 0:
        raise PaymentError(f"amount must be greater than 0, got {amount}", "amount")
    if not isinstance(paid_at, datetime) or timezone.is_naive(paid_at):
        raise PaymentError("paid_at must be a timezone-aware date and time", "paid_at")
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 64:
        raise PaymentError("external_id is required (at most 64 characters)", "external_id")
    if paid_at > timezone.now() + timedelta(minutes=5):
        raise PaymentError(f"paid_at {paid_at.isoformat()} is in the future", "paid_at")
    try:
        with transaction.atomic():
            return _post(account_id, external_id, amount, paid_at, channel, source, actor, today)
    except IntegrityError:
        # a concurrent request with the same id won the race (only possible without the row lock)
        existing = Payment.objects.get(account_id=account_id, external_id=external_id)
        if not _same(existing, amount, paid_at):
            raise PaymentConflict(f"payment {external_id!r} was already posted with other figures",
                                  "external_id") from None
        return PostingResult(existing.pk, False, existing.allocation, {})


def _post(account_id, external_id, amount, paid_at, channel, source, actor, today) -> PostingResult:
    account = _lock_account(account_id)
    existing = Payment.objects.filter(account_id=account.id, external_id=external_id).first()
    if existing is not None:
        if not _same(existing, amount, paid_at):
            raise PaymentConflict(
                f"payment {external_id!r} was already posted on this account with amount {existing.amount} at "
                f"{existing.paid_at.isoformat()}; refusing {amount} at {paid_at.isoformat()}", "external_id")
        return PostingResult(existing.pk, False, existing.allocation, _account_dict(account))
    day = local_date(paid_at, account.customer_timezone)
    pos = _position(account)
    as_of = max(day, today or day, pos.opened_on)
    payment = Payment.objects.create(
        account_id=account.id, external_id=external_id, paid_at=paid_at, local_date=day, amount=amount, channel=channel,
        source=source, posted_at=timezone.now())
    if day <= pos.opened_on:
        # already in the extract's figures (the card system knew it): recorded, nothing to replay
        payment.allocation = {"in_extract_of": pos.opened_on.isoformat()}
        payment.save(update_fields=["allocation"])
        return PostingResult(payment.pk, True, payment.allocation, _account_dict(account))
    exp, dlq = account_explanation(account, as_of)
    applied = next((p for p in exp.payments if p.ref == external_id), None)
    allocation = {
        "order": list(exp.allocation_order), "product": exp.product_code, "product_version": exp.product_version,
        "applied": applied.applied.as_dict() if applied else {}, "credit": str(applied.credit if applied else ZERO),
        "as_of": as_of.isoformat(),
    }
    payment.allocation = allocation
    payment.allocation_order = ",".join(exp.allocation_order)
    payment.save(update_fields=["allocation", "allocation_order"])
    written_off = _residual(account, exp, as_of, external_id)
    if written_off:
        exp, dlq = account_explanation(account, as_of)
    account = _write_account(account, exp, dlq, as_of, "payment")
    case_id = _last_case_id(account.customer_id)
    _case_event(case_id, "payment_posted", as_of,  # + audit payments.posted
                {"payment": external_id, "amount": str(amount), "allocation": allocation["applied"],
                 "credit": allocation["credit"], "order": allocation["order"]}, actor,
                audit_obj=payment,
                audit_data={"account": account.external_id, "amount": str(amount), "source": source,
                            "allocation": allocation, "written_off": str(written_off)})
    if written_off:
        _case_event(case_id, "residual_written_off", as_of, {"amount": str(written_off), "payment": external_id},
                    audit_obj=account.audit_ref,  # + audit payments.residual_written_off
                    audit_data={"amount": str(written_off), "limit": str(residual_write_off_limit()),
                                "payment": external_id, "as_of": as_of.isoformat()})
    # A settlement whose payoff this payment reaches waives the rest first (and closes the case as
    # paid); only then is the case re-evaluated, so it is never closed as cured before (closed is final).
    settled = _settlements_on_payment(account.customer_id, as_of)
    case = reevaluate_customer(account.customer_id, as_of, trigger="payment_posted")
    if settled.get("paid") and case.get("action") == "none":
        case = {"case_id": case_id, "action": "closed_paid", "trigger": "settlement_paid"}
    promises = evaluate_customer_promises(account.customer_id, as_of)
    _after_posting_hooks(account.customer_id, as_of)
    if case_id is not None:
        reevaluate_after_commit(case_id, "payment_posted", as_of)
    account = portfolio.account_state(account.id)  # settlements may have moved it since
    return PostingResult(payment.pk, True, allocation, _account_dict(account), str(written_off), case, promises)


def _last_case_id(customer_id: int) -> int | None:
    """The customer's open case, else their latest one (where events after a close are recorded)."""
    ref = casework.open_case_for_customer(customer_id, latest=True)
    return ref.id if ref else None


def _settlements_on_payment(customer_id: int, as_of: date) -> dict:
    """The customer's approved settlements react to the payment (before the case is re-evaluated)."""
    from arrears.contexts.money.servicing import services as servicing

    return servicing.evaluate_settlements(as_of, customer_id)


def _after_posting_hooks(customer_id: int, as_of: date) -> None:
    """The customer's active plans react to the payment (completed or still on track)."""
    from arrears.contexts.money.servicing import services as servicing

    servicing.evaluate_plans(as_of, customer_id)


def _account_dict(a: AccountState) -> dict:
    return {"account": a.external_id, "balance": str(a.balance), "principal": str(a.principal),
            "interest": str(a.interest), "fees": str(a.fees), "overdue_amount": str(a.overdue_amount),
            "oldest_unpaid_due_date": a.oldest_unpaid_due_date.isoformat() if a.oldest_unpaid_due_date else None,
            "dpd": a.dpd, "bucket": a.bucket}


def reverse_payment(account_id: int, external_id: str, reversed_on: date, *, kind: str = "reversal",
                    reason: str = "", actor=None) -> dict:
    """Reverse (``kind="reversal"``) or charge back (``"chargeback"``) a posted payment from the
    local date ``reversed_on``. The account is replayed without it from that date: its DPD counts
    again from the original oldest unpaid due date and a cured customer gets a case again.
    Idempotent: reversing a reversed payment again with the same date returns the same answer.
    Raises :class:`PaymentError` for an unknown payment, a date before the payment, or a second
    reversal with another date (``posted → reversed`` is the only move in the map)."""
    if kind not in Payment.ReversalKind.values:
        raise PaymentError(f"kind must be one of {Payment.ReversalKind.values}", "kind")
    with transaction.atomic():
        account = _lock_account(account_id)
        p = Payment.objects.filter(account_id=account.id, external_id=external_id).first()
        if p is None:
            raise PaymentError(f"no payment {external_id!r} on account {account.external_id}", "external_id")
        if p.status == Payment.Status.REVERSED:
            if p.reversed_on == reversed_on:
                return {"payment_id": p.pk, "created": False, "account": _account_dict(account)}
            raise PaymentError(f"payment {external_id!r} was already reversed on {p.reversed_on}", "external_id")
        if reversed_on < p.local_date:
            raise PaymentError(f"reversed_on {reversed_on} is before the payment date {p.local_date}", "reversed_on")
        PAYMENT_MACHINE.check(p.status, Payment.Status.REVERSED)
        p.status, p.reversed_on, p.reversal_kind, p.reversal_reason = (
            Payment.Status.REVERSED, reversed_on, kind, reason[:255])
        p.save(update_fields=["status", "reversed_on", "reversal_kind", "reversal_reason"])
        pos = _position(account)
        as_of = max(reversed_on, pos.opened_on)
        # what depended on the payment goes with it: the residual it let us write off, and the
        # settlements it paid (back to approved, or void past their deadline; their waiver reversed)
        undone = reverse_adjustments(account, BalanceAdjustment.Kind.RESIDUAL, [external_id], reversed_on,
                                     reason=f"payment {external_id} reversed", actor=actor)
        from arrears.contexts.money.servicing import services as servicing

        reopened = servicing.on_payment_reversed(account.id, reversed_on, actor=actor)
        exp, dlq = account_explanation(account, as_of)
        account = _write_account(account, exp, dlq, as_of, "reversal")
        case = reevaluate_customer(account.customer_id, as_of, trigger="payment_reversed")
        case_id = case.get("case_id") or _last_case_id(account.customer_id)
        case = {**case, "write_offs_reversed": undone, "settlements_reopened": reopened}
        _case_event(case_id, "payment_reversed", as_of,  # + audit payments.reversed
                    {"payment": external_id, "amount": str(p.amount), "kind": kind}, actor, audit_obj=p,
                    audit_data={"account": account.external_id, "amount": str(p.amount), "kind": kind,
                                "reason": reason, "reversed_on": reversed_on.isoformat()})
        if case_id is not None:
            reevaluate_after_commit(case_id, "payment_reversed", as_of)
        return {"payment_id": p.pk, "created": True, "account": _account_dict(account), "case": case}


_CAUSE_OF_ADJUSTMENT = {"waiver": "waiver", "settlement": "settlement", "residual_write_off": "write_off"}


def reverse_adjustments(account: AccountState, kind: str, references: list[str], reversed_on: date, *,
                        reason: str = "", actor=None) -> list[str]:
    """Reverse the account's adjustments of ``kind`` with these references from the local date
    ``reversed_on`` (a snapshot before it still counts them): audit and case event each. The caller
    holds the account's row lock and replays the account afterwards. Returns the references
    reversed (already reversed ones are left as they are)."""
    rows = list(BalanceAdjustment.objects.filter(account_id=account.id, kind=kind, reference__in=references,
                                                 reversed_on__isnull=True))
    for adj in rows:
        BalanceAdjustment.objects.filter(pk=adj.pk, reversed_on__isnull=True).update(reversed_on=reversed_on)
        _case_event(_last_case_id(account.customer_id), "adjustment_reversed", reversed_on,  # + audit
                    {"kind": kind, "reference": adj.reference, "amount": str(adj.total)}, actor, reason,
                    audit_obj=account.audit_ref, audit_data={"kind": kind, "reference": adj.reference,
                                                             "amount": str(adj.total),
                                                             "reversed_on": reversed_on.isoformat()})
    return [a.reference for a in rows]


def add_adjustment(account_id: int, kind: str, local_day: date, amounts: Components, reference: str, *,
                   actor=None, reason: str = "") -> BalanceAdjustment:
    """Take ``amounts`` off an account without a payment (waiver, settlement discount) from
    ``local_day``; writes the adjustment, an audit event with the amount, a case event, and
    re-evaluates the account and case. Idempotent by ``(account, kind, reference)``."""
    with transaction.atomic():
        account = _lock_account(account_id)
        done = BalanceAdjustment.objects.filter(account_id=account.id, kind=kind, reference=reference).first()
        if done is not None:
            return done
        adj = BalanceAdjustment.objects.create(
            account_id=account.id, kind=kind, local_date=local_day, principal=amounts.principal,
            interest=amounts.interest, penalty=amounts.penalty, fees=amounts.fees, reference=reference,
            created_at=timezone.now(), actor=actor if getattr(actor, "pk", None) else None)
        pos = _position(account)
        as_of = max(local_day, pos.opened_on)
        exp, dlq = account_explanation(account, as_of)
        _write_account(account, exp, dlq, as_of, _CAUSE_OF_ADJUSTMENT.get(kind, "waiver"))
        case = reevaluate_customer(account.customer_id, as_of, trigger="waiver")
        case_id = case.get("case_id") or _last_case_id(account.customer_id)
        _case_event(case_id, "waiver_recorded", as_of,  # + audit payments.waived
                    {"kind": kind, "reference": reference, "amount": str(amounts.total)}, actor,
                    audit_obj=account.audit_ref, audit_reason=reason,
                    audit_data={"kind": kind, "reference": reference, "amount": str(amounts.total),
                                **amounts.as_dict()})
        return adj


# ----------------------------------------------------------------------------- promises


def take_promise(case_id: int, amount: Decimal | str, promised_on: date, *, channel: str = "phone", agent=None,
                 now: datetime | None = None) -> PromiseToPay:
    """Record a promise to pay on a case (amount in yuan > 0, ``promised_on`` a local date not in the
    past). Writes a ``promise_taken`` case event and an audit event. Raises :class:`PaymentError`."""
    now = now or timezone.now()
    case = casework.case_ref(case_id)
    if case is None or case.is_closed:
        raise PaymentError(f"case {case_id} is not an open case", "case")
    try:
        amount = money(amount)
    except (DomainError, TypeError) as exc:
        raise PaymentError(f"amount: {exc}", "amount") from None
    if amount <= 0:
        raise PaymentError("amount must be greater than 0", "amount")
    taken_on = local_date(now, case.timezone)
    if promised_on < taken_on:
        raise PaymentError(f"promised_on {promised_on} is before today ({taken_on})", "promised_on")
    with transaction.atomic():
        ptp = PromiseToPay.objects.create(case_id=case.id, customer_id=case.customer_id, amount=amount,
                                          currency=case.currency, promised_on=promised_on, channel=channel,
                                          agent=agent, created_at=now, taken_on=taken_on)
        _case_event(case.id, "promise_taken", taken_on,  # + audit payments.promise_taken
                    {"promise": ptp.pk, "amount": str(amount), "promised_on": promised_on.isoformat(),
                     "channel": channel}, agent, audit_obj=ptp, audit_data={"amount": str(amount), "case": case.id})
    return ptp


def _payments_of(customer_ids: set[int], start: date, end: date) -> dict[int, list[promise_rules.PromisePayment]]:
    """The customers' payments dated ``start`` … ``end`` (posted or reversed) as the facts of
    :func:`arrears.domain.promises.counts_towards`, by customer; which of them count is the
    domain's to say."""
    out: dict[int, list[promise_rules.PromisePayment]] = {}
    ids = sorted(customer_ids)
    for i in range(0, len(ids), 5_000):
        for cust, day, amount, status, reversed_on, extract, currency in (
                Payment.objects.filter(account__customer_id__in=ids[i:i + 5_000], local_date__gte=start,
                                       local_date__lte=end)
                .values_list("account__customer_id", "local_date", "amount", "status", "reversed_on",
                             "account__as_of_extract", "account__currency").iterator(5_000)):
            if status != Payment.Status.POSTED:  # reversed: from its date (never before the payment's own)
                reversed_on = reversed_on or day
            else:
                reversed_on = None
            out.setdefault(cust, []).append(promise_rules.PromisePayment(day, amount, extract, reversed_on, currency))
    return out


def _evaluate(qs, as_of: date, grace: int, tol: Decimal, *, reevaluate: bool = True) -> dict:
    """Evaluate the promises in ``qs`` (all open) by :mod:`arrears.domain.promises`: the paid
    amount (:func:`~arrears.domain.promises.paid_towards`) and the status
    (:func:`~arrears.domain.promises.evaluate`) of each, then one bulk write of the paid amounts
    and one of the new statuses with their timeline events. The promise rows are locked as they
    are read (``SELECT … FOR UPDATE`` on PostgreSQL), so a posting that evaluates the same promises
    waits for this transaction."""
    from django.db.models.functions import TruncDate

    counts = {"kept": 0, "partly_kept": 0, "broken": 0}
    with transaction.atomic():
        # promises recorded without a local date (e.g. by other apps): the business-date of created_at
        qs.filter(taken_on__isnull=True).update(taken_on=TruncDate("created_at"))
        rows = list(qs.select_for_update().order_by("id").values_list(
            "id", "case_id", "customer_id", "amount", "promised_on", "taken_on", "currency"))
        if not rows:
            return counts
        pays = _payments_of({r[2] for r in rows}, min(r[5] for r in rows),
                            max(promise_rules.deadline(r[4], grace) for r in rows))
        paid: list[tuple[int, Decimal, date]] = []
        decided: dict[str, list[tuple[int, int]]] = {"kept": [], "partly_kept": [], "broken": []}
        for pid, case_id, customer_id, amount, promised_on, taken_on, currency in rows:
            towards = promise_rules.paid_towards(pays.get(customer_id, ()), taken_on, promised_on, grace, currency)
            paid.append((pid, towards, as_of))
            status = promise_rules.evaluate(amount, promised_on, towards, as_of, grace_days=grace, tolerance=tol)
            if status != promise_rules.OPEN:
                decided[status].append((pid, case_id))
        dbio.bulk_update(PromiseToPay._meta.db_table, "id", ("paid_amount", "evaluated_on"), paid)
        for status, chunk_rows in decided.items():
            promise_rules.check_transition("open", status)
            for i in range(0, len(chunk_rows), 5_000):
                chunk = chunk_rows[i:i + 5_000]
                PromiseToPay.objects.filter(id__in=[r[0] for r in chunk], status="open").update(status=status)
                casework.record_case_events(
                    casework.EventRow(case_id, f"promise_{status}", as_of, "open", status, data={"promise": pid})
                    for pid, case_id in chunk)
            counts[status] = len(chunk_rows)
    if reevaluate:
        for _, case_id in decided["broken"]:
            reevaluate_after_commit(case_id, "promise_broken", as_of)
    return counts


def evaluate_promises(as_of: date, reevaluate: bool = True) -> dict:
    """Evaluate, in bulk, every open promise due by ``as_of`` (for the daily run).

    One read of the promises and one of their customers' payments; each promise's paid amount and
    status come from :mod:`arrears.domain.promises` (payments ``taken_on … promised_on +
    ARREARS_PTP_GRACE_DAYS`` not in the extract and not reversed by then; ``kept`` when paid ≥
    amount − ``ARREARS_PTP_TOLERANCE``, ``partly_kept`` or ``broken`` past the grace period); the
    paid amounts and the statuses are written in bulk, promise timeline events bulk-inserted; each
    broken promise asks the strategy to re-evaluate its case after commit — unless ``reevaluate``
    is false (the daily run, whose strategy step follows and reviews every case with an open
    promise that day). Returns ``{"kept": n, "partly_kept": n, "broken": n}``. Idempotent: only
    ``open`` promises are touched.
    """
    grace = promise_grace_days()
    tol = promise_tolerance()
    with transaction.atomic():
        qs = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN, promised_on__lte=as_of)
        return _evaluate(qs, as_of, grace, tol, reevaluate=reevaluate)


def evaluate_customer_promises(customer_id: int, as_of: date) -> dict:
    """Evaluate one customer's open promises after a posting (kept at once; late ones decided)."""
    grace = promise_grace_days()
    tol = promise_tolerance()
    qs = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN, customer_id=customer_id)
    return _evaluate(qs, as_of, grace, tol)



def post_payment_file(path, as_of: date) -> dict:
    """Validate and post a daily payments file atomically (see ``post_payments``); rows with
    ``reverses`` reverse that payment from the row's local date. Returns counts; raises
    :class:`~arrears.contexts.portfolio.facade.ExtractError` for a bad file (nothing posted)."""
    rows = portfolio.read_payments_file(path, as_of, portfolio.account_timezones())
    ids = portfolio.account_ids_for({r.account_id for r in rows})
    counts = {"posted": 0, "repeated": 0, "reversed": 0}
    with transaction.atomic():
        for r in rows:
            if r.reverses:
                out = reverse_payment(ids[r.account_id], r.reverses, r.local_date, kind="reversal",
                                      reason=f"file reversal {r.payment_id}")
                counts["reversed"] += int(out["created"])
                continue
            res = post_payment(ids[r.account_id], r.payment_id, r.amount, r.paid_at, channel=r.channel,
                               source=Payment.Source.FILE, today=as_of)
            counts["posted" if res.created else "repeated"] += 1
    return counts

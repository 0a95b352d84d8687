"""Writes for customer servicing: payment plans (个性化分期) and settlements / waivers (减免).

Every status change goes through :func:`plan_transition` / :func:`settlement_transition`, which
check the declared maps (:mod:`arrears.domain.plans`, :mod:`arrears.domain.settlements`), write
the audit event and the case timeline event in the same transaction. Maker-checker: whoever
proposed a plan or requested a settlement may not approve it.

Regulation: 2011 商业银行信用卡业务监督管理办法 第七十条 (CN-PLAN-01; HS-01 term ≤ 60 months and
the six contents; HS-02 a signed plan suppresses all collection except on breach).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.casework import facade as casework
from arrears.contexts.money.payments.models import Payment, PromiseToPay
from arrears.contexts.portfolio import facade as portfolio
from arrears.contexts.strategy.facade import reevaluate_after_commit
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.domain.delinquency import in_extract
from arrears.domain import plans as plan_rules
from arrears.domain import settlements as settlement_rules
from arrears.domain.delinquency import PaymentEvent
from arrears.domain.errors import DomainError, RuleDataError
from arrears.domain.money import ZERO, money
from arrears.rules import load_rule_file

from .models import CollectionHold, PaymentPlan, PlanInstalment, Settlement

AUTHORITY_FILE = Path(__file__).resolve().parent / "authority.yaml"
REASON_PLAN_BREACH = gettext_noop("个性化分期违约：恢复催收")


class ServicingRefused(ArrearsError, ValueError):
    """A plan or settlement was refused; ``problems`` lists every reason (``details["problems"]``)."""

    code = ErrorCode.SERVICING_REFUSED

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems), details={"problems": self.problems})


@lru_cache(maxsize=None)
def load_authority(path: str | None = None) -> dict[str, settlement_rules.AuthorityLimit]:
    """Waiver authority per role from ``authority.yaml`` (validated; all errors at once)."""
    source = path or str(AUTHORITY_FILE)
    data, errors = load_rule_file(source, "waiver_authority.schema.json")
    if errors:
        raise RuleDataError(source, errors)
    out = {}
    for row in data["limits"]:
        if row["role"] in out:
            raise RuleDataError(source, [f"limits: role {row['role']!r} listed twice"])
        out[row["role"]] = settlement_rules.AuthorityLimit(row["role"], row["max_amount"], row["max_percent"])
    return out


@lru_cache(maxsize=None)
def authority_currency(path: str | None = None) -> str:
    """The currency of the authority limits' amounts (``authority.yaml`` ``currency``, default CNY)."""
    data, _errors = load_rule_file(path or str(AUTHORITY_FILE), "waiver_authority.schema.json")
    return (data or {}).get("currency") or "CNY"


def _roles(user) -> list[str]:
    return list(user.groups.values_list("name", flat=True)) if user is not None else []


def _case_event(customer_id: int, kind: str, as_of: date, data: dict, actor=None, from_status="", to_status="",
                reason="", **audit) -> None:
    """The event on the customer's (latest) case and, for an audited kind, its audit event
    (``audit``: ``audit_obj`` / ``audit_data`` / ``audit_reason``) — one call, casework's write
    path; without a case, only the audit event."""
    case = casework.open_case_for_customer(customer_id, latest=True)
    casework.record_case_event(case.id if case is not None else None, kind, data, as_of=as_of, actor=actor,
                               from_status=from_status, to_status=to_status, reason=reason, **audit)


# ----------------------------------------------------------------------------- plans


def plan_transition(plan: PaymentPlan, to_status: str, as_of: date, *, actor=None, reason: str = "",
                    data: dict | None = None) -> PaymentPlan:
    """Move ``plan`` to ``to_status`` (declared map; ``IllegalTransition`` otherwise), with an
    audit event ``servicing.plan_<status>`` and a ``plan_<status>`` case event."""
    plan_rules.check_transition(plan.status, to_status)
    src = plan.status
    n = PaymentPlan.objects.filter(pk=plan.pk, status=src).update(status=to_status, status_changed_on=as_of)
    if n != 1:
        raise ServicingRefused([f"plan {plan.pk} is no longer {src!r}"])
    plan.status, plan.status_changed_on = to_status, as_of
    _case_event(plan.customer_id, f"plan_{to_status}", as_of, {"plan": plan.pk, **(data or {})}, actor, src,
                to_status, reason, audit_obj=plan,  # + audit servicing.plan_<status>
                audit_data={"from": src, "to": to_status, **(data or {})})
    return plan


def propose_plan(account_id: int, *, term_months: int, first_due: date, contents: dict[str, str],
                 hardship_confirmed: bool, willing_to_repay: bool, today: date, actor=None,
                 total: Decimal | None = None, month_rule: str = "same_day") -> PaymentPlan:
    """Propose a plan for an account: eligibility (第七十条), term ≤ 60 months, the six contents,
    and a schedule summing exactly to ``total`` (default: what the account owes). Raises
    :class:`ServicingRefused` listing every problem."""
    account = _account(account_id)
    owed = money(total) if total is not None else money(account.balance)
    has_plan = PaymentPlan.objects.filter(customer_id=account.customer_id,
                                          status__in=["proposed", "approved", "active"]).exists()
    problems = plan_rules.eligibility(hardship_confirmed=hardship_confirmed, willing_to_repay=willing_to_repay,
                                      overdue_amount=account.overdue_amount, has_active_plan=has_plan)
    instalments: list[plan_rules.Instalment] = []
    try:
        instalments = plan_rules.schedule(owed, term_months, first_due, month_rule)
    except DomainError as exc:
        problems.append(str(exc))
    problems += [p for p in plan_rules.check_plan(owed, instalments, contents, term_months) if p not in problems
                 and not (not instalments and "sum to" in p)]
    if problems:
        raise ServicingRefused(problems)
    with transaction.atomic():
        plan = PaymentPlan.objects.create(customer_id=account.customer_id, account_id=account.id, total=owed,
                                          currency=account.currency, term_months=term_months, contents=contents,
                                          created_on=today, requested_by=actor, status_changed_on=today)
        PlanInstalment.objects.bulk_create(PlanInstalment(plan=plan, number=i.number, due_date=i.due_date,
                                                          amount=i.amount) for i in instalments)
        _case_event(plan.customer_id, "plan_proposed", today, {"plan": plan.pk, "total": str(owed),  # + audit
                                                               "term_months": term_months}, actor, audit_obj=plan,
                    audit_data={"total": str(owed), "term_months": term_months, "account": account.external_id})
    return plan


def _account(account_id: int) -> portfolio.AccountState:
    """The account (from the portfolio, which owns it); :class:`ServicingRefused` when unknown."""
    account = portfolio.account_state(account_id)
    if account is None:
        raise ServicingRefused([f"no account {account_id}"])
    return account


def _locked(model, pk: int, customer_id: int | None, what: str):
    """The row ``pk`` locked for update; :class:`ServicingRefused` when there is none (for this
    customer, when ``customer_id`` is given: a plan or settlement is acted on through its case)."""
    qs = model.objects.select_for_update().filter(pk=pk)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    row = qs.first()
    if row is None:
        raise ServicingRefused([f"no {what} {pk} on this case"])
    return row


def approve_plan(plan_id: int, approver, today: date, *, customer_id: int | None = None) -> PaymentPlan:
    """Checker approves a proposed plan; refused when the approver proposed it (maker-checker),
    or when it is not ``customer_id``'s plan (when given)."""
    with transaction.atomic():
        plan = _locked(PaymentPlan, plan_id, customer_id, "plan")
        if approver is None or plan.requested_by_id == approver.pk:
            raise ServicingRefused(["the person who proposed the plan may not approve it (maker-checker)"])
        PaymentPlan.objects.filter(pk=plan.pk).update(approved_by=approver)
        return plan_transition(plan, "approved", today, actor=approver)


def sign_plan(plan_id: int, signature: str, now: datetime, actor=None, *, customer_id: int | None = None) -> PaymentPlan:
    """Record the signature (written, e-signed or the recording id of an oral agreement) of an
    approved plan: the plan becomes active, a ``payment_plan`` collection hold suppresses contact
    (HS-02), and the customer's open promises are cancelled (superseded by the plan)."""
    if not (signature or "").strip():
        raise ServicingRefused(["signature evidence is required (document, e-signature or recording id)"])
    with transaction.atomic():
        plan = _locked(PaymentPlan, plan_id, customer_id, "plan")
        plan_rules.check_transition(plan.status, "active")  # before the hold is written
        tzname = portfolio.customer_timezone(plan.customer_id)
        from arrears.domain.calendar import local_date

        day = local_date(now, tzname)
        hold = CollectionHold.objects.create(customer_id=plan.customer_id, kind=CollectionHold.Kind.PAYMENT_PLAN,
                                             since=now, reference=f"plan:{plan.pk}")
        PaymentPlan.objects.filter(pk=plan.pk).update(signed_at=now, signature=signature.strip()[:128], hold=hold)
        plan_transition(plan, "active", day, actor=actor, data={"signature": signature.strip()[:128]})
        open_ptps = PromiseToPay.objects.filter(customer_id=plan.customer_id, status=PromiseToPay.Status.OPEN)
        cancelled = list(open_ptps.values_list("id", flat=True))
        open_ptps.update(status=PromiseToPay.Status.CANCELLED, evaluated_on=day)
        if cancelled:
            _case_event(plan.customer_id, "promise_cancelled", day, {"promises": cancelled, "plan": plan.pk}, actor)
        plan.refresh_from_db()
        return plan


def _plan_payments(plan: PaymentPlan, as_of: date) -> list[PaymentEvent]:
    rows = (Payment.objects.filter(account_id=plan.account_id, local_date__gte=plan.created_on, local_date__lte=as_of)
            .filter(Q(status=Payment.Status.POSTED) | Q(reversed_on__gt=as_of))
            .values_list("external_id", "local_date", "amount"))
    return [PaymentEvent(r, d, money(a)) for r, d, a in rows]


def plan_position(plan_id: int, as_of: date) -> plan_rules.PlanPosition:
    """Where a plan stands (amount due now, first unpaid and next instalment, overdue, DPD, missed,
    breached with ``ARREARS_PLAN_GRACE_DAYS``) — the selector the desk, IVR and letters use (R22)."""
    plan = PaymentPlan.objects.get(pk=plan_id)
    inst = [plan_rules.Instalment(i.number, i.due_date, money(i.amount)) for i in plan.instalments.all()]
    grace = int(getattr(settings, "ARREARS_PLAN_GRACE_DAYS", 5))
    return plan_rules.position(inst, _plan_payments(plan, as_of), as_of, grace)


def evaluate_plans(as_of: date, customer_id: int | None = None) -> dict:
    """Active plans: paid off → ``completed`` (hold ends); an instalment late beyond the grace →
    ``breached`` (the hold is marked breached: collection resumes, HS-02) and the strategy is asked
    to re-evaluate the case. Returns counts."""
    counts = {"completed": 0, "breached": 0}
    qs = PaymentPlan.objects.filter(status=PaymentPlan.Status.ACTIVE)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    for plan in qs.select_related("hold"):
        pos = plan_position(plan.pk, as_of)
        if pos.paid_off:
            plan_transition(plan, "completed", as_of)
            if plan.hold_id:
                CollectionHold.objects.filter(pk=plan.hold_id).update(until=timezone.now())
            counts["completed"] += 1
        elif pos.breached:
            plan_transition(plan, "breached", as_of, reason=REASON_PLAN_BREACH,
                            data={"dpd": pos.dpd, "overdue": str(pos.overdue_amount)})
            if plan.hold_id:
                CollectionHold.objects.filter(pk=plan.hold_id).update(breached=True)
            counts["breached"] += 1
            from arrears.contexts.money.payments.services import _last_case_id

            reevaluate_after_commit(_last_case_id(plan.customer_id), "plan_breached", as_of)
    return counts


# ----------------------------------------------------------------------------- settlements


def settlement_transition(s: Settlement, to_status: str, as_of: date, *, actor=None, data: dict | None = None,
                          reason: str = "") -> Settlement:
    """Move a settlement through the declared map with audit and case events."""
    settlement_rules.check_transition(s.status, to_status)
    src = s.status
    if Settlement.objects.filter(pk=s.pk, status=src).update(status=to_status, status_changed_on=as_of) != 1:
        raise ServicingRefused([f"settlement {s.pk} is no longer {src!r}"])
    s.status = to_status
    _case_event(s.customer_id, f"settlement_{to_status}", as_of,  # + audit servicing.settlement_<status>
                {"settlement": s.pk, "waived": str(s.waived), "payoff": str(s.payoff)}, actor, src, to_status, reason,
                audit_obj=s, audit_data={"from": src, "to": to_status, "waived": str(s.waived),
                                         "payoff": str(s.payoff), **(data or {})})
    return s


def request_settlement(account_id: int, *, waived: Decimal | str, deadline: date, today: date, actor=None,
                       reason: str = "") -> Settlement:
    """Request waiving ``waived`` of what the account owes now if the rest is paid by ``deadline``."""
    account = _account(account_id)
    owed = money(account.balance)
    waived = money(waived)
    problems = []
    if not ZERO < waived < owed:
        problems.append(f"waived {waived} must be more than 0 and less than what is owed ({owed})")
    if deadline < today:
        problems.append(f"deadline {deadline} is in the past")
    if problems:
        raise ServicingRefused(problems)
    with transaction.atomic():
        s = Settlement.objects.create(customer_id=account.customer_id, account_id=account.id, owed=owed, waived=waived,
                                      payoff=owed - waived, deadline=deadline, requested_on=today, reason=reason,
                                      requested_by=actor, status_changed_on=today)
        _case_event(s.customer_id, "settlement_requested", today,  # + audit servicing.settlement_requested
                    {"settlement": s.pk, "owed": str(owed), "waived": str(waived)}, actor, audit_obj=s,
                    audit_data={"owed": str(owed), "waived": str(waived), "deadline": deadline.isoformat()})
    return s


def approve_settlement(settlement_id: int, approver, today: date, *, customer_id: int | None = None) -> Settlement:
    """Approve within the approver's authority (amount **and** percentage limits of one of their
    roles, ``authority.yaml``); the requester may not approve (maker-checker). Raises
    :class:`ServicingRefused` with the reason otherwise."""
    with transaction.atomic():
        s = _locked(Settlement, settlement_id, customer_id, "settlement")
        if approver is None or s.requested_by_id == approver.pk:
            raise ServicingRefused(["the person who requested the waiver may not approve it (maker-checker)"])
        from arrears.rules.exchange_rates import exchange_rates

        try:  # limits in yuan: another currency at a recorded rate, or refused (never as if yuan)
            problems = settlement_rules.authority_problems(
                _roles(approver), load_authority(), s.owed, s.waived, currency=_account(s.account_id).currency,
                limits_currency=authority_currency(), rates=exchange_rates())
        except settlement_rules.NoExchangeRate as exc:
            record("servicing.settlement_refused", actor=approver, obj=s, data={"problems": [str(exc)]})
            raise
        if problems:
            record("servicing.settlement_refused", actor=approver, obj=s, data={"problems": problems})
            raise ServicingRefused(problems)
        Settlement.objects.filter(pk=s.pk).update(approved_by=approver)
        return settlement_transition(s, "approved", today, actor=approver)


def evaluate_settlements(as_of: date, customer_id: int | None = None) -> dict:
    """Approved settlements. The agreed ``payoff`` paid by the deadline (payments since the
    request) → ``paid``: on the day the payoff was reached, **everything** still owed on the
    account — the agreed waiver plus interest / 违约金 accrued since the request — is waived as one
    recorded balance adjustment (audit + case event with the amount, never a silent drop), which
    leaves nothing owed and closes the case as paid. Deadline passed unpaid → ``void`` (nothing
    waived)."""
    from arrears.contexts.money.payments import services as payments

    counts = {"paid": 0, "void": 0}
    qs = Settlement.objects.filter(status=Settlement.Status.APPROVED)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    for s in qs:
        rows = _payments_towards(s, as_of)
        paid = money(sum((a for _, a in rows), ZERO))
        result = settlement_rules.outcome(s.payoff, paid, s.deadline, as_of)
        if result == "paid":
            with transaction.atomic():
                _settle_paid(s, rows, paid, as_of, payments)
            counts["paid"] += 1
        elif result == "void":
            settlement_transition(s, "void", as_of, data={"paid": str(paid)})
            counts["void"] += 1
    return counts


def _payments_towards(s: Settlement, as_of: date) -> list[tuple[date, Decimal]]:
    """``(local_date, amount)`` of the payments that count towards a settlement's payoff as of
    ``as_of``: posted (not reversed), dated from the request to the deadline, and not already inside
    the extract's figures (:func:`arrears.domain.delinquency.in_extract`: the same rule as the balance
    and the promises)."""
    rows = (Payment.objects.filter(account_id=s.account_id, local_date__gte=s.requested_on,
                                   local_date__lte=min(as_of, s.deadline), status=Payment.Status.POSTED)
            .values_list("local_date", "amount"))
    extract_date = _account(s.account_id).as_of_extract
    return [(d, a) for d, a in rows if not in_extract(d, extract_date)]


def on_payment_reversed(account_id: int, reversed_on: date, *, actor=None) -> list[int]:
    """A payment of the account was reversed from ``reversed_on``: each settlement it had paid whose
    payoff is no longer reached goes back to ``approved`` (unpaid; ``void`` when its deadline is
    already past on ``reversed_on``), and its waiver adjustment is reversed from that date (audit and
    case events). The caller (the payment service) holds the account lock and replays the account.
    Returns the settlements reopened or voided."""
    from arrears.contexts.money.payments import services as payments

    out = []
    for s in Settlement.objects.filter(account_id=account_id, status=Settlement.Status.PAID):
        paid = money(sum((a for _, a in _payments_towards(s, s.deadline)), ZERO))
        if paid >= s.payoff:
            continue
        target = "approved" if reversed_on <= s.deadline else "void"
        settlement_transition(s, target, reversed_on, actor=actor, data={"paid": str(paid), "reopened": True},
                              reason="payment reversed")
        _case_event(s.customer_id, "settlement_reopened", reversed_on,
                    {"settlement": s.pk, "to": target, "paid": str(paid)}, actor)
        payments.reverse_adjustments(_account(s.account_id), "settlement", [f"settlement:{s.pk}"], reversed_on,
                                     reason=f"settlement {s.pk} no longer paid", actor=actor)
        out.append(s.pk)
    return out


def _settle_paid(s: Settlement, rows: list, paid: Decimal, as_of: date, payments) -> None:
    """Close a settlement whose payoff was paid: waive what is left on the payoff day (recorded)."""
    account = payments._lock_account(s.account_id)
    pos = payments._position(account)
    reached = settlement_rules.payoff_reached_on(rows, s.payoff, s.deadline) or min(as_of, s.deadline)
    day = max(reached, pos.opened_on)
    exp, _ = payments.account_explanation(account, day)
    waiver, accrued = settlement_rules.settlement_waiver(exp.closing, s.waived)
    settlement_transition(s, "paid", as_of, data={
        "paid": str(paid), "payoff_reached_on": day.isoformat(), "waived_total": str(waiver.total),
        "accrued_since_request": str(accrued)})
    if waiver.total > 0:
        payments.add_adjustment(
            s.account_id, "settlement", day, waiver, f"settlement:{s.pk}",
            reason=f"settlement {s.pk} paid: agreed waiver {s.waived} + accrued since request {accrued}")
    if as_of > day:  # evaluated after the payoff day (batch): bring the account up to as_of
        account = payments._lock_account(s.account_id)
        exp, dlq = payments.account_explanation(account, as_of)
        account = payments._write_account(account, exp, dlq, as_of, "settlement")
        payments.reevaluate_customer(account.customer_id, as_of, trigger="settlement_paid")


def on_payment(customer_id: int, as_of: date) -> None:
    """Plans and settlements react to a payment at once (settlements first). The payment service
    calls :func:`evaluate_settlements` **before** it re-evaluates the case and :func:`evaluate_plans`
    after, so a payment that reaches a settlement's payoff closes the case as paid (the waiver
    leaves nothing owed), never as cured first (closed is final)."""
    evaluate_settlements(as_of, customer_id)
    evaluate_plans(as_of, customer_id)

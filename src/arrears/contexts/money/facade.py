"""The money context owns money — payments and reversals, balance explanations, promises to pay (kept / partly kept / broken), payment plans (个性化分期), settlements and waivers (减免), residual write-offs, collection holds and contact restrictions.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# ---------------------------------------------------------------- used by the contact context
#
# The compliance gate reads what stands against contacting a debtor (holds, restrictions on their
# contact points); the desk and SMS channels record restrictions and holds a contact revealed and
# read promises to pay. Model imports inside the functions: this module stays light.

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


def _typed_null(field):
    """A NULL typed as ``field`` (PostgreSQL matches the columns of a UNION by type)."""
    from django.db.models import Value
    from django.db.models.functions import Cast

    return Cast(Value(None), output_field=field)


def contact_restriction_rows(contact_ids: Iterable[int]):
    """The restrictions on these contact points (do not contact, a third party's refusal, an
    electronic opt-out) as an unevaluated values query of the compliance gate's *standing rows*
    ``(tag "r", restriction id, contact id, kind, since, NULL until, NULL breached, "" reference,
    NULL day)`` — for the gate's one-statement ``UNION ALL`` read; evaluate it only that way."""
    from django.db.models import BooleanField, CharField, DateField, DateTimeField, Value

    from .servicing.models import ContactRestriction

    return ContactRestriction.objects.filter(contact__in=list(contact_ids)).order_by().values_list(
        Value("r", output_field=CharField()), "pk", "contact_id", "kind", "since", _typed_null(DateTimeField()),
        _typed_null(BooleanField()), Value("", output_field=CharField()), _typed_null(DateField()))


def collection_hold_rows(customer_id: int):
    """The customer's collection holds (dispute, complaint, payment plan, litigation, deceased,
    bankruptcy) as an unevaluated values query of the gate's standing rows ``(tag "h", hold id, NULL
    contact id, kind, since, until, breached, reference, NULL day)`` — for the gate's ``UNION ALL``."""
    from django.db.models import BigIntegerField, CharField, DateField, Value

    from .servicing.models import CollectionHold

    return CollectionHold.objects.filter(customer_id=customer_id).order_by().values_list(
        Value("h", output_field=CharField()), "pk", _typed_null(BigIntegerField()), "kind", "since", "until",
        "breached", "reference", _typed_null(DateField()))


@dataclass(frozen=True)
class RestrictionFact:
    """One restriction on a contact point: ``kind`` (``do_not_contact``, ``refused``,
    ``opted_out``), its display ``label`` and ``since`` (aware)."""

    contact_id: int
    kind: str
    label: str
    since: datetime


def contact_restrictions(contact_ids: Iterable[int], *, kind: str | None = None) -> list[RestrictionFact]:
    """The restrictions on these contact points (of ``kind`` when given), in no particular order.
    One query."""
    from .servicing.models import ContactRestriction

    qs = ContactRestriction.objects.filter(contact__in=list(contact_ids))
    if kind is not None:
        qs = qs.filter(kind=kind)
    return [RestrictionFact(cid, k, str(ContactRestriction.Kind(k).label) if k in ContactRestriction.Kind.values
                            else k, since) for cid, k, since in qs.values_list("contact_id", "kind", "since")]


def restrict_contact(contact_id: int, kind: str, since: datetime, *, unless_present: bool = False) -> int | None:
    """Record a restriction of ``kind`` (``do_not_contact``, ``refused``, ``opted_out``) on a
    contact point from ``since``; the gate enforces it from then on. ``unless_present``: nothing is
    written when the contact point has one of that kind already (returns ``None``). Returns the
    restriction's id."""
    from .servicing.models import ContactRestriction

    if unless_present and ContactRestriction.objects.filter(contact_id=contact_id, kind=kind).exists():
        return None
    return ContactRestriction.objects.create(contact_id=contact_id, kind=kind, since=since).pk


def open_collection_hold(customer_id: int, kind: str, since: datetime, reference: str = "") -> int:
    """Put the customer's collection on hold for ``kind`` (``dispute``, ``deceased`` …) from
    ``since`` (aware), with the ``reference`` that opened it. Returns the hold's id."""
    from .servicing.models import CollectionHold

    return CollectionHold.objects.create(customer_id=customer_id, kind=kind, since=since, reference=reference).pk


def open_promises_due(first_day: date, last_day: date, *, case_ids: Iterable[int] | None = None) -> dict[int, date]:
    """Case id → the day promised, for open promises to pay falling due from ``first_day`` to
    ``last_day`` (the debtor's local dates, inclusive), among ``case_ids`` when given; one promise
    per case (any one, when a case has several). Whether the case is open is the caller's concern."""
    from .payments.models import PromiseToPay

    qs = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN, promised_on__gte=first_day,
                                     promised_on__lte=last_day)
    if case_ids is None:
        return dict(qs.values_list("case_id", "promised_on"))
    ids, out = list(case_ids), {}
    for i in range(0, len(ids), 5000):
        out.update(qs.filter(case_id__in=ids[i:i + 5000]).values_list("case_id", "promised_on"))
    return out


def promise_currencies(promise_ids: Iterable[int]) -> dict[int, str]:
    """Promise id → its currency (ISO 4217). One query."""
    from .payments.models import PromiseToPay

    return dict(PromiseToPay.objects.filter(pk__in=list(promise_ids)).values_list("pk", "currency"))


def case_promises(case_id: int, limit: int = 5) -> list:
    """The case's latest ``limit`` promises to pay, newest first, as
    :class:`arrears.contexts.money.payments.selectors.PromiseView` (amount, currency, promised_on,
    status …). One query."""
    from .payments.selectors import case_promises as promises

    return promises(case_id, limit)


@dataclass(frozen=True)
class PromiseTally:
    """Promises to pay one agent took in one currency: how many and their amount (Decimal)."""

    agent_id: int
    currency: str
    count: int
    amount: Decimal


def promises_taken(agent_ids: Iterable[int], start: datetime, end: datetime) -> list[PromiseTally]:
    """Per agent and currency, the promises recorded from ``start`` to before ``end`` (aware), by
    agent and currency; amounts are summed within one currency only. One query."""
    from django.db.models import Count, Sum

    from .payments.models import PromiseToPay

    rows = (PromiseToPay.objects.filter(agent_id__in=list(agent_ids), created_at__gte=start, created_at__lt=end)
            .values("agent_id", "currency").annotate(n=Count("pk"), amount=Sum("amount"))
            .order_by("agent_id", "currency"))
    return [PromiseTally(r["agent_id"], r["currency"], r["n"], r["amount"]) for r in rows]



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

# ---------------------------------------------------------------- re-exported for other contexts
# (presentation helpers, the data scope, services another context calls as they are)
from .payments.selectors import credits_since_extract, explain_account  # noqa: E402,F401
from .payments.services import PaymentError, take_promise  # noqa: E402,F401
from .payments.services import evaluate_promises  # noqa: E402,F401
from .servicing.services import evaluate_plans, evaluate_settlements  # noqa: E402,F401

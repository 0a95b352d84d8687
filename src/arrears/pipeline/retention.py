"""The retention purge of personal data (``arrears purge``): it crosses contexts, so it lives here.

The policy is the audit context's (:mod:`arrears.contexts.audit.retention`: data classes, legal
floors). With ``closed_case_personal_data`` days, the personal data of a customer with no open case
is erased that many days after their latest case closed: the casework context says who is due
(:func:`arrears.contexts.casework.facade.erasure_candidates`), the portfolio erases the customer's
and their contacts' personal fields after every context's registered eraser has run
(:func:`arrears.contexts.portfolio.facade.erase_customer_personal_data`), and the audit log gets
one ``retention.purge`` event per customer, then a summary event. The financial record (accounts,
statements, payments, bucket history, cases and their timeline) stays; the customer row stays with
its customer number, marked ``purged_at``.

:func:`plan` lists what would go as of a business date; :func:`purge` erases it, one transaction
per customer. Purging is idempotent: purged customers are skipped — unless a case opened on or
after the purge (the customer came back and their data was loaded again), whose closure starts a
new retention period.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from arrears.contexts.audit import facade as audit
from arrears.contexts.casework import facade as casework
from arrears.contexts.portfolio import facade as portfolio

#: what a purged customer's name becomes (every other personal field becomes empty)
ERASED_NAME = portfolio.ERASED_NAME
CLOSED_CASE_PII = audit.CLOSED_CASE_PII


@dataclass(frozen=True)
class PurgeItem:
    customer_id: int
    external_id: str
    data_class: str
    last_closed_on: date
    days_since_close: int
    reason: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["last_closed_on"] = self.last_closed_on.isoformat()
        return d


@dataclass
class PurgeResult:
    as_of: date
    dry_run: bool
    policy: dict
    items: list[PurgeItem]
    purged: int = 0
    contacts_erased: int = 0
    skipped: int = 0

    def summary(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "policy": self.policy,
            "count": len(self.items),
            "purged": self.purged,
            "contacts_erased": self.contacts_erased,
            "skipped": self.skipped,
            "items": [i.as_dict() for i in self.items],
        }


def plan(as_of: date | None = None) -> list[PurgeItem]:
    """The customers whose personal data is due for erasure as of ``as_of`` (default: today in
    the business time zone), oldest closure first."""
    as_of = as_of or timezone.localdate()
    days = audit.retention_policy()[CLOSED_CASE_PII]
    return [
        PurgeItem(
            customer_id=c.customer_id, external_id=c.external_id, data_class=CLOSED_CASE_PII,
            last_closed_on=c.last_closed_on, days_since_close=(as_of - c.last_closed_on).days,
            reason=f"no open case; latest case closed {c.last_closed_on.isoformat()}, "
                   f"{(as_of - c.last_closed_on).days} days before {as_of.isoformat()} (retention {days} days)",
        )
        for c in casework.erasure_candidates(as_of - timedelta(days=days))
    ]


def purge(
    as_of: date | None = None, *, dry_run: bool = False, actor=None, reason: str = "",
    progress: Callable[[str], None] | None = None,
) -> PurgeResult:
    """Erase the personal data :func:`plan` lists (or only list it with ``dry_run``)."""
    as_of = as_of or timezone.localdate()
    p = audit.retention_policy()
    items = plan(as_of)
    result = PurgeResult(as_of=as_of, dry_run=dry_run, policy=p, items=items)
    if dry_run:
        return result
    days = p[CLOSED_CASE_PII]
    cutoff = as_of - timedelta(days=days)
    for n, item in enumerate(items, 1):
        with transaction.atomic():
            # re-check inside the transaction: a case may have opened since the plan was made
            if not portfolio.lock_customer(item.customer_id) or not casework.erasure_candidates(
                    cutoff, customer_id=item.customer_id):
                result.skipped += 1
                continue
            customer_fields, contact_fields, erased_contacts = portfolio.erase_customer_personal_data(
                item.customer_id, timezone.now())
            audit.record_audit_event(
                "retention.purge", actor=actor, obj=(portfolio.CUSTOMER_OBJECT_TYPE, item.customer_id),
                reason=reason or item.reason,
                data={
                    "data_class": CLOSED_CASE_PII,
                    "as_of": as_of.isoformat(),
                    "last_closed_on": item.last_closed_on.isoformat(),
                    "retention_days": days,
                    "customer_fields": customer_fields,
                    "contact_fields": contact_fields,
                    "contacts": erased_contacts,
                },
            )
        result.purged += 1
        result.contacts_erased += erased_contacts
        if progress and n % 500 == 0:
            progress(f"{n:,}/{len(items):,} customers purged")
    audit.record_audit_event(
        "retention.purge", actor=actor, reason=reason or "retention run",
        data={
            "summary": True, "as_of": as_of.isoformat(), "policy": p, "customers": result.purged,
            "contacts": result.contacts_erased, "skipped": result.skipped,
        },
    )
    return result

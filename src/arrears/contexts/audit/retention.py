"""Retention per data class (``settings.ARREARS_RETENTION``) and the purge of personal data.

Data classes (days):

- ``call_recordings``: collection call recordings, kept at least :data:`MIN_CALL_RECORDING_DAYS`
  (2011 商业银行信用卡业务监督管理办法 Art. 68 requires keeping collection recordings for at least
  two years). A shorter setting refuses to start (:func:`check_settings`). Arrears stores no
  recordings itself yet; anything that purges them must use :func:`policy` and this floor.
- ``audit_events``: the audit log is kept, never purged (must be ``None``).
- ``closed_case_personal_data``: the personal data of a customer with no open case is erased
  this many days after their latest case closed. The financial record (accounts, statements,
  payments, bucket history, cases and their timeline) stays; the customer row stays with its
  customer number, marked ``purged_at``.

:func:`plan` lists what would go as of a business date; :func:`purge` erases it through the ORM
(so encrypted fields and their lookup hashes stay consistent), one transaction and one
``retention.purge`` audit event per customer, then a summary event. Purging is idempotent:
purged customers are skipped — unless a case opened on or after the purge (the customer came
back and their data was loaded again), whose closure starts a new retention period.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

#: 2011 商业银行信用卡业务监督管理办法 Art. 68: collection recordings kept at least 2 years.
MIN_CALL_RECORDING_DAYS = 730
DEFAULTS = {"call_recordings": 730, "audit_events": None, "closed_case_personal_data": 1826}

CLOSED_CASE_PII = "closed_case_personal_data"
#: What the name becomes (the field is required); every other personal field becomes empty.
ERASED_NAME = "（已清除）"
#: Personal fields erased, per model (value written through the ORM).
CUSTOMER_ERASE = {"name": ERASED_NAME, "national_id": "", "birth_date": None}
CONTACT_ERASE = {"value": "", "party_name": "", "latitude": None, "longitude": None}


def policy() -> dict:
    """The validated retention policy: ``{data class: days or None}``."""
    configured = getattr(settings, "ARREARS_RETENTION", None) or {}
    return validate({**DEFAULTS, **configured})


def validate(p: dict) -> dict:
    """Check a retention policy; raise :class:`ImproperlyConfigured` with the reason."""
    unknown = sorted(set(p) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION: unknown data class(es) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}"
        )
    rec = p["call_recordings"]
    if not isinstance(rec, int) or isinstance(rec, bool) or rec < MIN_CALL_RECORDING_DAYS:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['call_recordings'] = {rec!r} days is below the legal minimum of "
            f"{MIN_CALL_RECORDING_DAYS} days: collection call recordings must be kept at least 2 years "
            "(2011 商业银行信用卡业务监督管理办法 第六十八条). "
            f"Set ARREARS_RETENTION_CALL_RECORDINGS_DAYS to {MIN_CALL_RECORDING_DAYS} or more."
        )
    if p["audit_events"] is not None:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['audit_events'] = {p['audit_events']!r}: the audit log is append-only and kept; "
            "it must be None (never purged)."
        )
    pii = p[CLOSED_CASE_PII]
    if not isinstance(pii, int) or isinstance(pii, bool) or pii < 1:
        raise ImproperlyConfigured(
            f"ARREARS_RETENTION['{CLOSED_CASE_PII}'] = {pii!r}: a positive number of days is required "
            "(ARREARS_RETENTION_CLOSED_CASE_PII_DAYS)."
        )
    return dict(p)


def check_settings() -> None:
    """Called at startup (``AuditConfig.ready``): refuse to run with an unlawful policy."""
    policy()


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


def _eligible(as_of: date, days: int):
    from arrears.contexts.casework.models import CLOSED, Case
    from arrears.contexts.portfolio.models import Customer

    open_case = Case.objects.filter(customer=OuterRef("pk")).filter(Q(closed_on__isnull=True) | ~Q(status__in=CLOSED))
    # not purged yet, or purged before a later case (the customer came back and the card system
    # sent their data again): that case's closure starts a new retention period
    purged_since = Case.objects.filter(customer=OuterRef("pk"), opened_on__gte=OuterRef("purged_at__date"))
    return (
        Customer.objects.filter(cases__isnull=False)
        .filter(Q(purged_at__isnull=True) | Exists(purged_since))
        .exclude(Exists(open_case))
        .annotate(last_closed_on=Max("cases__closed_on"))
        .filter(last_closed_on__lt=as_of - timedelta(days=days))
    )


def plan(as_of: date | None = None) -> list[PurgeItem]:
    """The customers whose personal data is due for erasure as of ``as_of`` (default: today in
    the business time zone), oldest closure first."""
    as_of = as_of or timezone.localdate()
    days = policy()[CLOSED_CASE_PII]
    rows = _eligible(as_of, days).order_by("last_closed_on", "pk").values_list("pk", "external_id", "last_closed_on")
    return [
        PurgeItem(
            customer_id=pk, external_id=ext, data_class=CLOSED_CASE_PII, last_closed_on=closed,
            days_since_close=(as_of - closed).days,
            reason=f"no open case; latest case closed {closed.isoformat()}, {(as_of - closed).days} days before "
                   f"{as_of.isoformat()} (retention {days} days)",
        )
        for pk, ext, closed in rows
    ]


def purge(
    as_of: date | None = None, *, dry_run: bool = False, actor=None, reason: str = "",
    progress: Callable[[str], None] | None = None,
) -> PurgeResult:
    """Erase the personal data :func:`plan` lists (or only list it with ``dry_run``)."""
    from arrears.contexts.portfolio.models import Customer

    from .services import record

    as_of = as_of or timezone.localdate()
    p = policy()
    items = plan(as_of)
    result = PurgeResult(as_of=as_of, dry_run=dry_run, policy=p, items=items)
    if dry_run:
        return result
    days = p[CLOSED_CASE_PII]
    for n, item in enumerate(items, 1):
        with transaction.atomic():
            # re-check inside the transaction: a case may have opened since the plan was made
            customer = Customer.objects.select_for_update().filter(pk=item.customer_id).first()
            if customer is None or not _eligible(as_of, days).filter(pk=customer.pk).exists():
                result.skipped += 1
                continue
            erased_contacts = _erase(customer)
            record(
                "retention.purge", actor=actor, obj=customer, reason=reason or item.reason,
                data={
                    "data_class": CLOSED_CASE_PII,
                    "as_of": as_of.isoformat(),
                    "last_closed_on": item.last_closed_on.isoformat(),
                    "retention_days": days,
                    "customer_fields": sorted(CUSTOMER_ERASE),
                    "contact_fields": sorted(CONTACT_ERASE),
                    "contacts": erased_contacts,
                },
            )
        result.purged += 1
        result.contacts_erased += erased_contacts
        if progress and n % 500 == 0:
            progress(f"{n:,}/{len(items):,} customers purged")
    record(
        "retention.purge", actor=actor, reason=reason or "retention run",
        data={
            "summary": True, "as_of": as_of.isoformat(), "policy": p, "customers": result.purged,
            "contacts": result.contacts_erased, "skipped": result.skipped,
        },
    )
    return result


#: Other apps' personal data about a customer (visit notes, photos, positions …): name → function
#: ``erase(customer) -> int`` (records erased), run by :func:`_erase` in the purge's transaction.
ERASERS: dict[str, Callable] = {}


def register_eraser(name: str, fn: Callable) -> None:
    """Let an app erase its own personal data of a purged customer (call from ``AppConfig.ready``)."""
    ERASERS[name] = fn


def _erase(customer) -> int:
    """Overwrite the customer's personal fields and their contacts' (model ``save()``, so field
    encryption and lookup hashes are rewritten consistently), then run every registered eraser
    (:data:`ERASERS`). Returns the contacts erased."""
    for fn in ERASERS.values():
        fn(customer)
    for field, value in CUSTOMER_ERASE.items():
        setattr(customer, field, value)
    customer.purged_at = timezone.now()
    customer.save()
    n = 0
    for contact in customer.contacts.all():
        for field, value in CONTACT_ERASE.items():
            setattr(contact, field, value)
        contact.save()
        n += 1
    return n

"""Subject access (PIPL Art. 45): everything Arrears holds about one customer, as JSON-ready data.

:func:`subject_data` gathers the customer, their contacts, card accounts, statements, payments,
bucket history, cases and case timeline, every other record that points at one of those or at
such a record in turn (found through the model graph, so records added by later apps — visits,
legal referrals, service contacts — are included without changes here), and the audit events
about any of them.

Values: personal fields decrypted (the subject is entitled to them), amounts as strings with the
field's decimal places (``"1234.50"``), dates and times ISO 8601. Left out: blind-index hashes
(keyed hashes, meaningless outside the system) and references to staff user accounts, and in the
audit events the staff account, IP address and user agent (personal data of the staff; compliance
can look them up by event id).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Model, Q
from django.utils import timezone

FORMAT = "arrears.subject_export/1"


def _blind_index_types() -> tuple[type, ...]:
    try:
        from arrears.core.privacy.fields import BlindIndexField
    except ImportError:  # pragma: no cover - privacy package absent
        return ()
    return (BlindIndexField,)


def _is_user_fk(field) -> bool:
    return bool(field.is_relation and field.many_to_one and field.related_model is not None
                and field.related_model._meta.label == settings.AUTH_USER_MODEL)


def _value(field, value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return f"{value:.{places}f}" if places is not None else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def row(obj: Model) -> dict:
    """One model instance as a JSON-ready dict (see the module docstring for what is left out)."""
    skip = _blind_index_types()
    out: dict = {}
    for f in obj._meta.concrete_fields:
        if skip and isinstance(f, skip):
            continue
        if _is_user_fk(f):
            continue
        out[f.attname] = _value(f, getattr(obj, f.attname))
    return out


def _rows(qs) -> list[dict]:
    return [row(o) for o in qs.order_by("pk")]


def subject_data(customer) -> dict:
    """Everything held about ``customer`` (a :class:`~arrears.contexts.portfolio.models.Customer`)."""
    from arrears.contexts.audit.models import AuditEvent
    from arrears.contexts.casework.models import Case, CaseEvent
    from arrears.contexts.money.payments.models import Payment

    from .models import BucketHistory, CardAccount, Contact, Customer, Statement

    contacts = Contact.objects.filter(customer=customer)
    accounts = CardAccount.objects.filter(customer=customer)
    statements = Statement.objects.filter(account__customer=customer)
    payments = Payment.objects.filter(account__customer=customer)
    buckets = BucketHistory.objects.filter(account__customer=customer)
    cases = Case.objects.filter(customer=customer)
    case_events = CaseEvent.objects.filter(case__customer=customer)

    doc = {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "customer": row(customer),
        "contacts": _rows(contacts),
        "accounts": _rows(accounts),
        "statements": _rows(statements),
        "payments": _rows(payments),
        "bucket_history": _rows(buckets),
        "cases": _rows(cases),
        "case_events": _rows(case_events),
    }
    # ids of every object about the customer, by model label (for the related records and audit)
    ids: dict[str, set] = {
        Customer._meta.label_lower: {customer.pk},
        Contact._meta.label_lower: {r["id"] for r in doc["contacts"]},
        CardAccount._meta.label_lower: {r["id"] for r in doc["accounts"]},
        Statement._meta.label_lower: {r["id"] for r in doc["statements"]},
        Payment._meta.label_lower: {r["id"] for r in doc["payments"]},
        BucketHistory._meta.label_lower: {r["id"] for r in doc["bucket_history"]},
        Case._meta.label_lower: {r["id"] for r in doc["cases"]},
        CaseEvent._meta.label_lower: {r["id"] for r in doc["case_events"]},
    }
    core = (Customer, Contact, CardAccount, Statement, Payment, BucketHistory, Case, CaseEvent)
    roots = {m: ids[m._meta.label_lower] for m in core}
    covered = {*core, AuditEvent}
    # records of other apps pointing at any of these, and records pointing at those, and so on
    related: dict[str, list[dict]] = {}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model in covered:
                continue
            q = Q()
            for f in model._meta.concrete_fields:
                if f.is_relation and f.many_to_one and roots.get(f.related_model):
                    q |= Q(**{f"{f.attname}__in": roots[f.related_model]})
            if not q:
                continue
            qs = model._default_manager.filter(q).distinct()
            found_ids = set(qs.values_list("pk", flat=True))
            if found_ids and found_ids != roots.get(model):
                changed = True  # new rows: look again for records pointing at them
                related[model._meta.label_lower] = _rows(qs)
                ids[model._meta.label_lower] = roots[model] = found_ids
    doc["related"] = dict(sorted(related.items()))

    about = Q()
    for label, pks in ids.items():
        if pks:
            about |= Q(object_type=label, object_id__in=[str(pk) for pk in pks])
    doc["audit_events"] = [
        {"id": e.id, "at": e.at.isoformat(), "action": e.action, "object_type": e.object_type,
         "object_id": e.object_id, "reason": e.reason, "data": e.data}
        for e in AuditEvent.objects.filter(about).order_by("id")
    ]
    doc["counts"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    doc["counts"]["related"] = {k: len(v) for k, v in related.items()}
    return doc

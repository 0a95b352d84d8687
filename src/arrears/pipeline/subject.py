"""Subject access (PIPL Art. 45): everything Arrears holds about one customer, as JSON-ready data.

:func:`subject_data` gathers, through each context's facade, the customer, their contacts, card
accounts, statements and bucket history (portfolio), payments (money), cases and case timeline
(casework); then every other record that points at one of those or at such a record in turn (found
through the model graph, :func:`arrears.core.privacy.export.related_rows`, so records added by later
apps — visits, legal referrals, service contacts — are included without changes here); and the
audit events about any of them (audit).

Values: personal fields decrypted (the subject is entitled to them), amounts as strings with the
field's decimal places (``"1234.50"``), dates and times ISO 8601. Left out: blind-index hashes
(keyed hashes, meaningless outside the system) and references to staff user accounts, and in the
audit events the staff account, IP address and user agent (personal data of the staff; compliance
can look them up by event id).
"""
from __future__ import annotations

from django.utils import timezone

from arrears.contexts.audit import facade as audit
from arrears.contexts.casework import facade as casework
from arrears.contexts.money import facade as money
from arrears.contexts.portfolio import facade as portfolio
from arrears.core.privacy.export import related_rows

FORMAT = "arrears.subject_export/1"
#: the sections of the document, in order, with the context that holds each
SECTIONS = ("contacts", "accounts", "statements", "payments", "bucket_history", "cases", "case_events")


def subject_data(customer_id: int) -> dict:
    """Everything held about the customer with database id ``customer_id``."""
    parts: dict = {}
    labels: dict[str, str] = {}
    for part in (portfolio.subject_records(customer_id), money.subject_records(customer_id),
                 casework.subject_records(customer_id)):
        labels.update(part.pop("_labels"))
        parts.update(part)
    doc = {"format": FORMAT, "generated_at": timezone.now().isoformat(), "customer": parts["customer"],
           **{name: parts[name] for name in SECTIONS}}
    # ids of every object about the customer, by model label (for the related records and audit)
    roots = {labels["customer"]: {customer_id}, **{labels[name]: {r["id"] for r in doc[name]} for name in SECTIONS}}
    related, ids = related_rows(roots, covered={*roots, *audit.AUDIT_MODEL_LABELS})
    doc["related"] = related
    doc["audit_events"] = audit.events_about(ids)
    doc["counts"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    doc["counts"]["related"] = {k: len(v) for k, v in related.items()}
    return doc

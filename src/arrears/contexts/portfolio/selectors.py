"""Portfolio reads: exact search on personal data through the blind indexes.

Personal data is encrypted at rest, so it cannot be searched with ``WHERE``; these selectors
compute the keyed hash of the normalised search term under every key of the ring (search keeps
working during a key rotation) and match the indexed hash columns. They return querysets of
:class:`~.models.Customer` without any data-scope filtering: intersect them with the caller's
scope before showing anything.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from arrears.core.privacy.crypto import PHONE_KINDS

from .models import Contact, Customer


def find_customers_by_phone(phone: str, *, parties: Iterable[str] | None = None) -> QuerySet[Customer]:
    """Customers with a contact phone number equal to ``phone`` (mobile, home or work).

    ``138 1234 5678``, ``+86 138-1234-5678`` and ``008613812345678`` are the same number. By
    default every party counts (the debtor, guarantors, emergency contacts); ``parties`` (e.g.
    ``[Contact.Party.DEBTOR]``) narrows the match. No customers for a term without digits.
    """
    field = Contact._meta.get_field("value_hash")
    hashes = field.lookup_values(phone, Contact.Kind.MOBILE)
    if not hashes:
        return Customer.objects.none()
    contacts = Contact.objects.filter(value_hash__in=hashes, kind__in=sorted(PHONE_KINDS))
    if parties is not None:
        contacts = contacts.filter(party__in=list(parties))
    return Customer.objects.filter(pk__in=contacts.values("customer_id"))


def find_customers_by_national_id(national_id: str) -> QuerySet[Customer]:
    """Customers whose national ID number (身份证号) is ``national_id`` (case and spaces ignored)."""
    hashes = Customer._meta.get_field("national_id_hash").lookup_values(national_id)
    if not hashes:
        return Customer.objects.none()
    return Customer.objects.filter(national_id_hash__in=hashes)

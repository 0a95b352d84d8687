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
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.core.privacy.crypto import PHONE_KINDS

from .models import CardAccount, Contact, Customer


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


# ---------------------------------------------------------------------------------------------
# for other contexts, through the facade (the case page, search, the daily run, subject access)
# ---------------------------------------------------------------------------------------------

_PHONE_KINDS = {Contact.Kind.MOBILE, Contact.Kind.HOME_PHONE, Contact.Kind.WORK_PHONE}
_ADDRESS_KINDS = {Contact.Kind.HOME_ADDRESS, Contact.Kind.WORK_ADDRESS}


def mask_contact_value(kind: str, value: str) -> str:
    """Mask a contact value by its kind (phone, e-mail or address)."""
    from arrears.domain.masking import mask_address, mask_email, mask_name, mask_phone

    if kind in _PHONE_KINDS:
        return mask_phone(value)
    if kind == Contact.Kind.EMAIL:
        return mask_email(value)
    if kind in _ADDRESS_KINDS:
        return mask_address(value)
    return mask_name(value)  # unknown kind: show as little as a name


def customer_ids_matching(term: str, *, limit: int = 100) -> set[int]:
    """See :func:`arrears.contexts.portfolio.facade.customer_ids_matching`. Exact matches only, each
    on a unique index or a keyed hash (no ``LIKE`` scan over millions of rows)."""
    q = term.strip()
    if not q:
        return set()
    ids = set(Customer.objects.filter(external_id=q).values_list("pk", flat=True))
    ids |= set(CardAccount.objects.filter(external_id=q).values_list("customer_id", flat=True))
    # a phone number or 身份证号 matches through its keyed hash (the values are encrypted)
    digits = q.replace(" ", "").replace("-", "")
    if digits[:1] == "+" or digits.isdigit() or (len(digits) == 18 and digits[:17].isdigit()):
        ids |= set(find_customers_by_phone(digits).values_list("pk", flat=True)[:limit])
        if len(digits) == 18:
            ids |= set(find_customers_by_national_id(digits).values_list("pk", flat=True)[:limit])
    return ids


#: The relations to the debtor the extract names (docs/extract.md), in words of the page's
#: language; another relation is the extract's own text and is shown as given.
RELATION_LABELS = {"本人": pgettext_lazy("relation", "本人"), "配偶": _("配偶"), "父亲": _("父亲"), "母亲": _("母亲"), "兄弟": _("兄弟"),
                   "姐妹": _("姐妹"), "子女": _("子女"), "朋友": _("朋友"), "同事": _("同事"), "亲属": _("亲属"),
                   "担保人": _("担保人")}


def relation_label(relation: str) -> str:
    """A contact's relation to the debtor in the page's language (``父亲`` → ``Father``)."""
    found = RELATION_LABELS.get((relation or "").strip())
    return str(found) if found is not None else (relation or "")


def _contact_record(c: Contact):
    from .facade import ContactRecord

    return ContactRecord(id=c.pk, customer_id=c.customer_id, kind=c.kind, kind_label=str(c.get_kind_display()),
                         party=c.party, party_label=str(c.get_party_display()), party_name=c.party_name,
                         relation=c.relation, value=c.value, district=c.district,
                         relation_label=relation_label(c.relation))


def customer_contacts(customer_id: int, *, contact_id: int | None = None) -> list:
    qs = Contact.objects.filter(customer_id=customer_id)
    if contact_id is not None:
        qs = qs.filter(pk=contact_id)
    return [_contact_record(c) for c in qs]


def customer_accounts(customer_id: int) -> list:
    from .facade import AccountRecord

    return [
        AccountRecord(
            id=a.pk, external_id=a.external_id, product_code=a.product_code, currency=a.currency,
            credit_limit=a.credit_limit, balance=a.balance, principal=a.principal, interest=a.interest, fees=a.fees,
            overdue_amount=a.overdue_amount, minimum_due=a.minimum_due, dpd=a.dpd, bucket=a.bucket,
            oldest_unpaid_due_date=a.oldest_unpaid_due_date, due_day=a.due_day, as_of_extract=a.as_of_extract,
            last_run_as_of=a.last_run_as_of,
        )
        for a in CardAccount.objects.filter(customer_id=customer_id).order_by("-dpd", "id")
    ]


def _latest_per_account(qs, date_field: str, n: int) -> dict[int, list]:
    """The latest ``n`` rows per account, newest first, in one query (a window function)."""
    from collections import defaultdict

    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    ranked = qs.annotate(
        _rank=Window(RowNumber(), partition_by=[F("account_id")], order_by=[F(date_field).desc(), F("id").desc()])
    ).filter(_rank__lte=n)
    out: dict[int, list] = defaultdict(list)
    for row in ranked.order_by("account_id", f"-{date_field}", "-id"):
        out[row.account_id].append(row)
    return out


def latest_statements(account_ids: list[int], n: int) -> dict[int, list]:
    from .facade import StatementRecord
    from .models import Statement

    rows = _latest_per_account(Statement.objects.filter(account_id__in=account_ids), "statement_date", n)
    return {aid: [StatementRecord(s.account_id, s.statement_date, s.due_date, s.closing_balance, s.minimum_due,
                                  s.delinquency_status) for s in ss] for aid, ss in rows.items()}


def latest_bucket_moves(account_ids: list[int], n: int) -> dict[int, list]:
    from .facade import BucketMoveRecord
    from .models import BucketHistory

    rows = _latest_per_account(BucketHistory.objects.filter(account_id__in=account_ids), "as_of", n)
    return {aid: [BucketMoveRecord(h.account_id, h.as_of, h.dpd, h.bucket, h.previous_bucket, h.roll,
                                   str(h.get_roll_display())) for h in hs] for aid, hs in rows.items()}


def read_accounts(as_of):
    """All card accounts with what the delinquency step needs (money as exact decimals), an Arrow
    table of :data:`arrears.engines.daily.ACCOUNT_SCHEMA`.

    ``prev_bucket`` is the bucket after the previous run *date*: when ``as_of`` was already run
    (a re-run, e.g. after a corrected extract), today's history row remembers it; ``stored_bucket``
    is what the database holds now; ``seen_today`` marks accounts with a history row for ``as_of``.
    """
    from arrears.core import dbio
    from arrears.engines.daily import ACCOUNT_SCHEMA

    from .models import BucketHistory

    t, h = CardAccount._meta.db_table, BucketHistory._meta.db_table
    return dbio.read_arrow(
        f"SELECT a.id AS account_id, a.customer_id, a.currency, CAST(a.balance AS TEXT) AS balance, "
        f"CAST(a.overdue_amount AS TEXT) AS overdue_amount, "
        f"CAST(a.oldest_unpaid_due_date AS TEXT) AS oldest_unpaid_due_date, "
        f"CASE WHEN h.id IS NOT NULL THEN NULLIF(h.previous_bucket, '') "
        f"     WHEN a.last_run_as_of IS NULL THEN NULL ELSE a.bucket END AS prev_bucket, "
        f"CASE WHEN a.last_run_as_of IS NULL THEN -1 ELSE a.dpd END AS prev_dpd, a.bucket AS stored_bucket, "
        f"CASE WHEN h.id IS NULL THEN 0 ELSE 1 END AS seen_today, CAST(a.as_of_extract AS TEXT) AS extract_date, "
        f"CAST(a.extract_overdue_amount AS TEXT) AS extract_overdue, "
        f"CAST(a.extract_oldest_unpaid_due_date AS TEXT) AS extract_oldest, "
        f"CAST(a.overdue_amount AS TEXT) AS prev_overdue, CAST(a.oldest_unpaid_due_date AS TEXT) AS prev_oldest "
        f"FROM {t} a LEFT JOIN {h} h ON h.account_id = a.id AND h.as_of = %s AND h.cause = 'daily_run'",
        [as_of],
        schema=ACCOUNT_SCHEMA,
    )


def read_statements():
    """The statements' minimums that can still be owed: due after the extract's oldest unpaid due
    date or on/after the extract date (``account_id, due_date, minimum_due``)."""
    from arrears.core import dbio
    from arrears.engines.daily import STATEMENT_SCHEMA

    from .models import Statement

    st, t = Statement._meta.db_table, CardAccount._meta.db_table
    return dbio.read_arrow(
        f"SELECT s.account_id, s.due_date, CAST(s.minimum_due AS TEXT) AS minimum_due "
        f"FROM {st} s JOIN {t} a ON a.id = s.account_id WHERE s.minimum_due > 0 AND "
        f"(s.due_date >= a.as_of_extract OR s.due_date > a.extract_oldest_unpaid_due_date)",
        schema=STATEMENT_SCHEMA,
    )


def subject_records(customer_id: int) -> dict:
    """See :func:`arrears.contexts.portfolio.facade.subject_records`."""
    from arrears.core.privacy.export import row, rows

    from .models import BucketHistory, Statement

    customer = Customer.objects.get(pk=customer_id)
    sections = {
        "contacts": Contact.objects.filter(customer_id=customer_id),
        "accounts": CardAccount.objects.filter(customer_id=customer_id),
        "statements": Statement.objects.filter(account__customer_id=customer_id),
        "bucket_history": BucketHistory.objects.filter(account__customer_id=customer_id),
    }
    out: dict = {"customer": row(customer), **{name: rows(qs) for name, qs in sections.items()}}
    out["_labels"] = {"customer": Customer._meta.label_lower,
                      **{name: qs.model._meta.label_lower for name, qs in sections.items()}}
    return out

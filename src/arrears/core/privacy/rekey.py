"""Rewriting stored personal data: key rotation and the migration that first encrypted it.

Works on any model with :class:`~arrears.core.privacy.fields.EncryptedTextField` columns (its typed
subclasses ``EncryptedDateField`` and ``EncryptedFloatField`` included; current or historical
models, as in a data migration), with raw SQL: rows whose encrypted columns are not all
under the current key ("stale": under an earlier key, or still plaintext before the first
migration) are read, decrypted, encrypted again under the current key and their blind indexes
recomputed, a batch of rows per short transaction. Readers are never blocked for long, and since
an earlier key stays in the ring (``ARREARS_PII_OLD_KEYS``) every row stays readable throughout.
Running it again finds nothing stale: it is idempotent and can be resumed after an interruption.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, models, transaction

from .crypto import DecryptionError, Keyring, keyring
from .fields import RowProtector, blind_index_fields, encrypted_fields


@dataclass
class TableReport:
    table: str
    #: Rows with at least one column not under the current key (before the rewrite).
    stale_rows: int = 0
    #: Rows rewritten.
    rewritten: int = 0
    #: Values not under the current key (a row holds one per non-empty encrypted column), by
    #: what they are under: a key id, or ``"plaintext"``.
    stale_values: dict[str, int] = field(default_factory=dict)


def protected_models() -> list[type[models.Model]]:
    """Every installed model with an encrypted column."""
    from django.apps import apps

    return [m for m in apps.get_models() if encrypted_fields(m)]


def _stale_condition(model, ring: Keyring, connection) -> tuple[str, list[str]]:
    qn = connection.ops.quote_name
    parts, params = [], []
    for f in encrypted_fields(model):
        c = qn(f.column)
        parts.append(f"({c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE %s)")
        params.append(ring.current.prefix + "%")
    return " OR ".join(parts), params


def count_stale(model, *, using: str = "default", ring: Keyring | None = None) -> TableReport:
    """What a rewrite of ``model`` would do, without doing it."""
    ring = ring or keyring()
    connection = connections[using]
    qn = connection.ops.quote_name
    table = model._meta.db_table
    report = TableReport(table)
    cond, params = _stale_condition(model, ring, connection)
    if not cond:
        return report
    by: Counter[str] = Counter()
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {qn(table)} WHERE {cond}", params)
        report.stale_rows = cur.fetchone()[0]
        for f in encrypted_fields(model):
            c = qn(f.column)
            cur.execute(
                f"SELECT SUBSTR({c}, 1, 12), COUNT(*) FROM {qn(table)} "
                f"WHERE {c} IS NOT NULL AND {c} <> '' AND {c} NOT LIKE %s GROUP BY SUBSTR({c}, 1, 12)",
                [ring.current.prefix + "%"],
            )
            for prefix, n in cur.fetchall():
                by[Keyring.key_id_of(prefix + "x") or "plaintext"] += n
    report.stale_values = dict(sorted(by.items()))
    return report


def rewrite(
    model,
    *,
    batch: int = 2000,
    using: str = "default",
    ring: Keyring | None = None,
    accept_plaintext: bool = False,
    progress: Callable[[TableReport], None] | None = None,
) -> TableReport:
    """Re-encrypt the stale rows of ``model`` under the current key and recompute their indexes.

    ``accept_plaintext``: a value that is not a ciphertext is taken as plaintext and encrypted
    (the migration that introduced encryption); otherwise it is an error. A value that *is* a
    ciphertext but does not decrypt (unknown key, altered) is always an error: nothing is guessed.
    """
    ring = ring or keyring()
    connection = connections[using]
    qn = connection.ops.quote_name
    table = model._meta.db_table
    enc = encrypted_fields(model)
    report = count_stale(model, using=using, ring=ring)
    report.stale_values = dict(report.stale_values)
    if not enc or not report.stale_rows:
        return report
    labels = {f.name: f.associated_data for f in enc}
    # The columns read: encrypted ones, then what the blind indexes need besides.
    names = [f.name for f in enc]
    for ix in blind_index_fields(model):
        names += [n for n in ix.needs if n not in names]
    protector = RowProtector(model, names)
    written = [*range(len(enc)), *range(len(names), len(names) + len(protector.extra_fields))]
    set_columns = [model._meta.get_field(n).column for n in (*names[: len(enc)], *protector.extra_fields)]
    select = ", ".join(qn(model._meta.get_field(n).column) for n in names)
    cond, params = _stale_condition(model, ring, connection)
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    pk = qn(model._meta.pk.column)
    sql = f"SELECT {pk}, {select} FROM {qn(table)} WHERE {pk} > %s AND ({cond}) ORDER BY {pk} LIMIT %s{lock}"
    update = f"UPDATE {qn(table)} SET {', '.join(f'{qn(c)} = %s' for c in set_columns)} WHERE {pk} = %s"

    def plain(name: str, value):
        if value is None or value == "" or name not in labels:
            return value
        if Keyring.key_id_of(value) is None:
            if accept_plaintext:
                return value
            raise DecryptionError(f"{table}.{name}: a stored value is not a ciphertext (run the migrations first)")
        return ring.decrypt(value, labels[name])

    last = 0
    while True:
        with transaction.atomic(using=using):
            with connection.cursor() as cur:
                cur.execute(sql, [last, *params, batch])
                rows = cur.fetchall()
                if not rows:
                    break
                out = []
                for row_id, *values in rows:
                    try:
                        clear = [plain(n, v) for n, v in zip(names, values)]
                    except DecryptionError as exc:
                        raise DecryptionError(f"{table} id {row_id}: {exc}") from None
                    protected = protector.protect(clear)
                    out.append((*(protected[i] for i in written), row_id))
                cur.executemany(update, out)
        last = rows[-1][0]
        report.rewritten += len(rows)
        if progress is not None:
            progress(report)
    return report


def decrypt_all(model, *, using: str = "default", batch: int = 2000) -> int:
    """Write every encrypted column of ``model`` back as plaintext and empty its blind indexes
    (reversing the migration that introduced encryption). Returns the rows rewritten."""
    ring = keyring()
    connection = connections[using]
    qn = connection.ops.quote_name
    table = model._meta.db_table
    enc = encrypted_fields(model)
    if not enc:
        return 0
    cols = [qn(f.column) for f in enc]
    hashes = [qn(f.column) for f in blind_index_fields(model)]
    sets = ", ".join([*(f"{c} = %s" for c in cols), *(f"{h} = ''" for h in hashes)])
    pk = qn(model._meta.pk.column)
    n = last = 0
    while True:
        with transaction.atomic(using=using), connection.cursor() as cur:
            cur.execute(
                f"SELECT {pk}, {', '.join(cols)} FROM {qn(table)} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, batch]
            )
            rows = cur.fetchall()
            if not rows:
                return n
            out = []
            for row_id, *values in rows:
                out.append((*(
                    v if v is None or v == "" or Keyring.key_id_of(v) is None else ring.decrypt(v, f.associated_data)
                    for f, v in zip(enc, values)
                ), row_id))
            cur.executemany(f"UPDATE {qn(table)} SET {sets} WHERE {pk} = %s", out)
        last = rows[-1][0]
        n += len(rows)

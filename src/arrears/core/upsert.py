"""Upsert of an extract's rows on their natural key: new rows inserted, changed rows updated,
identical rows left alone (so loading the same extract twice changes nothing). Bulk, through
:mod:`arrears.core.dbio`; personal fields are encrypted with their blind indexes
(:class:`~arrears.core.privacy.fields.RowProtector`). Used by each context that loads its part of a
card-system extract (the portfolio's customers, contacts, accounts and statements; the money
context's payments)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from arrears.core import dbio
from arrears.core.privacy.fields import RowProtector


def upsert_rows(
    model: type[models.Model],
    key: tuple[str, ...],
    fields: tuple[str, ...],
    incoming: Iterable[dict[str, Any]],
    insert_defaults: dict[str, Any] | None = None,
) -> tuple[int, int, int]:
    """Insert new and update changed rows of ``model`` matched on ``key`` (model field names,
    ``*_id`` for foreign keys). Returns ``(inserted, updated, unchanged)``.

    Rows are compared in plaintext (existing encrypted values are decrypted on reading); what is
    written goes through a :class:`~arrears.core.privacy.fields.RowProtector`: encrypted fields are
    encrypted and their blind indexes appended. Call inside the caller's transaction."""
    protector = RowProtector(model, fields)
    existing = {
        tuple(r[:len(key)]): (r[len(key)], tuple(r[len(key) + 1:]))
        for r in model.objects.values_list(*key, "id", *fields).iterator(chunk_size=20_000)
    }
    new_rows, changed = [], []
    unchanged = 0
    for row in incoming:
        k = tuple(row[f] for f in key)
        values = tuple(row[f] for f in fields)
        found = existing.get(k)
        if found is None:
            new_rows.append(k + protector.protect(values))
        elif found[1] != values:
            changed.append((found[0], *protector.protect(values)))
        else:
            unchanged += 1
    defaults = insert_defaults or {}
    table = model._meta.db_table
    written = (*fields, *protector.extra_fields)
    columns = [model._meta.get_field(f).column for f in (*key, *written)]
    dbio.bulk_insert(table, [*columns, *defaults.keys()], (r + tuple(defaults.values()) for r in new_rows))
    dbio.bulk_update(table, "id", [model._meta.get_field(f).column for f in written], changed)
    return len(new_rows), len(changed), unchanged

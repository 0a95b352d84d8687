"""Bulk movement of rows between the database of record and the vectorised engine.

One mechanism for every bulk write of the project (intake, daily run, benchmark set-up): rows go
in with ``COPY … FROM STDIN`` on PostgreSQL (below :data:`SMALL` rows — a request's timeline
event — one pipelined ``executemany`` INSERT instead: a COPY costs extra round trips) and
``executemany`` inside the caller's transaction on SQLite; updates go through a temporary table and one ``UPDATE … FROM`` statement (SQLite ≥ 3.33
and PostgreSQL both support it). Never a row-at-a-time ORM save.

Values: ``Decimal`` for money, ``datetime.date`` for dates, aware ``datetime`` for instants, or
``None``. On SQLite dates and instants are written as ISO text (what Django stores there).
"""
from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from django.db import connection

BATCH = 20_000
#: below this many rows :func:`bulk_insert` uses ``executemany`` INSERT (psycopg pipelines it) on
#: PostgreSQL, not ``COPY`` (a ``COPY`` costs extra round trips: worth it for a batch, not for a
#: request's one event)
SMALL = 64


def vendor() -> str:
    """``"postgresql"`` or ``"sqlite"``."""
    return connection.vendor


def db_value(v: Any) -> Any:
    """``v`` as a bulk write stores it: on SQLite a date or datetime as the text its adapter writes
    (``isoformat()`` / ``isoformat(" ")``, the offset kept), a ``Decimal`` as ``str``; on PostgreSQL
    ``v`` itself. For a value repeated on every row of a large write (the run date, the write's
    time): adapted once, not once per row."""
    if vendor() == "postgresql":
        return v
    if isinstance(v, datetime):
        return v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


#: rows after which a PostgreSQL bulk insert refreshes the table's planner statistics
ANALYZE_AFTER = 20_000


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns the row count.

    Must run inside the caller's transaction (``transaction.atomic``) so a failure leaves nothing.
    ``rows`` must not read from the database while it is consumed (on PostgreSQL the connection
    is busy with the ``COPY``): materialise such reads first.
    """
    cols = ", ".join(columns)
    n = 0
    with connection.cursor() as cur:
        if vendor() == "postgresql":
            it = iter(rows)
            head = list(itertools.islice(it, SMALL))
            if len(head) < SMALL:  # a few rows (a timeline event of a request): no COPY
                if head:
                    cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})",
                                    head)
                return len(head)
            raw = cur.cursor  # psycopg 3 cursor
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in itertools.chain(head, it):
                    copy.write_row(row)
                    n += 1
            if n >= ANALYZE_AFTER:
                # fresh statistics after a bulk load: the planner must not join a table it still
                # believes empty (a nested loop over a million rows stalled the daily run)
                cur.execute(f"ANALYZE {table}")
        else:
            sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
            it = iter(rows)
            while chunk := list(itertools.islice(it, BATCH)):
                # dates, aware datetimes and Decimals go through the adapters Django's SQLite backend
                # registers (``isoformat`` / ``isoformat(" ")`` / ``str``): no per-cell conversion here
                cur.executemany(sql, chunk)
                n += len(chunk)
    return n


def bulk_insert_arrow(table: str, data: pa.Table) -> int:
    """Insert an Arrow table whose column names are the target's column names."""
    return bulk_insert(table, data.column_names, iter_arrow_rows(data))


def iter_arrow_rows(data: pa.Table) -> Iterable[tuple]:
    """Yield the rows of an Arrow table as Python tuples, batch by batch (bounded memory)."""
    for batch in data.to_batches(max_chunksize=BATCH):
        cols = [c.to_pylist() for c in batch.columns]
        yield from zip(*cols)


def bulk_update(table: str, key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Set ``columns`` of ``table`` for each row ``(key_value, *column_values)``; returns rows given.

    Uses a temporary table typed like the target and a single ``UPDATE … FROM``.
    """
    tmp = f"tmp_upd_{table}"
    cols = [key, *columns]
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
        cur.execute(f"CREATE TEMP TABLE {tmp} AS SELECT {', '.join(cols)} FROM {table} WHERE 1 = 0")
    n = bulk_insert(tmp, cols, rows)
    if n:
        sets = ", ".join(f"{c} = {tmp}.{c}" for c in columns)
        with connection.cursor() as cur:
            if vendor() == "postgresql":
                cur.execute(f"ANALYZE {tmp}")
            cur.execute(f"UPDATE {table} SET {sets} FROM {tmp} WHERE {table}.{key} = {tmp}.{key}")
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    return n


def read_arrow(sql: str, params: Sequence[Any] = (), schema: pa.Schema | None = None) -> pa.Table:
    """Run a query and return its result as an Arrow table.

    On PostgreSQL the result streams through ``COPY (…) TO STDOUT`` as CSV; on SQLite through the
    cursor. ``schema`` (column names → Arrow types) types the result; money should be selected as
    text (``CAST(x AS TEXT)``) and typed ``decimal128(16, 2)`` so it stays exact. Dates may be
    selected as text too (ISO ``YYYY-MM-DD``, typed ``date32``): on SQLite that skips the backend's
    parsing of each value.
    """
    with connection.cursor() as cur:
        if vendor() == "postgresql":
            raw = cur.cursor
            q = raw.mogrify(sql, params) if params else sql
            buf = io.BytesIO()
            with raw.copy(f"COPY ({q}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for block in copy:
                    buf.write(block)
            buf.seek(0)
            import pyarrow.csv as pacsv

            names = schema.names if schema is not None else None
            convert = pacsv.ConvertOptions(
                column_types={f.name: f.type for f in schema} if schema is not None else None,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t", "true", "1"],  # PostgreSQL writes booleans as t / f in CSV
                false_values=["f", "false", "0"],
            )
            t = pacsv.read_csv(buf, convert_options=convert)
            return t.select(names) if names else t
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return pa.table({name: _sqlite_array(list(columns[i]), schema.field(name).type if schema is not None else None)
                     for i, name in enumerate(names)})


def _sqlite_array(values: list, typ: pa.DataType | None) -> pa.Array:
    """One SQLite result column as an Arrow array of ``typ``: money selected as text and ISO dates
    are typed by Arrow's casts (whole columns at once); a column of other Python values falls back
    to converting value by value. Raises ``pyarrow.ArrowInvalid`` when a value does not fit
    ``typ`` (a money text with more decimals than its scale)."""
    if typ is None:
        return pa.array(values)
    try:
        if pa.types.is_decimal(typ):
            return pa.array(values, type=pa.string()).cast(typ)
        if pa.types.is_date(typ):
            try:
                return pa.array(values, type=typ)  # dates the backend already parsed (a date column)
            except (pa.ArrowTypeError, TypeError):
                return pa.array(values, type=pa.string()).cast(typ)  # dates selected as ISO text
        if pa.types.is_boolean(typ):
            return pa.array(values, type=pa.int64()).cast(typ)
        return pa.array(values, type=typ)
    except (pa.ArrowTypeError, TypeError):
        pass
    if pa.types.is_decimal(typ):
        values = [None if v is None else Decimal(str(v)) for v in values]
    elif pa.types.is_boolean(typ):
        values = [None if v is None else bool(v) for v in values]
    elif pa.types.is_date(typ):
        values = [None if v is None else (v if isinstance(v, date) else date.fromisoformat(v)) for v in values]
    return pa.array(values, type=typ)

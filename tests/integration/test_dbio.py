"""The database I/O the daily run rests on (``arrears.core.dbio``), on the suite's database
(SQLite, or PostgreSQL when ``ARREARS_DATABASE_URL`` names one): rows written and read back keep
their exact money, dates and aware datetimes; a money value with more decimals than its scale is
refused, not rounded."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import connection, transaction

from arrears.core import dbio

pytestmark = pytest.mark.django_db

SCHEMA = pa.schema([("id", pa.int64()), ("amount", pa.decimal128(16, 2)), ("due", pa.date32()),
                    ("flag", pa.bool_()), ("note", pa.string())])


@pytest.fixture
def table():
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE t_dbio (id integer PRIMARY KEY, amount numeric(16, 2), due date, "
                    "flag boolean, note text, at timestamp with time zone)")
    yield "t_dbio"
    with connection.cursor() as cur:
        cur.execute("DROP TABLE t_dbio")


def _read(sql="SELECT id, CAST(amount AS TEXT) AS amount, due, flag, note FROM t_dbio ORDER BY id"):
    return dbio.read_arrow(sql, schema=SCHEMA).to_pylist()


def test_money_dates_and_flags_round_trip_exactly(table):
    at = datetime(2026, 12, 1, 16, 30, tzinfo=timezone.utc)
    rows = [(1, Decimal("12.30"), date(2026, 1, 2), True, "一", at), (2, Decimal("-0.01"), None, False, None, None),
            (3, Decimal("100"), date(2024, 2, 29), None, "", at), (4, None, date(2026, 12, 31), True, "x", None)]
    with transaction.atomic():
        assert dbio.bulk_insert(table, ("id", "amount", "due", "flag", "note", "at"), iter(rows)) == 4
    got = _read()
    assert [(r["id"], r["amount"], r["due"], r["flag"], r["note"]) for r in got] == [
        (1, Decimal("12.30"), date(2026, 1, 2), True, "一"), (2, Decimal("-0.01"), None, False, None),
        (3, Decimal("100.00"), date(2024, 2, 29), None, ""), (4, None, date(2026, 12, 31), True, "x")]
    with connection.cursor() as cur:  # the aware datetime is the same instant after the write
        cur.execute("SELECT at FROM t_dbio WHERE id = 1")
        stored = cur.fetchone()[0]
    stored = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    assert stored == at


def test_values_not_in_the_documented_form_are_still_typed(table):
    """Money selected without the text cast, dates computed by an expression: the slow path."""
    with transaction.atomic():
        dbio.bulk_insert(table, ("id", "amount", "due", "flag", "note"), [(1, Decimal("5"), date(2026, 3, 1), True, "")])
    got = dbio.read_arrow("SELECT id, amount, CAST(due AS TEXT) AS due, flag, note FROM t_dbio", schema=SCHEMA)
    assert got.to_pylist()[0] | {"note": ""} == {"id": 1, "amount": Decimal("5.00"), "due": date(2026, 3, 1),
                                                  "flag": True, "note": ""}


def test_money_with_more_decimals_than_its_scale_is_refused_not_rounded(table):
    with pytest.raises(pa.ArrowInvalid):
        dbio.read_arrow("SELECT 1 AS id, '1.234' AS amount, NULL AS due, NULL AS flag, NULL AS note",
                        schema=SCHEMA)


def test_a_value_adapted_once_is_stored_as_the_per_row_value_would_be(table):
    """``db_value`` (a run date or write time adapted once for a million rows) stores exactly what
    passing the value on each row stores."""
    at = datetime(2026, 12, 1, 16, 30, 5, 120, tzinfo=timezone.utc)
    with transaction.atomic():
        dbio.bulk_insert(table, ("id", "amount", "due", "at"), [(1, Decimal("1.10"), date(2026, 2, 28), at)])
        dbio.bulk_insert(table, ("id", "amount", "due", "at"),
                         [(2, dbio.db_value(Decimal("1.10")), dbio.db_value(date(2026, 2, 28)), dbio.db_value(at))])
    with connection.cursor() as cur:
        cur.execute("SELECT amount, due, at FROM t_dbio ORDER BY id")
        per_row, adapted_once = cur.fetchall()
    assert per_row == adapted_once
    assert dbio.db_value(None) is None and dbio.db_value("x") == "x"

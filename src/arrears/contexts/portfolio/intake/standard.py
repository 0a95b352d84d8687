"""Reader of the standard extract: five UTF-8 CSV files (see ``docs/extract.md``).

:func:`read_standard` reads every column as text, validates every row with pandera (lazy: all
failures are collected), then checks keys and references across the files, and raises one
:class:`~.extract.ExtractError` naming file, line, column and reason for every bad row. Only a
fully valid extract is returned, as typed frames that follow :data:`~.extract.FRAME_SCHEMAS`.
"""
from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from arrears.domain.national_id import PROVINCE_CODES

from .extract import (
    FILES,
    FRAME_SCHEMAS,
    LINE,
    MONEY,
    Extract,
    ExtractError,
    Problem,
    checksum,
    conform,
    national_id_check_expr,
    read_csv_strings,
)

__all__ = ["read_standard", "write_standard", "INPUT_COLUMNS", "FORMAT"]

FORMAT = "standard"

PARTIES = ("debtor", "guarantor", "emergency", "other")
KINDS = ("mobile", "home_phone", "work_phone", "email", "home_address", "work_address")
PHONE_KINDS = ("mobile", "home_phone", "work_phone")

# ----------------------------------------------------------------------------- column specs


@dataclass(frozen=True)
class Col:
    """One input column: how it is checked and parsed.

    kind: ``id`` ``text`` ``enum`` ``date`` ``amount`` ``int`` ``float`` ``timezone`` ``currency``
    ``language`` ``national_id`` ``timestamp``. ``required``: a value must be present (an optional
    column may also be left out of the header). ``sign``: for amounts, ``"any"``, ``">=0"``, ``">0"``.
    ``pii``: the value is never echoed in an error message.
    """

    name: str
    kind: str
    required: bool = True
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    sign: str = ">=0"
    case: str | None = None  # "upper" | "lower": normalised before checking
    pii: bool = False


def _id(name: str) -> Col:
    return Col(name, "id", max_len=64)


INPUT_COLUMNS: dict[str, tuple[Col, ...]] = {
    "customers": (
        _id("customer_id"),
        Col("name", "text", max_len=128, pii=True),
        Col("national_id", "national_id", case="upper", pii=True),
        Col("birth_date", "date", pii=True),
        Col("sex", "enum", choices=("M", "F"), case="upper"),
        Col("timezone", "timezone", max_len=64),
        Col("language", "language", max_len=16, case="lower"),
        Col("district", "text", required=False, max_len=32),
    ),
    "contacts": (
        _id("contact_id"),
        _id("customer_id"),
        Col("party", "enum", choices=PARTIES, case="lower"),
        Col("party_name", "text", required=False, max_len=128, pii=True),
        Col("relation", "text", required=False, max_len=32),
        Col("kind", "enum", choices=KINDS, case="lower"),
        Col("value", "text", max_len=255, pii=True),
        Col("district", "text", required=False, max_len=32),
        Col("latitude", "float", required=False, lo=-90, hi=90, pii=True),
        Col("longitude", "float", required=False, lo=-180, hi=180, pii=True),
    ),
    "accounts": (
        _id("account_id"),
        _id("customer_id"),
        Col("product_code", "id", max_len=32),
        Col("currency", "currency", case="upper"),
        Col("credit_limit", "amount"),
        Col("balance", "amount", sign="any"),
        Col("principal", "amount"),
        Col("interest", "amount"),
        Col("fees", "amount"),
        Col("minimum_due", "amount"),
        Col("overdue_amount", "amount"),
        Col("oldest_unpaid_due_date", "date", required=False),
        Col("due_day", "int", lo=1, hi=31),
        Col("opened_on", "date", required=False),
    ),
    "statements": (
        _id("account_id"),
        Col("statement_date", "date"),
        Col("due_date", "date"),
        Col("closing_balance", "amount", sign="any"),
        Col("minimum_due", "amount"),
        Col("delinquency_status", "int", required=False, lo=-2, hi=99),
    ),
    "payments": (
        _id("payment_id"),
        _id("account_id"),
        Col("paid_at", "timestamp"),
        Col("amount", "amount", sign=">0"),
        Col("channel", "id", max_len=32, case="lower"),
    ),
}

# ----------------------------------------------------------------------------- patterns

_DATE = r"^\d{4}-\d{2}-\d{2}$"
_PLAIN_NUMBER = r"^[+-]?\d+(\.\d+)?$"
_AMOUNT = r"^[+-]?\d+(\.\d{1,2})?$"
_AMOUNT_SIZE = r"^[+-]?0*\d{1,14}(\.\d+)?$"
_INT = r"^[+-]?\d{1,9}$"
_LANGUAGE = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
_ID18 = r"^\d{17}[0-9X]$"
_TS_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$"
_TS = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PHONE = r"^\+?[0-9][0-9 ()\-]*$"

_TIMEZONES = sorted(zoneinfo.available_timezones())


def _to_date(c: pl.Expr) -> pl.Expr:
    return pl.when(c.str.contains(_DATE)).then(c.str.to_date("%Y-%m-%d", strict=False))


def _to_datetime(c: pl.Expr) -> pl.Expr:
    """ISO 8601 with an offset → UTC instant (``T`` or space; ``Z``, ``±HH``, ``±HHMM``, ``±HH:MM``)."""
    n = c.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T")
    n = n.str.replace(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([Zz+-])", "${1}:00${2}")
    n = n.str.replace(r"[Zz]$", "+00:00")
    n = n.str.replace(r"([+-]\d{2})$", "${1}:00")
    parsed = n.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC")
    return pl.when(c.str.contains(_TS)).then(parsed)


def _to_money(c: pl.Expr) -> pl.Expr:
    return pl.when(c.str.contains(_AMOUNT) & c.str.contains(_AMOUNT_SIZE)).then(
        c.str.strip_chars_start("+").cast(MONEY, strict=False)
    )


def _to_float(c: pl.Expr) -> pl.Expr:
    return pl.when(c.str.contains(_PLAIN_NUMBER)).then(c.cast(pl.Float64, strict=False))


def _to_int(c: pl.Expr) -> pl.Expr:
    return pl.when(c.str.contains(_INT)).then(c.str.strip_chars_start("+").cast(pl.Int64, strict=False))


# ----------------------------------------------------------------------------- pandera checks


def _check(test: Callable[[pl.Expr], pl.Expr], reason: str) -> pa.Check:
    """An element-wise check; null values pass (missing values are the nullable rule's business),
    and so does a null result (the value failed an earlier format check, which reports it)."""

    def run(data):  # pandera.polars PolarsData
        c = pl.col(data.key)
        return data.lazyframe.select((test(c).fill_null(True) | c.is_null()).alias(data.key))

    return pa.Check(run, error=reason)


def _checks(col: Col) -> list[pa.Check]:
    out: list[pa.Check] = []
    k = col.kind
    if col.max_len:
        out.append(_check(lambda c, n=col.max_len: c.str.len_chars() <= n, f"longer than {col.max_len} characters"))
    if k == "id":
        out.append(_check(lambda c: ~c.str.contains(r"\s"), "identifier must not contain spaces"))
    elif k == "enum":
        out.append(_check(lambda c, ch=col.choices: c.is_in(list(ch)), "must be one of " + ", ".join(col.choices)))
    elif k == "date":
        out.append(_check(lambda c: _to_date(c).is_not_null(), "not a valid date (expected YYYY-MM-DD)"))
    elif k == "amount":
        out.append(_check(lambda c: c.str.contains(_PLAIN_NUMBER),
                          "not a plain amount: digits with an optional '.' and up to 2 decimals "
                          "(no thousands separators, currency signs, spaces or exponents)"))
        out.append(_check(lambda c: c.str.contains(_AMOUNT) | ~c.str.contains(_PLAIN_NUMBER),
                          "amount has more than 2 decimals"))
        out.append(_check(lambda c: c.str.contains(_AMOUNT_SIZE) | ~c.str.contains(_PLAIN_NUMBER),
                          "amount too large (at most 14 digits before the decimal point)"))
        if col.sign == ">=0":
            out.append(_check(lambda c: _to_float(c) >= 0, "must not be negative"))
        elif col.sign == ">0":
            out.append(_check(lambda c: _to_float(c) > 0, "must be greater than 0"))
    elif k == "int":
        out.append(_check(lambda c: c.str.contains(_INT), "not a whole number"))
        out.append(_check(lambda c, lo=col.lo, hi=col.hi: _to_int(c).is_between(lo, hi),
                          f"must be between {col.lo:g} and {col.hi:g}"))
    elif k == "float":
        out.append(_check(lambda c: _to_float(c).is_not_null(), "not a decimal number"))
        out.append(_check(lambda c, lo=col.lo, hi=col.hi: _to_float(c).is_between(lo, hi),
                          f"must be between {col.lo:g} and {col.hi:g}"))
    elif k == "timezone":
        out.append(_check(lambda c: c.is_in(_TIMEZONES), "not a valid IANA timezone name (e.g. Asia/Shanghai)"))
    elif k == "currency":
        out.append(_check(lambda c: c.str.contains(r"^[A-Z]{3}$"), "currency must be a 3-letter ISO 4217 code"))
    elif k == "language":
        out.append(_check(lambda c: c.str.contains(_LANGUAGE), "not a language code (e.g. zh-hans, en)"))
    elif k == "national_id":
        out.append(_check(lambda c: c.str.contains(_ID18),
                          "national_id must be 18 characters: 17 digits then a digit or X"))
        out.append(_check(lambda c: (c.str.slice(17, 1) == national_id_check_expr(c)) | ~c.str.contains(_ID18),
                          "national_id check digit is wrong"))
        out.append(_check(lambda c: c.str.slice(0, 2).is_in(sorted(PROVINCE_CODES)) | ~c.str.contains(_ID18),
                          "national_id starts with an unknown province code"))
        out.append(_check(lambda c: (c.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).dt.year() >= 1800).fill_null(False)
                          | ~c.str.contains(_ID18),
                          "national_id contains an invalid birth date"))
    elif k == "timestamp":
        out.append(_check(lambda c: ~c.str.contains(_TS_NAIVE),
                          "timestamp has no UTC offset: naive timestamps are not accepted "
                          "(write e.g. 2025-03-20T23:30:00+08:00)"))
        out.append(_check(lambda c: _to_datetime(c).is_not_null() | c.str.contains(_TS_NAIVE),
                          "not a valid ISO 8601 timestamp with UTC offset (e.g. 2025-03-20T23:30:00+08:00)"))
    return out


def _schema(name: str, cols: Iterable[Col]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {c.name: pa.Column(pl.String, nullable=not c.required, checks=_checks(c)) for c in cols},
        strict=False,
        name=name,
    )


SCHEMAS: dict[str, pa.DataFrameSchema] = {name: _schema(name, cols) for name, cols in INPUT_COLUMNS.items()}

# ----------------------------------------------------------------------------- reading


def _locate(paths: Path | str | Iterable[Path | str]) -> tuple[dict[str, Path], list[Problem]]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    problems: list[Problem] = []
    found: dict[str, Path] = {}
    if len(paths) == 1 and paths[0].is_dir():
        directory = paths[0]
        for name in FILES:
            p = directory / f"{name}.csv"
            if p.is_file():
                found[name] = p
            else:
                problems.append(Problem(f"{name}.csv", None, None, f"file is missing (looked in {directory})"))
        return found, problems
    for p in paths:
        stem = p.name[:-4] if p.name.endswith(".csv") else None
        if stem not in FILES:
            problems.append(Problem(p.name, None, None,
                                    "unexpected file: the standard extract is " + ", ".join(f"{f}.csv" for f in FILES)))
        elif stem in found:
            problems.append(Problem(p.name, None, None, f"given twice ({found[stem]} and {p})"))
        elif not p.is_file():
            problems.append(Problem(p.name, None, None, f"file not found: {p}"))
        else:
            found[stem] = p
    for name in FILES:
        if name not in found and not any(q.file == f"{name}.csv" for q in problems):
            problems.append(Problem(f"{name}.csv", None, None, "file is missing from the extract"))
    return found, problems


def _normalise_case(df: pl.DataFrame, cols: Iterable[Col]) -> pl.DataFrame:
    exprs = []
    for c in cols:
        if c.case == "upper":
            exprs.append(pl.col(c.name).str.to_uppercase())
        elif c.case == "lower":
            exprs.append(pl.col(c.name).str.to_lowercase())
    return df.with_columns(exprs) if exprs else df


def _shown(col: Col | None, value) -> str:
    if col is None or value is None:
        return ""
    if col.pii:
        return " (value not shown: personal data)"
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "…"
    return f" (got {text!r})"


def _validate_rows(name: str, df: pl.DataFrame) -> list[Problem]:
    label = f"{name}.csv"
    try:
        SCHEMAS[name].validate(df, lazy=True)
        return []
    except SchemaErrors as exc:
        fc = exc.failure_cases
    cols = {c.name: c for c in INPUT_COLUMNS[name]}
    lines = df[LINE]
    problems = []
    for rec in fc.iter_rows(named=True):
        idx, column, check = rec.get("index"), rec.get("column"), str(rec.get("check"))
        row = int(lines[int(idx)]) if idx is not None else None
        if check == "not_nullable":
            reason = "required value is missing"
        else:
            reason = check + _shown(cols.get(column), rec.get("failure_case"))
        problems.append(Problem(label, row, column if column in cols else None, reason))
    return problems


def _parse(name: str, df: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for c in INPUT_COLUMNS[name]:
        e = pl.col(c.name)
        if c.kind == "date":
            e = _to_date(e)
        elif c.kind == "amount":
            e = _to_money(e)
        elif c.kind == "int":
            e = _to_int(e)
        elif c.kind == "float":
            e = _to_float(e)
        elif c.kind == "timestamp":
            e = _to_datetime(e)
        elif not c.required:
            e = e.fill_null("")
        exprs.append(e.alias(c.name))
    return df.select([*exprs, pl.col(LINE)])


def _rows(label: str, df: pl.DataFrame, mask: pl.Expr, column: str | None,
          reason: Callable[[dict], str]) -> list[Problem]:
    return [Problem(label, r[LINE], column, reason(r)) for r in df.filter(mask.fill_null(False)).iter_rows(named=True)]


def _duplicates(label: str, df: pl.DataFrame, keys: list[str], what: str) -> list[Problem]:
    """Every row whose key occurs more than once, naming the other lines."""
    present = df.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in keys]))
    dup = present.with_columns(pl.col(LINE).implode().over(keys).alias("_lines")).filter(pl.col("_lines").list.len() > 1)
    out = []
    for r in dup.iter_rows(named=True):
        others = ", ".join(str(n) for n in r["_lines"] if n != r[LINE])
        key = " + ".join(f"{k} {r[k]!r}" for k in keys)
        out.append(Problem(label, r[LINE], keys[-1], f"duplicate {what}: {key} also on line {others}"))
    return out


def _unknown(label: str, df: pl.DataFrame, column: str, parent: pl.DataFrame, parent_file: str) -> list[Problem]:
    known = parent[column].drop_nulls().unique()
    return _rows(label, df, pl.col(column).is_not_null() & ~pl.col(column).is_in(known.implode()), column,
                 lambda r: f"{column} {r[column]!r} is not in {parent_file}")


def _local_dates(payments: pl.DataFrame, accounts: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """Add ``timezone`` and ``local_date`` (``paid_at``'s date in the customer's timezone)."""
    acc = accounts.select("account_id", "customer_id").drop_nulls().unique("account_id", keep="first")
    cus = customers.select("customer_id", "timezone").drop_nulls().unique("customer_id", keep="first")
    df = payments.join(acc, on="account_id", how="left").join(cus, on="customer_id", how="left")
    valid = set(_TIMEZONES)
    parts = [df.filter(~pl.col("timezone").is_in(list(valid)).fill_null(False) | pl.col("timezone").is_null())
             .with_columns(pl.lit(None, dtype=pl.Date).alias("local_date"))]
    for tz in df["timezone"].drop_nulls().unique().sort().to_list():
        if tz not in valid:
            continue  # reported by the row checks
        part = df.filter(pl.col("timezone") == tz)
        try:
            local = part["paid_at"].dt.convert_time_zone(tz).dt.date()
        except pl.exceptions.PolarsError:  # a zone the system database has but Polars does not
            zone = zoneinfo.ZoneInfo(tz)
            local = pl.Series([None if t is None else t.astimezone(zone).date() for t in part["paid_at"]],
                              dtype=pl.Date)
        parts.append(part.with_columns(local.alias("local_date")))
    return pl.concat(parts).sort(LINE)


def _cross_checks(t: dict[str, pl.DataFrame], as_of: date) -> tuple[list[Problem], pl.DataFrame]:
    p: list[Problem] = []
    cus, con, acc, stm, pay = (t[n] for n in FILES)
    d = as_of

    # customers
    p += _duplicates("customers.csv", cus, ["customer_id"], "customer_id")
    p += _rows("customers.csv", cus, pl.col("birth_date") > d, "birth_date",
               lambda r: f"birth date is after the extract date {d}")
    id_ok = pl.col("national_id").str.contains(_ID18)
    p += _rows("customers.csv", cus,
               id_ok & (pl.col("national_id").str.slice(6, 8).str.to_date("%Y%m%d", strict=False) != pl.col("birth_date")),
               "national_id", lambda r: "the birth date inside national_id differs from birth_date")
    male_digit = pl.col("national_id").str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1
    p += _rows("customers.csv", cus,
               id_ok & pl.col("sex").is_in(["M", "F"]) & (male_digit != (pl.col("sex") == "M")),
               "national_id", lambda r: "the sex digit of national_id (17th: odd = male) differs from sex")

    # contacts
    p += _duplicates("contacts.csv", con, ["customer_id", "contact_id"], "contact")
    p += _unknown("contacts.csv", con, "customer_id", cus, "customers.csv")
    p += _rows("contacts.csv", con, pl.col("latitude").is_null() != pl.col("longitude").is_null(), "latitude",
               lambda r: "latitude and longitude must be given together")
    p += _rows("contacts.csv", con, (pl.col("kind") == "email") & ~pl.col("value").str.contains(_EMAIL), "value",
               lambda r: "not an e-mail address (value not shown: personal data)")
    p += _rows("contacts.csv", con,
               pl.col("kind").is_in(PHONE_KINDS)
               & (~pl.col("value").str.contains(_PHONE) | (pl.col("value").str.count_matches(r"\d") < 5)),
               "value", lambda r: "not a telephone number: digits, spaces, +, -, ( ) only, at least 5 digits "
                                  "(value not shown: personal data)")

    # accounts
    p += _duplicates("accounts.csv", acc, ["account_id"], "account_id")
    p += _unknown("accounts.csv", acc, "customer_id", cus, "customers.csv")
    p += _rows("accounts.csv", acc, pl.col("oldest_unpaid_due_date") > d, "oldest_unpaid_due_date",
               lambda r: f"{r['oldest_unpaid_due_date']} is after the extract date {d}")
    p += _rows("accounts.csv", acc, pl.col("opened_on") > d, "opened_on",
               lambda r: f"{r['opened_on']} is after the extract date {d}")
    p += _rows("accounts.csv", acc,
               (pl.col("overdue_amount") > 0) & pl.col("oldest_unpaid_due_date").is_null()
               & pl.col("oldest_unpaid_due_date_raw").is_null(),
               "oldest_unpaid_due_date",
               lambda r: f"overdue_amount is {r['overdue_amount']} but oldest_unpaid_due_date is empty "
                         "(an overdue amount needs the due date it has been unpaid since)")

    # statements
    p += _duplicates("statements.csv", stm, ["account_id", "statement_date"], "statement")
    p += _unknown("statements.csv", stm, "account_id", acc, "accounts.csv")
    p += _rows("statements.csv", stm, pl.col("due_date") < pl.col("statement_date"), "due_date",
               lambda r: f"due_date {r['due_date']} is before statement_date {r['statement_date']}")
    p += _rows("statements.csv", stm, pl.col("statement_date") > d, "statement_date",
               lambda r: f"{r['statement_date']} is after the extract date {d}")

    # payments
    p += _duplicates("payments.csv", pay, ["account_id", "payment_id"], "payment")
    p += _unknown("payments.csv", pay, "account_id", acc, "accounts.csv")
    pay = _local_dates(pay, acc, cus)
    p += _rows("payments.csv", pay, pl.col("local_date") > d, "paid_at",
               lambda r: f"paid on {r['local_date']} ({r['timezone']}), after the extract date {d}")
    return p, pay


def read_standard(paths: list[Path] | Path, as_of: date) -> Extract:
    """Read, validate and normalise a standard extract.

    ``paths`` is either the five files ``customers.csv``, ``contacts.csv``, ``accounts.csv``,
    ``statements.csv``, ``payments.csv`` or one directory holding them. ``as_of`` is the extract's
    business date. Raises :class:`ExtractError` listing every problem (file, line, column, reason).
    """
    found, problems = _locate(paths)
    structural = bool(problems)
    raw: dict[str, bytes] = {}
    strings: dict[str, pl.DataFrame] = {}
    for name in FILES:
        if name not in found:
            continue
        label = f"{name}.csv"
        data = raw[name] = found[name].read_bytes()
        df, header, file_problems = read_csv_strings(label, data)
        problems += file_problems
        if df is None:
            structural = True
            continue
        present = set(header)
        for c in INPUT_COLUMNS[name]:
            if c.name not in present:
                if c.required:
                    problems.append(Problem(label, 1, c.name, "missing required column"))
                    structural = True
                else:
                    df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c.name))
        strings[name] = _normalise_case(df, INPUT_COLUMNS[name])
    if structural:
        raise ExtractError(problems, source="standard extract")  # structure first: files and headers

    for name in FILES:
        problems += _validate_rows(name, strings[name])
    typed = {name: _parse(name, strings[name]) for name in FILES}
    typed["accounts"] = typed["accounts"].with_columns(
        strings["accounts"]["oldest_unpaid_due_date"].alias("oldest_unpaid_due_date_raw"))
    cross, payments = _cross_checks(typed, as_of)
    problems += cross
    if problems:
        raise ExtractError(problems, source="standard extract")

    frames = {name: typed[name] for name in FILES}
    frames["payments"] = payments
    frames = {name: frames[name].select(list(FRAME_SCHEMAS[name])) for name in FILES}
    return conform(Extract(
        as_of=as_of,
        **frames,
        source_files=[str(found[name]) for name in FILES],
        checksum=checksum(FORMAT, [(f"{name}.csv", raw[name]) for name in FILES]),
        format=FORMAT,
    ))


def write_standard(extract: Extract, directory: Path) -> list[Path]:
    """Write ``extract`` as a standard extract (five CSV files) into ``directory``.

    The inverse of :func:`read_standard`: ``read_standard([directory], extract.as_of)`` gives back
    equal frames. ``paid_at`` is written in UTC with an explicit ``+00:00`` offset; ``local_date``
    is not written (the reader derives it from the customer's timezone). Useful to turn the UCI
    portfolio into a sample extract, and for tests.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        cols = [c.name for c in INPUT_COLUMNS[name]]
        df = extract.frames()[name]
        exprs = []
        for c in cols:
            dtype = df.schema[c]
            if isinstance(dtype, pl.Datetime):
                exprs.append(pl.col(c).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.f+00:00"))
            elif dtype == pl.Date:
                exprs.append(pl.col(c).dt.to_string("%Y-%m-%d"))
            else:
                exprs.append(pl.col(c).cast(pl.String))
        path = directory / f"{name}.csv"
        df.select(exprs).write_csv(path, null_value="")
        written.append(path)
    return written

"""The standard extract: the normalised, validated frames every intake format produces.

A reader (:func:`~arrears.contexts.portfolio.intake.standard.read_standard`,
:func:`~arrears.contexts.portfolio.intake.uci.read_uci`) returns one :class:`Extract`; the portfolio
loader consumes it. Every frame has exactly the columns and dtypes of :data:`FRAME_SCHEMAS`, in that
order; only the columns listed in :data:`NULLABLE` may hold nulls (optional text is ``""``).

A reader that finds anything wrong raises :class:`ExtractError` listing **every** problem
(file, row, column, reason); nothing is loaded from a rejected extract. Row numbers are line numbers
in the file as an editor shows them: the header is line 1, the first data row is line 2.

No Django here: this package must stay importable without settings (``docs/extract.md``).
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from arrears.core.errors import ArrearsError, ErrorCode

__all__ = [
    "MONEY",
    "UTC_DATETIME",
    "FILES",
    "FRAME_SCHEMAS",
    "NULLABLE",
    "ROW_CONVENTION",
    "Problem",
    "ExtractError",
    "Extract",
    "conform",
    "read_csv_strings",
    "checksum",
    "national_id_check_expr",
]

#: Amounts: Decimal with 2 decimals in the account currency (yuan/fen for CNY), as the models.
MONEY = pl.Decimal(16, 2)
#: Instants: microseconds, UTC.
UTC_DATETIME = pl.Datetime("us", "UTC")

#: The five files of the standard extract, in load order (parents before children).
FILES: tuple[str, ...] = ("customers", "contacts", "accounts", "statements", "payments")

#: Columns and dtypes of each frame of an :class:`Extract`, in order.
FRAME_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "customers": {
        "customer_id": pl.String(),
        "name": pl.String(),
        "national_id": pl.String(),
        "birth_date": pl.Date(),
        "sex": pl.String(),
        "timezone": pl.String(),
        "language": pl.String(),
        "district": pl.String(),
    },
    "contacts": {
        "contact_id": pl.String(),
        "customer_id": pl.String(),
        "party": pl.String(),
        "party_name": pl.String(),
        "relation": pl.String(),
        "kind": pl.String(),
        "value": pl.String(),
        "district": pl.String(),
        "latitude": pl.Float64(),
        "longitude": pl.Float64(),
    },
    "accounts": {
        "account_id": pl.String(),
        "customer_id": pl.String(),
        "product_code": pl.String(),
        "currency": pl.String(),
        "credit_limit": MONEY,
        "balance": MONEY,
        "principal": MONEY,
        "interest": MONEY,
        "fees": MONEY,
        "minimum_due": MONEY,
        "overdue_amount": MONEY,
        "oldest_unpaid_due_date": pl.Date(),
        "due_day": pl.Int64(),
        "opened_on": pl.Date(),
    },
    "statements": {
        "account_id": pl.String(),
        "statement_date": pl.Date(),
        "due_date": pl.Date(),
        "closing_balance": MONEY,
        "minimum_due": MONEY,
        "delinquency_status": pl.Int64(),
    },
    "payments": {
        "payment_id": pl.String(),
        "account_id": pl.String(),
        "paid_at": UTC_DATETIME,
        "local_date": pl.Date(),
        "amount": MONEY,
        "channel": pl.String(),
    },
}

#: The only columns that may be null; every other column is non-null (optional text is ``""``).
NULLABLE: dict[str, frozenset[str]] = {
    "customers": frozenset(),
    "contacts": frozenset({"latitude", "longitude"}),
    "accounts": frozenset({"oldest_unpaid_due_date", "opened_on"}),
    "statements": frozenset({"delinquency_status"}),
    "payments": frozenset(),
}

ROW_CONVENTION = "rows are line numbers in the file: the header is line 1, the first data row is line 2"

#: How many problems the message of an :class:`ExtractError` lists (all are in ``.problems``).
MAX_LISTED = 50


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input.

    ``file`` is the file name (``"accounts.csv"``); ``row`` the line number in that file as an
    editor shows it (header = line 1, first data row = line 2), ``None`` for a whole-file problem;
    ``column`` the column name, ``None`` when the problem is not about one column.
    """

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" line {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class ExtractError(ArrearsError):
    """The extract was rejected. ``problems`` lists every problem found (not only the first)."""

    code = ErrorCode.EXTRACT_REJECTED

    def __init__(self, problems: Iterable[Problem], source: str = "extract") -> None:
        self.problems: list[Problem] = sorted(problems, key=_problem_key)
        n = len(self.problems)
        lines = [f"{source} rejected: {n} problem{'s' if n != 1 else ''} ({ROW_CONVENTION})"]
        lines += [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  … and {n - MAX_LISTED} more (see .problems)")
        super().__init__("\n".join(lines), details={"count": n, "problems": [str(p) for p in self.problems[:MAX_LISTED]]})


def _problem_key(p: Problem) -> tuple:
    stem = p.file.rsplit(".", 1)[0]
    order = FILES.index(stem) if stem in FILES else len(FILES)
    return (order, p.file, -1 if p.row is None else p.row, p.column or "", p.reason)


@dataclass
class Extract:
    """The standard extract, normalised and validated (see ``docs/extract.md``)."""

    as_of: date
    customers: pl.DataFrame
    contacts: pl.DataFrame
    accounts: pl.DataFrame
    statements: pl.DataFrame
    payments: pl.DataFrame
    source_files: list[str]
    checksum: str
    #: Which reader made it: ``"standard"`` or ``"uci"`` (for ``ImportBatch.format``).
    format: str = "standard"

    def frames(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in FILES}

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name).height for name in FILES}


def conform(extract: Extract) -> Extract:
    """Check that every frame has exactly the contract's columns, dtypes and nulls.

    Raises :class:`ExtractError` (file = ``"<frame>"``) if not: that is a bug in a reader, not bad
    input, but it is reported the same way so it cannot slip through.
    """
    problems: list[Problem] = []
    for name, schema in FRAME_SCHEMAS.items():
        df = getattr(extract, name)
        label = f"<{name} frame>"
        if list(df.columns) != list(schema):
            problems.append(Problem(label, None, None, f"columns {df.columns} != {list(schema)}"))
            continue
        for col, dtype in schema.items():
            if df.schema[col] != dtype:
                problems.append(Problem(label, None, col, f"dtype {df.schema[col]} != {dtype}"))
        nulls = df.null_count().row(0, named=True)
        for col, n in nulls.items():
            if n and col not in NULLABLE[name]:
                problems.append(Problem(label, None, col, f"{n} null value(s) in a non-null column"))
    if problems:
        raise ExtractError(problems, source="extract frames")
    return extract


def checksum(fmt: str, parts: Sequence[tuple[str, bytes]]) -> str:
    """sha256 over the format name and each input file's name and bytes (length-framed)."""
    h = hashlib.sha256()
    h.update(f"arrears-extract:{fmt}\n".encode())
    for name, data in parts:
        h.update(f"{name}\n{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()


LINE = "_line"


def _is_blank(rec: list[str]) -> bool:
    return not rec or (len(rec) == 1 and not rec[0].strip())


class _CsvError(ArrearsError):
    code = ErrorCode.EXTRACT_REJECTED

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason, details={"line": line})
        self.line, self.reason = line, reason


def _records(text: str) -> tuple[list[list[str]], Sequence[int]]:
    """All CSV records and the line each starts on.

    Fast path: when there are as many records as physical lines (no field spans lines), record j
    starts on line j + 1. Otherwise the records are re-read one by one to track line numbers.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise _CsvError(reader.line_num, str(exc)) from exc
    physical = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    if len(records) == physical and "\r" not in text.replace("\r\n", ""):
        return records, range(1, len(records) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    starts, prev = [], 0
    for _ in reader:
        starts.append(prev + 1)
        prev = reader.line_num
    return records, starts


def read_csv_strings(label: str, data: bytes) -> tuple[pl.DataFrame | None, list[str], list[Problem]]:
    """Parse CSV bytes into a frame of stripped strings (``""`` → null) plus a ``_line`` column.

    Uses the standard library's CSV reader so that every record carries its exact starting line
    number, even when a quoted field spans lines or blank lines are present. Returns
    ``(frame, header, problems)``; ``frame`` is ``None`` when the file cannot be read at all.
    Records whose field count differs from the header's are reported and left out of the frame.
    """
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [], [Problem(label, line, None, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        records, starts = _records(text)
    except _CsvError as exc:
        return None, [], [Problem(label, exc.line, None, f"malformed CSV: {exc.reason}")]
    blank = _is_blank
    first = next((j for j, rec in enumerate(records) if not blank(rec)), None)
    if first is None:
        return None, [], [Problem(label, None, None, "file is empty: no header line")]
    header = [h.strip() for h in records[first]]
    header_line = starts[first]
    body, body_starts = records[first + 1:], starts[first + 1:]
    width = len(header)
    if all(len(rec) == width for rec in body):  # the usual case: no blank or ragged lines
        rows, lines = body, list(body_starts)
    else:
        rows, lines = [], []
        for rec, start in zip(body, body_starts):
            if blank(rec):
                continue
            if len(rec) != width:
                problems.append(Problem(label, start, None,
                                        f"expected {width} fields as in the header, found {len(rec)}"))
                continue
            rows.append(rec)
            lines.append(start)
    seen: set[str] = set()
    header_problems: list[Problem] = []
    for h in header:
        if not h:
            header_problems.append(Problem(label, header_line, None, "header has an empty column name"))
        elif h in seen:
            header_problems.append(Problem(label, header_line, h, "column appears twice in the header"))
        seen.add(h)
    if header_problems:
        return None, header, problems + header_problems
    columns = list(zip(*rows)) if rows else [()] * len(header)
    df = pl.DataFrame(
        {h: pl.Series(h, list(col), dtype=pl.String) for h, col in zip(header, columns)},
    ).with_columns(pl.all().str.strip_chars().str.replace_all("\r\n", "\n", literal=True))
    df = df.with_columns(
        [pl.when(pl.col(h) == "").then(None).otherwise(pl.col(h)).alias(h) for h in header]
    ).with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
    return df, header, problems


# ---------------------------------------------------------------- 身份证号 (GB 11643) check digit
# The rule lives in ``arrears.domain.national_id`` (one row at a time); this is the same rule as a
# Polars expression for whole columns. ``tests/unit/test_intake_standard.py`` checks they agree.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"


def national_id_check_expr(col: pl.Expr) -> pl.Expr:
    """Polars expression: the expected check character (``0``-``9``/``X``) of the IDs in ``col``
    (null unless the first 17 characters are digits)."""
    total = pl.sum_horizontal(
        [col.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_ID_WEIGHTS)]
    )
    ok = col.str.slice(0, 17).str.contains(r"^\d{17}$")
    return pl.when(ok).then(
        (total % 11).replace_strict(list(range(11)), list(_ID_CHECK), return_dtype=pl.String, default=None)
    )

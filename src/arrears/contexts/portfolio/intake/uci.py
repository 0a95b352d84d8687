"""Reader of the UCI "default of credit card clients" data set, mapped onto the standard extract.

The data (Yeh & Lien 2009; ``src/arrears/data/uci_default_of_credit_card_clients.csv``) has 30,000
Taiwanese cardholders with six monthly cycles (Apr–Sep 2005) of statement balance, payment and
repayment status. :func:`read_uci` validates every row (pandera, same :class:`ExtractError` as the
standard reader) and maps it onto an :class:`Extract` dated ``as_of``: the latest UCI cycle becomes
the latest due date before ``as_of``, and each PAY_0 "months of delay" lands in the matching
30-day bucket. Personal data is synthetic and deterministic (:mod:`.synthetic`). The full mapping
is documented in ``docs/extract.md`` § "UCI mapping".
"""
from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from arrears.domain.calendar import add_months, days_in_month, latest_cycle_date_before

from .extract import (
    FRAME_SCHEMAS,
    LINE,
    MONEY,
    Extract,
    ExtractError,
    Problem,
    checksum,
    conform,
    read_csv_strings,
)
from .synthetic import synthesize_people

__all__ = ["read_uci", "UCI_COLUMNS", "FORMAT", "CURRENCY", "PRODUCT_CODE", "due_day_for", "uci_due_dates"]

FORMAT = "uci"
#: Version of the mapping + synthetic generator; part of the checksum, so a changed mapping is a new import.
MAPPING_VERSION = "1"
CURRENCY = "TWD"
PRODUCT_CODE = "UCI-CARD"
TIMEZONE = "Asia/Shanghai"
LANGUAGE = "zh-hans"
CHANNEL = "bank_transfer"
PAYMENT_LOCAL_TIME = time(20, 30)
STATEMENT_LEAD_DAYS = 20  # statement date = due date − 20 days
MONTHS = 6
PAY_STATUS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")  # there is no PAY_1
BILLS = tuple(f"BILL_AMT{i}" for i in range(1, MONTHS + 1))
PAID = tuple(f"PAY_AMT{i}" for i in range(1, MONTHS + 1))
DEFAULT = "default payment next month"
UCI_COLUMNS = ("ID", "LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE", *PAY_STATUS, *BILLS, *PAID, DEFAULT)

_INT = r"^[+-]?\d{1,12}$"


def due_day_for(uci_id: int) -> int:
    """The card's due day (1–31) for a UCI ID: ``(ID * 7) % 31 + 1`` — spread over the month."""
    return (uci_id * 7) % 31 + 1


#: UCI's AGE is taken as the age on this date, not on the extract date, so that a person's synthetic
#: data (birth date, 身份证号, name, address) is the same in every extract: a newer extract updates
#: balances, never identities.
AGE_REFERENCE_DATE = date(2026, 1, 1)


def uci_due_dates(due_day: int, as_of: date) -> list[date]:
    """Due dates of statements 1..6 (1 = the latest UCI cycle, September 2005).

    Statement 1 is due on d0, the latest due date strictly before ``as_of`` (an amount due today is
    not overdue); statement i is due ``i − 1`` months earlier, computed from the anchor month with
    the day clamped to the month's length (never stepped from the previous date, so no drift).
    """
    d0 = latest_cycle_date_before(as_of, due_day)
    anchor = date(d0.year, d0.month, 1)
    out = []
    for i in range(1, MONTHS + 1):
        m = add_months(anchor, -(i - 1))
        out.append(date(m.year, m.month, min(due_day, days_in_month(m.year, m.month))))
    return out


def _int_check(lo: int | None, hi: int | None, reason: str) -> pa.Check:
    def run(data):
        c = pl.col(data.key)
        v = pl.when(c.str.contains(_INT)).then(c.str.strip_chars_start("+").cast(pl.Int64, strict=False))
        ok = pl.lit(True)
        if lo is not None:
            ok = ok & (v >= lo)
        if hi is not None:
            ok = ok & (v <= hi)
        return data.lazyframe.select((ok.fill_null(True) | c.is_null()).alias(data.key))

    return pa.Check(run, error=reason)


def _format_check() -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(
        (pl.col(data.key).str.contains(_INT).fill_null(True)).alias(data.key)), error="not a whole number")


def _col(lo: int | None = None, hi: int | None = None, reason: str | None = None) -> pa.Column:
    checks = [_format_check()]
    if lo is not None or hi is not None:
        checks.append(_int_check(lo, hi, reason or f"must be between {lo} and {hi}"))
    return pa.Column(pl.String, nullable=False, checks=checks)


UCI_SCHEMA = pa.DataFrameSchema(
    {
        "ID": _col(1, 99_999_999, "ID must be a positive whole number"),
        "LIMIT_BAL": _col(0, 99_999_999_999, "must not be negative"),
        "SEX": _col(1, 2, "must be 1 (male) or 2 (female)"),
        "EDUCATION": _col(0, 6),
        "MARRIAGE": _col(0, 3),
        "AGE": _col(18, 120),
        **{c: _col(-2, 9, "repayment status must be between -2 and 9") for c in PAY_STATUS},
        **{c: _col(-99_999_999_999, 99_999_999_999, "amount too large") for c in BILLS},
        **{c: _col(0, 99_999_999_999, "must not be negative") for c in PAID},
        DEFAULT: _col(0, 1, "must be 0 or 1"),
    },
    strict=False,
    name="uci",
)


def _validate(label: str, df: pl.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    try:
        UCI_SCHEMA.validate(df, lazy=True)
    except SchemaErrors as exc:
        for rec in exc.failure_cases.iter_rows(named=True):
            idx = rec.get("index")
            row = int(df[LINE][int(idx)]) if idx is not None else None
            check = str(rec.get("check"))
            if check == "not_nullable":
                reason = "required value is missing"
            else:
                reason = f"{check} (got {rec.get('failure_case')!r})"
            problems.append(Problem(label, row, rec.get("column"), reason))
    ids = df.filter(pl.col("ID").str.contains(_INT).fill_null(False))
    dup = ids.with_columns(pl.col(LINE).over("ID", mapping_strategy="join").alias("_lines")).filter(
        pl.col("_lines").list.len() > 1)
    for r in dup.iter_rows(named=True):
        others = ", ".join(str(x) for x in r["_lines"] if x != r[LINE])
        problems.append(Problem(label, r[LINE], "ID", f"duplicate ID {r['ID']!r} also on line {others}"))
    return problems


def _uci_dpd(k: pl.Expr, as_of: date) -> pl.Expr:
    """Days past due for PAY_0 = k ≥ 1: ``30(k−1) + min(as_of − d0, 30)``, always in bucket Mk.

    ``as_of − d0`` is 1..31 (31 when the month before ``as_of`` has 31 days and the due day is
    ``as_of``'s day, e.g. as_of 15 Jan, d0 15 Dec); it is capped at 30 so that "k months late"
    never spills into bucket M(k+1).
    """
    gap = (pl.lit(as_of) - pl.col("d0")).dt.total_days()
    return 30 * (k - 1) + pl.min_horizontal(gap, pl.lit(30))


def _money_from_cents(cents: pl.Expr) -> pl.Expr:
    """Exact Int64 cents → Decimal(16, 2) (through text, so no float is ever involved)."""
    a = cents.abs()
    text = (pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
            + (a // 100).cast(pl.String) + "." + (a % 100).cast(pl.String).str.zfill(2))
    return text.cast(MONEY)


def read_uci(path: Path, as_of: date) -> Extract:
    """Read the UCI card-clients CSV and map it onto a standard :class:`Extract` dated ``as_of``.

    Raises :class:`ExtractError` listing every bad row (line, column, reason), or a missing file or
    column.
    """
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise ExtractError([Problem(label, None, None, f"file not found: {path}")], source="UCI extract")
    data = path.read_bytes()
    df, header, problems = read_csv_strings(label, data)
    if df is None:
        raise ExtractError(problems, source="UCI extract")
    missing = [c for c in UCI_COLUMNS if c not in header]
    if missing:
        raise ExtractError(problems + [Problem(label, 1, c, "missing required column") for c in missing],
                           source="UCI extract")
    problems += _validate(label, df)
    if problems:
        raise ExtractError(problems, source="UCI extract")

    u = df.select([pl.col(c).str.strip_chars_start("+").cast(pl.Int64).alias(c) for c in UCI_COLUMNS])
    u = u.with_columns(
        customer_id=pl.lit("UCI") + pl.col("ID").cast(pl.String).str.zfill(5),
        due_day=(pl.col("ID") * 7) % 31 + 1,
    ).with_columns(account_id=pl.col("customer_id") + "-01")

    # --- cycle calendar: one row per (due_day, i), from the domain's month arithmetic
    cal_rows = []
    for day in range(1, 32):
        for i, due in enumerate(uci_due_dates(day, as_of), start=1):
            cal_rows.append((day, i, due))
    cal = pl.DataFrame(cal_rows, schema={"due_day": pl.Int64, "i": pl.Int64, "due_date": pl.Date}, orient="row")

    # --- statements (long: one per account and cycle)
    long = u.select(
        "ID", "account_id", "due_day",
        pl.concat_list(list(BILLS)).alias("bill"),
        pl.concat_list(list(PAY_STATUS)).alias("status"),
        pl.concat_list(list(PAID)).alias("paid"),
        pl.lit(list(range(1, MONTHS + 1)), dtype=pl.List(pl.Int64)).alias("i"),
    ).explode(["bill", "status", "paid", "i"]).join(cal, on=["due_day", "i"], how="left")
    # minimum due = 10 % of the positive statement balance, half-up to 0.01: whole NT$ × 10 = cents, exact
    long = long.with_columns(min_cents=pl.col("bill").clip(lower_bound=0) * 10)
    statements = long.select(
        "account_id",
        (pl.col("due_date") - pl.duration(days=STATEMENT_LEAD_DAYS)).alias("statement_date"),
        "due_date",
        pl.col("bill").cast(MONEY).alias("closing_balance"),
        _money_from_cents(pl.col("min_cents")).alias("minimum_due"),
        pl.col("status").alias("delinquency_status"),
    )

    # --- payments: PAY_AMTi > 0, paid at 20:30 Beijing time, (ID % 5) days before statement i's due date
    paid = long.filter(pl.col("paid") > 0).with_columns(
        local_date=pl.col("due_date") - pl.duration(days=pl.col("ID") % 5))
    payments = paid.select(
        (pl.col("account_id").str.replace(r"-01$", "") + "-P" + pl.col("i").cast(pl.String)).alias("payment_id"),
        "account_id",
        pl.col("local_date").dt.combine(PAYMENT_LOCAL_TIME, time_unit="us")
        .dt.replace_time_zone(TIMEZONE).dt.convert_time_zone("UTC").alias("paid_at"),
        "local_date",
        pl.col("paid").cast(MONEY).alias("amount"),
        pl.lit(CHANNEL).alias("channel"),
    )

    # --- accounts: delinquency from PAY_0 = k months of delay → DPD in [30(k−1)+1, 30k] (bucket Mk)
    k = pl.col("PAY_0")
    overdue = long.join(u.select("account_id", "PAY_0"), on="account_id").group_by("account_id").agg(
        pl.col("min_cents").filter(pl.col("i") <= pl.col("PAY_0").clip(upper_bound=MONTHS)).sum().alias("overdue_cents"),
        pl.col("min_cents").filter(pl.col("i") == 1).first().alias("min1_cents"),
        pl.col("due_date").filter(pl.col("i") == 1).first().alias("d0"),
    )
    acc = u.join(overdue, on="account_id", how="left")
    accounts = acc.select(
        "account_id",
        "customer_id",
        pl.lit(PRODUCT_CODE).alias("product_code"),
        pl.lit(CURRENCY).alias("currency"),
        pl.col("LIMIT_BAL").cast(MONEY).alias("credit_limit"),
        pl.col("BILL_AMT1").cast(MONEY).alias("balance"),
        pl.col("BILL_AMT1").clip(lower_bound=0).cast(MONEY).alias("principal"),
        pl.lit(0).cast(MONEY).alias("interest"),
        pl.lit(0).cast(MONEY).alias("fees"),
        _money_from_cents(pl.col("min1_cents")).alias("minimum_due"),
        _money_from_cents(pl.when(k >= 1).then(pl.col("overdue_cents")).otherwise(0)).alias("overdue_amount"),
        pl.when(k >= 1).then(pl.lit(as_of) - pl.duration(days=_uci_dpd(k, as_of))).alias("oldest_unpaid_due_date"),
        pl.col("due_day").cast(pl.Int64),
        pl.lit(None, dtype=pl.Date).alias("opened_on"),
    )

    # --- people (synthetic, deterministic per ID)
    people = synthesize_people(
        u["ID"].to_list(), u["AGE"].to_list(),
        ["M" if s == 1 else "F" for s in u["SEX"].to_list()],
        [m == 1 for m in u["MARRIAGE"].to_list()],
        AGE_REFERENCE_DATE,
    )
    p = people.with_columns(customer_id=u["customer_id"])
    customers = p.select(
        "customer_id", "name", "national_id", "birth_date", "sex",
        pl.lit(TIMEZONE).alias("timezone"), pl.lit(LANGUAGE).alias("language"), "district",
    )
    null_f = pl.lit(None, dtype=pl.Float64)

    def contact(suffix: str, party: str, party_name: str, relation: pl.Expr, kind: str, value: str,
                district: pl.Expr, lat: pl.Expr, lon: pl.Expr) -> pl.DataFrame:
        return p.select(
            (pl.col("customer_id") + suffix).alias("contact_id"), "customer_id",
            pl.lit(party).alias("party"), pl.col(party_name).alias("party_name"), relation.alias("relation"),
            pl.lit(kind).alias("kind"), pl.col(value).alias("value"), district.alias("district"),
            lat.alias("latitude"), lon.alias("longitude"),
        )

    contacts = pl.concat([
        contact("-C1", "debtor", "name", pl.lit("本人"), "mobile", "mobile", pl.lit(""), null_f, null_f),
        contact("-C2", "debtor", "name", pl.lit("本人"), "home_address", "address", pl.col("district"),
                pl.col("latitude"), pl.col("longitude")),
        contact("-C3", "emergency", "ec_name", pl.col("ec_relation"), "mobile", "ec_mobile", pl.lit(""), null_f, null_f),
    ]).sort(["customer_id", "contact_id"])

    return conform(Extract(
        as_of=as_of,
        customers=customers,
        contacts=contacts,
        accounts=accounts,
        statements=statements.select(list(FRAME_SCHEMAS["statements"])),
        payments=payments.select(list(FRAME_SCHEMAS["payments"])),
        source_files=[str(path)],
        checksum=checksum(f"{FORMAT}/{MAPPING_VERSION}", [(label, data)]),
        format=FORMAT,
    ))

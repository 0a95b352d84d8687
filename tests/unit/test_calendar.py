"""Calendar arithmetic: local dates, month stepping without drift (R15), DPD boundaries (R10)."""
from __future__ import annotations

import ast
import calendar as stdcal
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.calendar import (
    add_months,
    days_in_month,
    days_past_due,
    latest_cycle_date_before,
    local_date,
    monthly_dates,
)

UTC = timezone.utc
D = date


# ---- local_date -----------------------------------------------------------------------------

def test_2330_beijing_belongs_to_that_beijing_date():
    # 23:30 Beijing on 10 Aug == 15:30Z on 10 Aug
    assert local_date(datetime(2025, 8, 10, 15, 30, tzinfo=UTC), "Asia/Shanghai") == D(2025, 8, 10)
    assert local_date(datetime(2025, 8, 10, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")), "Asia/Shanghai") == D(2025, 8, 10)
    # 00:30 Beijing on 11 Aug is still 10 Aug in UTC: the Beijing date wins
    assert local_date(datetime(2025, 8, 10, 16, 30, tzinfo=UTC), "Asia/Shanghai") == D(2025, 8, 11)
    # the last second of the Beijing day
    assert local_date(datetime(2025, 8, 10, 15, 59, 59, tzinfo=UTC), "Asia/Shanghai") == D(2025, 8, 10)
    assert local_date(datetime(2025, 8, 10, 16, 0, 0, tzinfo=UTC), "Asia/Shanghai") == D(2025, 8, 11)


def test_same_instant_has_different_local_dates():
    instant = datetime(2025, 8, 10, 16, 30, tzinfo=UTC)
    assert local_date(instant, "Asia/Shanghai") == D(2025, 8, 11)
    assert local_date(instant, "America/New_York") == D(2025, 8, 10)
    assert local_date(instant, "UTC") == D(2025, 8, 10)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # spring forward 2025-03-09 02:00 EST → 03:00 EDT
        (datetime(2025, 3, 9, 4, 30, tzinfo=UTC), D(2025, 3, 8)),   # 23:30 EST
        (datetime(2025, 3, 9, 5, 30, tzinfo=UTC), D(2025, 3, 9)),   # 00:30 EST
        (datetime(2025, 3, 10, 3, 59, tzinfo=UTC), D(2025, 3, 9)),  # 23:59 EDT
        (datetime(2025, 3, 10, 4, 30, tzinfo=UTC), D(2025, 3, 10)),  # 00:30 EDT (a fixed -05:00 would say 9 Mar)
        # fall back 2025-11-02 02:00 EDT → 01:00 EST
        (datetime(2025, 11, 2, 3, 30, tzinfo=UTC), D(2025, 11, 1)),  # 23:30 EDT
        (datetime(2025, 11, 3, 4, 30, tzinfo=UTC), D(2025, 11, 2)),  # 23:30 EST (a fixed -04:00 would say 3 Nov)
    ],
)
def test_new_york_dst_days(instant, expected):
    assert local_date(instant, "America/New_York") == expected


def test_shanghai_has_no_dst():
    for month in range(1, 13):
        instant = datetime(2025, month, 15, 15, 59, tzinfo=UTC)
        assert local_date(instant, "Asia/Shanghai") == D(2025, month, 15)


def test_local_date_refuses_naive_datetimes_and_unknown_zones():
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2025, 8, 10, 23, 30), "Asia/Shanghai")
    with pytest.raises(ValueError, match="timezone"):
        local_date(datetime(2025, 8, 10, tzinfo=UTC), "Mars/Olympus_Mons")
    with pytest.raises(TypeError):
        local_date(D(2025, 8, 10), "Asia/Shanghai")


# ---- add_months / monthly_dates (R15) ---------------------------------------------------------

R15_JAN31 = [D(2021, 1, 31), D(2021, 2, 28), D(2021, 3, 31), D(2021, 4, 30), D(2021, 5, 31), D(2021, 6, 30)]


@pytest.mark.parametrize("rule", ["same_day", "end_of_month"])
def test_r15_jan31_anchor_six_instalments(rule):
    assert monthly_dates(D(2021, 1, 31), 6, rule) == R15_JAN31
    assert [add_months(D(2021, 1, 31), k, rule) for k in range(6)] == R15_JAN31


def test_r15_leap_anchor_same_day_rule_13_months():
    expected = [
        D(2024, 3, 29), D(2024, 4, 29), D(2024, 5, 29), D(2024, 6, 29), D(2024, 7, 29), D(2024, 8, 29),
        D(2024, 9, 29), D(2024, 10, 29), D(2024, 11, 29), D(2024, 12, 29), D(2025, 1, 29),
        D(2025, 2, 28),  # clamped
        D(2025, 3, 29),  # and back: no drift
    ]
    assert [add_months(D(2024, 2, 29), n, "same_day") for n in range(1, 14)] == expected
    assert monthly_dates(D(2024, 2, 29), 14, "same_day") == [D(2024, 2, 29), *expected]


def test_r15_leap_anchor_end_of_month_rule_13_months():
    expected = [
        D(2024, 3, 31), D(2024, 4, 30), D(2024, 5, 31), D(2024, 6, 30), D(2024, 7, 31), D(2024, 8, 31),
        D(2024, 9, 30), D(2024, 10, 31), D(2024, 11, 30), D(2024, 12, 31), D(2025, 1, 31),
        D(2025, 2, 28), D(2025, 3, 31),
    ]
    assert [add_months(D(2024, 2, 29), n, "end_of_month") for n in range(1, 14)] == expected


def test_r15_dpd_counts_from_each_instalments_own_due_date():
    schedule = monthly_dates(D(2021, 1, 31), 6)
    as_of = D(2021, 7, 5)
    assert [days_past_due(as_of, d) for d in schedule] == [155, 127, 96, 66, 35, 5]


def test_end_of_month_rule_only_moves_month_end_anchors():
    assert add_months(D(2025, 4, 30), 1, "end_of_month") == D(2025, 5, 31)
    assert add_months(D(2025, 4, 30), 1, "same_day") == D(2025, 5, 30)
    assert add_months(D(2025, 1, 30), 1, "end_of_month") == D(2025, 2, 28)  # 30 Jan is not a month end
    assert add_months(D(2025, 1, 30), 2, "end_of_month") == D(2025, 3, 30)
    assert add_months(D(2025, 1, 15), 1, "end_of_month") == D(2025, 2, 15)


def test_add_months_negative_zero_and_year_boundaries():
    assert add_months(D(2025, 3, 31), 0) == D(2025, 3, 31)
    assert add_months(D(2025, 3, 31), -1) == D(2025, 2, 28)
    assert add_months(D(2024, 3, 31), -1) == D(2024, 2, 29)
    assert add_months(D(2025, 1, 15), -1) == D(2024, 12, 15)
    assert add_months(D(2024, 12, 31), 1) == D(2025, 1, 31)
    assert add_months(D(2024, 1, 31), 12) == D(2025, 1, 31)
    assert add_months(D(2024, 1, 31), 60) == D(2029, 1, 31)  # a 60-month plan


def test_add_months_errors():
    with pytest.raises(ValueError, match="rule"):
        add_months(D(2025, 1, 31), 1, "previous_date")
    with pytest.raises(TypeError):
        add_months(D(2025, 1, 31), 1.0)
    with pytest.raises(ValueError):
        add_months(D(9999, 12, 1), 1)
    with pytest.raises(ValueError):
        monthly_dates(D(2025, 1, 31), -1)
    assert monthly_dates(D(2025, 1, 31), 0) == []


dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
months = st.integers(min_value=-1200, max_value=1200)


@given(dates, months)
def test_property_same_day_is_clamped_anchor_day_never_drift(anchor, n):
    result = add_months(anchor, n, "same_day")
    assert (result.year * 12 + result.month) - (anchor.year * 12 + anchor.month) == n
    assert result.day == min(anchor.day, days_in_month(result.year, result.month))


@given(dates, months)
def test_property_end_of_month_keeps_month_ends(anchor, n):
    result = add_months(anchor, n, "end_of_month")
    last = days_in_month(result.year, result.month)
    if anchor.day == days_in_month(anchor.year, anchor.month):
        assert result.day == last
    else:
        assert result == add_months(anchor, n, "same_day")


@given(dates, st.integers(min_value=1, max_value=60), st.sampled_from(["same_day", "end_of_month"]))
def test_property_schedule_never_drifts_after_a_short_month(anchor, count, rule):
    schedule = monthly_dates(anchor, count, rule)
    assert schedule[0] == anchor
    assert all(a < b for a, b in zip(schedule, schedule[1:]))
    for d in schedule:
        assert d.day == min(anchor.day, days_in_month(d.year, d.month)) or (
            rule == "end_of_month" and d.day == days_in_month(d.year, d.month)
        )


# ---- latest_cycle_date_before ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("as_of", "due_day", "expected"),
    [
        (D(2025, 3, 15), 15, D(2025, 2, 15)),  # strictly before: not today
        (D(2025, 3, 16), 15, D(2025, 3, 15)),
        (D(2025, 1, 10), 20, D(2024, 12, 20)),  # across the year boundary
        (D(2025, 3, 1), 31, D(2025, 2, 28)),  # clamped
        (D(2024, 3, 1), 31, D(2024, 2, 29)),  # clamped, leap year
        (D(2024, 3, 1), 30, D(2024, 2, 29)),
        (D(2025, 4, 30), 31, D(2025, 3, 31)),  # 30 Apr is April's cycle date, and it is today
        (D(2025, 5, 1), 31, D(2025, 4, 30)),
        (D(2025, 3, 31), 31, D(2025, 2, 28)),
        (D(2025, 1, 1), 1, D(2024, 12, 1)),
    ],
)
@pytest.mark.parametrize("rule", ["same_day", "end_of_month"])
def test_latest_cycle_date_before(as_of, due_day, expected, rule):
    assert latest_cycle_date_before(as_of, due_day, rule) == expected


@pytest.mark.parametrize("bad", [0, 32, -1, True, 15.0])
def test_latest_cycle_date_before_refuses_bad_days(bad):
    with pytest.raises(ValueError):
        latest_cycle_date_before(D(2025, 3, 15), bad)


@given(st.dates(min_value=D(1900, 3, 1), max_value=D(2200, 12, 31)), st.integers(min_value=1, max_value=31))
def test_property_latest_cycle_date_is_the_most_recent_before(as_of, due_day):
    result = latest_cycle_date_before(as_of, due_day)
    assert result < as_of
    assert result.day == min(due_day, days_in_month(result.year, result.month))
    # the next cycle date after the result is on or after as_of: nothing more recent was skipped
    nxt = add_months(D(result.year, result.month, 1), 1)
    assert D(nxt.year, nxt.month, min(due_day, days_in_month(nxt.year, nxt.month))) >= as_of
    assert (as_of - result).days <= 31


# ---- days_past_due (R10) ---------------------------------------------------------------------

def test_r10_due_today_is_dpd_0_and_dpd_1_tomorrow():
    business_date = D(2025, 8, 10)
    assert days_past_due(business_date, D(2025, 8, 9)) == 1   # X
    assert days_past_due(business_date, D(2025, 8, 10)) == 0  # Y: due today, current
    assert days_past_due(business_date, D(2025, 8, 11)) == 0  # Z: not yet due
    assert days_past_due(D(2025, 8, 11), D(2025, 8, 10)) == 1  # Y the next day


def test_days_past_due_nothing_due_and_long_periods():
    assert days_past_due(D(2025, 8, 10), None) == 0
    assert days_past_due(D(2025, 3, 1), D(2024, 3, 1)) == 365
    assert days_past_due(D(2024, 3, 1), D(2023, 3, 1)) == 366
    with pytest.raises(TypeError):
        days_past_due(datetime(2025, 8, 10, tzinfo=UTC), D(2025, 8, 9))


@given(dates, dates)
def test_property_dpd_is_non_negative_and_exact(as_of, due):
    dpd = days_past_due(as_of, due)
    assert dpd >= 0
    assert dpd == max(0, (as_of - due).days)
    if dpd:
        assert due + timedelta(days=dpd) == as_of


def test_days_in_month():
    assert [days_in_month(2024, m) for m in range(1, 13)] == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert days_in_month(2100, 2) == 28 and days_in_month(2000, 2) == 29
    assert days_in_month(2025, 2) == stdcal.monthrange(2025, 2)[1]


# ---- the domain core stays pure (house rule; CI's import-linter checks the same) ----------------

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "arrears" / "domain"
FORBIDDEN = ("django", "duckdb", "polars", "pandas", "pyarrow", "numpy")


def test_domain_imports_nothing_forbidden():
    modules = sorted(f"arrears.domain.{p.stem}" for p in DOMAIN.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"arrears.domain pulled in: {out.stdout.strip()}"


def test_domain_never_reads_the_clock():
    clock_calls = {"today", "now", "utcnow", "time", "monotonic", "perf_counter", "time_ns"}
    offenders = []
    for path in DOMAIN.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in clock_calls:
                offenders.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                if any(n.split(".")[0] == "time" for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports time")
    assert offenders == []

"""The daily run: delinquency, buckets, roll, cases — vectorised over every account.

``run_daily(as_of)`` reads all card accounts and the open cases in bulk, computes days past due,
bucket and roll in DuckDB (:mod:`arrears.engines.daily`, executing the rule modules' SQL), then writes in one transaction:

* accounts whose DPD or bucket changed (bulk ``UPDATE … FROM``);
* a bucket-history row for each account whose bucket changed (or that entered delinquency on its
  first run);
* a new case for each delinquent customer without an open case, with an ``opened`` event;
* refreshed figures for open cases (``bucket_changed`` events when the bucket moves);
* cured cases (customer no longer delinquent) closed as ``closed_cured`` through the case state
  machine, with a ``status_changed`` event;
* promises to pay, payment plans and settlements evaluated; the collection strategy applied to every
  open case (:mod:`arrears.contexts.strategy.services`) and the cases allocated to teams, agents and
  agencies; SMS queued from today's ``sms`` decisions and visit requests from ``field_visit`` ones;
  the phone desk's queue mirrors the ``call`` decisions;
* one daily-run record per ``as_of`` (the portfolio's ``DailyRun``).

Idempotent per as-of date: running the same date again finds nothing to change. A date earlier
than the latest run is refused (:class:`RunError`), since rolls are measured against the previous
run.

``as_of`` is a calendar date; each account's DPD is counted in its debtor's local calendar (due
dates are local dates), so the same date is applied in every debtor's own time zone.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

import duckdb
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from arrears.contexts.casework import facade as casework
from arrears.contexts.portfolio import facade as portfolio
from arrears.core import dbio
from arrears.engines.daily import CREDIT_SCHEMA, compute
from arrears.core.errors import ArrearsError, ErrorCode
from arrears.core.settings import repayment_tolerance
from arrears.domain.buckets import BucketLadder
from arrears.rules import load_bucket_ladder

log = logging.getLogger("arrears.pipeline.daily")


class RunError(ArrearsError, RuntimeError):
    """The run was refused (e.g. an as-of date earlier than the latest run)."""

    code = ErrorCode.RUN_REFUSED


@dataclass
class RunResult:
    as_of: str
    accounts: int
    buckets: dict[str, int]
    cases_open: int
    cases_opened: int
    cases_closed: int
    seconds: float
    cases_updated: int = 0
    accounts_changed: int = 0
    rolls: dict[str, int] = field(default_factory=dict)
    ladder_version: str = ""
    rerun: bool = False
    strategy_version: str = ""
    decided: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    stage_changes: int = 0
    promises: dict[str, int] = field(default_factory=dict)
    allocation: dict[str, int] = field(default_factory=dict)
    sms: dict[str, int] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        """The ``--json`` shape: as_of, accounts, buckets, cases_open, cases_opened, cases_closed, seconds,
        strategy_version, decided (cases (re)decided today), actions (decided today by action type),
        stage_changes, promises (evaluated today by outcome), allocation (assignment changes by kind),
        sms (today's SMS decisions queued), visits (visit requests from today's field-visit decisions)."""
        keys = ("as_of", "accounts", "buckets", "cases_open", "cases_opened", "cases_closed", "seconds",
                "strategy_version", "decided", "actions", "stage_changes", "promises", "allocation", "sms", "visits")
        return {k: asdict(self)[k] for k in keys}


Progress = Callable[[str], None]


def read_accounts(as_of: date) -> pa.Table:
    """All card accounts with what the delinquency step needs (the portfolio's facade)."""
    return portfolio.read_accounts(as_of)


def read_open_cases() -> pa.Table:
    """The open cases (the casework facade)."""
    return casework.read_open_cases()


def read_statements() -> pa.Table:
    """The statements' minimums that can still be owed (the portfolio's facade)."""
    return portfolio.read_statements()


def read_credits(as_of: date) -> pa.Table:
    """What may count as paid as of ``as_of`` (payments and adjustments since the extract), from the
    money context (:func:`arrears.contexts.money.payments.selectors.credits_since_extract`)."""
    from arrears.contexts.money.facade import credits_since_extract

    return credits_since_extract(as_of, CREDIT_SCHEMA)


def _table(rel: duckdb.DuckDBPyRelation) -> pa.Table:
    """A relation's rows as one Arrow table."""
    return rel.to_arrow_table()


def _evaluate_promises(as_of: date) -> dict[str, int]:
    """Before the strategy reads them: promises to pay due by ``as_of`` judged kept / partly kept /
    broken (set-based), payment plans completed or breached past their grace, settlements paid or
    void (:mod:`arrears.contexts.money.payments.services`, :mod:`arrears.contexts.money.servicing.services`)."""
    from arrears.contexts.money import facade as money

    counts = dict(money.evaluate_promises(as_of, reevaluate=False))
    counts.update({f"plans_{k}": v for k, v in money.evaluate_plans(as_of).items()})
    counts.update({f"settlements_{k}": v for k, v in money.evaluate_settlements(as_of).items()})
    return counts


def run_daily(as_of: date, ladder: BucketLadder | None = None, progress: Progress | None = None) -> RunResult:
    """Run the daily job for business date ``as_of``; see the module docstring. Atomic."""
    say = progress or (lambda msg: None)
    ladder = ladder or load_bucket_ladder()
    tolerance = repayment_tolerance()
    latest = portfolio.latest_run_date()
    if latest is not None and as_of < latest:
        raise RunError(f"a daily run for {latest} exists; runs go forward in time (asked for {as_of})")
    t0 = time.perf_counter()
    started = timezone.now()
    with transaction.atomic():
        say("reading accounts")
        accounts = read_accounts(as_of)
        open_cases = read_open_cases()
        statements = read_statements()
        credits = read_credits(as_of)
        say(f"computing delinquency for {accounts.num_rows:,} accounts")
        con = duckdb.connect()
        acc, actions = compute(con, con.from_arrow(accounts), con.from_arrow(open_cases), as_of, ladder, tolerance,
                               con.from_arrow(statements), con.from_arrow(credits))
        acc = con.from_arrow(_table(acc))  # read several times below: materialise once
        actions = con.from_arrow(_table(actions))

        buckets = {b.name: 0 for b in ladder.buckets}
        buckets.update(dict(acc.aggregate("bucket, count(*)::BIGINT", "bucket").fetchall()))
        rolls = dict(acc.aggregate("roll, count(*)::BIGINT", "roll").fetchall())

        say("writing account delinquency")
        changed = acc.filter(
            "prev_dpd = -1 OR stored_bucket <> bucket OR prev_dpd <> dpd OR prev_overdue <> overdue_amount "
            "OR prev_oldest IS DISTINCT FROM oldest_unpaid_due_date"
        ).project("account_id, dpd, bucket, overdue_amount, oldest_unpaid_due_date")
        # a re-run whose bucket differs from this date's first run replaces that history row
        superseded = [a for (a,) in dbio.iter_arrow_rows(_table(
            acc.filter("seen_today AND bucket <> stored_bucket").project("account_id")))]
        history = acc.filter(
            "roll IN ('new', 'forward', 'back', 'cure') AND (NOT seen_today OR bucket <> stored_bucket)"
        ).project("account_id, dpd, bucket, coalesce(prev_bucket, '') AS previous_bucket, roll")
        n_changed = portfolio.write_delinquency(dbio.iter_arrow_rows(_table(changed)),
                                                dbio.iter_arrow_rows(_table(history)), superseded, as_of)

        say("opening, updating and closing cases")
        to_open = [
            casework.NewCase(c, b, d, tb, od, cur, am)
            for c, b, d, tb, od, cur, am in dbio.iter_arrow_rows(
                _table(actions.filter("action = 'open'").project(
                    "customer_id, bucket, max_dpd, total_balance, overdue_amount, currency, amounts"))
            )
        ]
        opened = casework.open_cases(to_open, as_of)
        to_update = list(
            dbio.iter_arrow_rows(
                _table(actions.filter("action = 'update'").project(
                    "case_id, bucket, case_bucket, max_dpd, total_balance, overdue_amount, currency, amounts"))
            )
        )
        updated = casework.update_positions(to_update, as_of)
        to_close = list(dbio.iter_arrow_rows(_table(actions.filter("action = 'close'").project("case_id, status"))))
        closed = casework.close_cured(to_close, as_of)
        promises = _evaluate_promises(as_of)
        say("applying the collection strategy")
        from arrears.contexts.strategy import facade as strategy

        strat = strategy.run_strategy(as_of)
        say("allocating cases")
        allocation = strategy.run_allocation(as_of, strat)
        say("queueing SMS and requesting field visits")
        from arrears.contexts.contact import facade as contact

        sms = dict(contact.enqueue_sms_from_decisions(as_of))
        visits = dict(contact.request_visits_from_decisions(as_of))
        say("refreshing the phone desk queue")

        contact.sync_queue()
        cases_open = casework.count_open_cases()
        seconds = round(time.perf_counter() - t0, 3)
        result = RunResult(
            as_of=as_of.isoformat(),
            accounts=accounts.num_rows,
            buckets={k: int(v) for k, v in buckets.items()},
            cases_open=cases_open,
            cases_opened=opened,
            cases_closed=closed,
            seconds=seconds,
            cases_updated=updated,
            accounts_changed=n_changed,
            rolls={k: int(v) for k, v in rolls.items()},
            ladder_version=ladder.version,
            strategy_version=strat.strategy_version, decided=strat.decided, actions=strat.actions,
            stage_changes=strat.stage_changes, promises=promises, allocation=allocation, sms=sms, visits=visits,
        )
        created = portfolio.record_daily_run(
            as_of, started_at=started, finished_at=timezone.now(), accounts=result.accounts, buckets=result.buckets,
            cases_open=cases_open, cases_opened=opened, cases_closed=closed, seconds=seconds,
            ladder_version=ladder.version, changed=bool(opened or closed or updated or n_changed or strat.decided),
        )
        result.rerun = not created
    log.info("daily run %s: %s", as_of, result.summary())
    return result

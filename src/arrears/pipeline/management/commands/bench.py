"""``arrears bench daily_run --accounts N [--json] [--database-url URL] [--threads 2]``
``arrears bench compliance [--decisions N] [--json]`` (see :mod:`devtools.bench_compliance`)
``arrears bench strategy [--cases N] [--agents N] [--json]`` — the vectorised strategy decision plus
the allocation for N synthetic open cases (default 1,000,000; data generation not timed; see
:func:`devtools.bench_allocation.bench_allocation`), best of ``--repeat`` runs.

Times the daily run on a synthetic portfolio of N accounts drawn from the UCI distributions (the
Parquet that ``arrears/tools/engine_baseline.py N`` writes, built once under ``var/bench``), and
prints accounts per second, peak memory, and the ratio of our vectorised delinquency step to the
baseline's bare DuckDB query timed in the same run.

The database is a fresh one: a temporary SQLite file by default, or a new database created on the
PostgreSQL server of ``--database-url`` (``postgres://user@host:port/any``) and dropped afterwards.
Loading it is set-up and timed separately (``load_s``); ``run_s`` is the whole first daily run
with its database writes; ``next_day_run_s`` the following day's run (every delinquent account's
DPD moves) and ``same_day_rerun_s`` that day run again (idempotent: ``same_day_rerun_changes`` 0). Set-up and run happen in child processes so ``peak_rss_mb`` is the run's own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter


def _child(args: list[str], url: str) -> dict:
    env = {**os.environ, "ARREARS_DATABASE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "arrears.manage", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CommandError(f"bench step {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


class Command(BaseCommand):
    help = ("Benchmarks (figures printed, not asserted): daily_run, compliance, strategy, routes, desk, sms. "
            "Defaults are shown per option.")

    def add_arguments(self, parser):
        parser.formatter_class = __import__("argparse").ArgumentDefaultsHelpFormatter
        parser.add_argument("target", choices=["daily_run", "compliance", "strategy", "routes", "desk", "sms"])
        parser.add_argument("--cases", type=int, default=1_000_000, help="strategy, desk: open cases")
        parser.add_argument("--agents", type=int, default=None,
                            help="strategy: agents (default 600); desk: concurrent agent sessions (default 300)")
        parser.add_argument("--repeat", type=int, default=2, help="strategy: runs (the best is reported)")
        parser.add_argument("--decisions", type=int, default=10_000, help="compliance: decisions to time (≥ 10,000)")
        parser.add_argument("--accounts", type=int, default=1_000_000, help="daily_run: card accounts")
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
        parser.add_argument("--messages", type=int, default=100_000, help="sms: messages through the local SMPP server")
        parser.add_argument("--teams", type=int, default=25, help="routes: field teams")
        parser.add_argument("--visits", type=int, default=500, help="routes: visits")
        parser.add_argument("--seconds", type=float, default=60.0,
                            help="routes: wall-clock budget of the solver; desk: how long the sessions run")
        parser.add_argument("--think-ms", type=int, default=7500,
                            help="desk: an agent's pause per step (a case every ~2 × this per agent)")
        parser.add_argument("--processes", type=int, default=5, help="desk: server worker processes")
        parser.add_argument("--database-url", default=None, help="PostgreSQL server to bench on (default: SQLite)")
        parser.add_argument("--threads", type=int, default=2, help="daily_run: DuckDB threads")
        parser.add_argument("--step", choices=["load", "run"], default=None, help=__import__("argparse").SUPPRESS)
        parser.add_argument("--parquet", default=None, help=__import__("argparse").SUPPRESS)

    def handle(self, *args, **opts):
        if opts["target"] == "compliance":
            from devtools.bench_compliance import command as compliance_bench

            return compliance_bench(self, opts)
        if opts["target"] == "strategy":
            return self._strategy(opts)
        if opts["target"] == "desk":
            return self._desk(opts)
        if opts["target"] == "routes":
            return self._routes(opts)
        if opts["target"] == "sms":
            return self._sms(opts)
        if opts["step"]:
            return self._step(opts)
        import devtools.bench_daily as bench

        rep = Reporter(opts["json"], "bench daily_run", self.stdout)
        n = opts["accounts"]
        with rep.running():
            rep.step(f"building the baseline portfolio of {n:,} accounts (once)")
            path, build_s = bench.portfolio_path(n, bench.bench_dir(), opts["threads"])
            rep.step("timing the bare DuckDB query and our vectorised step on the same file")
            step = bench.time_vectorised_step(path, opts["threads"])
            url, cleanup = self._fresh_database(opts["database_url"], n)
            try:
                rep.step("migrating a fresh database")
                env_args = ["--parquet", str(path), "--accounts", str(n), "--json"]
                subprocess.run([sys.executable, "-m", "arrears.manage", "migrate", "-v", "0"],
                               env={**os.environ, "ARREARS_DATABASE_URL": url}, check=True)
                rep.step("bulk-loading the portfolio")
                load = _child(["bench", "daily_run", "--step", "load", *env_args], url)
                rep.step("timing the daily run")
                run = _child(["bench", "daily_run", "--step", "run", *env_args], url)
            finally:
                cleanup()
        payload = {
            "accounts": n,
            "database": "postgresql" if url.startswith("postgres") else "sqlite",
            "threads": opts["threads"],
            "bare_query_s": step["bare_query_s"],
            "vectorised_step_s": step["vectorised_step_s"],
            "vectorised_vs_bare_ratio": step["ratio"],
            "agrees_with_baseline": step["agrees_with_baseline"],
            "load_s": load["load_s"],
            "run_s": run["seconds"],
            "accounts_per_s": round(n / run["seconds"]) if run["seconds"] else None,
            "peak_rss_mb": run["peak_rss_mb"],
            "next_day_run_s": run["next_day_s"],
            "next_day_accounts_changed": run["next_day_accounts_changed"],
            "same_day_rerun_s": run["rerun_s"],
            "same_day_rerun_changes": run["rerun_changes"],
            "cases_opened": run["cases_opened"],
            "buckets": run["buckets"],
        }
        human = (
            f"{n:,} accounts on {payload['database']}: daily run {payload['run_s']} s "
            f"({payload['accounts_per_s']:,} accounts/s, peak {payload['peak_rss_mb']} MB); "
            f"vectorised step {payload['vectorised_step_s']} s vs bare query {payload['bare_query_s']} s "
            f"= {payload['vectorised_vs_bare_ratio']}x; set-up load {payload['load_s']} s"
        )
        rep.result(payload, human)

    def _routes(self, opts):
        from devtools.bench_fieldwork import bench_routes

        r = bench_routes(opts["teams"], opts["visits"], opts["seconds"])
        self.stdout.write(__import__("json").dumps(r) if opts["json"] else
                          f"{r['teams']} teams, {r['visits']} visits: cost {r['cost']}, travel {r['travel_minutes']} min, "
                          f"{r['routed']} routed, {r['unassigned']} left out, {r['wall_s']} s (budget {r['budget_s']} s)")

    def _strategy(self, opts):
        from devtools.bench_allocation import bench_allocation

        rep = Reporter(opts["json"], "bench strategy", self.stdout)
        runs = []
        with rep.running():
            for i in range(max(1, opts["repeat"])):
                rep.step(f"run {i + 1}: strategy + allocation for {opts['cases']:,} cases")
                runs.append(bench_allocation(opts["cases"], opts["agents"] or 600, verbose=False))
        best = min(runs, key=lambda r: r["total_s"])
        payload = {**best, "runs_total_s": [r["total_s"] for r in runs], "target_s": 5.0,
                   "within_target": best["total_s"] <= 5.0}
        rep.result(payload, f"{opts['cases']:,} cases: strategy {best['strategy_s']} s + allocation "
                            f"{best['allocation_s']} s = {best['total_s']} s (target ≤ 5 s)")

    def _desk(self, opts):
        from devtools.bench_desk import command as desk_bench

        return desk_bench(self, opts, self._fresh_database)

    def _sms(self, opts):
        from devtools.bench_sms import command as sms_bench

        return sms_bench(self, opts, self._fresh_database)

    def _fresh_database(self, server_url: str | None, n: int):
        if not server_url:
            d = tempfile.mkdtemp(prefix="arrears-bench-")
            path = Path(d) / "bench.sqlite3"

            def cleanup():
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                os.rmdir(d)

            return f"sqlite:///{path}", cleanup
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(server_url)
        name = f"arrears_bench_{n}_{os.getpid()}_{int(time.time())}"
        admin = dict(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"] or None,
                     dbname="postgres", autocommit=True)
        with psycopg.connect(**admin) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        base = server_url.rsplit("/", 1)[0]

        def cleanup():
            with psycopg.connect(**admin) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"{base}/{name}", cleanup

    def _step(self, opts):
        import devtools.bench_daily as bench

        path = Path(opts["parquet"])
        if opts["step"] == "load":
            out = bench.load_portfolio(path)
        else:
            from arrears.pipeline.daily import run_daily

            from datetime import timedelta

            result = run_daily(bench.AS_OF)
            out = {**result.summary(), "peak_rss_mb": bench.peak_rss_mb()}
            nxt = run_daily(bench.AS_OF + timedelta(days=1))
            same = run_daily(bench.AS_OF + timedelta(days=1))
            out.update(next_day_s=nxt.seconds, next_day_accounts_changed=nxt.accounts_changed,
                       rerun_s=same.seconds, rerun_changes=same.accounts_changed + same.cases_opened + same.cases_closed)
        self.stdout.write(json.dumps(out, default=str))

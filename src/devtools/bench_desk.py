"""``arrears bench desk --agents 300 --cases 1000000 [--database-url postgres://…] [--json]``

Load benchmark of the phone desk, run like production (``ARREARS_DEBUG=0``, the database task
backend with its worker) on a fresh database loaded with ``--cases`` open phone cases.

**The server**: ``--processes`` worker processes (default 5, the usual 2 × cores + 1 of a web
server on this 2-core machine), each serving one request at a time with its own database
connection. A request is the desk service the API view calls (``get_next``, ``dial``,
``post_outcome``) with the user loaded afresh (as the authentication middleware does): the
figures are the service layer's — HTTP parsing, the session lookup, the middleware stack and DRF
serialisation are not in them. Beside the workers runs the task worker (``db_worker``) that
re-decides the strategy after outcomes.

**The agents**: ``--agents`` concurrent sessions (one client thread each) loop *get-next → read
the workspace → dial (through the gate) → talk → post the outcome → wrap up* for ``--seconds``.
Each pause is ``--think-ms`` (reading and talking: uniformly 0–think; wrap-up: think), so a
session works a case every ~2 × think. The default, 7.5 s, makes every agent work a case every
~15 s (~240 cases an hour): about four times the pace of a collector on a power dialer (~60 an
hour) and ten times a manual one — 300 such agents offer ~20 cases (~60 desk requests) a second.
Smaller values find where the machine saturates (on the 2-core reference machine, which also runs
PostgreSQL, the task worker and this load generator: p99 passes 150 ms between ~50 and ~75
requests a second). Latency is measured by the client from sending a request to its answer, so
it includes waiting for a free server worker. Half the cases are allocated to agents, half wait in the team
pools (``--pool-share``), where the agents of a team compete for the same rows — the case that
``SELECT … FOR UPDATE SKIP LOCKED`` is for.

Prints latency p50/p99 (ms) of get-next, dial and outcome posting (and of outcomes that take a
promise), throughput (requests and cases worked per second), the strategy re-decisions the
outcomes queued (count, failures, lag p50/p99 in seconds from the outcome to the re-decision's
end) and **double assignments**: every claim is logged with its start and end (the outcome), and
two different agents holding the same case at overlapping times count as one; the database is
checked too (no agent holds two cases; every case's claim/release events alternate). Set-up (a
fresh database, bulk load, queue sync) is timed separately.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

AS_OF = date(2026, 11, 30)
#: the business clock of the run: 10:00 in Shanghai on AS_OF (inside the allowed calling hours)
BENCH_NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return round(s[k] * 1000, 2)


def setup(n_cases: int, n_agents: int, pool_share: float, team_size: int) -> dict:
    """Bulk-load agents, teams, customers (one debtor mobile each) and open phone cases, then sync
    the queue. Runs inside the configured (fresh) database."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from arrears.contexts.casework.models import Case
    from arrears.contexts.portfolio.models import Contact, Customer
    from arrears.contexts.org.users.models import StaffProfile, Team
    from arrears.core import dbio

    from arrears.contexts.contact.desk.services import sync_queue

    t0 = time.perf_counter()
    User = get_user_model()
    group = Group.objects.get_or_create(name="collector")[0]
    teams = [Team.objects.create(name=f"bench-team-{i}", department="collection")
             for i in range((n_agents + team_size - 1) // team_size)]
    agents = []
    for i in range(n_agents):
        u = User.objects.create(username=f"bench-agent-{i}")
        u.groups.add(group)
        StaffProfile.objects.create(user=u, team=teams[i // team_size], capacity=10_000)
        agents.append((u.pk, teams[i // team_size].pk))
    # one encrypted value reused (the bench measures the desk, not encryption)
    name_f, value_f = Customer._meta.get_field("name"), Contact._meta.get_field("value")
    enc_name = name_f.get_db_prep_value("王某", connection)
    enc_phone = value_f.get_db_prep_value("13900000000", connection)
    probe = Contact(value="13900000000")
    hash_f = Contact._meta.get_field("value_hash")
    phone_hash = hash_f.pre_save(probe, True) if hasattr(hash_f, "pre_save") else ""
    now = connection.ops.adapt_datetimefield_value(datetime.now(ZoneInfo("Asia/Shanghai")))
    with transaction.atomic():
        dbio.bulk_insert(Customer._meta.db_table, ("external_id", "name", "national_id", "national_id_hash", "sex",
                                                   "timezone", "language", "district", "created_at"),
                         ((f"B{i}", enc_name, "", "", "", "Asia/Shanghai", "zh-hans", "", now)
                          for i in range(n_cases)))
        first = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
        dbio.bulk_insert(Contact._meta.db_table, ("customer_id", "external_id", "kind", "party", "party_name",
                                                  "relation", "value", "value_hash", "district"),
                         ((first + i, "m", "mobile", "debtor", "", "", enc_phone, phone_hash, "")
                          for i in range(n_cases)))
        rnd = random.Random(7)

        def case_rows():
            for i in range(n_cases):
                agent, team = agents[i % n_agents]
                pooled = rnd.random() < pool_share
                prio = rnd.choice((2, 3, 3))
                dpd = rnd.randint(1, 60)
                yield (first + i, "in_collection", AS_OF - timedelta(days=dpd), "M1" if dpd <= 30 else "M2", dpd,
                       "5000.00", "800.00", "CNY", None if pooled else agent, team, AS_OF,
                       rnd.choice(("", "A", "B", "C")), "phone", "call", json.dumps({"priority": prio,
                                                                                    "queue": "early"}))

        dbio.bulk_insert(Case._meta.db_table, ("customer_id", "status", "opened_on", "bucket", "max_dpd",
                                               "total_balance", "overdue_amount", "currency", "assigned_to_id",
                                               "team_id", "last_run_as_of", "score_band", "stage", "action",
                                               "action_params"), case_rows())
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    counts = sync_queue(now=BENCH_NOW - timedelta(minutes=1))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("VACUUM ANALYZE") if not connection.in_atomic_block else None
    return {"load_s": round(load_s, 1), "queue_sync_s": round(time.perf_counter() - t1, 1), **counts,
            "agents": [a for a, _ in agents]}


# --- the server side: worker processes, one request at a time each (like the web server's workers) ---

_USER = None


def _serve_init(epoch: float) -> None:
    """Initialise one server worker process: Django, the business clock, warm caches."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.config.settings")
    import django

    django.setup()
    from unittest import mock

    # the business clock: BENCH_NOW (inside the allowed hours: the gate reads the debtor's local
    # time) plus the wall time since the shared epoch, the same in every process
    mock.patch("django.utils.timezone.now", lambda: BENCH_NOW + timedelta(seconds=time.time() - epoch)).start()
    # warm the per-process caches (rule pack, scripts, screening lexicons) as a running server has
    # them: the first request of a fresh process is not what agents see
    from arrears.contexts.contact.compliance.services import default_pack
    from arrears.rules.lexicons import screening_lexicon

    from arrears.contexts.contact.desk.callscripts import load_scripts

    default_pack()
    load_scripts()
    screening_lexicon("zh")
    screening_lexicon("en")


def _serve(op: str, agent_id: int, *args):
    """One request of agent ``agent_id``, timed in the server: ``(answer, seconds)``."""
    t = time.perf_counter()
    out = _answer(op, agent_id, *args)
    return out, time.perf_counter() - t


def _answer(op: str, agent_id: int, *args):
    """Load the user afresh (as the authentication middleware does: nothing carried between
    requests) and call the desk service. Returns a plain value or ``("error", code)`` for a
    refusal."""
    from django.contrib.auth import get_user_model

    from arrears.contexts.contact.desk import services

    agent = get_user_model().objects.get(pk=agent_id)
    try:
        if op == "next":
            got = services.get_next(agent)
            if got.case_id is None:
                return None
            contact = services.Contact.objects.filter(customer__cases__pk=got.case_id, party="debtor").values_list(
                "pk", flat=True).first()
            return got.case_id, contact
        if op == "dial":
            return services.dial(agent, args[0], args[1]).call_id
        if op == "release":
            services.release(agent, args[0])
            return True
        if op == "outcome":
            case_id, call_id, code = args
            inp = services.OutcomeInput(call_id, "call_debtor", code, recording_id="bench",
                                        promise_amount="100.00" if code == "promise_to_pay" else None,
                                        promise_date=AS_OF + timedelta(days=3) if code == "promise_to_pay" else None)
            services.post_outcome(agent, case_id, inp)
            return True
    except services.DeskError as exc:
        return ("error", exc.code)
    except ValueError as exc:  # another refusal (a promise the payments rules refuse …)
        return ("error", type(exc).__name__)
    raise ValueError(op)


# --- the client side: one thread per agent session -------------------------------------------------

def _sessions(agent_ids: list[int], seconds: float, think_ms: int, servers: int, epoch: float) -> dict:
    """Run the agent sessions against ``servers`` worker processes; returns latencies, claims, errors."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from arrears.contexts.contact.desk import bench as me  # by module name: the spawned workers import it

    pool = ProcessPoolExecutor(max_workers=servers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=me._serve_init, initargs=(epoch,))
    # start every worker before the clock runs (their set-up is not what agents wait for)
    list(pool.map(time.sleep, [0.5] * servers))
    stop_at = time.monotonic() + seconds
    lat: dict[str, list[float]] = defaultdict(list)
    service: dict[str, list[float]] = defaultdict(list)  # list.append is atomic: shared by the threads
    claims: list[tuple] = []
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    results = ["no_answer"] * 12 + ["busy"] * 3 + ["rpc"] * 3 + ["promise_to_pay"] * 1

    def call(kind: str, *args):
        t = time.perf_counter()
        out, served = pool.submit(me._serve, kind, *args).result()
        dt = time.perf_counter() - t
        service[kind].append(served)
        return out, dt

    def session(agent_id: int):
        rnd = random.Random(agent_id)
        mine_lat: dict[str, list[float]] = defaultdict(list)
        mine_claims, mine_err = [], defaultdict(int)
        time.sleep(rnd.random() * think_ms / 1000)  # the sessions start spread over one pause
        pause = think_ms / 1000
        while time.monotonic() < stop_at:
            try:
                got, dt = call("next", agent_id)
                claimed_at = time.time()
                mine_lat["get_next"].append(dt)
                if got is None:
                    time.sleep(pause)
                    continue
                case_id, contact_id = got
                time.sleep(pause * rnd.random())  # reading the workspace (a pause: no request is timed)
                call_id, dt = call("dial", agent_id, case_id, contact_id)
                if isinstance(call_id, tuple):  # refused: give the case back, as an agent would
                    mine_err[f"dial_{call_id[1]}"] += 1
                    call("release", agent_id, case_id)
                    mine_claims.append((case_id, agent_id, claimed_at, time.time()))
                    time.sleep(pause)
                    continue
                mine_lat["dial"].append(dt)
                time.sleep(pause * rnd.random())  # the call
                code = rnd.choice(results)
                released_before = time.time()
                out, dt = call("outcome", agent_id, case_id, call_id, code)
                mine_lat["outcome"].append(dt)
                if code == "promise_to_pay":
                    mine_lat["outcome_promise"].append(dt)
                if isinstance(out, tuple):  # refused: counted; the session carries on after a pause
                    mine_err[f"outcome_{out[1]}"] += 1
                mine_claims.append((case_id, agent_id, claimed_at, released_before))
                time.sleep(pause)  # wrap-up
            except Exception as exc:  # pragma: no cover - counted and reported, the session goes on
                mine_err[type(exc).__name__] += 1
                time.sleep(pause)
        with lock:
            for k, v in mine_lat.items():
                lat[k].extend(v)
            claims.extend(mine_claims)
            for k, v in mine_err.items():
                errors[k] += v

    threads = [threading.Thread(target=session, args=(a,)) for a in agent_ids]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    pool.shutdown()
    return {"lat": lat, "service": service, "claims": claims, "errors": errors, "wall": wall}


def _double_assignments(claims: list[list]) -> int:
    by_case: dict[int, list] = defaultdict(list)
    for case_id, agent, start, end in claims:
        by_case[case_id].append((start, end, agent))
    doubles = 0
    for rows in by_case.values():
        rows.sort()
        for (s1, e1, a1), (s2, e2, a2) in zip(rows, rows[1:]):
            if a1 != a2 and s2 < e1:
                doubles += 1
    return doubles


def _db_checks() -> dict:
    from django.db.models import Count

    from arrears.contexts.casework.models import CaseEvent

    from arrears.contexts.contact.desk.models import QueueItem

    multi = (QueueItem.objects.filter(state="claimed").values("claimed_by").annotate(n=Count("pk"))
             .filter(n__gt=1).count())
    # per case the claim/release events must alternate: two claims in a row = a double assignment
    bad = 0
    last: dict[int, str] = {}
    for case_id, kind in (CaseEvent.objects.filter(kind__in=["desk_claimed", "desk_released", "desk_deferred"])
                          .order_by("case_id", "at", "id").values_list("case_id", "kind").iterator(20000)):
        if kind == "desk_claimed" and last.get(case_id) == "desk_claimed":
            bad += 1
        last[case_id] = kind
    return {"agents_holding_two_cases": multi, "consecutive_claims": bad}


def reuse() -> dict:
    """Run again on a database a previous ``setup`` loaded (developers' iterations): calls left
    without an outcome are closed as failed and claimed items go back to the queue."""
    from django.contrib.auth import get_user_model

    from django_tasks_db.models import DBTaskResult

    from arrears.contexts.contact.desk.models import Call, QueueItem

    DBTaskResult.objects.all().delete()
    Call.objects.filter(state="dialing").update(state="failed")
    QueueItem.objects.filter(state="claimed").update(state="ready", claimed_by=None, claimed_at=None)
    return {"reused": True, "agents": list(get_user_model().objects.filter(username__startswith="bench-agent-")
                                           .order_by("pk").values_list("pk", flat=True))}


def _task_figures() -> dict:
    """Re-decisions the outcomes queued for the background worker: how many, how many failed, and
    the lag from the outcome's commit to the re-decision's end (p50/p99, seconds)."""
    from django_tasks_db.models import DBTaskResult

    rows = list(DBTaskResult.objects.filter(task_path__endswith=".reevaluate")
                .values_list("status", "enqueued_at", "finished_at"))
    lags = [(f - e).total_seconds() for _, e, f in rows if f is not None]
    return {"reevaluations_queued": len(rows),
            "reevaluations_failed": sum(1 for st, _, _ in rows if st == "FAILED"),
            "reevaluations_unfinished": sum(1 for st, _, _ in rows if st not in ("SUCCESSFUL", "FAILED")),
            "reevaluation_lag_p50_s": round(_pct(lags, 50) / 1000, 2),
            "reevaluation_lag_p99_s": round(_pct(lags, 99) / 1000, 2)}


def run(n_cases: int, n_agents: int, seconds: float, think_ms: int, processes: int, pool_share: float,
        team_size: int, reuse_db: bool = False) -> dict:
    """Set up and run in this (fresh) database; returns the figures."""
    import django

    django.setup()
    from django.db import connection

    info = reuse() if reuse_db else setup(n_cases, n_agents, pool_share, team_size)
    connection.close()
    agents = info.pop("agents")[:n_agents]
    epoch = time.time()
    me = [sys.executable, "-m", "devtools.bench_desk", "--epoch", str(epoch)]
    # the background worker (strategy re-decisions after outcomes) runs beside the server workers,
    # on the same cores, as it does in production
    task_worker = subprocess.Popen([*me, "--task-worker", "run"], env=os.environ.copy())
    try:
        out = _sessions(agents, seconds, think_ms, processes, epoch)
    finally:
        task_worker.terminate()
        task_worker.wait()
    subprocess.run([*me, "--task-worker", "drain"], env=os.environ.copy(), check=True)  # what was left
    lat, claims, errors, wall = out["lat"], out["claims"], out["errors"], out["wall"]
    checks = _db_checks()
    tasks = _task_figures()
    doubles = _double_assignments(claims)
    ops = sum(len(v) for k, v in lat.items() if k != "outcome_promise")
    return {
        "database": connection.vendor, "cases": n_cases, "agents": n_agents, "processes": processes,
        "seconds": round(wall, 1), "think_ms": think_ms, "pool_share": pool_share, "team_size": team_size,
        **info,
        **{f"{k}_p50_ms": _pct(v, 50) for k, v in sorted(lat.items())},
        **{f"{k}_p99_ms": _pct(v, 99) for k, v in sorted(lat.items())},
        **{f"{k}_count": len(v) for k, v in sorted(lat.items())},
        # the time in the server worker alone (the rest of the latency is waiting for a free worker)
        **{f"server_{k}_p50_ms": _pct(v, 50) for k, v in sorted(out["service"].items())},
        **{f"server_{k}_p99_ms": _pct(v, 99) for k, v in sorted(out["service"].items())},
        "throughput_ops_per_s": round(ops / wall, 1),
        "cases_worked_per_s": round(len(claims) / wall, 1),
        "double_assignments": doubles + checks["agents_holding_two_cases"] + checks["consecutive_claims"],
        "claims_checked": len(claims), **checks, **tasks, "errors": dict(errors),
        "target_p99_ms": 150,
        "within_target": max(_pct(lat.get("get_next", []), 99), _pct(lat.get("outcome", []), 99)) <= 150,
    }


def command(cmd, opts, fresh_database) -> None:
    """``arrears bench desk``: a fresh database (``fresh_database(url, n)`` of the bench command),
    migrated, then :func:`run` in a child process with that database; prints the figures."""
    from arrears.core.progress import Reporter

    from django.core.management.base import CommandError

    rep = Reporter(opts["json"], "bench desk", cmd.stdout)
    n, agents = opts["cases"], opts["agents"] or 300
    with rep.running():
        url, cleanup = fresh_database(opts["database_url"], n)
        try:
            # as in production: DEBUG off (no query log kept per request), with throwaway keys for the
            # throwaway database
            env = {**os.environ, "ARREARS_DATABASE_URL": url, "ARREARS_DEBUG": "0",
                   "ARREARS_SECRET_KEY": secrets.token_urlsafe(50),
                   "ARREARS_PII_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                   "ARREARS_TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}
            rep.step("migrating a fresh database")
            subprocess.run([sys.executable, "-m", "arrears.manage", "migrate", "-v", "0"], env=env, check=True)
            rep.step(f"loading {n:,} cases and running {agents} agent sessions")
            proc = subprocess.run([sys.executable, "-m", "devtools.bench_desk", "--cases", str(n),
                                   "--agents", str(agents), "--seconds", str(opts.get("seconds") or 60),
                                   "--think-ms", str(opts.get("think_ms") or 7500),
                                   "--processes", str(opts.get("processes") or 5)],
                                  env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise CommandError(f"bench desk failed:\n{proc.stderr[-4000:]}")
            payload = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
        finally:
            cleanup()
    rep.result(payload, f"{n:,} cases, {agents} agents at {payload['think_ms']} ms a step "
                        f"({payload['throughput_ops_per_s']} requests/s): get-next p50 "
                        f"{payload.get('get_next_p50_ms')} ms / p99 {payload.get('get_next_p99_ms')} ms, dial p99 "
                        f"{payload.get('dial_p99_ms')} ms, outcome p99 {payload.get('outcome_p99_ms')} ms, "
                        f"double assignments "
                        f"{payload['double_assignments']}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--agents", type=int, default=300)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--think-ms", type=int, default=7500)
    p.add_argument("--processes", type=int, default=5)
    p.add_argument("--pool-share", type=float, default=0.5)
    p.add_argument("--team-size", type=int, default=30)
    p.add_argument("--reuse", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--task-worker", choices=["run", "drain"], default=None, help=argparse.SUPPRESS)
    p.add_argument("--epoch", type=float, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.config.settings")
    if a.task_worker:
        import django

        django.setup()
        from unittest import mock

        from django.core.management import call_command

        epoch = a.epoch or time.time()
        with mock.patch("django.utils.timezone.now", lambda: BENCH_NOW + timedelta(seconds=time.time() - epoch)):
            call_command("db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2",
                         "--worker-id", f"bench-{os.getpid()}", *(["--batch"] if a.task_worker == "drain" else []),
                         verbosity=0)
        return
    print(json.dumps(run(a.cases, a.agents, a.seconds, a.think_ms, a.processes, a.pool_share, a.team_size,
                         a.reuse),
                     default=str))


if __name__ == "__main__":
    main()

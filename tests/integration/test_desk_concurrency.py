"""Get-next under concurrency (issue 7): 50 parallel ``POST /api/desk/next/`` requests never give
the same case twice. PostgreSQL only (row locks, ``SKIP LOCKED``); on SQLite the writes are
serialised by the database lock anyway and the test is skipped with a message.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from arrears.contexts.casework.models import CaseEvent
from arrears.contexts.contact.desk import services
from arrears.contexts.contact.desk.models import QueueItem

from .test_desk_phone import at, frozen, make_case, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency test needs PostgreSQL (set ARREARS_DATABASE_URL=postgres://…): SQLite has no "
                    "row locks")


def _fire(clients: list[Client], barrier_n: int) -> list:
    results: list = [None] * len(clients)
    barrier = threading.Barrier(barrier_n)

    def go(i: int, c: Client):
        try:
            barrier.wait()
            r = c.post("/api/desk/next/")
            results[i] = (r.status_code, r.json().get("case_id"))
        except Exception as exc:  # pragma: no cover - reported by the assertion
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_parallel_get_next_never_duplicate():
    from arrears.contexts.org.users.models import Team

    team = Team.objects.create(name="并发组", department="collection")
    agents = [make_user(f"p{i}", "collector", team) for i in range(50)]
    cases = [make_case(i + 1, team=team, priority=1 + i % 3) for i in range(30)]  # all in the team pool
    with frozen(at(10)):
        services.sync_queue()
        clients = []
        for a in agents:
            c = Client()
            c.force_login(a)
            clients.append(c)
        results = _fire(clients, 50)
    assert all(r[0] == 200 for r in results), results
    got = [r[1] for r in results if r[1] is not None]
    dupes = [cid for cid, n in Counter(got).items() if n > 1]
    assert not dupes, f"double assignments: {dupes}"
    assert len(got) == len(cases)  # every pool case went to exactly one agent; the other 20 got none
    assert QueueItem.objects.filter(state="claimed").count() == 30
    assert sorted(QueueItem.objects.filter(state="claimed").values_list("claimed_by", flat=True).distinct()) == \
        sorted(QueueItem.objects.filter(state="claimed").values_list("claimed_by", flat=True))
    assert CaseEvent.objects.filter(kind="desk_claimed").count() == 30


def test_one_agent_fifty_parallel_requests_claim_one_case():
    from arrears.contexts.org.users.models import Team

    team = Team.objects.create(name="并发二组", department="collection")
    agent = make_user("solo", "collector", team)
    for i in range(10):
        make_case(100 + i, team=team, agent=agent)
    with frozen(at(10)):
        services.sync_queue()
        clients = []
        for _ in range(50):
            c = Client()
            c.force_login(agent)
            clients.append(c)
        results = _fire(clients, 50)
    got = {r[1] for r in results}
    assert len(got) == 1 and None not in got, results
    assert QueueItem.objects.filter(state="claimed").count() == 1

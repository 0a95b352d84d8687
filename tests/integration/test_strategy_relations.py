"""The strategy reads other contexts only through relations (docs/architecture.md): the casework,
portfolio and org facades give theirs (the strategy may import them), money and contact — right of the
strategy — register theirs with it in their ``AppConfig.ready()``; every relation yields the columns
it documents, on the database in use. After a re-decision the strategy sends ``case_redecided``
instead of calling the desk."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from arrears.contexts.casework import facade as casework
from arrears.contexts.casework.models import Case
from arrears.contexts.org import facade as org
from arrears.contexts.portfolio import facade as portfolio
from arrears.contexts.strategy import relations, tasks
from arrears.contexts.strategy.relations import RELATIONS, case_redecided, register_relation, relation
from arrears.pipeline.daily import run_daily

from .test_strategy_daily import D1, organisation, portfolio as extract  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _columns(sql: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) r WHERE 1 = 0")
        return [d[0] for d in cur.description]


def test_every_relation_the_strategy_reads_is_registered_and_yields_its_columns():
    assert relations.registered() == frozenset(RELATIONS)
    for name, documented in RELATIONS.items():
        missing = set(documented) - set(_columns(relation(name)))
        assert not missing, (name, missing)


def test_the_facades_relations_yield_their_documented_columns():
    assert _columns(casework.cases_sql()) == list(casework.CASE_COLUMNS)
    assert _columns(portfolio.accounts_sql()) == list(portfolio.ACCOUNT_COLUMNS)
    assert _columns(portfolio.customers_sql()) == ["customer_id", "district", "language", "timezone"]
    assert _columns(org.teams_sql()) == ["team_id", "name", "department", "buckets", "languages", "districts",
                                         "active"]
    assert _columns(org.agents_sql()) == ["agent_id", "team_id", "agency_id", "capacity", "absent_from",
                                          "absent_until", "active"]
    assert _columns(org.agencies_sql()) == ["agency_id", "code", "pool", "capacity", "active"]
    assert _columns(org.placements_sql()) == ["placement_id", "case_id", "agency_id", "placed_on", "recall_due_on",
                                              "recalled_on", "recall_reason", "extensions"]


def test_the_registry_refuses_an_unknown_name_and_a_second_provider():
    provider = relations._registry["payments"]
    with pytest.raises(ValueError, match="unknown strategy relation"):
        register_relation("payment", provider)
    with pytest.raises(ValueError, match="already provided"):
        register_relation("payments", lambda: "SELECT 1")
    register_relation("payments", provider)  # the same provider again (a second ready()): nothing changes
    assert relation("payments") == provider()


def test_a_relation_nobody_registered_is_a_configuration_error(monkeypatch):
    monkeypatch.delitem(relations._registry, "field_visits")
    with pytest.raises(ImproperlyConfigured, match="field_visits"):
        relation("field_visits")


def test_the_relations_carry_the_rows_of_their_tables(extract, organisation):  # noqa: F811
    run_daily(D1)
    open_ids = set(Case.objects.filter(closed_on__isnull=True).values_list("id", flat=True))
    with connection.cursor() as cur:
        cur.execute(f"SELECT c.case_id FROM ({casework.cases_sql()}) c WHERE c.closed_on IS NULL")
        assert {r[0] for r in cur.fetchall()} == open_ids
        cur.execute(f"SELECT a.external_id, a.currency FROM ({portfolio.accounts_sql()}) a ORDER BY a.external_id")
        assert cur.fetchall() == [("A1", "CNY"), ("A2", "CNY"), ("A3", "CNY"), ("A4", "CNY")]


def test_a_redecision_is_announced_to_whoever_follows_it(extract, organisation):  # noqa: F811
    run_daily(D1)
    case_id = Case.objects.filter(closed_on__isnull=True).order_by("id").values_list("id", flat=True).first()
    heard: list[tuple[list[int], date]] = []

    def follow(sender, case_ids, as_of, **kwargs):
        heard.append((case_ids, as_of))

    case_redecided.connect(follow)
    try:
        out = tasks.reevaluate.call(case_id, "manual", D1.isoformat())
    finally:
        case_redecided.disconnect(follow)
    assert heard == [([case_id], D1)]
    assert out["case_id"] == case_id and out["action"]


def test_every_re_decision_trigger_asked_for_is_one_the_strategy_knows():
    """The triggers the other contexts pass to ``reevaluate_after_commit`` are all known (a payment
    reversal and a breached plan used to fail in the worker), and an unknown one fails at once."""
    import re
    from pathlib import Path

    import arrears
    from arrears.contexts.strategy.services import TRIGGERS
    from arrears.contexts.strategy.tasks import reevaluate_after_commit

    src = Path(arrears.__file__).parent
    asked = {m for f in src.rglob("*.py")
             for m in re.findall(r'reevaluate_after_commit\([^,]+,\s*"([a-z_]+)"', f.read_text(encoding="utf-8"))}
    assert {"payment_reversed", "plan_breached", "payment_posted", "promise_broken"} <= asked
    assert asked <= TRIGGERS, asked - TRIGGERS
    with pytest.raises(ValueError):
        reevaluate_after_commit(1, "no_such_trigger", date(2025, 1, 1))

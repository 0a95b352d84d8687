"""One home for a decision's ``action_params`` (:mod:`arrears.domain.action_params`): the per-case
:func:`parse` and the set-based :func:`sql` (DuckDB, used by the allocation engine) give the same
value and the same default on the same rows — the params the shipped strategies write, hand-picked
edge cases and generated ones. No SQL on the Django database reads the params (the desk, field and
SMS services read them per case through :func:`parse`), so there is no third path to compare.

Before, three readers disagreed; the one rule (priority: a JSON number truncated to 1 … 9, else 9,
the least urgent) decides, so these callers changed behaviour:

* **field visits** (``domain/fieldwork.parse_priority``, default 0): a decision without a readable
  priority now gives the visit 9, not 0; 0, negative and above-9 values give 9 instead of
  themselves; ``"3"`` (a string) and ``true`` give 9 instead of 3 and 1.
* **phone desk** (``desk/services.priority_of``, default 9): ``"3"`` and ``true`` give 9 instead of 3
  and 1; a number too large for a float (``1e400``) gives 9 instead of an ``OverflowError``; a key
  given twice counts with its first value (DuckDB's reading), not its last.
* **allocation** (a regexp in DuckDB, NULL when absent): a case without a priority ties with the
  9s instead of sorting after every case with one (DPD, balance and case id order the tie); 0,
  negative and above-9 values give 9 (``-1`` used to go first); ``{"priority": 3}`` with a space,
  as hand-written JSON has it, reads 3 (was NULL); a ``priority`` nested in another object no longer
  counts; ``pool`` is read as JSON (escapes, spaces) rather than by a regexp.
* **SMS outbox** (``_params_template``): unchanged but for a repeated key (first wins) and a
  document with a lone surrogate escape (now unreadable, as DuckDB reads it).

Where all three agreed (1 … 9 as given; ``3.5`` → 3; unreadable JSON → the caller's default, which
is now 9 everywhere) nothing changed.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from arrears.domain import action_params as ap
from arrears.domain.errors import DomainError, RuleDataError
from arrears.domain.strategy import ACTIONS
from arrears.rules.strategy_loader import load_strategy, parse_strategy

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = [ROOT / "src/arrears/rules/strategies/default.yaml", *sorted((ROOT / "tests/fixtures/strategies").glob("*.yaml"))]

#: hand-picked rows: what decisions store, and what a hand edit, an old row or a bug could leave
EDGE = [
    None, "", " ", "{}", "null", "[]", "[1]", "3", '"x"', "not json", '{"priority":3', "{priority:3}",
    '{"priority":3}', '{"priority":1}', '{"priority":9}', '{"priority":0}', '{"priority":-1}', '{"priority":10}',
    '{"priority":-0}', '{"priority":3.5}', '{"priority":3.0}', '{"priority":9.99}', '{"priority":0.5}',
    '{"priority":-0.5}', '{"priority":1e0}', '{"priority":1e400}', '{"priority":-1e400}', '{"priority":NaN}',
    '{"priority":Infinity}', '{"priority":99999999999999999999999}', '{"priority":18446744073709551615}',
    '{"priority":"3"}', '{"priority":""}', '{"priority":true}', '{"priority":false}', '{"priority":null}',
    '{"priority":[3]}', '{"priority":{"v":3}}', '{"x":{"priority":1}}', '{"priority": 3}', ' {"priority":2}\n',
    '{"priority":1,"priority":5}', '{"queue":"early","priority":3,"extra":{"a":[1,2]},"note":"x"}',
    '{"priority":3,"queue":"early"}', '{"pool":"standard"}', '{"pool":""}', '{"pool":" "}', '{"pool":7}',
    '{"pool":null}', '{"pool":"a\\"b"}', '{"pool":"委外一组"}', '{"pool":"\\u59d4"}', '{"pool":"a\\u0000b"}',
    '{"template":"overdue_notice"}', '{"template":["x"]}', '{"campaign":"m1-robot"}', '{"queue":"late"}',
    '{"a":"\\ud800","priority":2}', '{"priority":2,"a":"\\ud83d\\ude00"}',
]


def _shipped() -> list[str]:
    out = []
    for path in STRATEGIES:
        for rule in load_strategy(path).rules().values():
            out.append(rule.action.params_json)
    return out


def _generated(n: int, seed: int) -> list[str]:
    """JSON objects over the parameter names and a few others, values of every JSON kind, written
    with and without spaces, some cut short (unreadable)."""
    rng = random.Random(seed)
    values = [1, 2, 3, 9, 0, -1, 10, 4.2, 8.9999, -3.5, 1e30, "3", "", "early", "委外", True, False, None, [], {"a": 1}]
    out = []
    for _ in range(n):
        keys = rng.sample([*ap.FIELDS, "type", "note", "PRIORITY"], rng.randint(0, 4))
        doc = {k: rng.choice(values) for k in keys}
        text = json.dumps(doc, ensure_ascii=rng.random() < 0.5, sort_keys=rng.random() < 0.5,
                          separators=rng.choice([(",", ":"), (", ", ": ")]))
        if rng.random() < 0.1:
            text = text[:rng.randint(0, len(text))]
        out.append(text)
    return out


def _set_based(rows: list[str | None]) -> list[ap.ActionParams]:
    con = duckdb.connect()
    con.register("p", pa.table({"i": list(range(len(rows))), "action_params": pa.array(rows, pa.string())}))
    cols = ", ".join(f"{ap.sql(f, 'action_params')} AS {f}" for f in ap.FIELDS)
    return [ap.ActionParams(*r) for r in con.sql(f"SELECT {cols} FROM p ORDER BY i").fetchall()]


def test_parse_and_sql_agree_on_shipped_edge_and_generated_params():
    rows = _shipped() + EDGE + _generated(3000, 11)
    got = _set_based(rows)
    mismatches = [(raw, ap.parse(raw), have) for raw, have in zip(rows, got) if ap.parse(raw) != have]
    assert mismatches == []
    # the sample is not vacuous: every default and every value range occurs
    assert {1, 2, 3, 4, 9} <= {p.priority for p in got}
    assert any(p.pool for p in got) and any(p.template for p in got) and any(p.queue for p in got)
    assert any(p == ap.ActionParams() for p in got) and any(p.campaign for p in got)


@pytest.mark.parametrize("raw, priority", [
    (None, 9), ("", 9), ("{}", 9), ('{"priority":0}', 9), ('{"priority":-1}', 9), ('{"priority":10}', 9),
    ('{"priority":3.7}', 3), ('{"priority":"3"}', 9), ('{"priority":true}', 9), ('{"priority":1e400}', 9),
    ('{"priority":2,"queue":"late","extra":1}', 2), ('{"priority":1,"priority":5}', 1), ("not json", 9),
    ({"priority": 4}, 4), ({"priority": "4"}, 9),
])
def test_one_priority_rule_with_one_default(raw, priority):
    assert ap.parse(raw).priority == priority
    assert ap.DEFAULT_PRIORITY == 9


def test_text_parameters_are_non_empty_strings_or_none():
    p = ap.parse('{"queue":"early","template":"","campaign":7,"pool":"standard"}')
    assert (p.queue, p.template, p.campaign, p.pool) == ("early", None, None, "standard")
    assert ap.parse("[1]") == ap.ActionParams() and ap.decode("[1]") == {}


def test_the_parameters_are_the_strategys():
    """ActionParams has exactly the fields the strategy's actions take and its schema allows."""
    declared = {p for params in ACTIONS.values() for p in params}
    schema = json.loads((ROOT / "src/arrears/rules/schemas/strategy.schema.json").read_text(encoding="utf-8"))
    allowed = set(schema["$defs"]["action"]["properties"]) - {"type"}
    assert set(ap.FIELDS) == declared == allowed
    assert set(ap.TEXT_FIELDS) == declared - {"priority"}


def test_every_shipped_decision_reads_back_as_written():
    for path in STRATEGIES:
        for rule in load_strategy(path).rules().values():
            parsed = ap.parse(rule.action.params_json)
            for name, value in rule.action.params:
                assert getattr(parsed, name) == value, (path.name, rule.id, name)


def test_a_strategy_whose_parameter_reference_gives_a_bad_priority_is_refused():
    data = yaml.safe_load(STRATEGIES[0].read_text(encoding="utf-8"))
    data["parameters"]["call_priority"] = 12
    data["parameters"]["agency_pool"] = ""
    rule = next(r for r in data["ladders"]["standard"]["rules"] if r["action"]["type"] == "call")
    rule["action"]["priority"] = "$call_priority"
    with pytest.raises(RuleDataError) as exc:
        parse_strategy(yaml.safe_dump(data, allow_unicode=True), "test")
    text = " ".join(exc.value.errors)
    assert "priority must be a whole number 1 … 9, got 12" in text
    assert "pool must be a non-empty text, got ''" in text


def test_unknown_field_and_wrong_input_type_are_errors():
    with pytest.raises(DomainError):
        ap.sql("prio", "x")
    with pytest.raises(DomainError):
        ap.parse(3)  # type: ignore[arg-type]
    assert ap.problems({"note": "x"}) == ["'note' is not an action parameter (known: priority, queue, template, "
                                          "campaign, pool)"]

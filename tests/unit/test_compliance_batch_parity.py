"""The vectorised quiet-hours / cap check (arrears.engines.compliance, DuckDB) agrees with the pure
gate (arrears.domain.compliance.decide) on 10,000 sampled planned contacts per pack — decision
and rule ids — including under a tightening overlay."""
from __future__ import annotations

import random
from collections import defaultdict

import duckdb
import pytest

from arrears.engines.compliance import check_planned_contacts, synthetic
from arrears.domain.compliance import ContactHistory, ContactRecord, Facts, ProposedAction, decide
from arrears.rules.compliance_packs import load_compliance_pack

SAMPLE = 10_000


def _parity(pack, jurisdiction: str, seed: int, **density):
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET enable_progress_bar = false")
    synthetic(con, 16_000, jurisdiction, seed=seed, **density)
    got = {cid: (dec, sorted(ids)) for cid, dec, ids in
           check_planned_contacts(con, "planned", "ledger", pack).fetchall()}
    planned = con.sql("SELECT contact_id, debtor_id, ts, tz, channel, contact_point, product, debt_id FROM planned").fetchall()
    ledger = defaultdict(list)
    for debtor, ts, channel, direction, point, outcome, debt in con.sql("SELECT * FROM ledger").fetchall():
        ledger[debtor].append(ContactRecord(ts, channel, direction, contact_point=point, outcome=outcome, debts=(debt,)))
    histories: dict[int, ContactHistory] = {}
    rows = random.Random(seed).sample(planned, SAMPLE)
    mismatches, mix = [], defaultdict(int)
    for cid, debtor, ts, tz, channel, point, product, debt in rows:
        hist = histories.get(debtor) or histories.setdefault(debtor, ContactHistory(ledger[debtor], tz))
        facts = Facts((tz,), product=product)
        d = decide(ProposedAction(ts, channel, contact_point=point, debts=(debt,)), facts, hist, pack, ts)
        mix[d.decision] += 1
        if (d.decision, sorted(d.rule_ids)) != got[cid]:
            mismatches.append((cid, (d.decision, sorted(d.rule_ids)), got[cid]))
    assert not mismatches, mismatches[:5]
    # the sample exercises every outcome, not only "allow"
    assert len(mix) >= 3, dict(mix)
    return mix


@pytest.mark.parametrize("overlay", [None, "example_bank"])
def test_cn_batch_matches_the_gate(overlay):
    # a dense day (≈ 12 contacts per debtor a day, also during the planned day) reaches the caps and flags;
    # China's rules here are all same-day, so ledger records after a planned time are fine
    _parity(load_compliance_pack("cn", overlay=overlay), "cn", seed=3, ledger_days=1, per_debtor_per_day=12,
            ledger_overlaps_plan=True)


@pytest.mark.parametrize("overlay", [None, {"name": "t", "version": "1", "rules": {
    "US-REGF-14B-01": {"parameters": {"max_calls_per_7_days": 5}},
    "US-REGF-14A-01": {"parameters": {"threshold": 10}}}}])
def test_us_batch_matches_the_gate(overlay):
    _parity(load_compliance_pack("us_regf", overlay=overlay), "us", seed=5)

"""``arrears bench compliance``: the report's shape. Speed is never asserted here: the figures
(target p99 ≤ 1 ms) are printed by ``arrears bench compliance`` and go into the closing note."""
from __future__ import annotations

import io
import json

from django.core.management import call_command

from devtools import bench_compliance as bench
from arrears.engines import compliance as batch


def test_single_decision_bench_report():
    r = bench.run(decisions=1500)
    assert r["history_days"] == 90 and r["history_records"]["cn"] > 300
    for key in ("cn", "us", "all"):
        s = r[key]
        assert s["p50_us"] <= s["p99_us"] <= s["max_us"]  # the report orders its percentiles; speed is not asserted
    assert set(r["cn"]["mix"]) >= {"allow", "deny"}


def test_bench_command_json(monkeypatch):
    monkeypatch.setattr(batch, "bench", lambda: {"rows": 10, "decisions_per_s": 1})  # the 1M-row run is slow
    out = io.StringIO()
    call_command("bench", "compliance", "--decisions", "1000", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["all"]["decisions"] == 2000 and payload["target_p99_us"] == 1000.0
    assert payload["vectorised"] == {"rows": 10, "decisions_per_s": 1}


def test_vectorised_bench_runs_small():
    r = batch.bench(rows=5000)
    assert isinstance(r["cn"]["decisions_per_s"], (int, float)) and r["us"]["ledger_rows"] == 5000 // 2 * 14

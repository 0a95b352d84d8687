"""The daily-run benchmark's vectorised step runs on the baseline's synthetic portfolio and agrees
with the bare-DuckDB baseline (bucket counts, delinquent customers). Figures only, no timing asserted."""
from devtools.bench_daily import portfolio_path, time_vectorised_step


def test_vectorised_step_agrees_with_the_baseline(tmp_path):
    path, _ = portfolio_path(5_000, tmp_path)
    r = time_vectorised_step(path, repeat=1)
    assert r["agrees_with_baseline"] is True
    assert sum(r["buckets"].values()) == 5_000 and r["delinquent_customers"] > 0

"""Benchmark of single compliance decisions: ``arrears bench compliance [--decisions N] [--json]``.

One debtor with 90 days of contact history (China: calls on two numbers by bank teams, an agency
and a voice robot, SMS, third-party contacts; US: calls, e-mails, texts, conversations about two
debts, a consumer in two candidate zones), indexed once (:class:`ContactHistory`); then N proposed
contacts at random times over the last days — allowed ones, quiet-hour denials, capped numbers,
third parties, some with an SMS body that goes through content screening — each decided with the
full history. Reports p50 / p90 / p99 / p99.9 / max per decision in microseconds (target:
p99 ≤ 1 ms), the index build time, and the decision mix.
"""
from __future__ import annotations

import gc
import random
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.domain.compliance import ContactHistory, ContactRecord, Debt, Facts, Party, ProposedAction, decide
from arrears.rules.compliance_packs import load_compliance_pack

__all__ = ["run", "cn_case", "us_case"]

TARGET_P99_US = 1000.0
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
CN_END = datetime(2026, 11, 30, 23, 0, tzinfo=SH)
US_END = datetime(2026, 11, 30, 23, 0, tzinfo=NY)
SMS = ["您好，您的信用卡账单已逾期，请尽快还款。如有疑问请致电客服。", "尊敬的客户，您尾号1234的账户本期应还款项未还，请及时处理。",
       "您好，我是XX银行信用卡中心，请于今日18点前回电。", "再不还钱就上门找你，通知你单位领导。"]


def cn_case(rng: random.Random, days: int = 90):
    """Facts and a 90-day history for one Chinese debtor (≈ 6–9 records a day)."""
    recs = []
    start = CN_END - timedelta(days=days)
    for d in range(days):
        base = start + timedelta(days=d)
        for _ in range(rng.randint(3, 6)):
            t = base.replace(hour=rng.randint(8, 21), minute=rng.randint(0, 59))
            kind = rng.random()
            caller, ck, ch = ("team1", "bank", "phone") if kind < 0.5 else (("agency_A", "agency", "phone") if kind < 0.8 else ("robot", "robot", "voice_robot"))
            recs.append(ContactRecord(t, ch, party="debtor", role="debtor", contact_point=rng.choice(["M1", "M2"]),
                                      outcome=rng.choice(["unanswered", "unanswered", "connected", "busy_signal", "rpc"]),
                                      caller=caller, caller_kind=ck))
        for _ in range(rng.randint(1, 2)):
            t = base.replace(hour=rng.randint(9, 20), minute=rng.randint(0, 59))
            recs.append(ContactRecord(t, "sms", party="debtor", role="debtor", contact_point="M1", outcome="sent"))
        if rng.random() < 0.2:
            t = base.replace(hour=rng.randint(9, 20))
            recs.append(ContactRecord(t, "phone", party="friend", role="reserved_contact", contact_point="F1",
                                      outcome=rng.choice(["connected", "unanswered"])))
    facts = Facts(("Asia/Shanghai",), product="internet_consumer_loan",
                  parties={"debtor": Party("debtor", "debtor"), "friend": Party("friend", "reserved_contact")})
    return facts, recs


def us_case(rng: random.Random, days: int = 90):
    """Facts and a 90-day history for one US consumer (two debts, two candidate zones)."""
    recs = []
    start = US_END - timedelta(days=days)
    for d in range(days):
        base = start + timedelta(days=d)
        for _ in range(rng.randint(0, 3)):
            t = base.replace(hour=rng.randint(11, 20), minute=rng.randint(0, 59))
            recs.append(ContactRecord(t, "phone", party="debtor", role="debtor", contact_point=rng.choice(["cell", "home"]),
                                      outcome=rng.choice(["unanswered_ring", "unanswered_ring", "busy_signal", "voicemail_no_message_left", "conversation"]),
                                      debts=(rng.choice(["D1", "D2"]),)))
        if rng.random() < 0.6:
            recs.append(ContactRecord(base.replace(hour=rng.randint(11, 20)), rng.choice(["email", "sms"]), party="debtor",
                                      role="debtor", contact_point="mail", outcome="sent"))
    facts = Facts(("America/New_York", "America/Los_Angeles"), institution_role="agency",
                  debts=(Debt("D1"), Debt("D2")), parties={"debtor": Party("debtor", "debtor")})
    return facts, recs


def _cn_actions(rng: random.Random, n: int):
    out = []
    for _ in range(n):
        t = CN_END - timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        r = rng.random()
        if r < 0.55:
            a = ProposedAction(t, "phone", contact_point=rng.choice(["M1", "M2", "M3"]), caller_kind=rng.choice(["bank", "agency"]),
                               caller="agency_A")
        elif r < 0.75:
            a = ProposedAction(t, "voice_robot", contact_point="M1", caller_kind="robot")
        elif r < 0.9:
            a = ProposedAction(t, "sms", contact_point="M1", content=rng.choice(SMS))
        else:
            a = ProposedAction(t, "phone", party="friend", contact_point="F1", purpose="ask_to_relay_message")
        out.append(a)
    return out


def _us_actions(rng: random.Random, n: int):
    out = []
    for _ in range(n):
        t = US_END - timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        if rng.random() < 0.8:
            out.append(ProposedAction(t, "phone", contact_point=rng.choice(["cell", "home"]), debts=(rng.choice(["D1", "D2"]),)))
        else:
            out.append(ProposedAction(t, "email", contact_point="mail", content="Please call us. Reply STOP to opt out."))
    return out


def _pct(sorted_us: list[float], q: float) -> float:
    i = min(len(sorted_us) - 1, max(0, int(round(q * (len(sorted_us) - 1)))))
    return round(sorted_us[i], 1)


def _summary(samples: list[float]) -> dict:
    s = sorted(samples)
    return {"decisions": len(s), "p50_us": _pct(s, 0.50), "p90_us": _pct(s, 0.90), "p99_us": _pct(s, 0.99),
            "p999_us": _pct(s, 0.999), "max_us": round(s[-1], 1), "mean_us": round(statistics.fmean(s), 1),
            "decisions_per_s": round(1e6 / statistics.fmean(s))}


def _time(actions, facts, hist, pack):
    samples, mix = [], Counter()
    clock = time.perf_counter_ns
    for a in actions:
        t0 = clock()
        d = decide(a, facts, hist, pack, a.ts)
        samples.append((clock() - t0) / 1000)
        mix[d.decision] += 1
    return samples, mix


def run(decisions: int = 10_000, seed: int = 7, days: int = 90) -> dict:
    """Time ``decisions`` single decisions per pack; returns the report dict."""
    rng = random.Random(seed)
    cn, us = load_compliance_pack("cn"), load_compliance_pack("us_regf")
    cn_facts, cn_recs = cn_case(rng, days)
    us_facts, us_recs = us_case(rng, days)
    t0 = time.perf_counter_ns()
    cn_hist = ContactHistory(cn_recs, "Asia/Shanghai")
    cn_build = (time.perf_counter_ns() - t0) / 1000
    t0 = time.perf_counter_ns()
    us_hist = ContactHistory(us_recs, "America/New_York")
    us_build = (time.perf_counter_ns() - t0) / 1000
    cn_actions, us_actions = _cn_actions(rng, decisions), _us_actions(rng, decisions)
    for a in cn_actions[:200]:  # warm caches (compiled patterns, zone objects)
        decide(a, cn_facts, cn_hist, cn, a.ts)
    for a in us_actions[:200]:
        decide(a, us_facts, us_hist, us, a.ts)
    gc.collect()
    cn_s, cn_mix = _time(cn_actions, cn_facts, cn_hist, cn)
    us_s, us_mix = _time(us_actions, us_facts, us_hist, us)
    both = _summary(cn_s + us_s)
    return {
        "history_days": days,
        "history_records": {"cn": len(cn_recs), "us": len(us_recs)},
        "index_build_us": {"cn": round(cn_build, 1), "us": round(us_build, 1)},
        "cn": {**_summary(cn_s), "mix": dict(cn_mix), "pack": cn.version_label},
        "us": {**_summary(us_s), "mix": dict(us_mix), "pack": us.version_label},
        "all": both,
        "target_p99_us": TARGET_P99_US,
        "meets_target": both["p99_us"] <= TARGET_P99_US,
    }


def command(cmd, opts: dict) -> None:
    """``arrears bench compliance``: run, then print the report (JSON with ``--json``)."""
    from arrears.core.progress import Reporter

    n = max(int(opts.get("decisions") or 10_000), 1)
    rep = Reporter(opts.get("json", False), "bench compliance", cmd.stdout)
    with rep.running():
        rep.step(f"timing {n:,} single decisions per pack with 90 days of history")
        payload = run(n)
        try:
            from arrears.engines import compliance as batch
        except ImportError:  # the vectorised check is optional
            batch = None
        if batch is not None:
            rep.step("timing the vectorised quiet-hours / cap check")
            payload["vectorised"] = batch.bench()
    a = payload["all"]
    human = (
        f"compliance gate, one decision with 90 days of history ({payload['history_records']['cn']} CN / "
        f"{payload['history_records']['us']} US records): p50 {a['p50_us']} µs, p99 {a['p99_us']} µs, "
        f"p99.9 {a['p999_us']} µs over {a['decisions']:,} decisions "
        f"(target p99 ≤ {payload['target_p99_us']:.0f} µs: {'met' if payload['meets_target'] else 'MISSED'}); "
        f"CN p99 {payload['cn']['p99_us']} µs, US p99 {payload['us']['p99_us']} µs; "
        f"index build {payload['index_build_us']['cn']} µs (CN)"
    )
    if "vectorised" in payload:
        v = payload["vectorised"]
        human += f"; vectorised check {v['decisions_per_s']:,} decisions/s on {v['rows']:,} rows"
    rep.result(payload, human)

"""Property tests (hypothesis): for random streams of proposed contacts — random times across days
and daylight-saving changes in several zones, random channels, numbers, callers and outcomes —
the contacts the gate allows (fed back into the history as they happen) never exceed a cap and
never fall in a quiet window, under the packaged packs and under random tightening overlays; and
when the gate says "wait until T", T is the earliest time the contact is allowed."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.domain.compliance import ContactHistory, ContactRecord, Facts, ProposedAction, decide
from arrears.domain.compliance.model import CALL_CHANNELS, outcome_connected_to_number, outcome_conversation
from arrears.domain.compliance.pack import apply_overlay, hhmm_seconds
from arrears.rules.compliance_packs import load_compliance_pack

UTC = timezone.utc
CN = load_compliance_pack("cn")
US = load_compliance_pack("us_regf")
#: days around daylight-saving changes (US, EU, AU) and an ordinary week
STARTS = [datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 26, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC),
          datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC), datetime(2026, 10, 29, tzinfo=UTC),
          datetime(2026, 6, 10, tzinfo=UTC)]
CN_ZONES = [("Asia/Shanghai",), ("Asia/Shanghai", "Europe/London"), ("Asia/Shanghai", "Australia/Sydney")]
US_ZONES = [("America/New_York",), ("America/New_York", "America/Los_Angeles"), ("America/Chicago", "America/Denver"),
            ("America/Phoenix",), ("Europe/London",)]
CHANNELS = ["phone", "phone", "phone", "voice_robot", "sms", "email", "field_visit"]
OUTCOMES = ["unanswered", "unanswered_ring", "connected", "conversation", "busy_signal", "voicemail_no_message_left", "rpc"]
POINTS = ["M1", "M2", "M3"]


@st.composite
def streams(draw, zones_choices):
    start = draw(st.sampled_from(STARTS))
    zones = draw(st.sampled_from(zones_choices))
    n = draw(st.integers(10, 70))
    gaps = draw(st.lists(st.integers(1, 9 * 60), min_size=n, max_size=n))  # minutes between proposals
    items = []
    t = start + timedelta(minutes=draw(st.integers(0, 24 * 60)))
    for g in gaps:
        t = t + timedelta(minutes=g)
        items.append((t, draw(st.sampled_from(CHANNELS)), draw(st.sampled_from(POINTS)), draw(st.sampled_from(OUTCOMES)),
                      draw(st.sampled_from(["bank", "agency", "robot"]))))
    return zones, items


@st.composite
def cn_overlays(draw):
    rules = {}
    if draw(st.booleans()):
        rules["CN-HOURS-01"] = {"parameters": {"allowed_until": draw(st.sampled_from(["20:00", "21:00", "21:30", "22:00"])),
                                               "allowed_from": draw(st.sampled_from(["08:00", "08:30", "09:00"]))}}
    if draw(st.booleans()):
        rules["CN-FREQ-01"] = {"parameters": {"max_attempts_per_contact_per_day": draw(st.integers(1, 6))}}
    if draw(st.booleans()):
        rules["CN-FREQ-02"] = {"parameters": {"max_connected_calls_per_debtor_per_day": draw(st.integers(1, 3))}}
    return rules


@st.composite
def us_overlays(draw):
    rules = {}
    if draw(st.booleans()):
        rules["US-REGF-6B1-01"] = {"parameters": {"allowed_until": draw(st.sampled_from(["19:00", "20:00", "21:00"])),
                                                  "allowed_from": draw(st.sampled_from(["08:00", "09:00"]))}}
    if draw(st.booleans()):
        rules["US-REGF-14B-01"] = {"parameters": {"max_calls_per_7_days": draw(st.integers(1, 7))}}
    return rules


def _run(pack, facts, items, zone_name):
    """Feed the stream through the gate in time order; returns the allowed (action, outcome) pairs."""
    hist = ContactHistory((), zone_name)
    allowed = []
    for t, channel, point, outcome, caller in items:
        action = ProposedAction(t, channel, contact_point=point, caller_kind=caller, debts=("D1",))
        d = decide(action, facts, hist, pack, t)
        if d.allowed:
            out = outcome if channel in CALL_CHANNELS else ("met" if channel == "field_visit" else "sent")
            hist.add(ContactRecord(t, channel, contact_point=point, outcome=out, caller_kind=caller, debts=("D1",)))
            allowed.append((action, out))
        elif d.next_allowed_at is not None:
            _check_waiting_helps(action, facts, hist, pack, d.next_allowed_at)
    return allowed


def _check_waiting_helps(action, facts, hist, pack, when):
    assert when > action.ts
    later = decide(replace(action, ts=when), facts, hist, pack, action.ts)
    assert later.allowed, (action, when, later.rule_ids)
    just_before = when - timedelta(seconds=1)
    if just_before > action.ts:
        earlier = decide(replace(action, ts=just_before), facts, hist, pack, action.ts)
        assert not earlier.allowed, (action, just_before, "allowed before next_allowed_at")


def _assert_in_window(pack, rule, base_rule, zones, allowed):
    frm, until = hhmm_seconds(pack.p(base_rule, "allowed_from")), hhmm_seconds(pack.p(base_rule, "allowed_until"))
    exempt = set(pack.p(base_rule, "exempt_channels"))
    for action, _ in allowed:
        if action.channel in exempt:
            continue
        for z in zones:
            loc = action.ts.astimezone(ZoneInfo(z))
            s = loc.hour * 3600 + loc.minute * 60 + loc.second
            assert frm <= s < until, f"{rule}: allowed at {loc.isoformat()} in {z}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(CN_ZONES), cn_overlays(), st.sampled_from(["credit_card", "internet_consumer_loan"]))
def test_cn_allowed_contacts_respect_quiet_hours_and_caps(stream, overlay, product):
    zones, items = stream
    pack = apply_overlay(CN, {"name": "p", "version": "1", "rules": overlay}) if overlay else CN
    facts = Facts(zones, product=product)
    allowed = _run(pack, facts, items, zones[0])
    _assert_in_window(pack, "CN-HOURS-01", "CN-HOURS-01", zones, allowed)
    z = ZoneInfo(zones[0])
    per_point = Counter((a.contact_point, a.ts.astimezone(z).date()) for a, _ in allowed if a.channel in CALL_CHANNELS)
    cap = pack.p("CN-FREQ-01", "max_attempts_per_contact_per_day")
    assert max(per_point.values(), default=0) <= cap
    if product in pack.p("CN-FREQ-02", "applies_to_products"):
        connected = Counter(a.ts.astimezone(z).date() for a, out in allowed
                            if a.channel in CALL_CHANNELS and outcome_connected_to_number(out))
        assert max(connected.values(), default=0) <= pack.p("CN-FREQ-02", "max_connected_calls_per_debtor_per_day")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(US_ZONES), us_overlays())
def test_us_allowed_calls_respect_hours_seven_in_seven_and_conversations(stream, overlay):
    zones, items = stream
    pack = apply_overlay(US, {"name": "p", "version": "1", "rules": overlay}) if overlay else US
    facts = Facts(zones, debts=())
    allowed = _run(pack, facts, items, zones[0])
    _assert_in_window(pack, "US-REGF-6B1-01", "US-REGF-6B1-01", zones, allowed)
    z = ZoneInfo(zones[0])
    calls = [(a.ts.astimezone(z).date(), a.ts, out) for a, out in allowed if a.channel in CALL_CHANNELS]
    per_day = defaultdict(int)
    for day, _, out in calls:
        if outcome_connected_to_number(out):
            per_day[day] += 1
    cap = pack.p("US-REGF-14B-01", "max_calls_per_7_days")
    for day in list(per_day):
        window = sum(per_day.get(day + timedelta(days=k), 0) for k in range(7))
        assert window <= cap, f"{window} calls in the 7 days from {day}"
    convs = [(day, ts) for day, ts, out in calls if outcome_conversation(out)]
    for day, ts, _ in calls:
        for cday, cts in convs:
            assert not (cts < ts and cday <= day <= cday + timedelta(days=6)), f"call {ts} within 7 days after {cts}"

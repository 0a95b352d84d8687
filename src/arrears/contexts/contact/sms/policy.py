"""The SMS channel policy (``rules/sms/policy.yaml``) and the debtor-local send window.

The loader validates the file against ``rules/sms/policy.schema.json`` and lists **every** error
in one :class:`~arrears.domain.errors.RuleDataError`. The window arithmetic below is pure (no
clock, no Django): it takes an aware ``now`` and the debtor's IANA time zone.

Why a window of its own: the gate's quiet hours (CN-HOURS-01, 22:00–08:00, CBA 2021/2026 and the
GB/T 2025 guideline) are the legal floor; the bank sends reminders only 08:00–21:00 debtor-local
(the common stricter practice, the window of scenario R14). A message is sent only when both allow
it; outside the window it waits for the next window start *in the debtor's own zone* — DST days
included, because the instant is computed from the local wall-clock time through ``zoneinfo``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from jsonschema import Draft202012Validator

from arrears.domain.errors import RuleDataError
from arrears.rules.bank import bank_facts

__all__ = ["Policy", "load_policy", "policy", "POLICY_FILE", "TEMPLATES_FILE", "in_window", "next_window_start",
           "window_bounds", "local_day", "day_start", "expiry_for"]

RULES = Path(__file__).resolve().parents[3] / "rules" / "sms"
POLICY_FILE = RULES / "policy.yaml"
SCHEMA_FILE = RULES / "policy.schema.json"
TEMPLATES_FILE = RULES / "templates.yaml"


@dataclass(frozen=True, eq=False)
class Policy:
    """The validated policy. Times are debtor-local wall-clock times."""

    version: str
    window_from: time
    window_until: time
    max_per_debtor_per_day: int
    carry_over_days: int
    max_attempts: int
    backoff_seconds: tuple[int, ...]
    rate_per_second: float
    max_parts: int
    hotline: str
    default_language: str
    languages: dict[str, dict[str, str]]
    opt_out_keywords: tuple[str, ...]
    permanent_statuses: frozenset[int]
    transient_statuses: frozenset[int]
    permanent_receipt_errors: frozenset[str]

    def backoff(self, attempt: int) -> timedelta:
        """The wait before retry number ``attempt`` (1-based); the last value repeats."""
        seq = self.backoff_seconds
        return timedelta(seconds=seq[min(max(attempt, 1), len(seq)) - 1])

    def signature(self, language: str) -> str:
        """The 【bank name】 a message starts with (rules/bank.yaml)."""
        return self.languages[language]["signature"]

    def opt_out_line(self, language: str) -> str:
        return self.languages[language]["opt_out_line"]


def _hhmm(s: str) -> time:
    h, m = s.split(":")
    return time(int(h), int(m))


def load_policy(path: str | Path = POLICY_FILE) -> Policy:
    """Read and validate a policy file; :class:`RuleDataError` lists every problem."""
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleDataError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise RuleDataError(source, [f"not valid YAML: {exc}"]) from exc
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    errors = [f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
              for e in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])]
    if not errors:
        frm, until = _hhmm(data["send_window"]["from"]), _hhmm(data["send_window"]["until"])
        if frm >= until:
            errors.append("send_window: 'from' must be before 'until' (a window within one local day)")
        if data["default_language"] not in data["languages"]:
            errors.append(f"default_language: {data['default_language']!r} has no entry under languages")
        overlap = set(data["permanent_statuses"]) & set(data["transient_statuses"])
        if overlap:
            errors.append(f"permanent_statuses and transient_statuses share {sorted(overlap)}")
    bank = bank_facts()  # the hotline and the 【】 signature: the bank's own facts, one source
    if errors:
        raise RuleDataError(source, errors)
    return Policy(
        version=str(data["version"]), window_from=frm, window_until=until,
        max_per_debtor_per_day=data["max_per_debtor_per_day"], carry_over_days=data["carry_over_days"],
        max_attempts=data["retry"]["max_attempts"], backoff_seconds=tuple(data["retry"]["backoff_seconds"]),
        rate_per_second=float(data["rate_per_second"]), max_parts=data["max_parts"], hotline=bank.hotline,
        default_language=data["default_language"],
        languages={k: {**v, "signature": bank.signature(k)} for k, v in data["languages"].items()},
        opt_out_keywords=tuple(data["opt_out_keywords"]), permanent_statuses=frozenset(data["permanent_statuses"]),
        transient_statuses=frozenset(data["transient_statuses"]),
        permanent_receipt_errors=frozenset(data["permanent_receipt_errors"]),
    )


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The packaged policy, read once per process."""
    return load_policy()


# ---- the debtor-local window (pure) -----------------------------------------------------------
def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    """The instant of wall-clock ``t`` on ``day`` in ``tz``; a time inside a DST gap moves forward
    to the first valid instant."""
    naive = datetime.combine(day, t)
    aware = naive.replace(tzinfo=tz)
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:  # in a gap: the wall-clock time does not exist
        aware = naive.replace(tzinfo=tz, fold=1).astimezone(UTC).astimezone(tz)
    return aware


def local_day(now: datetime, tz: str) -> date:
    """The debtor's calendar day at ``now``."""
    return now.astimezone(ZoneInfo(tz)).date()


def day_start(day: date, tz: str) -> datetime:
    return _at(day, time(0), ZoneInfo(tz))


def window_bounds(day: date, tz: str, p: Policy) -> tuple[datetime, datetime]:
    """``(start, end)`` of the send window on the debtor's ``day`` (end excluded)."""
    z = ZoneInfo(tz)
    return _at(day, p.window_from, z), _at(day, p.window_until, z)


def in_window(now: datetime, tz: str, p: Policy) -> bool:
    """Is ``now`` inside the send window in the debtor's zone ``tz``? (``until`` itself is outside.)"""
    start, end = window_bounds(local_day(now, tz), tz, p)
    return start <= now < end


def next_window_start(now: datetime, tz: str, p: Policy) -> datetime:
    """``now`` when inside the window, else the next window start in the debtor's zone."""
    day = local_day(now, tz)
    start, end = window_bounds(day, tz, p)
    if now < start:
        return start
    if now < end:
        return now
    return window_bounds(day + timedelta(days=1), tz, p)[0]


def expiry_for(day: date, tz: str, p: Policy) -> datetime:
    """When a message of ``day`` expires unsent: the window end ``carry_over_days`` later."""
    return window_bounds(day + timedelta(days=p.carry_over_days), tz, p)[1]

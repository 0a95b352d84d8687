"""``arrears compliance_backtest --from DATE --to DATE [--pack cn|us_regf|PATH] [--json]``

Replays the contact ledger's outbound attempts in time order against a rule pack and lists every
violation (an attempt the gate would deny or escalate), then a summary. The history for each
attempt is the earlier attempts of the same customer within 90 days (all callers). Writes nothing.

Limitation: the facts (contacts, placement, holds …) are today's, not those at the time of the
attempt — the database keeps no history of them yet.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from arrears.contexts.contact.compliance import services
from arrears.contexts.contact.compliance.models import ContactAttempt
from arrears.domain.compliance import ContactHistory, decide
from arrears.domain.errors import RuleDataError
from arrears.rules.compliance_packs import load_compliance_pack


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from e


class Command(BaseCommand):
    help = "Replay recorded contacts against a compliance pack and list every violation."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help="first day (YYYY-MM-DD), inclusive")
        parser.add_argument("--to", dest="date_to", required=True, help="last day (YYYY-MM-DD), inclusive")
        parser.add_argument("--pack", default="cn", help="cn, us_regf or a pack YAML path (default cn)")
        parser.add_argument("--json", action="store_true", help="one JSON line per violation, then a summary line")

    def handle(self, *args, **opts):
        d1, d2 = _date(opts["date_from"]), _date(opts["date_to"])
        if d2 < d1:
            raise CommandError("--to is before --from")
        try:
            pack = load_compliance_pack(opts["pack"])
        except RuleDataError as e:
            raise CommandError(str(e)) from e
        tz = timezone.get_current_timezone()
        start = datetime.combine(d1, time(0), tzinfo=tz)
        end = datetime.combine(d2 + timedelta(days=1), time(0), tzinfo=tz)
        rows = list(ContactAttempt.objects.filter(at__gte=start - timedelta(days=services.HISTORY_DAYS), at__lt=end)
                    .select_related("customer", "case").order_by("at", "id"))
        by_customer: dict[int, list[ContactAttempt]] = defaultdict(list)
        for a in rows:
            by_customer[a.customer_id].append(a)
        cases = {a.case_id: a.case for a in rows if a.case_id}

        violations, decisions = [], Counter()
        facts_cache: dict[tuple, object] = {}
        checked = 0
        for attempts in by_customer.values():
            customer = attempts[0].customer
            history = ContactHistory((), tz=customer.timezone)
            window: list = []
            for a in attempts:
                if a.at >= start and a.direction == "outbound":
                    key = (a.case_id, a.caller_kind, a.caller)
                    facts = facts_cache.get(key)
                    if facts is None:
                        facts = services.build_facts(customer, cases.get(a.case_id), caller_kind=a.caller_kind,
                                                     caller=a.caller or None)
                        facts_cache[key] = facts
                    # history: earlier attempts of this customer within HISTORY_DAYS
                    cutoff = a.at - timedelta(days=services.HISTORY_DAYS)
                    if window and window[0].ts < cutoff:
                        window = [r for r in window if r.ts >= cutoff]
                        history = ContactHistory(window, tz=customer.timezone)
                    action = services.proposed_action(
                        at=a.at, channel=a.channel, contact=a.contact if a.contact_id else None, party=a.party,
                        purpose=a.purpose, content=None, caller_kind=a.caller_kind, caller=a.caller or None)
                    d = decide(action, facts, history, pack, a.at)
                    checked += 1
                    decisions[d.decision] += 1
                    if d.decision in services.BLOCKING:
                        violations.append({
                            "attempt": a.pk, "customer": customer.external_id, "case": a.case_id,
                            "at": a.at.isoformat(), "channel": a.channel, "caller_kind": a.caller_kind,
                            "caller": a.caller, "decision": d.decision, "rule_ids": d.rule_ids,
                            "recorded_decision": a.decision,
                        })
                rec = services.contact_record(a)
                window.append(rec)
                history.add(rec)

        violations.sort(key=lambda v: (v["at"], v["attempt"]))
        summary = {"from": d1.isoformat(), "to": d2.isoformat(), "pack_version": pack.version_label,
                   "attempts_checked": checked, "violations": len(violations), "decisions": dict(decisions),
                   "rules": dict(Counter(r for v in violations for r in v["rule_ids"]))}
        out = self.stdout
        if opts["json"]:
            for v in violations:
                out.write(json.dumps(v, ensure_ascii=False))
            out.write(json.dumps({"summary": summary}, ensure_ascii=False))
            return
        for v in violations:
            out.write(f"#{v['attempt']} {v['customer']} {v['at']} {v['channel']} {v['caller_kind']}:{v['caller'] or '-'} "
                      f"{v['decision']} {','.join(v['rule_ids'])}")
        out.write(f"{summary['pack_version']} {d1}..{d2}: {checked} attempts checked, {len(violations)} violations"
                  + (f" ({', '.join(f'{k} {n}' for k, n in sorted(summary['rules'].items()))})" if violations else ""))

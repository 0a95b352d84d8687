"""``arrears audit_verify [--json] [--anchor ID:HASH]``: check the audit log's hash chain.

Exit status 0: the chain is intact. 1: it is broken; the first broken event is named (an altered
row: its hash does not match its content; a removed row: a gap in the ids and/or a ``prev_hash``
that does not match the previous event). ``--anchor`` also checks a head (id and hash) recorded
earlier, which is what detects the removal of the newest events.
"""
from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from arrears.contexts.audit import chain, dbguard
from arrears.contexts.audit.models import AuditEvent


def _anchor(value: str) -> tuple[int, str]:
    try:
        id_, digest = value.split(":", 1)
        if len(digest) != 64:
            raise ValueError
        return int(id_), digest.lower()
    except ValueError:
        raise CommandError(f"--anchor {value!r}: expected ID:SHA256HEX (as printed by audit_verify)") from None


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exit non-zero naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print only a JSON result")
        parser.add_argument("--anchor", metavar="ID:HASH", help="a head recorded earlier that must still be there")
        parser.add_argument("--database", default="default")

    def handle(self, *args, **opts):
        from django.db import connections

        anchor = _anchor(opts["anchor"]) if opts["anchor"] else None
        t0 = time.perf_counter()
        verdict = chain.verify_rows(chain.iter_rows(AuditEvent.objects.using(opts["database"])), anchor=anchor)
        seconds = round(time.perf_counter() - t0, 3)
        guarded = dbguard.installed(connections[opts["database"]])
        first = verdict.first
        result = {
            "ok": verdict.ok,
            "events": verdict.events,
            "head": {"id": verdict.head_id, "hash": verdict.head_hash} if verdict.head_id else None,
            "problem_count": verdict.problem_count,
            "first_broken_event": first.event_id if first else None,
            "problems": [p.as_dict() for p in verdict.problems],
            "append_only_triggers": guarded,
            "seconds": seconds,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif verdict.ok:
            head = f"; head {verdict.head_id}:{verdict.head_hash}" if verdict.head_id else ""
            self.stdout.write(f"audit log intact: {verdict.events:,} events{head} ({seconds}s)")
        else:
            self.stdout.write(
                f"audit log BROKEN at event {first.event_id}: {first.detail}\n"
                + "".join(f"  - {p.detail}\n" for p in verdict.problems[1:])
                + (f"  … {verdict.problem_count - len(verdict.problems)} more\n"
                   if verdict.problem_count > len(verdict.problems) else "")
                + f"{verdict.problem_count} problem(s) in {verdict.events:,} events ({seconds}s)"
            )
        if not guarded:
            # an unguarded log can be edited without trace from now on: that is a failure too
            self.stderr.write("audit log NOT PROTECTED: the append-only triggers are missing (run migrate)")
        if not verdict.ok:
            sys.exit(1)
        if not guarded:
            sys.exit(2)

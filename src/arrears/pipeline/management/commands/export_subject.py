"""``arrears export_subject CUSTOMER_ID [--pk] [--output FILE] [--actor USER] [--reason TEXT]``

Everything held about one customer as JSON (PIPL Art. 45 subject access; see
:mod:`arrears.pipeline.subject`), written to ``--output`` (mode 0600) or stdout, and one
``subject.export`` audit event (with the SHA-256 of the document).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arrears.contexts.audit.facade import record_audit_event as record
from arrears.contexts.portfolio import facade as portfolio
from arrears.pipeline.management.commands.purge import actor_option
from arrears.pipeline.subject import subject_data

DEFAULT_REASON = "data subject access request (PIPL Art. 45)"


class Command(BaseCommand):
    help = "Export everything held about a customer as JSON (PIPL subject access); audited."

    def add_arguments(self, parser):
        parser.add_argument("customer_id", help="customer number (e.g. UCI00001), or the numeric id with --pk")
        parser.add_argument("--pk", action="store_true", help="CUSTOMER_ID is the numeric database id")
        parser.add_argument("--output", "-o", help="write to FILE (mode 0600) instead of stdout")
        parser.add_argument("--actor", help="username of the person exporting (for the audit log)")
        parser.add_argument("--reason", default=DEFAULT_REASON, help=f"why (recorded; default: {DEFAULT_REASON!r})")

    def handle(self, *args, **opts):
        actor = actor_option(opts["actor"])
        key = opts["customer_id"]
        found = portfolio.find_customer(key, by_pk=opts["pk"])
        if found is None:
            raise CommandError(f"no customer {'with id ' if opts['pk'] else ''}{key!r}")
        customer_id, external_id = found
        customer = (portfolio.CUSTOMER_OBJECT_TYPE, customer_id)  # the audit event's object
        doc = subject_data(customer_id)
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        data = {"sha256": digest, "bytes": len(text.encode("utf-8")), "counts": doc["counts"],
                "output": str(Path(opts["output"]).resolve()) if opts["output"] else "stdout"}
        if opts["output"]:
            path = Path(opts["output"])
            tmp = path.with_name(f".{path.name}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            try:
                record("subject.export", actor=actor, obj=customer, reason=opts["reason"], data=data)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, path)
            self.stderr.write(f"exported {external_id} to {path} ({data['bytes']:,} bytes, sha256 {digest})")
        else:
            record("subject.export", actor=actor, obj=customer, reason=opts["reason"], data=data)
            self.stdout.write(text, ending="")

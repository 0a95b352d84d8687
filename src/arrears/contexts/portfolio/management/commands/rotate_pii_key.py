"""``arrears rotate_pii_key [--dry-run] [--batch N] [--json]``

Re-encrypts every encrypted column under the current key (``ARREARS_PII_KEY``) and recomputes
the blind indexes, a batch of rows per short transaction; the previous keys must be listed in
``ARREARS_PII_OLD_KEYS`` meanwhile so that rows not yet rewritten stay readable. Idempotent:
a second run finds nothing to do. ``--dry-run`` counts the rows still under other keys, and
the encrypted values in them (a row holds several) by the key they are under.
See docs/privacy.md ("Encryption at rest").
"""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arrears.core.progress import Reporter
from arrears.core.privacy.crypto import DecryptionError, keyring
from arrears.core.privacy.rekey import count_stale, protected_models, rewrite

log = logging.getLogger("arrears.core.privacy")


def _audit(action: str, data: dict) -> None:
    """Record an audit event when the audit log is installed (``arrears.contexts.audit``)."""
    try:
        from arrears.contexts.audit.facade import record_audit_event as record
    except ImportError:
        return
    try:
        record(action, reason="PII key rotation (arrears rotate_pii_key)", data=data)
    except Exception:  # the rotation itself succeeded; say so loudly rather than fail it
        log.exception("rotate_pii_key: could not record the audit event")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _values(by_key: dict[str, int]) -> str:
    """``stale_values`` in words: ``"60,000 values (60,000 under key 9a2a4ce9)"``."""
    total = sum(by_key.values())
    if not total:
        return "0 values"
    parts = ", ".join(f"{n:,} {'in plaintext' if k == 'plaintext' else f'under key {k}'}" for k, n in by_key.items())
    return f"{_count(total, 'value')} ({parts})"


class Command(BaseCommand):
    help = (
        "Re-encrypt all personal data under ARREARS_PII_KEY and recompute the search hashes, in short "
        "batches (reads keep working: keep the old key in ARREARS_PII_OLD_KEYS until this has finished)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the rows still under other keys")
        parser.add_argument("--batch", type=int, default=None,
                            help=f"rows per transaction (default {getattr(settings, 'PII_ROTATION_BATCH', 2000)})")
        parser.add_argument("--json", action="store_true", help="print only the JSON summary")

    def handle(self, *args, **opts):
        batch = opts["batch"] or getattr(settings, "PII_ROTATION_BATCH", 2000)
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        rep = Reporter(opts["json"], "rotate_pii_key", self.stdout)
        ring = keyring()
        t0 = time.perf_counter()
        tables: dict[str, dict] = {}
        with rep.running():
            rep.step(f"current key {ring.current.id}; readable earlier keys: "
                     f"{', '.join(k.id for k in ring.keys[1:]) or 'none'}")
            for model in protected_models():
                label = model._meta.label_lower
                if opts["dry_run"]:
                    r = count_stale(model, ring=ring)
                    rep.step(f"{label}: {_count(r.stale_rows, 'row')} to re-encrypt, {_values(r.stale_values)}")
                else:
                    def progress(r, label=label):
                        rep.step(f"{label}: {r.rewritten:,} of {r.stale_rows:,} rows re-encrypted")

                    try:
                        r = rewrite(model, batch=batch, ring=ring, progress=progress)
                    except DecryptionError as exc:
                        raise CommandError(
                            f"{exc}. Rows rewritten so far are kept; fix the key ring "
                            "(ARREARS_PII_OLD_KEYS) and run again."
                        ) from exc
                    rep.step(f"{label}: done, {r.rewritten:,} rows re-encrypted")
                tables[label] = {"stale_rows": r.stale_rows, "rewritten": r.rewritten, "stale_values": r.stale_values}
        summary = {
            "dry_run": opts["dry_run"],
            "key_id": ring.current.id,
            "old_key_ids": [k.id for k in ring.keys[1:]],
            "batch": batch,
            "tables": tables,
            "stale_rows": sum(t["stale_rows"] for t in tables.values()),
            "rewritten": sum(t["rewritten"] for t in tables.values()),
            "seconds": round(time.perf_counter() - t0, 2),
        }
        if not opts["dry_run"]:
            _audit("pii.rotate_key", {k: summary[k] for k in ("key_id", "old_key_ids", "rewritten")}
                   | {"tables": {t: v["rewritten"] for t, v in tables.items()}})
        if opts["dry_run"]:
            values = sum(n for t in tables.values() for n in t["stale_values"].values())
            human = (f"{_count(summary['stale_rows'], 'row')} to re-encrypt, holding {_count(values, 'value')} "
                     f"not under the current key {ring.current.id}"
                     + "".join(f"\n  {t}: {_count(v['stale_rows'], 'row')}, {_values(v['stale_values'])}"
                               for t, v in tables.items()))
        else:
            human = (f"re-encrypted {summary['rewritten']:,} rows under key {ring.current.id} "
                     f"({summary['seconds']}s); earlier keys can be dropped from ARREARS_PII_OLD_KEYS")
        rep.result(summary, human)

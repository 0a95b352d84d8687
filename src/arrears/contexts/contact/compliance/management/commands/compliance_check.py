"""``arrears compliance_check PATH.json [--details] [--check] [--overlay NAME_OR_PATH]``

Reads compliance vectors (the ``vectors.json`` format: a JSON list of
``{id, rule_id, description, inputs, expected, source}``) and prints one JSON line per vector:
``{"id", "decision", "rule_ids", "pack_version"}``, plus ``next_allowed_at`` when waiting would
help and, for ``compute`` vectors, the computed values. ``--details`` adds the reasons (zh/en,
citations), notes and computed details. ``--check`` compares each decision (and computed value)
with the vector's ``expected`` and exits 1 listing the mismatches on stderr. ``--overlay`` applies
an institution overlay to the pack it names.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from arrears.contexts.contact.compliance.vectors import evaluate_vector, output_line
from arrears.domain.errors import RuleDataError
from arrears.rules.compliance_packs import PACKS, load_compliance_pack, load_overlay

_NOT_VALUES = {"decision", "reason", "layer", "flags_note"}


def mismatches(vector: dict, line: dict, details: dict) -> list[str]:
    """Differences between a vector's ``expected`` and what was decided/computed."""
    exp = vector.get("expected") or {}
    out = []
    if exp.get("decision") != line["decision"]:
        out.append(f"decision {line['decision']!r} != expected {exp.get('decision')!r}")
    if exp.get("decision") == "compute":
        for k, v in exp.items():
            if k not in _NOT_VALUES and line.get(k) != v:
                out.append(f"{k} {line.get(k)!r} != expected {v!r}")
    return out


class Command(BaseCommand):
    help = "Decide compliance vectors (vectors.json format): one JSON line per vector {id, decision, rule_ids}."

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON file: a list of vectors")
        parser.add_argument("--details", action="store_true", help="add reasons, notes and computed details")
        parser.add_argument("--check", action="store_true", help="compare with each vector's expected; exit 1 on mismatch")
        parser.add_argument("--overlay", default=None, help="institution overlay (name under rules/compliance/overlays or a path)")

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        try:
            vectors = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read vectors from {path}: {exc}") from exc
        if not isinstance(vectors, list):
            raise CommandError(f"{path}: expected a JSON list of vectors")
        try:
            packs = {name: load_compliance_pack(name) for name in PACKS}
            if opts["overlay"]:
                data, _ = load_overlay(opts["overlay"])
                target = data.get("pack") or "cn"
                packs[target] = load_compliance_pack(target, overlay=opts["overlay"])
        except RuleDataError as exc:
            raise CommandError("invalid rule data:\n  " + "\n  ".join([exc.source, *exc.errors])) from exc
        failed = []
        for v in vectors:
            decision, _ = evaluate_vector(v, packs)
            line = output_line(v, decision, details=opts["details"])
            self.stdout.write(json.dumps(line, ensure_ascii=False, default=str))
            if opts["check"]:
                for problem in mismatches(v, line, decision.details):
                    failed.append(f"{v.get('id')}: {problem}")
        if opts["check"]:
            if failed:
                self.stderr.write("\n".join(failed))
                raise CommandError(f"{len(failed)} mismatch(es) in {len(vectors)} vectors")
            self.stderr.write(f"all {len(vectors)} vectors match their expected decisions")

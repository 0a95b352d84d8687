"""The hash chain of the audit log: canonical form, hashing and verification.

Each event's ``hash`` is SHA-256 over a canonical JSON document of its fields and the previous
event's hash (``prev_hash``); the first event's ``prev_hash`` is :data:`GENESIS`. Event ids are
dense (1, 2, 3, …: :func:`arrears.contexts.audit.services.record` assigns them under the append lock),
so a missing id is a removed row.

The canonical document is ``json.dumps(…, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8, with ``at`` as ISO 8601 in UTC with microseconds. It is
computed from the values as the database returns them, so ``record`` normalises ``data`` through
JSON before hashing (what is hashed is what is stored).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

#: ``prev_hash`` of the first event.
GENESIS = "0" * 64
#: Version of the canonical form (part of every hashed document).
CANON_VERSION = 1

#: The stored columns a hash covers, in the order :func:`iter_rows` reads them.
FIELDS = (
    "id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "reason", "ip", "user_agent",
    "data", "prev_hash", "hash",
)

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical(
    *, id: int, at: datetime, actor_id: int | None, actor_label: str, action: str, object_type: str,
    object_id: str, reason: str, ip: str, user_agent: str, data, prev_hash: str,
) -> bytes:
    """The canonical bytes an event's hash is computed over."""
    if at.tzinfo is None:
        raise ValueError("audit event time must be timezone-aware")
    return _dumps({
        "v": CANON_VERSION,
        "id": id,
        "at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "ip": ip,
        "user_agent": user_agent,
        "data": data,
        "prev_hash": prev_hash,
    }).encode("utf-8")


def event_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


def normalise_data(data) -> dict:
    """``data`` as it will come back from the database: JSON types only, via a JSON round trip
    (dates, decimals and UUIDs become strings; NaN and infinities are refused)."""
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder, allow_nan=False))


@dataclass
class Problem:
    event_id: int
    kind: str  # "hash_mismatch" | "gap" | "prev_hash_mismatch" | "anchor"
    detail: str

    def as_dict(self) -> dict:
        return {"event_id": self.event_id, "kind": self.kind, "detail": self.detail}


@dataclass
class Verdict:
    events: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)
    #: problems found in all (``problems`` keeps only the first few)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def verify_rows(rows: Iterable[tuple], *, keep: int = 20, anchor: tuple[int, str] | None = None) -> Verdict:
    """Walk ``rows`` (tuples in :data:`FIELDS` order, ascending id) and report every break.

    After a break the walk re-synchronises on the row's stored hash, so one altered or removed row
    is reported once (as the event where the chain breaks) rather than for every later event.
    ``anchor`` (id, hash) is a head recorded earlier outside the database: the log must still hold
    that event with that hash (this is what detects removal of the newest events).
    """
    v = Verdict()
    prev_id = 0
    prev_hash = GENESIS
    anchor_seen = anchor is None

    def problem(event_id: int, kind: str, detail: str) -> None:
        v.problem_count += 1
        if len(v.problems) < keep:
            v.problems.append(Problem(event_id, kind, detail))

    for id_, at, actor_id, actor_label, action, object_type, object_id, reason, ip, ua, data, prev, stored in rows:
        v.events += 1
        if id_ != prev_id + 1:
            missing = id_ - prev_id - 1
            problem(
                id_, "gap",
                f"event {id_} follows event {prev_id or '(start of log)'}: "
                + (f"{missing} event(s) removed ({prev_id + 1}..{id_ - 1})" if missing > 0 else "ids out of order"),
            )
        elif prev != prev_hash:
            problem(id_, "prev_hash_mismatch", f"event {id_}: prev_hash does not match the hash of event {prev_id} "
                                               "(the previous event was altered, removed or replaced)")
        computed = event_hash(
            id=id_, at=at, actor_id=actor_id, actor_label=actor_label, action=action, object_type=object_type,
            object_id=object_id, reason=reason, ip=ip, user_agent=ua, data=data, prev_hash=prev,
        )
        if computed != stored:
            problem(id_, "hash_mismatch", f"event {id_}: stored hash does not match its content (the row was altered)")
        if anchor is not None and id_ == anchor[0]:
            anchor_seen = True
            if stored != anchor[1]:
                problem(id_, "anchor", f"event {id_}: hash differs from the anchored head {anchor[1][:16]}…")
        prev_id, prev_hash = id_, stored
    if not anchor_seen:
        problem(anchor[0], "anchor", f"anchored event {anchor[0]} is no longer in the log "
                                     f"(the log ends at event {prev_id or 'none'}: newest events removed)")
    v.head_id = prev_id or None
    v.head_hash = prev_hash
    return v


def iter_rows(queryset, chunk_size: int = 20_000) -> Iterator[tuple]:
    """The events of ``queryset`` in id order as :data:`FIELDS` tuples, streamed."""
    return queryset.order_by("id").values_list(*FIELDS).iterator(chunk_size=chunk_size)

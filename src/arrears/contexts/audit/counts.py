"""Reading the audit log: counts (e.g. the reveal rate limit: reveals by a user in the last hour)."""
from __future__ import annotations

from datetime import datetime

from .models import AuditEvent


def count_events(*, actor=None, action: str | None = None, since: datetime | None = None, obj=None) -> int:
    """How many events match: by ``actor`` (a user), ``action``, at or after ``since``, about
    ``obj`` (a model instance or an ``(object_type, object_id)`` pair). Uses the (actor, at) and
    (action, at) indexes."""
    qs = AuditEvent.objects.all()
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action is not None:
        qs = qs.filter(action=action)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if obj is not None:
        from .services import _object_ref

        object_type, object_id = _object_ref(obj)
        qs = qs.filter(object_type=object_type, object_id=object_id)
    return qs.count()

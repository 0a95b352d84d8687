"""Background work of the SMS channel (django-tasks; the database backend and ``arrears db_worker``
in production; the suite runs it eagerly where a test asks for the ``immediate_tasks`` fixture).

``dispatch_outbox`` is enqueued after every commit that queues messages. When messages are left
waiting for a later time (outside the debtor's window, a daily cap, a retry backoff) and the backend
can defer, it enqueues itself again for the earliest such time — at most one wake-up queued at a
time. ``arrears sms_dispatch --loop`` does the same from a plain process (cron/systemd).
"""
from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import default_task_backend, task

log = logging.getLogger("arrears.sms")

__all__ = ["dispatch_outbox", "schedule_wakeup"]


@task()
def dispatch_outbox(limit: int = 500) -> dict:
    """One dispatch pass (:func:`arrears.contexts.contact.sms.services.dispatch_due`) and the next wake-up."""
    from . import services

    result = services.dispatch_due(limit=limit)
    if result.get("claimed", 0) >= limit:  # more are due now
        dispatch_outbox.enqueue(limit=limit)
    else:
        schedule_wakeup()
    return result


def schedule_wakeup() -> None:
    """Enqueue ``dispatch_outbox`` for the earliest ``not_before`` of waiting messages, when the
    backend supports deferred tasks and no wake-up at or before that time is queued already."""
    from .models import OutboundSms

    if not getattr(default_task_backend, "supports_defer", False):
        return
    nxt = (OutboundSms.objects.filter(status=OutboundSms.Status.QUEUED, submit_started_at__isnull=True,
                                      not_before__gt=timezone.now())
           .order_by("not_before").values_list("not_before", flat=True).first())
    if nxt is None:
        return
    try:
        from django_tasks_db.models import DBTaskResult

        path = f"{dispatch_outbox.func.__module__}.{dispatch_outbox.func.__qualname__}"
        if DBTaskResult.objects.filter(task_path=path, status="READY", run_after__lte=nxt).exists():
            return
    except Exception:  # another backend: it may hold one extra wake-up, which is harmless
        pass
    dispatch_outbox.using(run_after=nxt).enqueue()

"""Writing the audit log: :func:`record` is the one way to write an event.

Action names (``area.verb``) in use:

===================== ==========================================================================
``pii.view``          personal data shown (masked or not) on a page, API response or export
``pii.reveal``        a full (unmasked) value revealed, with the reason given
``pii.rotate_key``    personal data re-encrypted under a new key
``access.denied``     an object outside the user's scope was asked for (answered 404)
``auth.login``        login succeeded (signal ``user_logged_in``)
``auth.login_failed`` login failed (signal ``user_login_failed``; ``data.username`` as typed)
``auth.logout``       logout (signal ``user_logged_out``)
``auth.lockout``      login locked out after repeated failures (django-axes ``user_locked_out``)
``role.change``       a user's roles (groups) changed (signal ``m2m_changed`` on ``User.groups``)
``subject.export``    everything held about a customer exported (PIPL Art. 45)
``retention.purge``   a customer's personal data erased by the retention policy (one per customer;
                      one more per run with ``data.summary`` true and no object)
===================== ==========================================================================
"""
from __future__ import annotations

import ipaddress
import logging

from django.db import connections, router, transaction
from django.db.models import Model
from django.utils import timezone

from . import chain
from .middleware import current_request
from .models import AuditEvent

log = logging.getLogger(__name__)

#: Key of the PostgreSQL transaction-level advisory lock that serialises appends.
APPEND_LOCK_KEY = 0x4152_5245_4155_4454  # "ARREAUDT"

SYSTEM = "system"
ANONYMOUS = "anonymous"


def record(
    action: str,
    *,
    actor=None,
    obj=None,
    reason: str = "",
    data: dict | None = None,
    request=None,
) -> AuditEvent:
    """Append one event to the audit log and return it.

    - ``actor``: the user who acted. Defaults to the request's authenticated user (``request`` or
      the request being handled, see :mod:`arrears.contexts.audit.middleware`); without one the event
      is labelled ``anonymous`` (inside a request) or ``system`` (commands, batch jobs).
    - ``obj``: the object acted on: a model instance, or a ``(object_type, object_id)`` pair such as
      ``("cases.case", 42)`` for an object that may not be loaded (or may not exist).
    - ``reason``: why (free text; required by the caller for reveals and exports).
    - ``data``: details, JSON-serialisable (dates and decimals become strings). Never put the
      personal data itself here: name the fields (``{"field": "national_id"}``), not the values.
    - ``request``: where from (IP address, user agent); defaults to the request being handled.

    Appends are serialised (PostgreSQL: ``pg_advisory_xact_lock``; SQLite: the IMMEDIATE
    transaction already holds the write lock) so the hash chain never forks. Inside an outer
    transaction the event commits (or rolls back) with it, and the lock is held until then.
    """
    request = request if request is not None else current_request()
    # a DRF Request re-runs authentication when its .user is read (and a failed login would
    # record again, and again): use the Django request underneath, whose user is already resolved
    request = getattr(request, "_request", request)
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None  # AnonymousUser
    if actor is not None:
        actor_label = actor.get_username()
    else:
        actor_label = ANONYMOUS if request is not None else SYSTEM
    object_type, object_id = _object_ref(obj)
    ip, user_agent = _origin(request)

    using = router.db_for_write(AuditEvent)
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
        last = AuditEvent.objects.using(using).order_by("-id").values_list("id", "hash").first()
        prev_id, prev_hash = last if last else (0, chain.GENESIS)
        event = AuditEvent(
            id=prev_id + 1,
            at=timezone.now(),
            actor=actor,
            actor_label=actor_label[:150],
            action=action,
            object_type=object_type,
            object_id=object_id,
            reason=reason or "",
            ip=ip,
            user_agent=user_agent,
            data=chain.normalise_data(data),
            prev_hash=prev_hash,
        )
        event.hash = event.compute_hash()
        event.save(using=using)
    return event


def _object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, Model):
        return obj._meta.label_lower, str(obj.pk)
    object_type, object_id = obj
    return str(object_type)[:64], str(object_id)[:64]


def _origin(request) -> tuple[str, str]:
    if request is None:
        return "", ""
    from django.conf import settings

    meta = getattr(request, "META", {}) or {}
    ip = meta.get("REMOTE_ADDR") or ""
    if getattr(settings, "BEHIND_PROXY", False) and meta.get("HTTP_X_FORWARDED_FOR"):
        ip = meta["HTTP_X_FORWARDED_FOR"].split(",")[0]  # the client, as the trusted proxy saw it
    try:
        ip = ipaddress.ip_address(ip.strip()).compressed if ip else ""
    except ValueError:
        ip = ""
    user_agent = (meta.get("HTTP_USER_AGENT") or "").replace("\x00", "")[:512]
    return ip, user_agent

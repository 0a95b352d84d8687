"""``flush`` that respects the append-only audit log.

Django's ``flush`` empties every table. The audit table refuses that (database triggers), so this
override refuses to run on a database holding audit events unless
``settings.ARREARS_AUDIT_FLUSH_ALLOWED`` is on (throwaway databases: the test suite turns it on
for transactional tests), in which case the guard is lifted for the flush and restored after.
"""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from arrears.contexts.audit import dbguard


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if dbguard.TABLE not in connection.introspection.table_names():
            return super().handle(**options)
        if not getattr(settings, "ARREARS_AUDIT_FLUSH_ALLOWED", False):
            with connection.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {dbguard.TABLE} LIMIT 1")
                empty = cur.fetchone() is None
            if not empty or connection.vendor == "postgresql":  # PostgreSQL refuses TRUNCATE even when empty
                raise CommandError(
                    "flush would erase the append-only audit log; refused. "
                    "For a throwaway database set ARREARS_AUDIT_FLUSH_ALLOWED=1."
                )
            return super().handle(**options)
        with dbguard.suspended(connection):
            return super().handle(**options)

"""Database-enforced append-only audit table: the trigger SQL per vendor.

- PostgreSQL: a trigger function raising ``integrity_constraint_violation`` (23000), fired
  ``BEFORE UPDATE OR DELETE … FOR EACH ROW`` and ``BEFORE TRUNCATE … FOR EACH STATEMENT``.
- SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers doing ``RAISE(ABORT, …)`` (SQLite has
  no TRUNCATE; ``DELETE FROM t`` without a WHERE fires the row trigger like any other DELETE).

Both surface in Django as :class:`django.db.IntegrityError`. Installed by migration
``audit.0001_initial`` and re-installed (idempotently) after every ``migrate`` of the audit app,
because SQLite's way of altering a table (copy into a new table, drop the old one) loses triggers.

The triggers stop the application and anyone using its database account by mistake; an account
that owns the table can still drop them (``arrears audit_verify`` then detects the changes made).
For a stronger guarantee give the application an account that does not own the table (see
docs/privacy.md).
"""
from __future__ import annotations

from contextlib import contextmanager

TABLE = "audit_auditevent"
MESSAGE = "audit_auditevent is append-only"

POSTGRES_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused', ERRCODE = 'integrity_constraint_violation';
END
$$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()""",
]
POSTGRES_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END""",
]
SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

INSTALL = {"postgresql": POSTGRES_INSTALL, "sqlite": SQLITE_INSTALL}
UNINSTALL = {"postgresql": POSTGRES_UNINSTALL, "sqlite": SQLITE_UNINSTALL}


def install(connection) -> None:
    """Create (or re-create) the triggers on ``connection``'s database."""
    with connection.cursor() as cur:
        for sql in INSTALL.get(connection.vendor, []):
            cur.execute(sql)


def installed(connection) -> bool:
    """Whether the guard triggers exist."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
            return cur.fetchone()[0] >= 2
        if connection.vendor == "sqlite":
            cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            return cur.fetchone()[0] >= 2
    return False


@contextmanager
def suspended(connection):
    """Lift the guard for the duration of the block (``flush`` of a throwaway database only)."""
    vendor = connection.vendor
    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        elif vendor == "sqlite":
            for sql in SQLITE_UNINSTALL:
                cur.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cur:
            if vendor == "postgresql":
                cur.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            elif vendor == "sqlite":
                for sql in SQLITE_INSTALL:
                    cur.execute(sql)

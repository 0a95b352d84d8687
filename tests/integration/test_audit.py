"""The audit log: record(), the hash chain, audit_verify (intact / row edited / row removed),
append-only enforced by the database, serialised appends, and the events recorded from signals."""
from __future__ import annotations

import hashlib
import io
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from arrears.contexts.audit import chain, dbguard
from arrears.contexts.audit.middleware import RequestContextMiddleware, current_request
from arrears.contexts.audit.models import AppendOnlyError, AuditEvent
from arrears.contexts.audit.services import record

PASSWORD = "audit-Passw0rd-9"


def verify(*extra) -> tuple[int, dict]:
    """Run ``audit_verify --json``: (exit status, result)."""
    out = io.StringIO()
    try:
        call_command("audit_verify", "--json", *extra, stdout=out, stderr=io.StringIO())
        status = 0
    except SystemExit as e:
        status = e.code
    return status, json.loads(out.getvalue())


def verify_text() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=io.StringIO())
        return 0, out.getvalue()
    except SystemExit as e:
        return e.code, out.getvalue()


def some_events(n: int = 6) -> list[AuditEvent]:
    return [
        record("pii.view", obj=("portfolio.customer", i), reason=f"call {i}", data={"fields": ["name"], "n": i})
        for i in range(1, n + 1)
    ]


def tamper(sql: str, params=()) -> None:
    """Run ``sql`` with the append-only guard lifted, as someone with direct database access would
    (SQLite: DROP TRIGGER, then re-create; PostgreSQL: ALTER TABLE … DISABLE TRIGGER)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            for stmt in dbguard.SQLITE_UNINSTALL:
                cur.execute(stmt)
        else:  # (first fire the deferred foreign-key checks the test transaction holds)
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f"ALTER TABLE {dbguard.TABLE} DISABLE TRIGGER USER")
        cur.execute(sql, params)
        if connection.vendor == "sqlite":
            for stmt in dbguard.SQLITE_INSTALL:
                cur.execute(stmt)
        else:
            cur.execute(f"ALTER TABLE {dbguard.TABLE} ENABLE TRIGGER USER")
    assert dbguard.installed(connection)


# --- record ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_fills_who_what_which_when_why_and_from_where():
    user = get_user_model().objects.create_user("agent7", password=PASSWORD)
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Mozilla/5.0 test")
    request.user = user
    e = record("pii.reveal", obj=("portfolio.contact", 42), reason="客户来电核实", data={"field": "value"}, request=request)
    e.refresh_from_db()
    assert (e.id, e.action, e.actor_id, e.actor_label) == (1, "pii.reveal", user.pk, "agent7")
    assert (e.object_type, e.object_id, e.reason) == ("portfolio.contact", "42", "客户来电核实")
    assert (e.ip, e.user_agent) == ("10.1.2.3", "Mozilla/5.0 test")
    assert e.at.utcoffset().total_seconds() == 0
    assert e.prev_hash == chain.GENESIS and e.hash == e.compute_hash()
    e2 = record("retention.purge", obj=user, data={"as_of": __import__("datetime").date(2025, 1, 2)})
    assert (e2.id, e2.prev_hash, e2.actor_label, e2.ip) == (2, e.hash, "system", "")
    assert (e2.object_type, e2.object_id, e2.data) == (user._meta.label_lower, str(user.pk), {"as_of": "2025-01-02"})


@pytest.mark.django_db
def test_record_takes_the_request_from_the_middleware_context():
    user = get_user_model().objects.create_user("agent8", password=PASSWORD)
    request = RequestFactory().get("/cases/1/", REMOTE_ADDR="2001:0db8:0000::0001", HTTP_USER_AGENT="UA/1")
    request.user = user

    def view(req):
        assert current_request() is req
        return record("pii.view", obj=("cases.case", 1))

    event = RequestContextMiddleware(view)(request)
    assert (event.actor_id, event.ip, event.user_agent) == (user.pk, "2001:db8::1", "UA/1")
    assert current_request() is None  # reset after the response


# --- audit_verify ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intact_chain_verifies_with_exit_0():
    status, result = verify()
    assert status == 0 and result["events"] == 0  # an empty log is intact
    events = some_events()
    status, result = verify()
    assert status == 0, result
    assert result["ok"] and result["events"] == 6 and result["first_broken_event"] is None
    assert result["head"] == {"id": events[-1].id, "hash": events[-1].hash}
    assert result["append_only_triggers"] is True
    status, text = verify_text()
    assert status == 0 and "intact: 6 events" in text
    assert verify("--anchor", f"{events[-1].id}:{events[-1].hash}")[0] == 0


@pytest.mark.django_db
def test_edited_row_is_named():
    some_events()
    tamper(f"UPDATE {dbguard.TABLE} SET reason = %s WHERE id = 3", ["nothing to see"])
    status, result = verify()
    assert status == 1
    assert result["first_broken_event"] == 3
    assert result["problems"][0]["kind"] == "hash_mismatch"
    status, text = verify_text()
    assert status == 1 and "BROKEN at event 3" in text and "altered" in text


@pytest.mark.django_db
def test_edited_row_with_recomputed_hash_breaks_the_next_link():
    some_events()
    forged = AuditEvent.objects.get(id=3)
    forged.reason = "forged"
    new_hash = forged.compute_hash()
    tamper(f"UPDATE {dbguard.TABLE} SET reason = %s, hash = %s WHERE id = 3", ["forged", new_hash])
    status, result = verify()
    assert status == 1
    assert result["first_broken_event"] == 4
    assert result["problems"][0]["kind"] == "prev_hash_mismatch"


@pytest.mark.django_db
def test_removed_row_is_named():
    some_events()
    tamper(f"DELETE FROM {dbguard.TABLE} WHERE id = 3")
    status, result = verify()
    assert status == 1
    assert result["first_broken_event"] == 4
    assert result["problems"][0]["kind"] == "gap"
    assert "3..3" in result["problems"][0]["detail"]
    assert result["problem_count"] == 1  # reported once, not for every later event
    status, text = verify_text()
    assert status == 1 and "BROKEN at event 4" in text and "removed" in text


@pytest.mark.django_db
def test_removed_first_row_and_removed_head():
    events = some_events()
    head = f"{events[-1].id}:{events[-1].hash}"
    tamper(f"DELETE FROM {dbguard.TABLE} WHERE id = 1")
    status, result = verify()
    assert status == 1 and result["first_broken_event"] == 2 and result["problems"][0]["kind"] == "gap"

    tamper(f"DELETE FROM {dbguard.TABLE} WHERE id = 6")
    status, result = verify("--anchor", head)  # the newest event removed: only an anchor shows it
    assert status == 1
    assert any(p["kind"] == "anchor" and p["event_id"] == 6 for p in result["problems"])


@pytest.mark.django_db
def test_replaced_row_with_rehashed_tail_is_caught_by_an_anchor():
    events = some_events(3)
    anchor = f"3:{events[-1].hash}"
    # rewrite event 3 completely (content and hash): the chain alone still checks out
    forged = AuditEvent.objects.get(id=3)
    forged.reason = "rewritten"
    tamper(f"UPDATE {dbguard.TABLE} SET reason = %s, hash = %s WHERE id = 3", ["rewritten", forged.compute_hash()])
    assert verify()[0] == 0
    status, result = verify("--anchor", anchor)
    assert status == 1 and result["problems"][0]["kind"] == "anchor"


# --- append-only -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_refuses_update_and_delete_through_the_orm():
    some_events(3)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(id=2).update(reason="changed")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(id=2).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    e = AuditEvent.objects.get(id=2)
    e.reason = "changed"
    with pytest.raises(AppendOnlyError):
        e.save()
    with pytest.raises(AppendOnlyError):
        e.delete()
    with pytest.raises(AppendOnlyError):  # writing without record() (no valid hash)
        AuditEvent(id=99, at=e.at, action="x", prev_hash=e.hash, hash="f" * 64).save()
    assert verify()[0] == 0


@pytest.mark.django_db
def test_database_refuses_update_delete_truncate_in_raw_sql():
    some_events(3)
    statements = [f"UPDATE {dbguard.TABLE} SET reason = 'x' WHERE id = 1", f"DELETE FROM {dbguard.TABLE} WHERE id = 3",
                  f"DELETE FROM {dbguard.TABLE}"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks in the way of TRUNCATE
        statements.append(f"TRUNCATE {dbguard.TABLE}")
    for sql in statements:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert AuditEvent.objects.count() == 3 and verify()[0] == 0


@pytest.mark.django_db
def test_flush_refuses_to_erase_the_audit_log(settings):
    some_events(1)
    settings.ARREARS_AUDIT_FLUSH_ALLOWED = False
    with pytest.raises(CommandError, match="append-only audit log"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    threads, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                for attempt in range(50):
                    try:
                        record("pii.view", obj=("cases.case", t * 100 + i), data={"thread": t, "i": i})
                        break
                    except DatabaseError as e:  # SQLite shared-cache test database: "table is locked"
                        if "locked" not in str(e) or attempt == 49:
                            raise
                        threading.Event().wait(0.01)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(1, threads * per_thread + 1))
    status, result = verify()
    assert status == 0, result
    assert len(set(AuditEvent.objects.values_list("prev_hash", flat=True))) == threads * per_thread  # no fork


# --- events from signals -----------------------------------------------------------------------


@pytest.mark.django_db
def test_login_success_failure_and_logout_are_recorded(client):
    user = get_user_model().objects.create_user("agent9", password=PASSWORD)
    client.post(reverse("login"), {"username": "agent9", "password": "wrong-password"}, REMOTE_ADDR="10.0.0.9",
                HTTP_USER_AGENT="UA/fail")
    failed = AuditEvent.objects.filter(action="auth.login_failed").get()
    assert failed.data["username"] == "agent9" and "wrong-password" not in json.dumps(failed.data)
    assert (failed.actor_id, failed.actor_label, failed.ip, failed.user_agent) == (None, "anonymous", "10.0.0.9", "UA/fail")

    client.post(reverse("login"), {"username": "agent9", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    ok = AuditEvent.objects.filter(action="auth.login").get()
    assert (ok.actor_id, ok.actor_label, ok.ip) == (user.pk, "agent9", "10.0.0.9")
    client.logout()
    assert AuditEvent.objects.filter(action="auth.logout", actor=user).exists()
    assert verify()[0] == 0


@pytest.mark.django_db
def test_lockout_is_recorded(client, settings):
    if "axes" not in settings.INSTALLED_APPS:
        pytest.skip("django-axes is not installed")
    get_user_model().objects.create_user("agent11", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(reverse("login"), {"username": "agent11", "password": "nope"}, REMOTE_ADDR="10.0.0.11")
    lockout = AuditEvent.objects.filter(action="auth.lockout").first()
    assert lockout is not None
    assert (lockout.data["username"], lockout.ip) == ("agent11", "10.0.0.11")
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db
def test_role_changes_are_recorded():
    user = get_user_model().objects.create_user("agent10", password=PASSWORD)
    collector, _ = Group.objects.get_or_create(name="collector")
    leader, _ = Group.objects.get_or_create(name="team_leader")
    user.groups.add(collector)
    user.groups.add(leader)
    user.groups.remove(collector)
    user.groups.clear()
    leader.user_set.add(user)
    events = list(AuditEvent.objects.filter(action="role.change").order_by("id"))
    assert [e.object_id for e in events] == [str(user.pk)] * 5
    assert [{k: v for k, v in e.data.items() if k != "roles"} for e in events] == [
        {"added": ["collector"]}, {"added": ["team_leader"]}, {"removed": ["collector"]},
        {"removed": ["team_leader"]}, {"added": ["team_leader"]},
    ]
    assert [e.data["roles"] for e in events] == [["collector"], ["collector", "team_leader"], ["team_leader"], [],
                                                 ["team_leader"]]


@pytest.mark.django_db
def test_admin_shows_the_log_read_only(client):
    admin = get_user_model().objects.create_superuser("root1", password=PASSWORD)
    client.force_login(admin)
    e = some_events(1)[0]
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[e.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[e.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=e.pk).exists()


def test_canonical_form_is_stable():
    import datetime as dt

    fields = dict(id=1, at=dt.datetime(2025, 3, 20, 1, 2, 3, tzinfo=dt.timezone.utc), actor_id=None, actor_label="system",
                  action="pii.view", object_type="portfolio.customer", object_id="7", reason="原因", ip="", user_agent="",
                  data={"b": 1, "a": [1, 2]}, prev_hash=chain.GENESIS)
    body = chain.canonical(**fields)
    assert body.startswith(b'{"action":"pii.view","actor_id":null,"actor_label":"system","at":"2025-03-20T01:02:03.000000+00:00"')
    assert '"reason":"原因"'.encode() in body and b'"data":{"a":[1,2],"b":1}' in body
    assert chain.event_hash(**fields) == hashlib.sha256(body).hexdigest()

"""Personal data encrypted at rest (issue 3, point 1), on the database of record.

- The raw database holds no plaintext phone or ID number, birth date (``YYYY-MM-DD`` or
  ``YYYYMMDD``) or address coordinate: on SQLite the database's bytes (the page image of the live
  connection, and a real file written by the ``arrears`` CLI); on PostgreSQL every row of every
  table cast to text.
- Model saves and the bulk loader encrypt and index alike; re-importing compares plaintext.
- Search by phone and ID number through the blind indexes, before, during and after a rotation;
  ``arrears rotate_pii_key`` leaves nothing under the old key and is idempotent.
- Birth dates and coordinates (typed encrypted fields) read back as ``date``/``float``, exactly;
  migration 0005 encrypts existing rows without losing a decimal, and reverses.
"""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from arrears.contexts.portfolio.intake.uci import read_uci
from arrears.contexts.portfolio.models import Contact, Customer
from arrears.contexts.portfolio.selectors import find_customers_by_national_id, find_customers_by_phone
from arrears.contexts.portfolio.services import load_extract
from arrears.core.privacy import crypto
from arrears.core.privacy.crypto import DecryptionError, Key
from arrears.core.privacy.rekey import count_stale, decrypt_all, rewrite

pytestmark = pytest.mark.django_db

UCI = settings.DATA_DIR / "uci_default_of_credit_card_clients.csv"
AS_OF = date(2026, 11, 30)
KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # tests/conftest.py TEST_PII_KEY
KEY_B = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM="
PHONE_KINDS = ("mobile", "home_phone", "work_phone")
ROOT = Path(__file__).resolve().parents[2]


def small_uci(tmp_path: Path, rows: int = 120) -> Path:
    """The first ``rows`` customers of the UCI portfolio (names, IDs, phones are synthesised)."""
    lines = UCI.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "uci_small.csv"
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return path


def birth_date_forms(d: date) -> list[str]:
    """How a birth date would show in plaintext: ISO (SQLite's date text, PostgreSQL's date) and
    compact (as inside a 身份证号)."""
    return [d.isoformat(), d.strftime("%Y%m%d")]


def coordinate_forms(x: float) -> list[str | bytes]:
    """How a coordinate would show in plaintext: its text (to 6 decimals, so every rendering
    with more digits contains it) and SQLite's REAL (8 bytes, big-endian IEEE 754)."""
    text = repr(x)
    return [text[: text.index(".") + 7] if "." in text else text, struct.pack(">d", x)]


def plaintexts(extract) -> dict[str, list[str | bytes]]:
    contacts = extract.contacts
    return {
        "national_id": [v for v in extract.customers["national_id"].to_list() if v],
        "phone": [v for v, k in zip(contacts["value"].to_list(), contacts["kind"].to_list()) if k in PHONE_KINDS and v],
        "address": [v for v, k in zip(contacts["value"].to_list(), contacts["kind"].to_list())
                    if k not in PHONE_KINDS and v],
        "birth_date": [f for d in extract.customers["birth_date"].to_list() if d for f in birth_date_forms(d)],
        "coordinate": [f for col in ("latitude", "longitude") for x in contacts[col].to_list() if x is not None
                       for f in coordinate_forms(x)],
    }


def assert_no_plaintext(blob: bytes, secrets_: dict[str, list[str | bytes]]) -> None:
    assert secrets_["national_id"] and secrets_["phone"] and secrets_["birth_date"] and secrets_["coordinate"]
    for kind, values in secrets_.items():
        leaked = [v for v in values if (v if isinstance(v, bytes) else v.encode("utf-8")) in blob]
        assert not leaked, f"plaintext {kind} in the raw database: {leaked[:3]}"


def raw_database_dump() -> bytes:
    """Everything the database holds, as raw as it can be had from here.

    SQLite: the exact page image of the database (``serialize``: every page, free pages
    included, in-memory test databases too), plus the file and its WAL when it is a file.
    PostgreSQL: every row of every table cast to text.
    """
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        raw = connection.connection
        blob = raw.serialize()
        name = str(connection.settings_dict["NAME"])
        for suffix in ("", "-wal", "-journal"):
            p = Path(name + suffix)
            if not name.startswith("file:") and name != ":memory:" and p.is_file():
                blob += p.read_bytes()
        return blob
    parts = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f"SELECT CAST(r AS text) FROM {connection.ops.quote_name(table)} AS r")
            parts.extend(r[0] for r in cur.fetchall())
    return "\n".join(parts).encode("utf-8")


def raw_values(model, column: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {model._meta.db_table} ORDER BY id")
        return [r[0] for r in cur.fetchall()]


# ---------------------------------------------------------------------------------------------


def test_model_save_encrypts_indexes_and_reads_back():
    c = Customer.objects.create(external_id="K1", name="张三丰", national_id="44030519900101123x")
    m = Contact.objects.create(customer=c, external_id="m", kind="mobile", value="+86 138 1234 5678",
                               party_name="张三丰")
    e = Contact.objects.create(customer=c, external_id="e", kind="email", value="San.Zhang@example.com")
    raw_name, raw_id, raw_hash = raw_values(Customer, "name")[0], raw_values(Customer, "national_id")[0], \
        raw_values(Customer, "national_id_hash")[0]
    assert raw_name.startswith("v1.") and "张" not in raw_name
    assert raw_id.startswith("v1.") and "4403" not in raw_id
    assert len(raw_hash) == 64
    assert all(v.startswith("v1.") for v in raw_values(Contact, "value"))
    c.refresh_from_db()
    assert (c.name, c.national_id) == ("张三丰", "44030519900101123x")
    assert Contact.objects.get(pk=m.pk).value == "+86 138 1234 5678"

    assert list(find_customers_by_national_id("44030519900101123X")) == [c]
    assert list(find_customers_by_national_id(" 440305 19900101 123x")) == [c]
    assert list(find_customers_by_phone("13812345678")) == [c]
    assert list(find_customers_by_phone("0086-138-1234-5678", parties=["debtor"])) == [c]
    assert list(find_customers_by_phone("13812345678", parties=["emergency"])) == []
    assert not find_customers_by_phone("13812345679").exists()
    assert not find_customers_by_phone("").exists() and not find_customers_by_national_id("").exists()
    # an e-mail address is not a phone number, whatever its index
    assert e.value_hash and not find_customers_by_phone("San.Zhang@example.com").exists()

    # the index follows the value, also when only the value is saved
    m.value = "139 0000 1111"
    m.save(update_fields=["value"])
    assert list(find_customers_by_phone("13900001111")) == [c]
    assert not find_customers_by_phone("13812345678").exists()
    c.national_id = ""
    c.save()
    assert Customer.objects.get(pk=c.pk).national_id_hash == "" and not find_customers_by_national_id(
        "44030519900101123X").exists()
    # the result is a queryset of customers: it can be narrowed further (e.g. by data scope)
    assert find_customers_by_phone("13900001111").filter(external_id="K1").count() == 1


def test_encrypted_fields_refuse_lookups_but_empty_and_null():
    Customer.objects.create(external_id="K1", name="张三", national_id="")
    with pytest.raises(FieldError, match="blind index"):
        list(Customer.objects.filter(national_id="44030519900101123X"))
    for lookup in ("icontains", "startswith", "in", "gt"):
        with pytest.raises(FieldError):
            list(Customer.objects.filter(**{f"name__{lookup}": ["张三"] if lookup == "in" else "张"}))
    assert Customer.objects.filter(national_id="").count() == 1
    assert Customer.objects.filter(national_id__isnull=True).count() == 0
    assert Customer.objects.filter(national_id=None).count() == 0


def test_birth_date_and_coordinates_are_encrypted_and_read_back_exactly():
    c = Customer.objects.create(external_id="K1", name="张三丰", birth_date=date(1987, 6, 23))
    home = Contact.objects.create(customer=c, external_id="h", kind="home_address", value="深圳市福田区福华路1号",
                                  latitude=22.54187654321098, longitude=114.05912345678901)
    mobile = Contact.objects.create(customer=c, external_id="m", kind="mobile", value="13812345678")
    (raw_birth,) = raw_values(Customer, "birth_date")
    assert raw_birth.startswith("v1.") and "1987" not in raw_birth
    assert raw_values(Contact, "latitude")[0].startswith("v1.") and raw_values(Contact, "longitude")[0].startswith("v1.")
    assert raw_values(Contact, "latitude")[1] is None  # no value: NULL, not a ciphertext
    c.refresh_from_db()
    assert c.birth_date == date(1987, 6, 23) and type(c.birth_date) is date
    got = Contact.objects.get(pk=home.pk)
    assert (got.latitude, got.longitude) == (22.54187654321098, 114.05912345678901)  # every decimal
    assert type(got.latitude) is float
    assert Contact.objects.get(pk=mobile.pk).latitude is None
    assert dict(Contact.objects.values_list("external_id", "longitude")) == {"h": 114.05912345678901, "m": None}

    # what forms, fixtures and the loader may hand over is converted; an empty value is NULL
    c.birth_date = "1990-02-28"
    c.save(update_fields=["birth_date"])
    assert Customer.objects.get(pk=c.pk).birth_date == date(1990, 2, 28)
    home.latitude, home.longitude = "22.5", 114
    home.save()
    assert Contact.objects.values_list("latitude", "longitude").get(pk=home.pk) == (22.5, 114.0)
    c.birth_date = ""
    c.save()
    assert raw_values(Customer, "birth_date") == [None] and Customer.objects.get(pk=c.pk).birth_date is None
    c.birth_date = "1990-02-30"
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        c.full_clean(exclude=["national_id"])
    from django.forms import modelform_factory

    form = modelform_factory(Customer, fields=["birth_date"])(data={"birth_date": "1991-03-04"})
    assert form.is_valid() and form.cleaned_data["birth_date"] == date(1991, 3, 4)

    # a ciphertext is bound to its column: a latitude moved into longitude does not read
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {Contact._meta.db_table} SET longitude = latitude WHERE id = %s", [home.pk])
    with pytest.raises(DecryptionError, match="portfolio.contact.longitude"):
        Contact.objects.get(pk=home.pk)


def test_birth_date_and_coordinates_allow_only_isnull():
    c = Customer.objects.create(external_id="K1", name="张三", birth_date=date(1987, 6, 23))
    Customer.objects.create(external_id="K2", name="李四")
    Contact.objects.create(customer=c, external_id="h", kind="home_address", value="x", latitude=22.5, longitude=114.0)
    assert list(Customer.objects.filter(birth_date__isnull=False).values_list("external_id", flat=True)) == ["K1"]
    assert list(Customer.objects.filter(birth_date=None).values_list("external_id", flat=True)) == ["K2"]
    assert Contact.objects.filter(latitude__isnull=True).count() == 0
    for model, lookup, value in (
        (Customer, "birth_date", date(1987, 6, 23)), (Customer, "birth_date__gte", date(1980, 1, 1)),
        (Customer, "birth_date__year", 1987), (Customer, "birth_date__in", [date(1987, 6, 23)]),
        (Customer, "birth_date", ""),
        (Contact, "latitude", 22.5), (Contact, "latitude__range", (22, 23)), (Contact, "longitude__lt", 115),
    ):
        with pytest.raises(FieldError):
            list(model.objects.filter(**{lookup: value}))


def test_tampered_or_moved_value_is_refused_on_read():
    c = Customer.objects.create(external_id="K1", name="张三丰", national_id="44030519900101123X")
    raw_id = raw_values(Customer, "national_id")[0]
    with connection.cursor() as cur:  # the ID number's ciphertext copied into the name column
        cur.execute(f"UPDATE {Customer._meta.db_table} SET name = %s WHERE id = %s", [raw_id, c.pk])
    with pytest.raises(DecryptionError, match="portfolio.customer.name"):
        Customer.objects.get(pk=c.pk)
    tampered = raw_id[:-4] + ("AAAA" if raw_id[-4:] != "AAAA" else "BBBB")
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {Customer._meta.db_table} SET name = '', national_id = %s WHERE id = %s",
                    [tampered, c.pk])
    with pytest.raises(DecryptionError):
        Customer.objects.get(pk=c.pk)


def test_bulk_loader_encrypts_indexes_and_compares_plaintext(tmp_path):
    path = small_uci(tmp_path)
    extract = read_uci(path, AS_OF)
    first = load_extract(extract, "uci")
    n_customers, n_contacts = first.inserted["customers"], first.inserted["contacts"]
    assert n_customers == 120 and n_contacts == 360

    # stored encrypted, read back as loaded, every row indexed
    assert all(v.startswith("v1.") for v in raw_values(Customer, "national_id"))
    assert all(v.startswith("v1.") for v in raw_values(Customer, "birth_date"))
    assert all(v.startswith("v1.") for v in raw_values(Contact, "value"))
    for col in ("latitude", "longitude"):  # the home addresses' coordinates; other contacts have none
        assert sorted(v[:3] for v in raw_values(Contact, col) if v is not None) == ["v1."] * 120
        assert sum(v is None for v in raw_values(Contact, col)) == 240
    assert dict(Customer.objects.values_list("external_id", "birth_date")) == dict(
        zip(extract.customers["customer_id"].to_list(), extract.customers["birth_date"].to_list()))
    assert {k: (la, lo) for k, la, lo in Contact.objects.values_list("external_id", "latitude", "longitude")} == {
        k: (la, lo) for k, la, lo in extract.contacts.select("contact_id", "latitude", "longitude").iter_rows()}
    assert "" not in raw_values(Customer, "national_id_hash") and "" not in raw_values(Contact, "value_hash")
    loaded = dict(Customer.objects.values_list("external_id", "national_id"))
    assert loaded == dict(zip(extract.customers["customer_id"].to_list(), extract.customers["national_id"].to_list()))
    # the bulk loader's indexes are the ones a model save computes
    some = Contact.objects.filter(kind="mobile").first()
    stored_hash = some.value_hash
    some.save()
    assert Contact.objects.get(pk=some.pk).value_hash == stored_hash

    # search works on what the loader wrote
    row = extract.customers.row(0, named=True)
    assert list(find_customers_by_national_id(row["national_id"].lower()).values_list("external_id", flat=True)) == [
        row["customer_id"]]
    mobile = extract.contacts.filter(extract.contacts["kind"] == "mobile").row(0, named=True)
    assert row["customer_id"] in set(find_customers_by_phone("+86 " + mobile["value"]).values_list(
        "external_id", flat=True))

    # a newer extract with the same people: every encrypted row compares equal (nothing rewritten)
    before = raw_values(Contact, "value")
    before_typed = raw_values(Customer, "birth_date"), raw_values(Contact, "latitude"), raw_values(Contact, "longitude")
    again = load_extract(read_uci(path, date(2026, 12, 1)), "uci")
    assert (again.inserted["customers"], again.updated["customers"], again.unchanged["customers"]) == (0, 0, 120)
    assert (again.inserted["contacts"], again.updated["contacts"], again.unchanged["contacts"]) == (0, 0, 360)
    assert raw_values(Contact, "value") == before
    assert (raw_values(Customer, "birth_date"), raw_values(Contact, "latitude"),
            raw_values(Contact, "longitude")) == before_typed
    # re-importing the very same extract is a no-op
    assert load_extract(read_uci(path, date(2026, 12, 1)), "uci").already_imported


def test_bulk_loader_updates_changed_personal_data_and_its_index(tmp_path):
    import polars as pl

    path = small_uci(tmp_path, rows=20)
    extract = read_uci(path, AS_OF)
    load_extract(extract, "uci")
    mobile = extract.contacts.filter(pl.col("kind") == "mobile").row(0, named=True)
    owner = mobile["customer_id"]
    home = extract.contacts.filter(pl.col("kind") == "home_address").row(3, named=True)
    someone = extract.customers.row(5, named=True)
    extract2 = read_uci(path, date(2026, 12, 1))
    extract2.contacts = extract2.contacts.with_columns(
        pl.when(pl.col("contact_id") == mobile["contact_id"]).then(pl.lit("13700001111")).otherwise(pl.col("value"))
        .alias("value"),
        pl.when(pl.col("contact_id") == home["contact_id"]).then(pl.lit(22.51234567890123)).otherwise(pl.col("latitude"))
        .alias("latitude"))
    extract2.customers = extract2.customers.with_columns(
        pl.when(pl.col("customer_id") == someone["customer_id"]).then(pl.lit(date(1970, 1, 2)))
        .otherwise(pl.col("birth_date")).alias("birth_date"))
    result = load_extract(extract2, "uci")
    assert result.updated["contacts"] == 2 and result.unchanged["contacts"] == 58
    assert result.updated["customers"] == 1 and result.unchanged["customers"] == 19
    assert Customer.objects.get(external_id=someone["customer_id"]).birth_date == date(1970, 1, 2)
    assert Contact.objects.values_list("latitude", "longitude").get(external_id=home["contact_id"]) == (
        22.51234567890123, home["longitude"])
    assert list(find_customers_by_phone("137 0000 1111").values_list("external_id", flat=True)) == [owner]
    assert owner not in set(find_customers_by_phone(mobile["value"]).values_list("external_id", flat=True))
    assert Contact.objects.get(external_id=mobile["contact_id"]).value == "13700001111"


def test_raw_database_holds_no_plaintext_phone_or_id_number(tmp_path):
    """The database of the suite itself, after the bulk loader and model saves."""
    extract = read_uci(small_uci(tmp_path, rows=200), AS_OF)
    load_extract(extract, "uci")
    c = Customer.objects.create(external_id="K1", name="张三丰", national_id="44030519870623123X",
                                birth_date=date(1987, 6, 23))
    Contact.objects.create(customer=c, external_id="m", kind="mobile", value="13812345678")
    Contact.objects.create(customer=c, external_id="h", kind="home_address", value="广东省深圳市福田区福华路1号",
                           latitude=22.54187654321098, longitude=114.05912345678901)
    secrets_ = plaintexts(extract)
    secrets_["national_id"].append("44030519870623123X")
    secrets_["phone"].append("13812345678")
    secrets_["birth_date"] += birth_date_forms(date(1987, 6, 23))
    secrets_["coordinate"] += [*coordinate_forms(22.54187654321098), *coordinate_forms(114.05912345678901)]
    assert "1987-06-23" in secrets_["birth_date"] and "19870623" in secrets_["birth_date"]
    assert "22.541876" in secrets_["coordinate"]
    blob = raw_database_dump()
    # the check can see plaintext: the same dump does contain unencrypted columns (and dates)
    assert b"K1" in blob and extract.customers["customer_id"][5].encode() in blob
    assert AS_OF.isoformat().encode() in blob  # CardAccount.as_of_extract, a plain date column
    assert_no_plaintext(blob, secrets_)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads an SQLite database file")
def test_database_file_written_by_the_cli_holds_no_plaintext(tmp_path):
    """End to end on a real file: ``arrears migrate`` and ``arrears import_portfolio`` in a
    separate process, then every byte of the SQLite file and its WAL."""
    db = tmp_path / "pii.sqlite3"
    env = {**os.environ, "ARREARS_DATABASE_URL": f"sqlite:///{db}", "ARREARS_PII_KEY": KEY_B,
           "ARREARS_HOME": str(tmp_path), "ARREARS_DEBUG": "1"}
    env.pop("ARREARS_PII_OLD_KEYS", None)
    src = small_uci(tmp_path, rows=200)
    manage = [sys.executable, "-m", "arrears.manage"] if not (ROOT / ".venv/bin/arrears").exists() else [
        str(ROOT / ".venv/bin/arrears")]
    for args in (["migrate", "-v0"], ["import_portfolio", str(src), "--format", "uci", "--as-of", "2026-11-30",
                                      "--json"]):
        proc = subprocess.run([*manage, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["inserted"]["contacts"] == 600
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("pii.sqlite3*"))
    assert b"portfolio_contact" in blob and len(blob) > 100_000
    assert_no_plaintext(blob, plaintexts(read_uci(src, AS_OF)))
    assert not (tmp_path / "var" / "pii.key").exists()  # the configured key was used, not a dev key


def test_rotation_keeps_everything_readable_and_searchable(tmp_path):
    extract = read_uci(small_uci(tmp_path, rows=150), AS_OF)
    mobiles = extract.contacts.filter(extract.contacts["kind"] == "mobile")
    probes = [mobiles.row(i, named=True) for i in (0, 75, 149)]  # customers early, middle and late by id
    expected_ids = dict(zip(extract.customers["customer_id"].to_list(), extract.customers["national_id"].to_list()))
    expected_values = dict(zip(extract.contacts["contact_id"].to_list(), extract.contacts["value"].to_list()))
    expected_births = dict(zip(extract.customers["customer_id"].to_list(), extract.customers["birth_date"].to_list()))
    expected_coords = {k: (la, lo) for k, la, lo in extract.contacts.select("contact_id", "latitude", "longitude")
                       .iter_rows()}
    key_a, key_b = Key.from_text(KEY_A), Key.from_text(KEY_B)

    def everything_readable():
        assert dict(Customer.objects.values_list("external_id", "national_id")) == expected_ids
        assert dict(Customer.objects.values_list("external_id", "birth_date")) == expected_births
        assert dict(Contact.objects.values_list("external_id", "value")) == expected_values
        assert {k: (la, lo) for k, la, lo in Contact.objects.values_list("external_id", "latitude", "longitude")} == \
            expected_coords

    def search_works():
        for p in probes:
            assert p["customer_id"] in set(find_customers_by_phone(p["value"]).values_list("external_id", flat=True))
        cid = probes[1]["customer_id"]
        assert list(find_customers_by_national_id(expected_ids[cid]).values_list("external_id", flat=True)) == [cid]

    with override_settings(PII_KEY=KEY_A, PII_OLD_KEYS=[]):
        load_extract(extract, "uci")
        search_works()
    assert all(v.startswith(key_a.prefix) for v in raw_values(Contact, "value"))

    with override_settings(PII_KEY=KEY_B, PII_OLD_KEYS=[KEY_A]):
        # before: nothing rewritten yet, all under A, read and found through the ring
        everything_readable()
        search_works()
        out = io.StringIO()
        call_command("rotate_pii_key", "--dry-run", "--json", stdout=out)
        dry = json.loads(out.getvalue())
        assert dry["tables"]["portfolio.customer"]["stale_rows"] == 150
        assert dry["tables"]["portfolio.contact"]["stale_rows"] == 450
        homes = sum(1 for v in extract.contacts["latitude"].to_list() if v is not None)
        assert homes == 150
        # values, not rows: name, national_id, birth_date; party_name, value, latitude, longitude
        customer_values = 150 + 150 + 150
        contact_values = sum(1 for v in extract.contacts["party_name"].to_list() if v) + 450 + 2 * homes
        assert dry["tables"]["portfolio.customer"]["stale_values"] == {key_a.id: customer_values}
        assert dry["tables"]["portfolio.contact"]["stale_values"] == {key_a.id: contact_values}
        assert dry["rewritten"] == 0 and raw_values(Contact, "value")[0].startswith(key_a.prefix)
        # the summary in words keeps rows and values apart
        out = io.StringIO()
        call_command("rotate_pii_key", "--dry-run", stdout=out)
        text = out.getvalue()
        assert f"600 rows to re-encrypt, holding {customer_values + contact_values:,} values not under the current " \
               f"key {key_b.id}" in text
        assert f"portfolio.customer: 150 rows, {customer_values} values ({customer_values} under key {key_a.id})" in text
        assert f"portfolio.contact: 450 rows, {contact_values:,} values ({contact_values:,} under key {key_a.id})" in text
        assert "{" not in text

        # during: stop after each batch and look (rows under A and under B side by side)
        seen_mixed = []

        def during(report):
            under = {v[:12] for v in raw_values(Contact, "value")}
            seen_mixed.append(under == {key_a.prefix, key_b.prefix})
            everything_readable()
            search_works()

        rewrite(Customer, batch=40)
        rewrite(Contact, batch=100, progress=during)
        assert seen_mixed[:3] == [True, True, True] and len(seen_mixed) == 5

        # the command finishes the job (nothing left) and is idempotent
        out = io.StringIO()
        call_command("rotate_pii_key", "--json", "--batch", "64", stdout=out)
        summary = json.loads(out.getvalue())
        assert summary["key_id"] == key_b.id and summary["old_key_ids"] == [key_a.id]
        assert summary["rewritten"] == 0 and summary["stale_rows"] == 0
        assert count_stale(Contact).stale_rows == 0 and count_stale(Customer).stale_rows == 0

    # no value and no index left under A: with B alone everything reads and is found
    for model, col in ((Customer, "name"), (Customer, "national_id"), (Customer, "birth_date"), (Contact, "value"),
                       (Contact, "party_name"), (Contact, "latitude"), (Contact, "longitude")):
        assert all(v is None or v == "" or v.startswith(key_b.prefix) for v in raw_values(model, col)), (model, col)
    with override_settings(PII_KEY=KEY_B, PII_OLD_KEYS=[]):
        everything_readable()
        search_works()
        ring = crypto.keyring()
        for c in Contact.objects.all():
            assert c.value_hash == ring.blind_index(crypto.index_contact_value(c.value, c.kind))
        a_hashes = {Key.from_text(KEY_A).blind_index(crypto.index_national_id(v)) for v in expected_ids.values()}
        assert not a_hashes & set(raw_values(Customer, "national_id_hash"))
    with override_settings(PII_KEY=KEY_A, PII_OLD_KEYS=[]):  # A alone can read nothing any more
        with pytest.raises(DecryptionError):
            Contact.objects.first()


def test_rotate_command_full_run_records_an_audit_event(tmp_path):
    load_extract(read_uci(small_uci(tmp_path, rows=30), AS_OF), "uci")
    with override_settings(PII_KEY=KEY_B, PII_OLD_KEYS=[KEY_A]):
        out = io.StringIO()
        call_command("rotate_pii_key", "--json", "--batch", "7", stdout=out)
        summary = json.loads(out.getvalue())
        assert summary["rewritten"] == 30 + 90 and summary["tables"]["portfolio.contact"]["rewritten"] == 90
        out = io.StringIO()
        call_command("rotate_pii_key", "--json", stdout=out)
        assert json.loads(out.getvalue())["rewritten"] == 0  # idempotent
    try:
        from arrears.contexts.audit.models import AuditEvent
    except ImportError:
        return
    events = list(AuditEvent.objects.filter(action="pii.rotate_key").order_by("id"))
    assert len(events) == 2 and events[0].data["rewritten"] == 120
    assert KEY_A not in json.dumps(events[0].data) and KEY_B not in json.dumps(events[0].data)


def test_rotation_without_the_old_key_stops_and_says_why(tmp_path):
    load_extract(read_uci(small_uci(tmp_path, rows=5), AS_OF), "uci")
    from django.core.management.base import CommandError

    with override_settings(PII_KEY=KEY_B, PII_OLD_KEYS=[]):
        with pytest.raises(CommandError, match="ARREARS_PII_OLD_KEYS"):
            call_command("rotate_pii_key", "--json", stdout=io.StringIO())


def test_data_migration_encrypts_plaintext_rows_and_reverses():
    """What migration 0002 does to rows written before encryption existed (and back)."""
    c = Customer.objects.create(external_id="K1", name="x", national_id="y")
    m = Contact.objects.create(customer=c, external_id="m", kind="mobile", value="1")
    with connection.cursor() as cur:  # as a pre-encryption database had them
        cur.execute(f"UPDATE {Customer._meta.db_table} SET name = %s, national_id = %s, national_id_hash = '' "
                    "WHERE id = %s", ["张三丰", "44030519900101123X", c.pk])
        cur.execute(f"UPDATE {Contact._meta.db_table} SET value = %s, party_name = '', value_hash = '' "
                    "WHERE id = %s", ["138 1234 5678", m.pk])
    with pytest.raises(DecryptionError):
        rewrite(Customer)  # plaintext is an error for a rotation...
    rewrite(Customer, accept_plaintext=True)  # ...and what the migration encrypts
    rewrite(Contact, accept_plaintext=True)
    assert raw_values(Customer, "national_id")[0].startswith("v1.")
    c.refresh_from_db()
    assert (c.name, c.national_id) == ("张三丰", "44030519900101123X")
    assert list(find_customers_by_phone("13812345678")) == [c]
    assert list(find_customers_by_national_id("44030519900101123x")) == [c]
    assert rewrite(Contact, accept_plaintext=True).rewritten == 0  # idempotent

    assert decrypt_all(Customer) == 1 and decrypt_all(Contact) == 1
    assert raw_values(Customer, "national_id") == ["44030519900101123X"]
    assert raw_values(Contact, "value") == ["138 1234 5678"] and raw_values(Contact, "value_hash") == [""]


MIGRATION_BEFORE = ("portfolio", "0004_alter_buckethistory_account_and_more")
MIGRATION = ("portfolio", "0005_birth_date_and_coordinates_encrypted")


@pytest.mark.django_db(transaction=True)
def test_migration_0005_encrypts_birth_dates_and_coordinates_exactly_and_reverses():
    """Rows written before 0005 (plain date and float columns) come out encrypted with every
    decimal of a coordinate (SQLite would keep 15 significant digits of a REAL cast to text), and
    back; the other personal columns are left as they were."""
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target])
        return executor.loader.project_state(target).apps

    coords = [(22.64098397028854, 113.84532071861148), (-33.86881234567891, 151.20931234567891), (0.1, -0.0)]
    try:
        old = migrate(MIGRATION_BEFORE)
        OldCustomer, OldContact = old.get_model("portfolio", "Customer"), old.get_model("portfolio", "Contact")
        c1 = OldCustomer.objects.create(external_id="M1", name="张三丰", national_id="44030519870623123X",
                                        birth_date=date(1987, 6, 23))
        c2 = OldCustomer.objects.create(external_id="M2", name="李四")
        for i, (la, lo) in enumerate(coords):
            OldContact.objects.create(customer=c1, external_id=f"h{i}", kind="home_address", value=f"地址{i}",
                                      latitude=la, longitude=lo)
        OldContact.objects.create(customer=c2, external_id="m", kind="mobile", value="13812345678")
        name_before = raw_values(Customer, "name")

        migrate(MIGRATION)
        assert raw_values(Customer, "birth_date")[0].startswith("v1.") and raw_values(Customer, "birth_date")[1] is None
        assert all(v.startswith("v1.") for v in raw_values(Contact, "latitude")[:3])
        assert raw_values(Contact, "longitude")[3] is None
        assert raw_values(Customer, "name") == name_before  # untouched
        assert dict(Customer.objects.values_list("external_id", "birth_date")) == {"M1": date(1987, 6, 23), "M2": None}
        assert list(Contact.objects.order_by("id").values_list("latitude", "longitude")) == [*coords, (None, None)]
        assert list(find_customers_by_phone("13812345678").values_list("external_id", flat=True)) == ["M2"]

        old = migrate(MIGRATION_BEFORE)
        OldCustomer, OldContact = old.get_model("portfolio", "Customer"), old.get_model("portfolio", "Contact")
        assert dict(OldCustomer.objects.values_list("external_id", "birth_date")) == {
            "M1": date(1987, 6, 23), "M2": None}
        assert list(OldContact.objects.order_by("id").values_list("latitude", "longitude")) == [
            *coords, (None, None)]
        assert raw_values(Customer, "name") == name_before
    finally:
        migrate(MIGRATION)

"""arrears.core.privacy.crypto alone: authenticated encryption bound to a column, key ring, blind index
and its normalisation, key loading from the settings."""
from __future__ import annotations

import base64
import os
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from arrears.core.privacy import crypto
from arrears.core.privacy.crypto import DecryptionError, Key, Keyring, PIIKeyError, generate_key, parse_key

KEY_A = base64.urlsafe_b64encode(bytes(range(32))).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()
COL = "portfolio.customer.national_id"


def ring(current=KEY_A, *old) -> Keyring:
    return Keyring.from_text(current, old)


def test_round_trip_and_format():
    r = ring()
    for text in ["44030519900101123X", "13812345678", "张三丰", "广东省深圳市福田区福华三路1号", "a" * 1000]:
        token = r.encrypt(text, COL)
        assert token.startswith(f"v1.{r.current.id}.") and len(r.current.id) == 8
        assert text not in token
        assert r.decrypt(token, COL) == text
        assert r.is_current(token) and Keyring.key_id_of(token) == r.current.id


def test_random_nonce_every_ciphertext_differs():
    r = ring()
    tokens = {r.encrypt("13812345678", COL) for _ in range(50)}
    assert len(tokens) == 50


def test_tampered_ciphertext_fails():
    r = ring()
    token = r.encrypt("44030519900101123X", COL)
    prefix, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for i in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        bad = bytearray(raw)
        bad[i] ^= 0x01
        with pytest.raises(DecryptionError):
            r.decrypt(prefix + "." + base64.urlsafe_b64encode(bytes(bad)).decode().rstrip("="), COL)
    with pytest.raises(DecryptionError):
        r.decrypt(token[:-6], COL)  # truncated
    with pytest.raises(DecryptionError):
        r.decrypt("44030519900101123X", COL)  # plaintext where a ciphertext belongs
    with pytest.raises(DecryptionError):
        r.decrypt("v2" + token[2:], COL)


def test_value_moved_to_another_column_fails():
    r = ring()
    token = r.encrypt("44030519900101123X", COL)
    with pytest.raises(DecryptionError, match="authentication"):
        r.decrypt(token, "portfolio.contact.value")
    with pytest.raises(DecryptionError):
        r.decrypt(token, "portfolio.customer.name")


def test_wrong_key_and_unknown_key_id_fail():
    token = ring(KEY_A).encrypt("x", COL)
    with pytest.raises(DecryptionError, match="ARREARS_PII_OLD_KEYS"):
        ring(KEY_B).decrypt(token, COL)


def test_rotation_ring_reads_old_writes_new():
    old = ring(KEY_A).encrypt("13812345678", COL)
    rotated = ring(KEY_B, KEY_A)
    assert rotated.decrypt(old, COL) == "13812345678"
    assert not rotated.is_current(old)
    new = rotated.encrypt("13812345678", COL)
    assert rotated.is_current(new) and Keyring.key_id_of(new) == Key.from_text(KEY_B).id
    with pytest.raises(DecryptionError):
        ring(KEY_A).decrypt(new, COL)
    # the same key twice in the ring is one key
    assert len(Keyring.from_text(KEY_A, [KEY_A, KEY_B, KEY_B]).keys) == 2


def test_key_parsing():
    assert len(parse_key(generate_key())) == 32
    assert parse_key(KEY_A.rstrip("=")) == bytes(range(32))  # padding optional
    for bad in ["", "not base64 !!", base64.urlsafe_b64encode(b"short").decode(),
                base64.urlsafe_b64encode(bytes(33)).decode()]:
        with pytest.raises(PIIKeyError):
            parse_key(bad)


def test_key_id_reveals_nothing_obvious_and_is_stable():
    a1, a2, b = Key.from_text(KEY_A), Key.from_text(KEY_A), Key.from_text(KEY_B)
    assert a1.id == a2.id != b.id
    assert a1.id not in KEY_A and a1.id not in bytes(range(32)).hex()
    assert KEY_A not in repr(a1)


# -- blind index ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
    "008613812345678", "8613812345678", "１３８１２３４５６７８",
])
def test_phone_normalisation(raw):
    assert crypto.normalize_phone(raw) == "13812345678"


def test_phone_normalisation_keeps_landlines_and_other_countries():
    assert crypto.normalize_phone("0755-8888 1234") == "075588881234"
    assert crypto.normalize_phone("+886 912 345 678") == "886912345678"
    assert crypto.normalize_phone("") == crypto.normalize_phone(None) == ""


@pytest.mark.parametrize("raw", ["44030519900101123X", "44030519900101123x", " 440305 19900101 123x ",
                                 "４４０３０５１９９００１０１１２３Ｘ"])
def test_national_id_normalisation(raw):
    assert crypto.normalize_national_id(raw) == "44030519900101123X"


def test_blind_index_is_keyed_tagged_and_deterministic():
    r = ring()
    a = r.blind_index(crypto.index_phone("+86 138 1234 5678"))
    assert a == r.blind_index(crypto.index_phone("13812345678"))
    assert len(a) == 64 and "13812345678" not in a
    # a different key gives a different index; the same digits as another kind of value too
    assert a != ring(KEY_B).blind_index(crypto.index_phone("13812345678"))
    assert a != r.blind_index(crypto.index_national_id("13812345678"))
    # nothing to index for an empty value
    assert r.blind_index(crypto.index_phone("")) == "" and r.blind_indexes(crypto.index_phone("-")) == []


def test_blind_index_key_is_derived_not_the_encryption_key():
    import hashlib
    import hmac

    r = ring()
    msg = crypto.index_phone("13812345678")
    assert r.blind_index(msg) != hmac.new(bytes(range(32)), msg.encode(), hashlib.sha256).hexdigest()


def test_lookup_indexes_cover_every_key_of_the_ring():
    msg = crypto.index_phone("13812345678")
    rotated = ring(KEY_B, KEY_A)
    assert rotated.blind_indexes(msg) == [ring(KEY_B).blind_index(msg), ring(KEY_A).blind_index(msg)]


def test_contact_value_indexer_by_kind():
    assert crypto.index_contact_value("+86 138 1234 5678", "mobile") == "phone:13812345678"
    assert crypto.index_contact_value(" Zhang.San@Example.COM ", "email") == "email:zhang.san@example.com"
    assert crypto.index_contact_value("广东省深圳市  福田区 ", "home_address") == "text:广东省深圳市 福田区"


# -- keys from the settings -------------------------------------------------------------------


def test_keyring_follows_the_settings():
    with override_settings(PII_KEY=KEY_B, PII_OLD_KEYS=[KEY_A]):
        r = crypto.keyring()
        assert r.current.id == Key.from_text(KEY_B).id and len(r.keys) == 2
    assert crypto.keyring().current.id != Key.from_text(KEY_B).id  # reset when the override ends


def test_missing_key_in_production_is_refused(tmp_path):
    with override_settings(PII_KEY="", DEBUG=False, VAR_DIR=tmp_path):
        with pytest.raises(ImproperlyConfigured, match="ARREARS_PII_KEY"):
            crypto.keyring()
    assert not (tmp_path / "pii.key").exists()


def test_malformed_key_is_refused():
    with override_settings(PII_KEY="too-short"):
        with pytest.raises(ImproperlyConfigured):
            crypto.keyring()


def test_missing_key_in_development_creates_a_private_key_file_once(tmp_path, caplog):
    with override_settings(PII_KEY="", DEBUG=True, VAR_DIR=tmp_path / "var"):
        with caplog.at_level("WARNING", logger="arrears.core.privacy"):
            first = crypto.keyring()
        path = tmp_path / "var" / "pii.key"
        assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert "development key" in caplog.text
        crypto.reset_keyring()
        caplog.clear()
        with caplog.at_level("WARNING", logger="arrears.core.privacy"):
            again = crypto.keyring()
        assert again.current.id == first.current.id  # persisted, not regenerated
        assert "development key" not in caplog.text


def test_check_reports_missing_or_bad_keys():
    from arrears.core.privacy.fields import check_pii_keys

    with override_settings(PII_KEY="", DEBUG=False):
        assert [e.id for e in check_pii_keys()] == ["arrears.E101"]
    with override_settings(PII_KEY=KEY_A, PII_OLD_KEYS=["nope"]):
        assert [e.id for e in check_pii_keys()] == ["arrears.E102"]
    with override_settings(PII_KEY=KEY_A, PII_OLD_KEYS=[KEY_B]):
        assert check_pii_keys() == []

"""Encryption of personal data at rest, and blind indexes for exact-match search.

Keys
    ``settings.PII_KEY`` (environment ``ARREARS_PII_KEY``) is the current key: 32 random bytes,
    URL-safe base64. Generate one with::

        python -c "import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"

    ``settings.PII_OLD_KEYS`` (``ARREARS_PII_OLD_KEYS``, comma-separated) are earlier keys, kept
    for reading while ``arrears rotate_pii_key`` re-encrypts the data under the current key. New
    values are always written under the current key. Without ``ARREARS_PII_KEY`` a development
    setup (``ARREARS_DEBUG=1``) generates a key once and keeps it in ``var/pii.key`` (mode 0600);
    production (``ARREARS_DEBUG=0``) refuses to start.

Ciphertext
    ``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``: AES-256-GCM with a random 96-bit nonce
    and the column's label (e.g. ``portfolio.customer.national_id``) as associated data, so a
    value copied into another column, or altered in any way, fails authentication
    (:class:`DecryptionError`). The key id is 8 hex characters derived from the key (an HMAC, it
    reveals nothing of the key) and names the key a value was written with.

Blind index
    HMAC-SHA256 under a key derived from the PII key (HKDF-SHA256, info ``arrears blind index``)
    of a *normalised*, *tagged* value: ``phone:13812345678``, ``national_id:44030519900101123X``.
    Equal values give equal indexes, so ``WHERE value_hash IN (…)`` finds them; the index cannot
    be reversed without the key. A lookup computes the index under every key of the ring, so
    search keeps working while a rotation is half done.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from arrears.core.errors import ArrearsError, ErrorCode

log = logging.getLogger("arrears.core.privacy")

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_CHARS = 8
INDEX_INFO = b"arrears blind index"
KEY_ID_INFO = b"arrears key id"
DEV_KEY_FILE = "pii.key"


class PIIKeyError(ArrearsError, ValueError):
    """A key that is not URL-safe base64 of exactly 32 bytes."""

    code = ErrorCode.CONFIGURATION_ERROR


class DecryptionError(ArrearsError, ValueError):
    """A stored value that is not a ciphertext of this column under a known key (altered, moved
    from another column, or written under a key that is not in the ring)."""

    code = ErrorCode.DECRYPTION_FAILED


def generate_key() -> str:
    """A new random key, in the form ``ARREARS_PII_KEY`` takes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key given as URL-safe base64 (padding optional)."""
    raw = text.strip()
    try:
        secret = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PIIKeyError("a PII key must be URL-safe base64 of 32 random bytes") from exc
    if len(secret) != KEY_BYTES:
        raise PIIKeyError(f"a PII key must be 32 bytes (got {len(secret)}); see docs/privacy.md to generate one")
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Key:
    """One key: its id, its AEAD and its derived blind-index key."""

    __slots__ = ("id", "prefix", "_aead", "_index_key")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise PIIKeyError("a PII key must be 32 bytes")
        self.id = hmac.new(secret, KEY_ID_INFO, hashlib.sha256).hexdigest()[:KEY_ID_CHARS]
        #: What every ciphertext written under this key starts with.
        self.prefix = f"{VERSION}.{self.id}."
        self._aead = AESGCM(secret)
        self._index_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INDEX_INFO).derive(secret)

    @classmethod
    def from_text(cls, text: str) -> Key:
        return cls(parse_key(text))

    def encrypt(self, plaintext: str, associated_data: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return self.prefix + _b64(nonce + self._aead.encrypt(nonce, plaintext.encode("utf-8"), associated_data))

    def decrypt(self, body: bytes, associated_data: bytes) -> str:
        return self._aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], associated_data).decode("utf-8")

    def blind_index(self, message: str) -> str:
        return hmac.new(self._index_key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never the secret
        return f"<Key {self.id}>"


def _ad(column: str) -> bytes:
    return f"{VERSION}|{column}".encode()


class Keyring:
    """The current key (writes) and earlier keys (reads during a rotation)."""

    def __init__(self, current: Key, previous: Sequence[Key] = ()) -> None:
        self.current = current
        keys: list[Key] = [current]
        seen = {current.prefix}
        for k in previous:
            if k.prefix not in seen:
                keys.append(k)
                seen.add(k.prefix)
        #: Every key, the current one first.
        self.keys: tuple[Key, ...] = tuple(keys)
        self._by_id: dict[str, list[Key]] = {}
        for k in self.keys:
            self._by_id.setdefault(k.id, []).append(k)

    @classmethod
    def from_text(cls, current: str, previous: Iterable[str] = ()) -> Keyring:
        return cls(Key.from_text(current), [Key.from_text(p) for p in previous if p.strip()])

    # -- encryption -----------------------------------------------------------------------------

    def encrypt(self, plaintext: str, column: str) -> str:
        """``plaintext`` encrypted under the current key, bound to ``column``."""
        return self.current.encrypt(plaintext, _ad(column))

    def decrypt(self, token: str, column: str) -> str:
        """The plaintext of ``token`` read from ``column``; raises :class:`DecryptionError`."""
        version, _, rest = token.partition(".")
        key_id, _, body_text = rest.partition(".")
        if version != VERSION or not body_text:
            raise DecryptionError(f"{column}: stored value is not a {VERSION} ciphertext")
        keys = self._by_id.get(key_id)
        if not keys:
            raise DecryptionError(
                f"{column}: value written under key {key_id}, which is neither ARREARS_PII_KEY nor in "
                "ARREARS_PII_OLD_KEYS"
            )
        try:
            body = _unb64(body_text)
        except (binascii.Error, ValueError):
            raise DecryptionError(f"{column}: ciphertext is not valid base64") from None
        if len(body) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"{column}: ciphertext is truncated")
        ad = _ad(column)
        for key in keys:
            try:
                return key.decrypt(body, ad)
            except InvalidTag:
                continue
        raise DecryptionError(f"{column}: ciphertext fails authentication (altered, or moved from another column)")

    def is_current(self, token: str) -> bool:
        """``True`` when ``token`` was written under the current key."""
        return token.startswith(self.current.prefix)

    @staticmethod
    def key_id_of(token: str) -> str | None:
        """The key id a ciphertext names (``None`` for something that is not a ciphertext)."""
        parts = token.split(".", 2)
        if len(parts) == 3 and parts[0] == VERSION and len(parts[1]) == KEY_ID_CHARS:
            return parts[1]
        return None

    # -- blind index ----------------------------------------------------------------------------

    def blind_index(self, message: str) -> str:
        """The index of a tagged, normalised value under the current key ("" for "")."""
        return self.current.blind_index(message) if message else ""

    def blind_indexes(self, message: str) -> list[str]:
        """The index under every key of the ring, for lookups that must work mid-rotation."""
        return [k.blind_index(message) for k in self.keys] if message else []


# ---------------------------------------------------------------------------------------------
# Normalisation for the blind index: equal things must give equal strings. Each indexer returns
# a *tagged* message (``kind:value``) so that, say, a phone number and an ID number with the same
# digits never share an index; "" means "nothing to index".
# ---------------------------------------------------------------------------------------------


def _nfkc(value: str) -> str:
    # Full-width digits and letters (１３８…, Ｘ) become ASCII; ideographic spaces become spaces.
    return unicodedata.normalize("NFKC", value)


_NON_DIGIT = re.compile(r"\D+")
_SPACE = re.compile(r"\s+")


def normalize_phone(value: str | None) -> str:
    """Digits only, without a leading ``+86``/``0086`` (or a bare ``86`` before an 11-digit mobile)."""
    if not value:
        return ""
    text = _nfkc(value).strip()
    digits = _NON_DIGIT.sub("", text)
    if text.startswith("+") and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    return digits


def normalize_national_id(value: str | None) -> str:
    """Upper case, no spaces (``44030519900101123x`` → ``44030519900101123X``)."""
    if not value:
        return ""
    return _SPACE.sub("", _nfkc(value)).upper()


def normalize_email(value: str | None) -> str:
    return _SPACE.sub("", _nfkc(value)).lower() if value else ""


def normalize_text(value: str | None) -> str:
    """Addresses and other text: surrounding space dropped, inner runs of space made one."""
    return _SPACE.sub(" ", _nfkc(value)).strip() if value else ""


def _tagged(tag: str, normalized: str) -> str:
    return f"{tag}:{normalized}" if normalized else ""


def index_phone(value: str | None) -> str:
    return _tagged("phone", normalize_phone(value))


def index_national_id(value: str | None) -> str:
    return _tagged("national_id", normalize_national_id(value))


def index_email(value: str | None) -> str:
    return _tagged("email", normalize_email(value))


def index_text(value: str | None) -> str:
    return _tagged("text", normalize_text(value))


#: Contact kinds (``portfolio.Contact.Kind`` values) that hold a phone number or an e-mail address;
#: any other kind (addresses) is indexed as text.
PHONE_KINDS = frozenset({"mobile", "home_phone", "work_phone"})
EMAIL_KINDS = frozenset({"email"})


def index_contact_value(value: str | None, kind: str) -> str:
    if kind in PHONE_KINDS:
        return index_phone(value)
    if kind in EMAIL_KINDS:
        return index_email(value)
    return index_text(value)


class Indexer:
    """A named rule turning a value (and the other columns it ``needs``) into a tagged message."""

    def __init__(self, func: Callable[..., str], needs: tuple[str, ...] = ()) -> None:
        self.func = func
        self.needs = needs

    def __call__(self, value: Any, *context: Any) -> str:
        return self.func(value, *context)


#: The indexers a :class:`~arrears.core.privacy.fields.BlindIndexField` may name. Names are stored in
#: migrations: add new ones, never rename.
INDEXERS: Mapping[str, Indexer] = {
    "phone": Indexer(index_phone),
    "national_id": Indexer(index_national_id),
    "email": Indexer(index_email),
    "text": Indexer(index_text),
    "contact_value": Indexer(index_contact_value, needs=("kind",)),
}


# ---------------------------------------------------------------------------------------------
# The process's key ring, from the settings
# ---------------------------------------------------------------------------------------------

_lock = threading.Lock()
_ring: Keyring | None = None


def keyring() -> Keyring:
    """The key ring of the settings (built once per process; reset when the settings change)."""
    global _ring
    ring = _ring
    if ring is None:
        with _lock:
            if _ring is None:
                _ring = _load()
            ring = _ring
    return ring


def reset_keyring() -> None:
    global _ring
    with _lock:
        _ring = None


def _load() -> Keyring:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    current = (getattr(settings, "PII_KEY", "") or "").strip()
    old = getattr(settings, "PII_OLD_KEYS", ()) or ()
    if isinstance(old, str):
        old = old.split(",")
    if not current:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "ARREARS_PII_KEY must be set when ARREARS_DEBUG=0 (personal data is encrypted with it); "
                "see docs/privacy.md"
            )
        current = _development_key(Path(settings.VAR_DIR))
    try:
        return Keyring.from_text(current, [o for o in old if o.strip()])
    except PIIKeyError as exc:
        raise ImproperlyConfigured(f"ARREARS_PII_KEY / ARREARS_PII_OLD_KEYS: {exc}") from exc


def _development_key(var_dir: Path) -> str:
    """The development key in ``var/pii.key``, created (mode 0600) on first use."""
    path = var_dir / DEV_KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    var_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    log.warning(
        "ARREARS_PII_KEY is not set: generated a development key for personal data in %s. Keep that file "
        "with the database (data written under it cannot be read without it); never use it in production.",
        path,
    )
    return key


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("PII_KEY", "PII_OLD_KEYS", "DEBUG", "VAR_DIR"):
        reset_keyring()


def _connect_signals() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_on_setting_changed, dispatch_uid="arrears.core.privacy.keyring")


_connect_signals()

"""Personal data protection shared by every app.

- :mod:`arrears.core.privacy.crypto`: the key ring (``ARREARS_PII_KEY``, ``ARREARS_PII_OLD_KEYS``),
  authenticated encryption of values (AES-256-GCM bound to their column) and blind indexes
  (keyed hashes of normalised values) for exact-match search.
- :mod:`arrears.core.privacy.fields`: :class:`~arrears.core.privacy.fields.EncryptedTextField`,
  :class:`~arrears.core.privacy.fields.BlindIndexField` and the row protector the bulk writers use.

See ``docs/privacy.md`` ("Encryption at rest").
"""

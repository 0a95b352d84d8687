"""Model fields for personal data at rest, and the row protector of the bulk writers.

- :class:`EncryptedTextField` stores a value encrypted (:mod:`arrears.core.privacy.crypto`) in a text
  column: the model attribute holds the plaintext, the database only ciphertext. ``""`` and
  ``NULL`` are stored as they are. Only ``isnull`` and ``exact`` against ``""`` are allowed as
  lookups: a ciphertext is different every time, so exact search goes through a blind index.
- :class:`EncryptedDateField` and :class:`EncryptedFloatField` do the same for a ``date`` (the
  plaintext encrypted is ``YYYY-MM-DD``) and a ``float`` (its shortest exact ``repr``): the model
  attribute is a ``date``/``float``, the column text ciphertext, ``NULL`` for no value. Only
  ``isnull`` is allowed as a lookup (no ranges, no ordering: the database cannot see the value).
  They are :class:`EncryptedTextField` subclasses, so whatever handles encrypted columns (bulk
  loader, rotation, tests) handles them by type; a subclass converts with :meth:`to_text` /
  :meth:`from_text`.
- :class:`BlindIndexField` holds the keyed hash of another field's normalised value; it is
  computed on every save (``save()``, ``bulk_create``) — never by hand.
- :class:`RowProtector` does the same for raw-SQL bulk writers (``arrears.core.dbio``): it
  encrypts the values of encrypted fields and appends the blind indexes, keyed off the field
  types of the model, so every bulk path protects every encrypted column alike.

``QuerySet.update()`` bypasses ``pre_save``: do not use it on a blind index's source field.
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from .crypto import INDEXERS, keyring


def column_label(model: type[models.Model], field_name: str) -> str:
    """``app_label.model_name.field``: what a ciphertext is bound to (its associated data)."""
    return f"{model._meta.app_label}.{model._meta.model_name}.{field_name}"


class EmptyOnlyExact(Exact):
    """``field=""`` (empty values are stored empty): any other exact match would need the plaintext."""

    def __init__(self, lhs, rhs):
        if rhs is not None and rhs != "":  # None: Django turns ``field=None`` into ``isnull``
            field = getattr(lhs, "target", None) or getattr(lhs, "output_field", None)
            raise FieldError(
                f"{getattr(field, 'name', 'this field')} is encrypted: exact search goes through its blind "
                "index (e.g. Customer.national_id_hash; see arrears.contexts.portfolio.selectors)"
            )
        super().__init__(lhs, rhs)


class NullOnlyExact(Exact):
    """``field=None`` (Django turns it into ``isnull``): nothing else can be matched in SQL."""

    def __init__(self, lhs, rhs):
        if rhs is not None:
            field = getattr(lhs, "target", None) or getattr(lhs, "output_field", None)
            raise FieldError(
                f"{getattr(field, 'name', 'this field')} is encrypted: it cannot be searched or compared in SQL "
                "(only isnull); filter in Python after reading"
            )
        super().__init__(lhs, rhs)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with AES-256-GCM, bound to its column (see the module docstring).

    ``max_length`` limits the plaintext (forms, validation); the column itself is unbounded text.
    ``label`` overrides the associated data (default ``app_label.model_name.field``): set it to
    the old label when renaming a model or a field, or existing values would no longer decrypt.
    """

    description = "Text encrypted at rest"

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        self.label = label
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        if self.label is None:
            self.associated_data = column_label(cls, name)
        else:
            self.associated_data = self.label

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.label is not None:
            kwargs["label"] = self.label
        return name, path, args, kwargs

    # -- conversion between the Python value and the plaintext encrypted -------------------------

    def to_text(self, value: Any) -> str:
        """The plaintext of a non-empty value of :meth:`to_python`'s type."""
        return value

    def from_text(self, text: str) -> Any:
        """The Python value of a decrypted plaintext (inverse of :meth:`to_text`)."""
        return text

    def empty(self, value: Any) -> Any:
        """What an empty value (``None``, ``""``) is stored and read as: itself, for text."""
        return value

    def plaintext(self, value: Any) -> str | None:
        """What is encrypted for ``value`` (any form :meth:`to_python` accepts, a decrypted
        plaintext included); ``None`` for an empty value, which is stored unencrypted."""
        value = self.to_python(value)
        if value is None or value == "":
            return None
        return self.to_text(value)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return self.empty(value)
        return self.from_text(keyring().decrypt(value, self.associated_data))

    def get_prep_value(self, value):
        value = models.Field.get_prep_value(self, value)  # resolves lazy objects
        text = self.plaintext(value)
        if text is None:
            return self.empty(self.to_python(value))
        return keyring().encrypt(text, self.associated_data)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return EmptyOnlyExact
        raise FieldError(
            f"lookup {lookup_name!r} is not possible on the encrypted field {self.name!r}; "
            "search by its blind index instead"
        )

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, **kwargs})


class _EncryptedValueField(EncryptedTextField):
    """An encrypted value of a type other than text: ``NULL`` when there is none (``""`` is taken
    as none), only ``isnull`` as a lookup. Subclasses give :attr:`value_field` (the plain model
    field whose conversion and form field they reuse) and :meth:`to_text`/:meth:`from_text`."""

    value_field: type[models.Field]

    def empty(self, value: Any) -> Any:
        return None

    def to_python(self, value):
        if value is None or value == "":
            return None
        return self.value_field.to_python(self, value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return NullOnlyExact
        raise FieldError(
            f"lookup {lookup_name!r} is not possible on the encrypted field {self.name!r}: the database holds "
            "only ciphertext (isnull is the one lookup)"
        )

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else self.to_text(self.to_python(value))

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **kwargs)


class EncryptedDateField(_EncryptedValueField):
    """A ``datetime.date`` encrypted at rest (plaintext ``YYYY-MM-DD``)."""

    description = "Date encrypted at rest"
    value_field = models.DateField
    default_error_messages = models.DateField.default_error_messages

    def to_text(self, value: datetime.date) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> datetime.date:
        return datetime.date.fromisoformat(text)

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.DateField, **kwargs})


class EncryptedFloatField(_EncryptedValueField):
    """A ``float`` encrypted at rest (plaintext: the shortest ``repr`` that reads back exactly, so
    a coordinate keeps every decimal)."""

    description = "Floating point number encrypted at rest"
    value_field = models.FloatField
    default_error_messages = models.FloatField.default_error_messages

    def to_text(self, value: float) -> str:
        return repr(float(value))

    def from_text(self, text: str) -> float:
        return float(text)

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.FloatField, **kwargs})


class BlindIndexField(models.CharField):
    """The blind index (hex HMAC-SHA256) of field ``source``, normalised by the indexer ``indexer``
    (a name in :data:`arrears.core.privacy.crypto.INDEXERS`; some need other fields, e.g. the contact
    kind). ``""`` when the source is empty. Indexed; not editable."""

    description = "Keyed hash of another field, for exact-match search"
    _defaults = {"max_length": 64, "db_index": True, "editable": False, "blank": True, "default": "",
                 "db_default": ""}

    def __init__(self, *args: Any, source: str, indexer: str, **kwargs: Any) -> None:
        if indexer not in INDEXERS:
            raise ValueError(f"unknown blind indexer {indexer!r} (known: {', '.join(INDEXERS)})")
        self.source = source
        self.indexer = indexer
        for k, v in self._defaults.items():
            kwargs.setdefault(k, v)
        super().__init__(*args, **kwargs)

    @property
    def needs(self) -> tuple[str, ...]:
        """The fields the index is computed from: the source, then the indexer's context."""
        return (self.source, *INDEXERS[self.indexer].needs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for k, v in self._defaults.items():
            if k in kwargs and kwargs[k] == v:
                del kwargs[k]
        kwargs["source"] = self.source
        kwargs["indexer"] = self.indexer
        return name, path, args, kwargs

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            # Spelled out so that PostgreSQL does not add a second, varchar_pattern_ops index for
            # LIKE: a blind index is only ever compared for equality.
            return f"character varying({self.max_length})"
        return super().db_type(connection)

    def compute(self, *values: Any) -> str:
        """The index of ``values`` (in :attr:`needs` order) under the current key."""
        return keyring().blind_index(INDEXERS[self.indexer](*values))

    def lookup_values(self, *values: Any) -> list[str]:
        """The indexes of ``values`` under every key of the ring (for ``…_hash__in``)."""
        return keyring().blind_indexes(INDEXERS[self.indexer](*values))

    def pre_save(self, model_instance, add):
        value = self.compute(*(getattr(model_instance, f) for f in self.needs))
        setattr(model_instance, self.attname, value)
        return value


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


class BlindIndexedModel(models.Model):
    """Keeps blind indexes in step when ``save(update_fields=…)`` names only their source."""

    class Meta:
        abstract = True

    def save(self, *args: Any, update_fields=None, **kwargs: Any) -> None:
        if update_fields is not None:
            names = set(update_fields)
            names |= {f.name for f in blind_index_fields(type(self)) if names.intersection(f.needs)}
            update_fields = names
        super().save(*args, update_fields=update_fields, **kwargs)


class RowProtector:
    """Turns plaintext rows of ``fields`` into what the database stores, for raw-SQL writers.

    ``protect(values)`` takes a tuple in ``fields`` order (Python values: ``str``, ``date``,
    ``float``… as the fields take them) and returns it with the values of encrypted fields
    encrypted (each by its field's :meth:`~EncryptedTextField.plaintext`; an empty one as the
    field stores it), followed by the blind indexes (in :attr:`extra_fields` order) of every
    :class:`BlindIndexField` whose source is among ``fields``. With neither kind of field it
    returns the row unchanged.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        pos = {name: i for i, name in enumerate(self.fields)}
        self._encrypt = [(pos[f.name], f) for f in encrypted_fields(model) if f.name in pos]
        self._indexes: list[tuple[BlindIndexField, tuple[int, ...]]] = []
        for f in blind_index_fields(model):
            if f.source not in pos:
                continue
            missing = [n for n in f.needs if n not in pos]
            if missing:
                raise ValueError(f"{model.__name__}.{f.name} is computed from {', '.join(missing)} as well")
            self._indexes.append((f, tuple(pos[n] for n in f.needs)))
        #: The blind index fields appended to every protected row.
        self.extra_fields: tuple[str, ...] = tuple(f.name for f, _ in self._indexes)
        self.active = bool(self._encrypt or self._indexes)

    def protect(self, values: Sequence[Any]) -> tuple:
        if not self.active:
            return tuple(values)
        ring = keyring()
        hashes = tuple(
            ring.blind_index(INDEXERS[f.indexer](*(values[i] for i in idx))) for f, idx in self._indexes
        )
        out = list(values)
        for i, f in self._encrypt:
            text = f.plaintext(out[i])
            out[i] = f.empty(out[i]) if text is None else ring.encrypt(text, f.associated_data)
        return (*out, *hashes)


def check_pii_keys(app_configs=None, **kwargs):
    """``arrears check``: the PII keys are set (outside development) and well formed."""
    from django.conf import settings
    from django.core import checks

    from .crypto import PIIKeyError, parse_key

    errors = []
    current = (getattr(settings, "PII_KEY", "") or "").strip()
    if not current and not settings.DEBUG:
        errors.append(checks.Error(
            "ARREARS_PII_KEY is not set", hint="generate one as docs/privacy.md shows", id="arrears.E101"))
    for name, value in [("ARREARS_PII_KEY", current), *(
            ("ARREARS_PII_OLD_KEYS", k) for k in getattr(settings, "PII_OLD_KEYS", ()) or ())]:
        if value:
            try:
                parse_key(value)
            except PIIKeyError as exc:
                errors.append(checks.Error(f"{name}: {exc}", id="arrears.E102"))
    return errors


def _register_check() -> None:
    from django.core import checks

    checks.register(check_pii_keys, checks.Tags.security)


_register_check()

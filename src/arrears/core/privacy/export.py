"""Model rows as JSON-ready dicts for a subject-access export (PIPL Art. 45; the document is built
by :mod:`arrears.pipeline.subject` from each context's part).

Values: personal fields decrypted (the subject is entitled to them), amounts as strings with the
field's decimal places (``"1234.50"``), dates and times ISO 8601. Left out: blind-index hashes
(keyed hashes, meaningless outside the system) and references to staff user accounts.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Model

from .fields import BlindIndexField


def _is_user_fk(field) -> bool:
    return bool(field.is_relation and field.many_to_one and field.related_model is not None
                and field.related_model._meta.label == settings.AUTH_USER_MODEL)


def _value(field, value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return f"{value:.{places}f}" if places is not None else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


def row(obj: Model) -> dict:
    """One model instance as a JSON-ready dict (see the module docstring for what is left out)."""
    out: dict = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, BlindIndexField) or _is_user_fk(f):
            continue
        out[f.attname] = _value(f, getattr(obj, f.attname))
    return out


def rows(qs) -> list[dict]:
    """:func:`row` of each instance of ``qs``, by primary key."""
    return [row(o) for o in qs.order_by("pk")]


def related_rows(roots: dict[str, set], covered: set[str]) -> tuple[dict[str, list[dict]], dict[str, set]]:
    """Every record of a model not in ``covered`` (model labels, ``portfolio.customer`` …) that
    points at one of ``roots`` (label → primary keys), or at such a record in turn, found through
    the model graph — so records added by later apps (visits, legal referrals, service contacts)
    are included without changes here. Returns ``(rows by label, primary keys by label)``, the
    latter also holding ``roots``."""
    from django.apps import apps
    from django.db.models import Q

    ids = {label: set(pks) for label, pks in roots.items()}
    related: dict[str, list[dict]] = {}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            label = model._meta.label_lower
            if label in covered or label in roots:
                continue
            q = Q()
            for f in model._meta.concrete_fields:
                if f.is_relation and f.many_to_one and f.related_model is not None \
                        and ids.get(f.related_model._meta.label_lower):
                    q |= Q(**{f"{f.attname}__in": ids[f.related_model._meta.label_lower]})
            if not q:
                continue
            qs = model._default_manager.filter(q).distinct()
            found = set(qs.values_list("pk", flat=True))
            if found and found != ids.get(label):
                changed = True  # new rows: look again for records pointing at them
                related[label] = rows(qs)
                ids[label] = found
    return dict(sorted(related.items())), ids

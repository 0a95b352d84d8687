"""Birth dates and address coordinates encrypted at rest (security review): ``Customer.birth_date``
(a date) and ``Contact.latitude``/``longitude`` (floats) become encrypted text columns, like the
columns of 0002. Reversible (writes the plain dates and numbers back).

The existing values are not converted by changing the column type in SQL: SQLite turns a REAL
into text with 15 significant digits only (a coordinate with 14 decimals would lose its last
ones) and PostgreSQL writes a date as text in the server's ``DateStyle``. Instead a text column
is added next to each, filled in batches with the ciphertext of the value as Python read it
(``YYYY-MM-DD``, the float's exact ``repr``: what ``EncryptedDateField``/``EncryptedFloatField``
write), the plain column dropped and the new one given its name.
"""

from django.db import migrations, models

import arrears.core.privacy.fields

BATCH = 2000
SUFFIX = "_encrypted"
#: model → (field, its final field class, the label its ciphertexts are bound to)
COLUMNS = {
    "customer": [
        ("birth_date", arrears.core.privacy.fields.EncryptedDateField, "portfolio.customer.birth_date"),
    ],
    "contact": [
        ("latitude", arrears.core.privacy.fields.EncryptedFloatField, "portfolio.contact.latitude"),
        ("longitude", arrears.core.privacy.fields.EncryptedFloatField, "portfolio.contact.longitude"),
    ],
}


def _batches(model, alias, names):
    """``(pk, *values)`` rows of ``model`` with a value in any of ``names``, ``BATCH`` at a time."""
    nonempty = models.Q()
    for n in names:
        nonempty |= models.Q(**{f"{n}__isnull": False})
    qs = model._default_manager.using(alias).filter(nonempty).order_by("pk")
    last = 0
    while True:
        rows = list(qs.filter(pk__gt=last).values_list("pk", *names)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _update(connection, model, columns, rows):
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(c)} = %s" for c in columns)
    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s", rows)


def encrypt_existing(apps, schema_editor):
    from arrears.core.privacy.crypto import keyring

    ring = keyring()
    connection = schema_editor.connection
    for model_name, cols in COLUMNS.items():
        model = apps.get_model("portfolio", model_name)
        fields = [(cls(), label) for _, cls, label in cols]
        names = [name for name, _, _ in cols]
        for rows in _batches(model, connection.alias, names):  # typed values, as the plain columns hold them
            out = [
                (*(None if v is None else ring.encrypt(f.plaintext(v), label) for (f, label), v in zip(fields, values)),
                 pk)
                for pk, *values in rows
            ]
            _update(connection, model, [n + SUFFIX for n in names], out)


def decrypt_existing(apps, schema_editor):
    from arrears.core.privacy.crypto import keyring

    ring = keyring()
    connection = schema_editor.connection
    for model_name, cols in COLUMNS.items():
        model = apps.get_model("portfolio", model_name)
        fields = [(cls(), label) for _, cls, label in cols]
        names = [name for name, _, _ in cols]
        plain = [model._meta.get_field(n) for n in names]
        for rows in _batches(model, connection.alias, [n + SUFFIX for n in names]):
            out = []
            for pk, *tokens in rows:
                values = [None if t is None or t == "" else f.from_text(ring.decrypt(t, label))
                          for (f, label), t in zip(fields, tokens)]
                out.append((*(p.get_db_prep_save(v, connection) for p, v in zip(plain, values)), pk))
            _update(connection, model, [p.column for p in plain], out)


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0004_alter_buckethistory_account_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="birth_date" + SUFFIX,
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="contact",
            name="latitude" + SUFFIX,
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="contact",
            name="longitude" + SUFFIX,
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
        migrations.RemoveField(model_name="customer", name="birth_date"),
        migrations.RemoveField(model_name="contact", name="latitude"),
        migrations.RemoveField(model_name="contact", name="longitude"),
        migrations.RenameField(model_name="customer", old_name="birth_date" + SUFFIX, new_name="birth_date"),
        migrations.RenameField(model_name="contact", old_name="latitude" + SUFFIX, new_name="latitude"),
        migrations.RenameField(model_name="contact", old_name="longitude" + SUFFIX, new_name="longitude"),
        migrations.AlterField(
            model_name="customer",
            name="birth_date",
            field=arrears.core.privacy.fields.EncryptedDateField(blank=True, null=True, verbose_name="出生日期"),
        ),
        migrations.AlterField(
            model_name="contact",
            name="latitude",
            field=arrears.core.privacy.fields.EncryptedFloatField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="contact",
            name="longitude",
            field=arrears.core.privacy.fields.EncryptedFloatField(blank=True, null=True),
        ),
    ]

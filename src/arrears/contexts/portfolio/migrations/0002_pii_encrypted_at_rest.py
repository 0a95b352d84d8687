"""Personal data encrypted at rest (issue 3): names, national ID numbers and contact values
become encrypted text columns, with blind indexes for exact search; existing plaintext rows are
encrypted under ARREARS_PII_KEY and indexed. Reversible (writes the plaintext back)."""

from django.db import migrations

import arrears.core.privacy.fields

MODELS = ("customer", "contact")


def encrypt_existing(apps, schema_editor):
    from arrears.core.privacy.rekey import rewrite

    for name in MODELS:
        rewrite(apps.get_model("portfolio", name), using=schema_editor.connection.alias, accept_plaintext=True)


def decrypt_existing(apps, schema_editor):
    from arrears.core.privacy.rekey import decrypt_all

    for name in MODELS:
        decrypt_all(apps.get_model("portfolio", name), using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="name",
            field=arrears.core.privacy.fields.EncryptedTextField(max_length=128, verbose_name="姓名"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="national_id",
            field=arrears.core.privacy.fields.EncryptedTextField(blank=True, max_length=32, verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="contact",
            name="party_name",
            field=arrears.core.privacy.fields.EncryptedTextField(blank=True, max_length=128, verbose_name="联系人姓名"),
        ),
        migrations.AlterField(
            model_name="contact",
            name="value",
            field=arrears.core.privacy.fields.EncryptedTextField(max_length=255, verbose_name="号码或地址"),
        ),
        migrations.AddField(
            model_name="customer",
            name="national_id_hash",
            field=arrears.core.privacy.fields.BlindIndexField(indexer="national_id", source="national_id"),
        ),
        migrations.AddField(
            model_name="contact",
            name="value_hash",
            field=arrears.core.privacy.fields.BlindIndexField(indexer="contact_value", source="value"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing, elidable=False),
    ]

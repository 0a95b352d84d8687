"""Retention (issue 3): ``Customer.purged_at``, set when the retention policy erased the
customer's personal data (``arrears purge``)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portfolio", "0002_pii_encrypted_at_rest"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="purged_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="个人信息清除时间"),
        ),
    ]

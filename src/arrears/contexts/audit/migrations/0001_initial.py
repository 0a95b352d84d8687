"""The audit log table, and the database triggers that make it append-only (per vendor: see
:mod:`arrears.contexts.audit.dbguard`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from arrears.contexts.audit import dbguard


def install_guard(apps, schema_editor):
    for sql in dbguard.INSTALL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def uninstall_guard(apps, schema_editor):
    for sql in dbguard.UNINSTALL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('at', models.DateTimeField(db_index=True, verbose_name='时间')),
                ('actor_label', models.CharField(blank=True, max_length=150, verbose_name='操作人账号')),
                ('action', models.CharField(max_length=64, verbose_name='操作')),
                ('object_type', models.CharField(blank=True, max_length=64, verbose_name='对象类型')),
                ('object_id', models.CharField(blank=True, max_length=64, verbose_name='对象')),
                ('reason', models.TextField(blank=True, verbose_name='原因')),
                ('ip', models.CharField(blank=True, max_length=45, verbose_name='IP 地址')),
                ('user_agent', models.CharField(blank=True, max_length=512, verbose_name='客户端')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='详情')),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
            ],
            options={
                'verbose_name': '审计事件',
                'verbose_name_plural': '审计事件',
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='audit_object'), models.Index(fields=['action', 'at'], name='audit_action_at'), models.Index(fields=['actor', 'at'], name='audit_actor_at')],
            },
        ),
        migrations.RunPython(install_guard, uninstall_guard),
    ]

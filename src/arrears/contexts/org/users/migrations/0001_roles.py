"""Seed one auth group per role (see ``arrears.contexts.org.users.roles``).

The codes are written out here, not imported, so that the migration stays as it was when it ran.
Permissions are granted after every ``migrate`` by ``services.sync_role_permissions`` (permissions
do not exist yet while migrations run on an empty database).
"""
from django.db import migrations

ROLE_CODES = (
    "collector",
    "team_leader",
    "field_agent",
    "legal_officer",
    "customer_service",
    "compliance_officer",
    "administrator",
)


def seed_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for code in ROLE_CODES:
        Group.objects.get_or_create(name=code)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(seed_groups, remove_groups)]

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "arrears.apps.ops"
    label = "ops"

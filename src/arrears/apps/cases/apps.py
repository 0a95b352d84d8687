from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "arrears.apps.cases"
    label = "cases"

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "arrears.apps.users"
    label = "users"

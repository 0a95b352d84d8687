from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "arrears.apps.payments"
    label = "payments"

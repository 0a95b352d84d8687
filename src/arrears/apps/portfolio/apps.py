from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "arrears.apps.portfolio"
    label = "portfolio"

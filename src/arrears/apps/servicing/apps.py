from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicingConfig(AppConfig):
    name = "arrears.apps.servicing"
    label = "servicing"
    verbose_name = _("客服")

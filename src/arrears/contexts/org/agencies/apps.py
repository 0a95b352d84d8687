from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    name = "arrears.contexts.org.agencies"
    label = "agencies"
    verbose_name = _("委外机构")

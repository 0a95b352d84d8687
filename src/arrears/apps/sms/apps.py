from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    name = "arrears.apps.sms"
    label = "sms"
    verbose_name = _("短信")

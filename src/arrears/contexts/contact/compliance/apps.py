from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "arrears.contexts.contact.compliance"
    label = "compliance"
    verbose_name = _("合规")

    def ready(self) -> None:
        # the content screening's packaged lexicons come from rule data (the domain reads no files)
        import arrears.rules.lexicons  # noqa: F401

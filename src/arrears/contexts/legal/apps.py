from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def referred_cases(user):
    """Scope: legal officers see the cases with an active legal referral."""
    from .models import LegalReferral

    return LegalReferral.objects.filter(status__in=LegalReferral.ACTIVE).values("case_id")


class LegalConfig(AppConfig):
    name = "arrears.contexts.legal"
    label = "legal"
    verbose_name = _("法务")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import register_scope_rule

        register_scope_rule("legal_officer", case_ids=referred_cases)

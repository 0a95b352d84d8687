"""The legal context owns legal referrals (法务): a case referred to the legal department.

This facade is the only module of the context that another context (or the daily pipeline)
imports. Functions here take and return plain values or the frozen dataclasses declared here, not
the context's models; docs/architecture.md lists them (generated from this module)."""
from __future__ import annotations

# ---------------------------------------------------------------- used by the contact context


def accepted_referral_rows(case_id: int):
    """The case's legal referrals the legal department accepted (a litigation hold for the
    compliance gate) as an unevaluated values query of the gate's *standing rows* ``(tag "l",
    referral id, NULL contact id, "" kind, NULL since, NULL until, NULL breached, "" reference,
    referred on)`` — for the gate's one-statement ``UNION ALL`` read; evaluate it only that way."""
    from django.db.models import BigIntegerField, BooleanField, CharField, DateTimeField, Value
    from django.db.models.functions import Cast

    from .models import LegalReferral

    def null(field):  # typed: PostgreSQL matches the columns of a UNION by type
        return Cast(Value(None), output_field=field)

    return LegalReferral.objects.filter(case_id=case_id, status=LegalReferral.Status.ACCEPTED).order_by().values_list(
        Value("l", output_field=CharField()), "pk", null(BigIntegerField()), Value("", output_field=CharField()),
        null(DateTimeField()), null(DateTimeField()), null(BooleanField()), Value("", output_field=CharField()),
        "referred_on")



# ---------------------------------------------------------------- used by money and strategy


# ---------------------------------------------------------------- used by casework, portfolio, audit, org and the pipeline

"""Version 2 of the English ``overdue_notice``: amounts now list every currency the debtor owes
in ("CNY 100.00, USD 50.00", never their sum), and the version 1 body did not fit two currencies
in the policy's three parts. Added — and activated in place of version 1 — only where version 1 as
shipped is still the active version; a database whose template was edited keeps its own."""
from django.db import migrations

CODE, LANGUAGE = "overdue_notice", "en"
SHIPPED_V1 = ("As of {{ as_of_date }} your card ending {{ card_last4 }} has {{ overdue_amount }} overdue, balance "
              "{{ total_balance }}. Please pay to protect your credit record. Help: {{ hotline }}.")
BODY = ("Card ending {{ card_last4 }}, as of {{ as_of_date }}: {{ overdue_amount }} overdue, balance "
        "{{ total_balance }}. Pay to protect your credit. Help: {{ hotline }}.")
NOTE = "rules/sms/templates.yaml 2026.2 (two currencies fit)"


def forward(apps, schema_editor):
    from django.utils import timezone
    from jinja2 import meta

    from arrears.contexts.contact.sms import policy as pol
    from arrears.contexts.contact.sms import templating
    from arrears.domain import screening

    SmsTemplate = apps.get_model("sms", "SmsTemplate")
    active = SmsTemplate.objects.filter(code=CODE, language=LANGUAGE, status="active").first()
    if active is None or active.body != SHIPPED_V1:
        return
    p = pol.policy()
    variables = sorted(meta.find_undeclared_variables(templating._ENV.parse(BODY)))
    sample = templating.render(BODY, variables, LANGUAGE, templating.sample_context(LANGUAGE, p.hotline), p)
    found = screening.screen(sample.text, lang="en")
    if found:
        raise ValueError(f"template {CODE}/{LANGUAGE} fails screening: {found}")
    latest = SmsTemplate.objects.filter(code=CODE, language=LANGUAGE).order_by("-version").first()
    SmsTemplate.objects.filter(pk=active.pk).update(status="retired")
    SmsTemplate.objects.create(
        code=CODE, language=LANGUAGE, version=latest.version + 1, name=active.name, body=BODY, variables=variables,
        min_interval_days=active.min_interval_days, status="active", policy_version=p.version,
        parts=sample.segments.parts, encoding=sample.segments.encoding, note=NOTE, activated_at=timezone.now())


def backward(apps, schema_editor):
    SmsTemplate = apps.get_model("sms", "SmsTemplate")
    added = SmsTemplate.objects.filter(code=CODE, language=LANGUAGE, note=NOTE).first()
    if added is None:
        return
    previous = (SmsTemplate.objects.filter(code=CODE, language=LANGUAGE, body=SHIPPED_V1, version__lt=added.version)
                .order_by("-version").first())
    was_active = added.status == "active"
    added.delete()
    if was_active and previous is not None:
        SmsTemplate.objects.filter(pk=previous.pk).update(status="active")


class Migration(migrations.Migration):
    dependencies = [("sms", "0002_default_templates")]
    operations = [migrations.RunPython(forward, backward)]

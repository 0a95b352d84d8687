"""Version 1 of the shipped templates (rules/sms/templates.yaml), checked like the editor checks a
save (sandbox rules, declared variables, length, content screening) and activated."""
from django.db import migrations


def load(apps, schema_editor):
    import yaml
    from jinja2 import meta

    from arrears.contexts.contact.sms import policy as pol
    from arrears.contexts.contact.sms import templating
    from arrears.domain import screening

    SmsTemplate = apps.get_model("sms", "SmsTemplate")
    p = pol.policy()
    data = yaml.safe_load(pol.TEMPLATES_FILE.read_text(encoding="utf-8"))
    for t in data["templates"]:
        for language, body in t["bodies"].items():
            if SmsTemplate.objects.filter(code=t["code"], language=language).exists():
                continue
            variables = sorted(meta.find_undeclared_variables(templating._ENV.parse(body)))
            sample = templating.render(body, variables, language, templating.sample_context(language, p.hotline), p)
            found = screening.screen(sample.text, lang="zh" if language == "zh-hans" else "en")
            if found:
                raise ValueError(f"template {t['code']}/{language} fails screening: {found}")
            SmsTemplate.objects.create(
                code=t["code"], language=language, version=1, name=t.get("name", {}).get(language, t["code"]),
                body=body, variables=variables, min_interval_days=t.get("min_interval_days", 7), status="active",
                policy_version=p.version, parts=sample.segments.parts, encoding=sample.segments.encoding,
                note=f"rules/sms/templates.yaml {data.get('version', '')}")


def unload(apps, schema_editor):
    apps.get_model("sms", "SmsTemplate").objects.filter(version=1, note__startswith="rules/sms/templates.yaml").delete()


class Migration(migrations.Migration):
    dependencies = [("sms", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

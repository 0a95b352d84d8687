from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

#: timeline event kinds of field visits (the same label objects on every ``ready``)
EVENT_KINDS = {"field_visit": _("外访"), "field_visit_report": _("外访报告"),
               "field_safety_alert": _("外访安全警报")}


def event_kinds() -> dict:
    """The field visits' timeline kinds, typed, with the audit actions written with them."""
    from arrears.contexts.casework.facade import ABSENT, PRESENT, AuditRule, KindSpec

    return {
        # a visit's move (``from`` "" when requested); the details of each move ride along
        "field_visit": KindSpec(EVENT_KINDS["field_visit"], required={"visit": int, "from": str, "to": str},
                                 open=True, audit=(
            AuditRule("fieldwork.visit_approved", {"to": "approved", "team": PRESENT}),
            AuditRule("fieldwork.crew_assigned", {"to": "planned", "order": ABSENT}),  # not the route planner
            AuditRule("fieldwork.check_in", {"to": "in_progress"}),
            AuditRule("fieldwork.check_out", {"to": "done"}))),
        "field_visit_report": KindSpec(EVENT_KINDS["field_visit_report"], required={"visit": int}, open=True,
                                        audit=(AuditRule("fieldwork.photo", {"photo": PRESENT}),
                                               AuditRule("fieldwork.report", {"met": PRESENT}))),
        "field_safety_alert": KindSpec(EVENT_KINDS["field_safety_alert"],
                                        required={"visit": int, "alert": int, "kind": str}, open=True, audit=(
            AuditRule("fieldwork.sos", {"kind": "sos", "status": "open"}),
            AuditRule("fieldwork.alert_escalated", {"level": 2}),
            AuditRule("fieldwork.alert_{status}", {"by": "leader"}))),
    }


def visits_of_field_agent(user):
    """Scope: the cases with a visit assigned to the field agent (not cancelled or rejected)."""
    from django.db.models import Q

    from .models import FieldVisit

    return (FieldVisit.objects.filter(Q(agent=user) | Q(partner=user))
            .exclude(status__in=(FieldVisit.Status.CANCELLED, FieldVisit.Status.REJECTED)).values("case_id"))


def visits_of_led_teams(user):
    """Scope: field team leaders see their teams' visits."""
    from .models import FieldVisit

    return FieldVisit.objects.filter(team__leader=user).values("case_id")


def visiting_today(user, case_id: int, today) -> bool:
    """A field agent may reveal the address of a case on the day of their own planned visit."""
    from django.db.models import Q

    from .models import FieldVisit

    return FieldVisit.objects.filter(Q(agent=user) | Q(partner=user), case_id=case_id, scheduled_on=today,
                                     status__in=(FieldVisit.Status.PLANNED, FieldVisit.Status.IN_PROGRESS)).exists()


class FieldworkConfig(AppConfig):
    name = "arrears.contexts.contact.fieldwork"
    label = "fieldwork"
    verbose_name = _("外访")

    def ready(self) -> None:
        from arrears.contexts.casework.facade import (register_event_kinds, register_reveal_condition,
                                                       register_scope_rule)

        register_event_kinds(event_kinds())
        register_scope_rule("field_agent", case_ids=visits_of_field_agent)
        register_scope_rule("team_leader", case_ids=visits_of_led_teams)
        register_reveal_condition("field_agent", "address", visiting_today)
        from arrears.contexts.audit.facade import register_retention_eraser as register_eraser

        from .services import erase_customer_visit_data

        register_eraser("fieldwork", erase_customer_visit_data)

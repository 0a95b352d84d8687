"""The demo's organisation: a team, and work for each demo user, so every role sees its own scope.

Until allocation (issue 5) routes cases, the demo hands out work deterministically (by case id):
the collector gets 200 early-bucket cases in the team led by the team leader; the field agent has
visits today; up to 100 M4+ cases are referred to legal; some customers called customer service; an
agency holds up to 100 M5+ placements. Idempotent: a second run finds everything in place and changes nothing.
"""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction

from arrears.apps.agencies.models import Agency, Placement
from arrears.apps.cases.models import Case
from arrears.apps.fieldwork.models import FieldVisit
from arrears.apps.legal.models import LegalReferral
from arrears.apps.servicing.models import ServiceContact
from arrears.apps.users.models import StaffProfile, Team


def seed_demo_organisation(as_of) -> dict[str, int]:
    """Create the demo team, assignments, visits, referrals, service contacts and placements."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[
        "collector", "team_leader", "field_agent", "legal_officer", "customer_service", "agency_collector"])}
    counts = {}
    with transaction.atomic():
        team, _ = Team.objects.get_or_create(name="催收一组", defaults={"department": Team.Department.COLLECTION,
                                                                       "leader": users.get("team_leader")})
        agency, _ = Agency.objects.get_or_create(code="DEMO-AG", defaults={"name": "示范资产管理有限公司",
                                                                           "whitelisted": True})
        if "collector" in users:
            StaffProfile.objects.update_or_create(user=users["collector"], defaults={"team": team})
        if "agency_collector" in users:
            StaffProfile.objects.update_or_create(user=users["agency_collector"], defaults={"agency": agency})
        open_cases = Case.objects.filter(closed_on__isnull=True).order_by("id")
        if "collector" in users and not Case.objects.filter(assigned_to=users["collector"]).exists():
            ids = list(open_cases.filter(bucket__in=["M1", "M2", "M3"]).values_list("id", flat=True)[:200])
            counts["assigned"] = Case.objects.filter(id__in=ids).update(assigned_to=users["collector"], team=team)
        if "field_agent" in users and not FieldVisit.objects.filter(agent=users["field_agent"]).exists():
            for c in open_cases.filter(bucket__in=["M2", "M3"]).order_by("-max_dpd", "id")[:8]:
                FieldVisit.objects.create(case=c, agent=users["field_agent"], scheduled_on=as_of)
            counts["visits"] = 8
        if not LegalReferral.objects.exists():
            refs = [LegalReferral(case=c, referred_on=as_of, officer=users.get("legal_officer"))
                    for c in open_cases.filter(max_dpd__gt=90)[:100]]
            counts["legal_referrals"] = len(LegalReferral.objects.bulk_create(refs))
        if "customer_service" in users and not ServiceContact.objects.exists():
            at = datetime.combine(as_of, time(10, 30), ZoneInfo("Asia/Shanghai"))
            contacts = [ServiceContact(customer_id=c.customer_id, at=at, channel=ServiceContact.Channel.HOTLINE,
                                       handled_by=users["customer_service"], summary="客户来电询问欠款金额")
                        for c in open_cases.filter(bucket="M1")[:20]]
            counts["service_contacts"] = len(ServiceContact.objects.bulk_create(contacts))
        if not Placement.objects.exists():
            placements = [Placement(case=c, agency=agency, placed_on=as_of)
                          for c in open_cases.filter(bucket__in=["M5", "M6", "M7+"])[:100]]
            counts["placements"] = len(Placement.objects.bulk_create(placements))
    return counts

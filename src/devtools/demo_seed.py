"""The demo's organisation and work, so every role sees its own scope.

:func:`seed_demo_organisation` (before the daily run) creates the teams with their allocation
skills and capacities — 催收一组 (collection, M1–M3, led by the team leader; the collector takes 200
cases), 外访一组 (field, the field agent takes 30), 法务组 (legal, 100) — and an agency in the
``standard`` pool taking 100 placements, so the daily run's allocation routes the cases.
:func:`seed_demo_work` (after the run) adds what the allocation does not create: today's visits for
the field agent, legal referrals for M4+ cases, customer-service calls. Both are idempotent.
"""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction

from arrears.contexts.org.agencies.models import Agency
from arrears.contexts.casework.models import Case
from arrears.contexts.contact.fieldwork.models import FieldCredential, FieldVisit
from arrears.contexts.legal.models import LegalReferral
from arrears.contexts.money.servicing.models import ServiceContact
from arrears.contexts.org.users.models import StaffProfile, Team


def _users():
    User = get_user_model()
    return {u.username: u for u in User.objects.filter(username__in=[
        "collector", "team_leader", "field_agent", "legal_officer", "customer_service", "agency_collector"])}


#: the demo staff's names — what a collector says on the phone (表明身份), never their login name
DEMO_NAMES = {"collector": ("陈", "静"), "team_leader": ("王", "强"), "field_agent": ("李", "明"),
              "legal_officer": ("赵", "敏"), "customer_service": ("刘", "芳"), "agency_collector": ("孙", "磊")}


def seed_demo_organisation() -> dict[str, int]:
    """Teams with skills and capacities, staff profiles, the demo agency (see the module docstring)."""
    users = _users()
    with transaction.atomic():
        for username, (last, first) in DEMO_NAMES.items():
            u = users.get(username)
            if u is not None and not (u.first_name or u.last_name):
                u.last_name, u.first_name = last, first
                u.save(update_fields=["last_name", "first_name"])
        collection, _ = Team.objects.update_or_create(name="催收一组", defaults={
            "department": Team.Department.COLLECTION, "leader": users.get("team_leader"),
            "buckets": ["M1", "M2", "M3"], "languages": []})
        field, _ = Team.objects.update_or_create(name="外访一组", defaults={
            "department": Team.Department.FIELD, "leader": users.get("team_leader")})
        legal, _ = Team.objects.update_or_create(name="法务组", defaults={"department": Team.Department.LEGAL})
        agency, _ = Agency.objects.update_or_create(code="DEMO-AG", defaults={
            "name": "示范资产管理有限公司", "whitelisted": True, "pool": "standard", "capacity": 100})
        for username, team, capacity in (("collector", collection, 200), ("field_agent", field, 30),
                                         ("legal_officer", legal, 100)):
            if username in users:
                StaffProfile.objects.update_or_create(user=users[username],
                                                      defaults={"team": team, "capacity": capacity})
        if "agency_collector" in users:
            StaffProfile.objects.update_or_create(user=users["agency_collector"], defaults={"agency": agency})
        if "field_agent" in users:
            # field visits go out in pairs (CN-FIELD-02): the demo field agent's partner (no login),
            # and both carry their 工作证
            User = get_user_model()
            partner, created = User.objects.get_or_create(username="field_partner", defaults={
                "first_name": "外访搭档"})
            if created:
                partner.set_unusable_password()
                partner.save()
            StaffProfile.objects.update_or_create(user=partner, defaults={"team": field, "capacity": 30})
            for n, u in enumerate((users["field_agent"], partner), 1):
                FieldCredential.objects.update_or_create(user=u, defaults={
                    "staff_number": f"SZ-FV-{n:04d}", "issuer": "示范银行信用卡中心"})
    return {"teams": 3, "agencies": 1}


def seed_demo_work(as_of) -> dict[str, int]:
    """Today's visits, legal referrals and customer-service calls (see the module docstring)."""
    users = _users()
    User = get_user_model()
    counts = {}
    with transaction.atomic():
        open_cases = Case.objects.filter(closed_on__isnull=True).order_by("id")
        if "field_agent" in users and not FieldVisit.objects.filter(agent=users["field_agent"]).exists():
            for c in open_cases.filter(bucket__in=["M2", "M3"]).order_by("-max_dpd", "id")[:8]:
                FieldVisit.objects.create(
                    case=c, agent=users["field_agent"], partner=User.objects.filter(username="field_partner").first(),
                    team=Team.objects.filter(name="外访一组").first(), scheduled_on=as_of)
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
    return counts

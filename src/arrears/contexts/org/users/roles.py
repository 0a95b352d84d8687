"""The roles of the collections organisation.

Each role is a Django group named by its ``code`` (seeded by migration ``0001_roles``); a user's
roles are their groups. ``zh``/``en`` are the display names, ``department`` the unit the role
belongs to (Chinese / English). Read permissions in the admin are granted per role by
:func:`arrears.contexts.org.users.services.sync_role_permissions`.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language


@dataclass(frozen=True)
class Role:
    code: str
    zh: str
    en: str
    department_zh: str
    department_en: str
    #: Staff flag: may log in to the Django admin (read-only for those without change permissions).
    staff: bool = False
    superuser: bool = False
    #: ``app_label.model`` whose *view* permission the role gets in the admin.
    admin_view: tuple[str, ...] = ()

    @property
    def department(self) -> str:
        return self.department_en if _english() else self.department_zh

    @property
    def label(self) -> str:
        """The role's name in the active language."""
        return self.en if _english() else self.zh


def _english() -> bool:
    return (get_language() or "").startswith("en")


#: Reference data the supervising roles may read in the admin. Case and personal data are not
#: here: the admin does not apply the data scope, so those are read through the desk and the API
#: (scoped) and only administrators see them in the admin.
_REFERENCE = (
    "portfolio.dailyrun",
    "portfolio.importbatch",
    "strategy.strategyversion",
    "strategy.strategydecision",
)
_AUDIT = ("audit.auditevent",)

COLLECTOR = Role("collector", "催收员", "Collector", "催收部", "Collections")
TEAM_LEADER = Role(
    "team_leader", "组长", "Team leader", "催收部", "Collections", staff=True, admin_view=_REFERENCE
)
FIELD_AGENT = Role("field_agent", "外访员", "Field agent", "外访部", "Field collections")
LEGAL_OFFICER = Role("legal_officer", "法务专员", "Legal officer", "法务部", "Legal")
CUSTOMER_SERVICE = Role("customer_service", "客服专员", "Customer service agent", "客服中心", "Customer service")
COMPLIANCE_OFFICER = Role(
    "compliance_officer", "合规专员", "Compliance officer", "合规部", "Compliance", staff=True,
    admin_view=_REFERENCE + _AUDIT
)
SUPERVISOR = Role(
    "supervisor", "催收主管", "Collections supervisor", "催收部", "Collections", staff=True,
    admin_view=_REFERENCE
)
AGENCY_COLLECTOR = Role("agency_collector", "委外催收员", "Agency collector", "委外机构", "Collection agency")
ADMINISTRATOR = Role(
    "administrator", "管理员", "Administrator", "信息技术部", "IT administration", staff=True, superuser=True
)

ROLES: tuple[Role, ...] = (
    COLLECTOR,
    TEAM_LEADER,
    FIELD_AGENT,
    LEGAL_OFFICER,
    CUSTOMER_SERVICE,
    COMPLIANCE_OFFICER,
    SUPERVISOR,
    AGENCY_COLLECTOR,
    ADMINISTRATOR,
)
BY_CODE: dict[str, Role] = {r.code: r for r in ROLES}


def role(code: str) -> Role:
    """The role with this code; ``KeyError`` for an unknown code."""
    return BY_CODE[code]

"""Money API routes (included under ``api/v1/payments/``).

Account-level endpoints (posting, reversals, balance) serve no case data scope and are restricted
to the posting roles. Case endpoints (``cases/<pk>/…``: promises, plans, settlements) declare the
``case`` scope on their view class (:class:`arrears.contexts.money.payments.case_apis.CaseScopedAPI`).
"""
from django.urls import path

from arrears.contexts.casework.facade import declares_scope

from . import apis, case_apis

app_name = "payments"


def _restricted(view):
    """Money endpoints: no case data scope; only the posting roles (403 for the others)."""
    view.arrears_roles = apis.POSTING_ROLES
    return declares_scope("none")(view)


urlpatterns = [
    path("", _restricted(apis.PaymentPostAPI.as_view()), name="post"),
    path("reversals/", _restricted(apis.ReversalAPI.as_view()), name="reverse"),
    path("balance/", _restricted(apis.BalanceAPI.as_view()), name="balance"),
    path("cases/<int:pk>/promises/", case_apis.CasePromisesAPI.as_view(), name="case-promises"),
    path("cases/<int:pk>/plans/", case_apis.CasePlansAPI.as_view(), name="case-plans"),
    path("cases/<int:pk>/plans/approve/", case_apis.CasePlanApproveAPI.as_view(), name="case-plan-approve"),
    path("cases/<int:pk>/plans/sign/", case_apis.CasePlanSignAPI.as_view(), name="case-plan-sign"),
    path("cases/<int:pk>/settlements/", case_apis.CaseSettlementsAPI.as_view(), name="case-settlements"),
    path("cases/<int:pk>/settlements/approve/", case_apis.CaseSettlementApproveAPI.as_view(),
         name="case-settlement-approve"),
]

"""Money API routes (included under ``api/v1/payments/``)."""
from django.urls import path

from arrears.apps.cases.scope import declares_scope

from . import apis

app_name = "payments"



def _restricted(view):
    """Money endpoints: no case data scope; only the posting roles (403 for the others)."""
    view.arrears_roles = apis.POSTING_ROLES
    return declares_scope("none")(view)


urlpatterns = [
    path("", _restricted(apis.PaymentPostAPI.as_view()), name="post"),
    path("reversals/", _restricted(apis.ReversalAPI.as_view()), name="reverse"),
    path("balance/", _restricted(apis.BalanceAPI.as_view()), name="balance"),
]

"""URL configuration."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from arrears.contexts.casework import apis as case_apis
from arrears.contexts.casework.facade import declares_scope

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/", include("arrears.contexts.casework.urls")),
    path("strategy/", include("arrears.contexts.strategy.urls")),
    path("desk/", include("arrears.contexts.contact.desk.urls")),
    path("api/desk/", include("arrears.contexts.contact.desk.api_urls")),
    path("sms/", include("arrears.contexts.contact.sms.urls")),
    path("field/", include("arrears.contexts.contact.fieldwork.urls")),
    path("api/v1/cases/", case_apis.CaseListAPI.as_view(), name="api-case-list"),
    path("api/v1/cases/<int:pk>/", case_apis.CaseDetailAPI.as_view(), name="api-case-detail"),
    path("api/v1/payments/", include("arrears.contexts.money.payments.urls")),
    path("api/schema/", declares_scope("none")(SpectacularAPIView.as_view()), name="api-schema"),
    path("admin/", admin.site.urls),
]

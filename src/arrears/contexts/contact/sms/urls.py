"""URL routes of the sms app (mounted at ``sms/``)."""
from django.urls import path

from . import views

app_name = "sms"
urlpatterns = [
    path("templates/", views.template_page, name="templates"),
    path("templates/preview/", views.template_preview, name="preview"),
    path("cases/<int:pk>/", views.case_panel, name="case_panel"),
]

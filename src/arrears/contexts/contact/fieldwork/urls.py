"""URL routes of the field-visit pages (外访)."""
from django.urls import path

from . import views

app_name = "fieldwork"
urlpatterns = [
    path("", views.today, name="today"),
    path("board/", views.board, name="board"),
    path("cases/<int:pk>/", views.case_page, name="case"),
    path("cases/<int:pk>/request/", views.request_visit, name="request"),
    path("cases/<int:pk>/decide/", views.decide, name="decide"),
    path("cases/<int:pk>/checkin/", views.checkin, name="checkin"),
    path("cases/<int:pk>/photo/", views.photo, name="photo"),
    path("cases/<int:pk>/report/", views.report, name="report"),
    path("cases/<int:pk>/checkout/", views.checkout, name="checkout"),
    path("cases/<int:pk>/sos/", views.sos, name="sos"),
    path("cases/<int:pk>/alert/", views.alert, name="alert"),
]

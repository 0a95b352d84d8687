"""API routes of the phone desk (/api/desk/…)."""
from django.urls import path  # noqa: F401

app_name = "desk-api"
urlpatterns: list = []

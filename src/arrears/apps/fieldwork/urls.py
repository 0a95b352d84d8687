"""URL routes of the field-visit pages (外访)."""
from django.urls import path  # noqa: F401

app_name = "fieldwork"
urlpatterns: list = []

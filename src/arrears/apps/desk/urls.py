"""URL routes of the desk app."""
from django.urls import path  # noqa: F401

app_name = "desk"
urlpatterns: list = []

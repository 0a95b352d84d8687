"""API routes of the phone desk (/api/desk/…); see :mod:`arrears.contexts.contact.desk.apis`."""
from django.urls import path

from . import apis

app_name = "desk-api"
urlpatterns = [
    path("next/", apis.as_view(apis.NextAPI), name="next"),
    path("queue/", apis.as_view(apis.QueueAPI), name="queue"),
    path("vocabulary/", apis.as_view(apis.VocabularyAPI), name="vocabulary"),
    path("board/", apis.as_view(apis.BoardAPI), name="board"),
    path("cases/<int:pk>/", apis.as_view(apis.WorkspaceAPI), name="workspace"),
    path("cases/<int:pk>/dial/", apis.as_view(apis.DialAPI), name="dial"),
    path("cases/<int:pk>/outcome/", apis.as_view(apis.OutcomeAPI), name="outcome"),
    path("cases/<int:pk>/release/", apis.as_view(apis.ReleaseAPI), name="release"),
    path("cases/<int:pk>/reassign/", apis.as_view(apis.ReassignAPI), name="reassign"),
]

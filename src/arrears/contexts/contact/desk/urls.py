"""URL routes of the phone desk pages (/desk/…)."""
from django.urls import path

from . import views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("reassign/", views.reassign, name="reassign"),
    path("cases/<int:pk>/", views.workspace, name="workspace"),
    path("cases/<int:pk>/dial/", views.dial, name="dial"),
    path("cases/<int:pk>/outcome/", views.outcome, name="outcome"),
    path("cases/<int:pk>/release/", views.release, name="release"),
    path("cases/<int:pk>/notes/", views.note, name="note"),
]

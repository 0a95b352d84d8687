from django.urls import path

from . import views

app_name = "strategy"
urlpatterns = [
    path("", views.strategy_page, name="page"),
    path("diff/", views.strategy_diff, name="diff"),
    path("upload/", views.strategy_upload, name="upload"),
    path("activate/", views.strategy_activate, name="activate"),
]

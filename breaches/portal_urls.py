from django.urls import path

from . import portal_views

app_name = "breaches_portal"

urlpatterns = [
    path("usage/", portal_views.usage, name="usage"),
]

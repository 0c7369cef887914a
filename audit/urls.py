from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="events"),
    path("verify/", views.verify, name="verify"),
    path("governance/", views.governance, name="governance"),
    path("governance/export.csv", views.governance_export, name="governance-export"),
]

from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="events"),
    path("events/<int:seq>/", views.event_entry, name="event"),
    path("history/<str:label>/<int:history_id>/", views.history_row, name="history"),
    path("chain/", views.chain, name="chain"),
    path("verify/", views.verify, name="verify"),
    path("governance/", views.governance, name="governance"),
    path("governance/export.csv", views.governance_export, name="governance-export"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/", views.export, name="export"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("retention/", views.retention, name="retention"),
    path("retention/draft/", views.retention_draft, name="retention-draft"),
    path("retention/<int:pk>/", views.retention_policy, name="retention-policy"),
    path("retention/<int:pk>/publish/", views.retention_publish, name="retention-publish"),
]

from django.urls import path

from . import case_views, views

app_name = "breaches"

urlpatterns = [
    path("usage/upload/", views.usage_upload, name="usage-upload"),
    path("cases/", case_views.case_queue, name="cases"),
    path("cases/<int:pk>/", case_views.case_detail, name="case"),
    path("cases/<int:pk>/notices/<int:notice_pk>.pdf", case_views.notice_pdf, name="notice-pdf"),
]

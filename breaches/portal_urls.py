from django.urls import path

from . import portal_views

app_name = "breaches_portal"

urlpatterns = [
    path("usage/", portal_views.usage, name="usage"),
    path("cases/", portal_views.cases, name="cases"),
    path("warnings/<int:pk>/dismiss/", portal_views.warning_dismiss, name="warning-dismiss"),
    path("cases/<int:pk>/", portal_views.case, name="case"),
    path("cases/<int:pk>/agree/", portal_views.agree, name="agree"),
    path("cases/<int:pk>/notices/<int:notice_pk>.pdf", portal_views.notice_pdf, name="notice-pdf"),
]

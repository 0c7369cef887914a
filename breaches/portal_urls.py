from django.urls import path
from django.views.generic import RedirectView

from . import portal_views

app_name = "breaches_portal"

urlpatterns = [
    # The section's own address opens its list of cases.
    path(
        "",
        RedirectView.as_view(
            pattern_name="breaches_portal:cases", http_method_names=["get", "head"]
        ),
        name="index",
    ),
    path("usage/", portal_views.usage, name="usage"),
    path("cases/", portal_views.cases, name="cases"),
    path("warnings/<int:pk>/dismiss/", portal_views.warning_dismiss, name="warning-dismiss"),
    path("cases/<int:pk>/", portal_views.case, name="case"),
    path("cases/<int:pk>/agree/", portal_views.agree, name="agree"),
    path("cases/<int:pk>/notices/<int:notice_pk>.pdf", portal_views.notice_pdf, name="notice-pdf"),
]

from django.urls import path
from django.views.generic import RedirectView

from . import case_views, views

app_name = "breaches"

urlpatterns = [
    # The section's own address opens its list of cases.
    path(
        "",
        RedirectView.as_view(pattern_name="breaches:cases", http_method_names=["get", "head"]),
        name="index",
    ),
    path("usage/upload/", views.usage_upload, name="usage-upload"),
    path("cases/", case_views.case_queue, name="cases"),
    path("cases/<int:pk>/", case_views.case_detail, name="case"),
    path("cases/<int:pk>/move/<str:transition>/", case_views.case_move, name="case-move"),
    path("cases/<int:pk>/classify/", case_views.case_classify, name="case-classify"),
    path("cases/<int:pk>/log/", case_views.case_log, name="case-log"),
    path("cases/<int:pk>/email/", case_views.case_email, name="case-email"),
    path("cases/<int:pk>/notices/", case_views.case_notice, name="case-notice"),
    path("cases/<int:pk>/assign/", case_views.case_assign, name="case-assign"),
    path("cases/<int:pk>/note/", case_views.case_note, name="case-note"),
    path("cases/<int:pk>/milestones/", case_views.milestone_add, name="milestone-add"),
    path(
        "cases/<int:pk>/milestones/<int:milestone_pk>/done/",
        case_views.milestone_done,
        name="milestone-done",
    ),
    path(
        "cases/<int:pk>/deprovision/<str:step>/",
        case_views.case_deprovision,
        name="case-deprovision",
    ),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        case_views.attachment_file,
        name="attachment",
    ),
    path(
        "cases/<int:pk>/options/<int:option_pk>/adjust/",
        case_views.option_adjust,
        name="option-adjust",
    ),
    path(
        "cases/<int:pk>/options/<int:option_pk>/<str:action>/",
        case_views.option_change,
        name="option-change",
    ),
    path(
        "cases/<int:pk>/earlier/<int:item_pk>/<str:decision>/",
        case_views.earlier_decide,
        name="earlier-decide",
    ),
    path("cases/<int:pk>/notices/<int:notice_pk>.pdf", case_views.notice_pdf, name="notice-pdf"),
]

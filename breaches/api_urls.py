from django.urls import path, re_path

from . import apis, case_apis
from .services.cases import TRANSITIONS

MOVES = "|".join(TRANSITIONS)

urlpatterns = [
    path("usage-reports/", apis.UsageReportCreateApi.as_view(), name="usage-report-create"),
    path(
        "breaches/true-up/calculator/",
        apis.TrueUpCalculatorApi.as_view(),
        name="breach-true-up-calculator",
    ),
    path("breaches/detect/", apis.BreachDetectApi.as_view(), name="breach-detect"),
    path("breach-cases/", case_apis.BreachCaseListApi.as_view(), name="breach-case-list"),
    path(
        "breach-cases/<int:pk>/", case_apis.BreachCaseDetailApi.as_view(), name="breach-case-detail"
    ),
    re_path(
        rf"^breach-cases/(?P<pk>[0-9]+)/(?P<transition>{MOVES})/$",
        case_apis.BreachCaseTransitionApi.as_view(),
        name="breach-case-transition",
    ),
    path(
        "breach-cases/<int:pk>/classify/",
        case_apis.BreachCaseClassifyApi.as_view(),
        name="breach-case-classify",
    ),
    path(
        "breach-cases/<int:pk>/options/<slug:kind>/",
        case_apis.BreachCaseOptionApi.as_view(),
        name="breach-case-option",
    ),
    path(
        "breach-cases/<int:pk>/earlier-overuse/<int:item>/",
        case_apis.BreachCaseEarlierOveruseApi.as_view(),
        name="breach-case-earlier-overuse",
    ),
    path(
        "breach-cases/<int:pk>/milestones/",
        case_apis.BreachCaseMilestonesApi.as_view(),
        name="breach-case-milestones",
    ),
    path(
        "breach-cases/<int:pk>/communications/",
        case_apis.BreachCaseCommunicationsApi.as_view(),
        name="breach-case-communications",
    ),
    path(
        "breach-cases/<int:pk>/deprovision/",
        case_apis.BreachCaseDeprovisionApi.as_view(),
        name="breach-case-deprovision",
    ),
    path(
        "breach-cases/<int:pk>/deprovision/approve/",
        case_apis.BreachCaseDeprovisionApi.as_view(approve=True),
        name="breach-case-deprovision-approve",
    ),
    path(
        "breach-milestones/<int:pk>/complete/",
        case_apis.BreachMilestoneCompleteApi.as_view(),
        name="breach-milestone-complete",
    ),
    path(
        "breach-attachments/<int:pk>/",
        case_apis.BreachAttachmentApi.as_view(),
        name="breach-attachment",
    ),
    path("usage-warnings/", case_apis.UsageWarningListApi.as_view(), name="usage-warning-list"),
    path(
        "usage-warnings/<int:pk>/dismiss/",
        case_apis.UsageWarningDismissApi.as_view(),
        name="usage-warning-dismiss",
    ),
]

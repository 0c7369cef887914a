from django.urls import path

from . import apis

urlpatterns = [
    path("usage-reports/", apis.UsageReportCreateApi.as_view(), name="usage-report-create"),
    path(
        "breaches/true-up/calculator/",
        apis.TrueUpCalculatorApi.as_view(),
        name="breach-true-up-calculator",
    ),
    path("breaches/detect/", apis.BreachDetectApi.as_view(), name="breach-detect"),
]

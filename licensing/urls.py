from django.urls import path

from . import views

app_name = "licensing"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/transition/", views.contract_transition, name="contract-transition"),
    path("entitlements/<int:pk>/", views.entitlement_detail, name="entitlement"),
    path(
        "scheduled-changes/<int:pk>/cancel/",
        views.scheduled_change_cancel,
        name="scheduled-change-cancel",
    ),
    path(
        "entitlements/<int:pk>/transition/",
        views.entitlement_transition,
        name="entitlement-transition",
    ),
]

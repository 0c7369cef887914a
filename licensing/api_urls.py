from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis, tokens
from .deprovisioning import apis as deprovisioning_apis

router = DefaultRouter()
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("products", apis.ProductViewSet, basename="product")
router.register("plans", apis.PlanViewSet, basename="plan")
router.register("bundles", apis.BundleViewSet, basename="bundle")
router.register("contracts", apis.ContractViewSet, basename="contract")
router.register("entitlements", apis.EntitlementViewSet, basename="entitlement")
router.register(
    "connected-systems", deprovisioning_apis.ConnectedSystemViewSet, basename="connected-system"
)
router.register(
    "deprovisioning-runs", deprovisioning_apis.RunViewSet, basename="deprovisioning-run"
)

urlpatterns = [
    path("auth/token/", tokens.obtain_expiring_token, name="api-token"),
    path(
        "entitlements/<int:pk>/assignments/",
        deprovisioning_apis.EntitlementAssignmentsView.as_view(),
        name="entitlement-assignments",
    ),
    path(
        "contracts/<int:pk>/holds/",
        deprovisioning_apis.ContractHoldsView.as_view(),
        name="contract-holds",
    ),
    path("holds/<int:pk>/lift/", deprovisioning_apis.HoldLiftView.as_view(), name="hold-lift"),
    *router.urls,
]

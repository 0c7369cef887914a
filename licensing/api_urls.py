from django.urls import path
from rest_framework.routers import DefaultRouter

from . import apis, tokens

router = DefaultRouter()
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("products", apis.ProductViewSet, basename="product")
router.register("plans", apis.PlanViewSet, basename="plan")
router.register("bundles", apis.BundleViewSet, basename="bundle")
router.register("contracts", apis.ContractViewSet, basename="contract")
router.register("entitlements", apis.EntitlementViewSet, basename="entitlement")

urlpatterns = [
    path("auth/token/", tokens.obtain_expiring_token, name="api-token"),
    *router.urls,
]

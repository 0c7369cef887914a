from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

# SimpleRouter: licensing's DefaultRouter already answers the API root.
router = SimpleRouter()
router.register("policies", apis.CreditPolicyViewSet, basename="credit-policy")
router.register("change-requests", apis.ChangeRequestViewSet, basename="change-request")
router.register("credits", apis.CreditViewSet, basename="credit")
router.register("disputes", apis.DisputeViewSet, basename="credit-dispute")
router.register("exchange-rates", apis.ExchangeRateViewSet, basename="exchange-rate")

urlpatterns = [
    path("calculator/", apis.CalculatorApi.as_view(), name="credit-calculator"),
    *router.urls,
]

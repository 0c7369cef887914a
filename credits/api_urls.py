from django.urls import path

from . import apis

urlpatterns = [
    path("calculator/", apis.CalculatorApi.as_view(), name="credit-calculator"),
]

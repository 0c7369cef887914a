"""Customer portal pages for credits, under /portal/credits/."""

from django.urls import path  # noqa: F401

app_name = "credits_portal"
urlpatterns: list = []

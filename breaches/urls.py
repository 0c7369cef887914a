from django.urls import path

from . import views

app_name = "breaches"

urlpatterns = [
    path("usage/upload/", views.usage_upload, name="usage-upload"),
]

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.portal_home, name="home"),
    path("entitlements/", views.portal_entitlements, name="entitlements"),
    path("contracts/<int:pk>/", views.portal_contract, name="contract"),
]

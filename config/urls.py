from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from credits.apis import CustomerStatementApi
from licensing.forms import SignInForm
from shell import views as shell_views

urlpatterns = [
    path("", shell_views.home, name="home"),
    path("no-role/", shell_views.no_role, name="no-role"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=SignInForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("licensing.urls")),
    path("deprovisioning/", include("licensing.deprovisioning.urls")),
    path("portal/credits/", include("credits.portal_urls")),
    path("portal/breaches/", include("breaches.portal_urls")),
    path("portal/", include("licensing.portal_urls")),
    path("finance/", include("credits.urls")),
    path("audit/", include("audit.urls")),
    path("breaches/", include("breaches.urls")),
    path("api/v1/credits/", include("credits.api_urls")),
    path("api/v1/audit/", include("audit.api_urls")),
    path(
        "api/v1/customers/<int:pk>/statement/",
        CustomerStatementApi.as_view(),
        name="customer-statement",
    ),  # fmt: skip
    path("api/v1/", include("breaches.api_urls")),
    path("api/v1/", include("licensing.api_urls")),
    # Behind sign-in; the split view serves its script as a file, so the CSP needs no inline one.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", template_name="api_docs.html"
            )
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

handler404 = "config.exceptions.not_found"

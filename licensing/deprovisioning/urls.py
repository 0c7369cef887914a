"""Deprovisioning's pages, under /deprovisioning/, and the demo's connected systems."""

from django.urls import path, re_path

from . import demo, views

app_name = "deprovisioning"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("terminate/", views.terminate, name="terminate"),
    path("contracts/<int:pk>/", views.contract_page, name="contract"),
    path("contracts/<int:pk>/holds/", views.hold_place, name="hold-place"),
    path("contracts/<int:pk>/blackouts/", views.blackout_add, name="blackout-add"),
    path("holds/<int:pk>/lift/", views.hold_lift, name="hold-lift"),
    path("blackouts/<int:pk>/remove/", views.blackout_remove, name="blackout-remove"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/execute/", views.run_execute, name="run-execute"),
    path("runs/<int:pk>/rollback/", views.run_rollback, name="run-rollback"),
    path(
        "runs/<int:pk>/rollback/approve/", views.run_rollback_approve, name="run-rollback-approve"
    ),
    path("runs/<int:pk>/notice.pdf", views.run_notice, name="run-notice"),
    path("review/", views.review, name="review"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery-retry"),
    path("deliveries/<int:pk>/close/", views.delivery_close, name="delivery-close"),
    path("findings/<int:pk>/resolve/", views.finding_resolve, name="finding-resolve"),
    path("systems/", views.system_list, name="systems"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/reconcile/", views.system_reconcile, name="system-reconcile"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/draft/", views.policy_draft, name="policy-draft"),
    path("policies/<int:pk>/", views.policy_detail, name="policy"),
    path("policies/<int:pk>/publish/", views.policy_publish, name="policy-publish"),
    # Debug only (404 otherwise): the demo's identity provider and license server.
    re_path(r"^demo/scim(?P<rest>/.*)?$", demo.scim_view, name="demo-scim"),
    re_path(r"^demo/webhooks(?P<rest>/.*)?$", demo.webhook_view, name="demo-webhooks"),
]

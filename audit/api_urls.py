from django.urls import path

from . import apis

urlpatterns = [
    path("events/", apis.EventExportView.as_view(), name="api-audit-events"),
    path("tree-head/", apis.TreeHeadView.as_view(), name="api-audit-tree-head"),
    path("proofs/inclusion/", apis.InclusionProofView.as_view(), name="api-audit-inclusion-proof"),
    path(
        "proofs/consistency/",
        apis.ConsistencyProofView.as_view(),
        name="api-audit-consistency-proof",
    ),
]

"""Customer portal pages for credits, under /portal/credits/."""

from django.urls import path

from .views import portal, statements

app_name = "credits_portal"
urlpatterns = [
    path("", portal.credit_list, name="list"),
    path("<int:pk>/", portal.credit_detail, name="credit"),
    path("<int:pk>/credit-note.pdf", portal.credit_note_pdf, name="credit-note"),
    path("<int:pk>/dispute/", portal.dispute_open, name="dispute"),
    path(
        "<int:pk>/disputes/<int:dispute_pk>/attachment/",
        portal.dispute_attachment,
        name="dispute-attachment",
    ),
    path("<int:pk>/resubmit/", portal.credit_resubmit, name="resubmit"),
    path("<int:pk>/withdraw/", portal.credit_withdraw, name="withdraw"),
    path("request/", portal.change_request, name="request"),
    path("request/<int:pk>/recorded/", portal.change_request_done, name="request-done"),
    path("statement/", statements.portal_statement, name="statement"),
    path("invoices/", statements.portal_invoices, name="invoices"),
    path("invoices/<int:pk>/invoice.pdf", statements.invoice_pdf, name="invoice-pdf"),
    path("calculator/", portal.calculator, name="calculator"),
    path("policy/", portal.policy, name="policy"),
    path("policy/versions/", portal.policy_versions, name="policy-versions"),
    path("policy/versions/<int:number>/", portal.policy_version, name="policy-version"),
]

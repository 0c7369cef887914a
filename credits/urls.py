"""Finance pages, under /finance/."""

from django.urls import path

from .views import finance, statements

app_name = "credits"
urlpatterns = [
    path("", finance.queue, name="queue"),
    path("credits/<int:pk>/", finance.credit_detail, name="credit"),
    path("credits/<int:pk>/approve/", finance.credit_approve, name="credit-approve"),
    path("credits/<int:pk>/reject/", finance.credit_reject, name="credit-reject"),
    path("credits/<int:pk>/send-back/", finance.credit_send_back, name="credit-send-back"),
    path("credits/<int:pk>/resubmit/", finance.credit_resubmit, name="credit-resubmit"),
    path("credits/<int:pk>/withdraw/", finance.credit_withdraw, name="credit-withdraw"),
    path("credits/<int:pk>/credit-note.pdf", finance.credit_note, name="credit-note"),
    path("disputes/", finance.dispute_list, name="disputes"),
    path("disputes/<int:pk>/resolve/", finance.dispute_resolve, name="dispute-resolve"),
    path("disputes/<int:pk>/attachment/", finance.dispute_attachment, name="dispute-attachment"),
    path("statement/", statements.finance_statement, name="statement"),
    path("invoices/<int:pk>/invoice.pdf", statements.invoice_pdf, name="invoice-pdf"),
    path("exchange-rates/", finance.exchange_rates, name="exchange-rates"),
    path("policies/", finance.policy_list, name="policies"),
    path("policies/draft/", finance.policy_draft, name="policy-draft"),
    path("policies/<int:pk>/publish/", finance.policy_publish, name="policy-publish"),
]

"""Every route, enumerated from the resolver, times every persona: the status each one gets.

A route without a row here fails `test_every_route_has_an_expectation`, so a new page or API
cannot ship without someone deciding who may reach it. Adding one is one line in ROUTES: the
path (with `{contract}`, `{entitlement}`, `{credit}`, `{issued}`, `{dispute}`, `{hold}`, `{run}`,
`{customer}`... standing for the persona's ids: every key of `world` is a real row of the
persona's customer, or of the other customer's in the last column) and the statuses for

    anon manager analyst approver controller auditor admin customer customer-with-other's-ids

The ids come from the `world` fixture (tests/security/conftest.py). Customers try their own
ids and another customer's: the last column is always a 404 (or the
same refusal as for their own), never a 200. GET is probed for each; auditors, and customers on
the other customer's ids, also try every unsafe method on every route and are refused with
nothing written.
"""

import os
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.support import Snapshot

pytestmark = pytest.mark.django_db

PERSONAS = ["anon", "manager", "analyst", "approver", "controller", "auditor", "admin_user",
            "customer_user", "other_ids"]  # fmt: skip

# name: (path, "statuses in PERSONAS order")
ROUTES = {
    "home": ("/", "302 302 302 302 302 302 302 302 302"),
    "no-role": ("/no-role/", "302 403 403 403 403 403 403 403 403"),
    "login": ("/login/", "200 302 302 302 302 302 302 302 302"),
    "logout": ("/logout/", "405 405 405 405 405 405 405 405 405"),
    "licensing:dashboard": ("/dashboard/", "302 200 200 200 200 200 200 403 403"),
    "licensing:contracts": ("/contracts/", "302 200 200 200 200 200 200 403 403"),
    "licensing:contract": ("/contracts/{contract}/", "302 200 200 200 200 200 200 403 403"),
    "licensing:contract-transition": (
        "/contracts/{contract}/transition/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "licensing:entitlement": (
        "/entitlements/{entitlement}/",
        "302 200 200 200 200 200 200 403 403",
    ),
    "licensing:entitlement-transition": (
        "/entitlements/{entitlement}/transition/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "licensing:scheduled-change-cancel": (
        "/scheduled-changes/{scheduled_change}/cancel/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits_portal:list": ("/portal/credits/", "302 403 403 403 403 403 403 200 200"),
    "credits_portal:credit": ("/portal/credits/{credit}/", "302 403 403 403 403 403 403 200 404"),
    "credits_portal:credit-note": (
        "/portal/credits/{issued}/credit-note.pdf",
        "302 403 403 403 403 403 403 200 404",
    ),
    "credits_portal:dispute": (
        "/portal/credits/{credit}/dispute/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits_portal:dispute-attachment": (
        "/portal/credits/{issued}/disputes/{dispute}/attachment/",
        "302 403 403 403 403 403 403 200 404",
    ),
    "credits_portal:resubmit": (
        "/portal/credits/{credit}/resubmit/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits_portal:request": ("/portal/credits/request/", "302 200 200 403 403 403 200 200 200"),
    "credits_portal:request-done": (
        "/portal/credits/request/{change}/recorded/",
        "302 403 403 403 403 403 403 302 404",
    ),
    "credits_portal:calculator": (
        "/portal/credits/calculator/",
        "302 403 403 403 403 403 403 200 200",
    ),
    "credits_portal:policy": ("/portal/credits/policy/", "302 403 403 403 403 403 403 200 200"),
    "credits_portal:policy-versions": (
        "/portal/credits/policy/versions/",
        "302 403 403 403 403 403 403 200 200",
    ),
    "credits_portal:policy-version": (
        "/portal/credits/policy/versions/{policy}/",
        "302 403 403 403 403 403 403 200 200",
    ),
    "portal:home": ("/portal/", "302 403 403 403 403 403 403 200 200"),
    "portal:entitlements": ("/portal/entitlements/", "302 403 403 403 403 403 403 200 200"),
    "portal:contract": ("/portal/contracts/{contract}/", "302 403 403 403 403 403 403 200 404"),
    "credits:queue": ("/finance/", "302 200 200 200 200 200 200 403 403"),
    "credits:credit": ("/finance/credits/{credit}/", "302 200 200 200 200 200 200 403 403"),
    "credits:credit-approve": (
        "/finance/credits/{credit}/approve/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:credit-reject": (
        "/finance/credits/{credit}/reject/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:credit-send-back": (
        "/finance/credits/{credit}/send-back/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:credit-note": (
        "/finance/credits/{issued}/credit-note.pdf",
        "302 200 200 200 200 200 200 403 403",
    ),
    "credits:disputes": ("/finance/disputes/", "302 200 200 200 200 200 200 403 403"),
    "credits:dispute-resolve": (
        "/finance/disputes/{dispute}/resolve/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:dispute-attachment": (
        "/finance/disputes/{dispute}/attachment/",
        "302 200 200 200 200 200 200 403 403",
    ),
    "credits:policies": ("/finance/policies/", "302 200 200 200 200 200 200 403 403"),
    "credits:policy-draft": ("/finance/policies/draft/", "302 405 405 405 405 405 405 405 405"),
    "credits:policy-publish": (
        "/finance/policies/{policy}/publish/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "audit:events": ("/audit/", "302 403 403 403 403 200 200 403 403"),
    "audit:verify": ("/audit/verify/", "302 405 405 405 405 405 405 405 405"),
    "audit:governance": ("/audit/governance/", "302 403 403 403 200 200 200 403 403"),
    "audit:governance-export": (
        "/audit/governance/export.csv",
        "302 403 403 403 200 200 200 403 403",
    ),
    "audit:event": ("/audit/events/{event}/", "302 403 403 403 403 200 200 403 403"),
    "audit:history": (
        "/audit/history/licensing.contract/{contract_history}/",
        "302 403 403 403 403 200 200 403 403",
    ),
    "audit:chain": ("/audit/chain/", "302 403 403 403 403 200 200 403 403"),
    # Retention policies: managers draft and publish (as the other policies), auditors read.
    "audit:retention": ("/audit/retention/", "302 200 403 403 403 200 200 403 403"),
    "audit:retention-draft": ("/audit/retention/draft/", "302 405 405 405 405 405 405 405 405"),
    "audit:retention-policy": (
        "/audit/retention/{retention_policy}/",
        "302 200 403 403 403 200 200 403 403",
    ),
    "audit:retention-publish": (
        "/audit/retention/{retention_policy}/publish/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "audit:exports": ("/audit/exports/", "302 403 403 403 403 200 200 403 403"),
    "audit:export": ("/audit/exports/{export}/", "302 403 403 403 403 404 200 403 403"),
    "audit:export-download": (
        "/audit/exports/{export}/download/",
        "302 403 403 403 403 404 200 403 403",
    ),
    "credit-calculator": ("/api/v1/credits/calculator/", "403 405 405 405 405 405 405 405 405"),
    "credit-policy-list": ("/api/v1/credits/policies/", "403 200 200 200 200 200 200 200 200"),
    "credit-policy-current": (
        "/api/v1/credits/policies/current/",
        "403 200 200 200 200 200 200 200 200",
    ),
    "credit-policy-detail": (
        "/api/v1/credits/policies/{policy}/",
        "403 200 200 200 200 200 200 200 200",
    ),
    "change-request-list": (
        "/api/v1/credits/change-requests/",
        "403 200 200 200 200 200 200 200 200",
    ),
    "change-request-detail": (
        "/api/v1/credits/change-requests/{change}/",
        "403 200 200 200 200 200 200 200 404",
    ),
    "credit-list": ("/api/v1/credits/credits/", "403 200 200 200 200 200 200 200 200"),
    "credit-detail": ("/api/v1/credits/credits/{credit}/", "403 200 200 200 200 200 200 200 404"),
    "credit-approve": (
        "/api/v1/credits/credits/{credit}/approve/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "credit-reject": (
        "/api/v1/credits/credits/{credit}/reject/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "credit-send-back": (
        "/api/v1/credits/credits/{credit}/send-back/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "api-token": ("/api/v1/auth/token/", "405 405 405 405 405 405 405 405 405"),
    "customer-list": ("/api/v1/customers/", "403 200 200 200 200 200 200 200 200"),
    "customer-detail": ("/api/v1/customers/{customer}/", "403 200 200 200 200 200 200 200 404"),
    "product-list": ("/api/v1/products/", "403 200 200 200 200 200 200 200 200"),
    "product-detail": ("/api/v1/products/{product}/", "403 200 200 200 200 200 200 200 200"),
    "plan-list": ("/api/v1/plans/", "403 200 200 200 200 200 200 200 200"),
    "plan-detail": ("/api/v1/plans/{plan}/", "403 200 200 200 200 200 200 200 200"),
    "bundle-list": ("/api/v1/bundles/", "403 200 200 200 200 200 200 200 200"),
    "bundle-detail": ("/api/v1/bundles/{bundle}/", "403 200 200 200 200 200 200 200 200"),
    "contract-list": ("/api/v1/contracts/", "403 200 200 200 200 200 200 200 200"),
    "contract-detail": ("/api/v1/contracts/{contract}/", "403 200 200 200 200 200 200 200 404"),
    "contract-transition": (
        "/api/v1/contracts/{contract}/suspend/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "entitlement-list": ("/api/v1/entitlements/", "403 200 200 200 200 200 200 200 200"),
    "entitlement-detail": (
        "/api/v1/entitlements/{entitlement}/",
        "403 200 200 200 200 200 200 200 404",
    ),
    "entitlement-transition": (
        "/api/v1/entitlements/{entitlement}/suspend/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "api-root": ("/api/v1/", "403 200 200 200 200 200 200 200 200"),
    "api-schema": ("/api/schema/", "403 200 200 200 200 200 200 200 200"),
    "api-docs": ("/api/docs/", "302 406 406 406 406 406 406 406 406"),
    "breaches:usage-upload": ("/breaches/usage/upload/", "302 200 403 403 403 403 200 403 403"),
    "breaches_portal:usage": ("/portal/breaches/usage/", "302 403 403 403 403 403 403 200 200"),
    "breaches:index": ("/breaches/", "302 302 302 302 302 302 302 302 302"),
    "breaches:cases": ("/breaches/cases/", "302 200 200 200 200 200 200 403 403"),
    "breaches:case": ("/breaches/cases/{case}/", "302 200 200 200 200 200 200 403 403"),
    "breaches:notice-pdf": (
        "/breaches/cases/{shown_case}/notices/{notice}.pdf",
        "302 200 200 200 200 200 200 403 403",
    ),
    "breaches:case-move": (
        "/breaches/cases/{case}/move/review/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches:case-classify": (
        "/breaches/cases/{case}/classify/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches:case-log": ("/breaches/cases/{case}/log/", "302 405 405 405 405 405 405 405 405"),
    "breaches:case-email": (
        "/breaches/cases/{case}/email/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches:case-notice": (
        "/breaches/cases/{case}/notices/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches:option-change": (
        "/breaches/cases/{shown_case}/options/{option}/drop/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches:earlier-decide": (
        "/breaches/cases/{shown_case}/earlier/{earlier}/waived/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches_portal:warning-dismiss": (
        "/portal/breaches/warnings/{warning}/dismiss/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches_portal:index": ("/portal/breaches/", "302 302 302 302 302 302 302 302 302"),
    "breaches_portal:cases": ("/portal/breaches/cases/", "302 403 403 403 403 403 403 200 200"),
    # A customer reads its own cases in every state (the world's case is just detected).
    "breaches_portal:case": (
        "/portal/breaches/cases/{case}/",
        "302 403 403 403 403 403 403 200 404",
    ),
    "breaches_portal:agree": (
        "/portal/breaches/cases/{case}/agree/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "breaches_portal:notice-pdf": (
        "/portal/breaches/cases/{shown_case}/notices/{notice}.pdf",
        "302 403 403 403 403 403 403 200 404",
    ),
    "usage-report-create": ("/api/v1/usage-reports/", "403 405 405 405 405 405 405 405 405"),
    "breach-true-up-calculator": (
        "/api/v1/breaches/true-up/calculator/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-detect": ("/api/v1/breaches/detect/", "403 405 405 405 405 405 405 405 405"),
    "breach-case-list": ("/api/v1/breach-cases/", "403 200 200 200 200 200 200 200 200"),
    "breach-case-detail": ("/api/v1/breach-cases/{case}/", "403 200 200 200 200 200 200 200 404"),
    "breach-case-transition": (
        "/api/v1/breach-cases/{case}/review/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-classify": (
        "/api/v1/breach-cases/{case}/classify/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-option": (
        "/api/v1/breach-cases/{case}/options/true_up/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-earlier-overuse": (
        "/api/v1/breach-cases/{shown_case}/earlier-overuse/{earlier}/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-milestones": (
        "/api/v1/breach-cases/{case}/milestones/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-communications": (
        "/api/v1/breach-cases/{case}/communications/",
        "403 200 200 200 200 200 200 403 404",
    ),
    "breach-case-deprovision": (
        "/api/v1/breach-cases/{case}/deprovision/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-case-deprovision-approve": (
        "/api/v1/breach-cases/{case}/deprovision/approve/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-milestone-complete": (
        "/api/v1/breach-milestones/{milestone}/complete/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "breach-attachment": (
        "/api/v1/breach-attachments/{attachment}/",
        "403 200 200 200 200 200 200 200 404",
    ),
    "usage-warning-list": ("/api/v1/usage-warnings/", "403 200 200 200 200 200 200 200 200"),
    "usage-warning-dismiss": (
        "/api/v1/usage-warnings/{warning}/dismiss/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "entitlement-assignments": (
        "/api/v1/entitlements/{entitlement}/assignments/",
        "403 200 200 200 200 200 200 404 404",
    ),
    "contract-holds": (
        "/api/v1/contracts/{contract}/holds/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "hold-lift": ("/api/v1/holds/{hold}/lift/", "403 405 405 405 405 405 405 405 405"),
    "connected-system-list": ("/api/v1/connected-systems/", "403 200 200 200 200 200 200 404 404"),
    "connected-system-detail": (
        "/api/v1/connected-systems/{system}/",
        "403 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning-run-detail": (
        "/api/v1/deprovisioning-runs/{run}/",
        "403 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning-run-execute": (
        "/api/v1/deprovisioning-runs/{run}/execute/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "api-audit-events": ("/api/v1/audit/events/", "403 403 403 403 403 200 200 403 403"),
    "api-audit-tree-head": ("/api/v1/audit/tree-head/", "403 403 403 403 403 200 200 403 403"),
    "api-audit-inclusion-proof": (
        "/api/v1/audit/proofs/inclusion/?seq=1",
        "403 403 403 403 403 400 400 403 403",
    ),
    "api-audit-consistency-proof": (
        "/api/v1/audit/proofs/consistency/?first=1",
        "403 403 403 403 403 400 400 403 403",
    ),
    "credits_portal:withdraw": (
        "/portal/credits/{credit}/withdraw/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits_portal:statement": (
        "/portal/credits/statement/",
        "302 403 403 403 403 403 403 200 200",
    ),
    "credits_portal:invoices": ("/portal/credits/invoices/", "302 403 403 403 403 403 403 200 200"),
    "credits_portal:invoice-pdf": (
        "/portal/credits/invoices/{invoice}/invoice.pdf",
        "302 200 200 200 200 200 200 200 404",
    ),
    "credits:credit-resubmit": (
        "/finance/credits/{credit}/resubmit/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:credit-withdraw": (
        "/finance/credits/{credit}/withdraw/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "credits:statement": ("/finance/statement/", "302 200 200 200 200 200 200 403 403"),
    "credits:invoice-pdf": (
        "/finance/invoices/{invoice}/invoice.pdf",
        "302 200 200 200 200 200 200 200 404",
    ),
    "credits:exchange-rates": ("/finance/exchange-rates/", "302 200 200 200 200 200 200 403 403"),
    "credit-resubmit": (
        "/api/v1/credits/credits/{credit}/resubmit/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "credit-withdraw": (
        "/api/v1/credits/credits/{credit}/withdraw/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "credit-dispute-list": ("/api/v1/credits/disputes/", "403 200 200 200 200 200 200 200 200"),
    "credit-dispute-detail": (
        "/api/v1/credits/disputes/{dispute}/",
        "403 200 200 200 200 200 200 200 404",
    ),
    "credit-dispute-reject": (
        "/api/v1/credits/disputes/{dispute}/reject/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "credit-dispute-uphold": (
        "/api/v1/credits/disputes/{dispute}/uphold/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "exchange-rate-list": (
        "/api/v1/credits/exchange-rates/",
        "403 200 200 200 200 200 200 200 200",
    ),
    "exchange-rate-detail": (
        "/api/v1/credits/exchange-rates/{rate}/",
        "403 200 200 200 200 200 200 404 404",
    ),
    "customer-statement": (
        "/api/v1/customers/{customer}/statement/",
        "403 200 200 200 200 200 200 200 404",
    ),
    "connected-system-reconcile": (
        "/api/v1/connected-systems/{system}/reconcile/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning-run-rollback": (
        "/api/v1/deprovisioning-runs/{run}/rollback/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning-run-rollback-approve": (
        "/api/v1/deprovisioning-runs/{run}/rollback/approve/",
        "403 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:dashboard": ("/deprovisioning/", "302 200 200 200 200 200 200 404 404"),
    "deprovisioning:terminate": (
        "/deprovisioning/terminate/?contract={contract}",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:contract": (
        "/deprovisioning/contracts/{contract}/",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:hold-place": (
        "/deprovisioning/contracts/{contract}/holds/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:blackout-add": (
        "/deprovisioning/contracts/{contract}/blackouts/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:hold-lift": (
        "/deprovisioning/holds/{hold}/lift/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:run": ("/deprovisioning/runs/{run}/", "302 200 200 200 200 200 200 404 404"),
    "deprovisioning:run-execute": (
        "/deprovisioning/runs/{run}/execute/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:run-rollback": (
        "/deprovisioning/runs/{run}/rollback/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:run-rollback-approve": (
        "/deprovisioning/runs/{run}/rollback/approve/",
        "302 405 405 405 405 405 405 405 405",
    ),
    # {run} has not told the customer yet (no notice); {told_run} has, and waits under a hold.
    "deprovisioning:run-notice": (
        "/deprovisioning/runs/{told_run}/notice.pdf",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:review": ("/deprovisioning/review/", "302 200 200 200 200 200 200 404 404"),
    "deprovisioning:systems": ("/deprovisioning/systems/", "302 200 200 200 200 200 200 404 404"),
    "deprovisioning:system": (
        "/deprovisioning/systems/{system}/",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:system-reconcile": (
        "/deprovisioning/systems/{system}/reconcile/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:policies": (
        "/deprovisioning/policies/",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:policy-draft": (
        "/deprovisioning/policies/draft/",
        "302 405 405 405 405 405 405 405 405",
    ),
    "deprovisioning:policy": (
        "/deprovisioning/policies/{revocation_policy}/",
        "302 200 200 200 200 200 200 404 404",
    ),
    "deprovisioning:policy-publish": (
        "/deprovisioning/policies/{revocation_policy}/publish/",
        "302 405 405 405 405 405 405 405 405",
    ),
    # The demo's connected systems exist in debug only: tests run without it.
    "deprovisioning:demo-scim": (
        "/deprovisioning/demo/scim/v2/Users",
        "404 404 404 404 404 404 404 404 404",
    ),
    "deprovisioning:demo-webhooks": (
        "/deprovisioning/demo/webhooks/acct-1",
        "404 404 404 404 404 404 404 404 404",
    ),
}

# --- deprov10b: the review queue's decisions and blackout removal (issue 10) ----------------
ROUTES.update(
    {
        "deprovisioning:delivery-retry": (
            "/deprovisioning/deliveries/{delivery}/retry/",
            "302 405 405 405 405 405 405 405 405",
        ),
        "deprovisioning:delivery-close": (
            "/deprovisioning/deliveries/{delivery}/close/",
            "302 405 405 405 405 405 405 405 405",
        ),
        "deprovisioning:finding-resolve": (
            "/deprovisioning/findings/{finding}/resolve/",
            "302 405 405 405 405 405 405 405 405",
        ),
        "deprovisioning:blackout-remove": (
            "/deprovisioning/blackouts/{blackout}/remove/",
            "302 405 405 405 405 405 405 405 405",
        ),
    }
)
# --- end deprov10b ----------------------------------------------------------------------------
# --- breach case page forms (breachpages helper): POST only, so a GET is refused first ---
POST_ONLY = "302 405 405 405 405 405 405 405 405"
ROUTES.update({
    "breaches:case-assign": ("/breaches/cases/{case}/assign/", POST_ONLY),
    "breaches:case-note": ("/breaches/cases/{case}/note/", POST_ONLY),
    "breaches:milestone-add": ("/breaches/cases/{case}/milestones/", POST_ONLY),
    "breaches:milestone-done": (
        "/breaches/cases/{shown_case}/milestones/{milestone}/done/", POST_ONLY),
    "breaches:case-deprovision": ("/breaches/cases/{case}/deprovision/request/", POST_ONLY),
    "breaches:option-adjust": ("/breaches/cases/{shown_case}/options/{option}/adjust/", POST_ONLY),
    # Staff only: the logged call's attachment on the case the customer is shown.
    "breaches:attachment": (
        "/breaches/cases/{shown_case}/attachments/{attachment}/",
        "302 200 200 200 200 200 200 403 403",
    ),
})  # fmt: skip
# --- end of the breach case page block ---

# Set ACCESS_MATRIX_PROBE=/tmp/file to write what each persona got (to draft a new row).
PROBE = os.environ.get("ACCESS_MATRIX_PROBE")

# The admin has its own permission checks (staff flag, model permissions); one row for its door.
ADMIN_NAMESPACE = "admin"
ADMIN_ROUTE = ("/admin/", "302 302 302 302 302 302 200 302 302")
# Format-suffix twins of API routes (`.json`) share the row of their route.
SUFFIX = "format"


def _routes(patterns=None, namespace=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _routes(pattern.url_patterns, inner or None)
        elif isinstance(pattern, URLPattern):
            if SUFFIX in pattern.pattern.regex.groupindex:
                continue
            name = ":".join(filter(None, [namespace, pattern.name])) or str(pattern.pattern)
            yield name


def test_every_route_has_an_expectation():
    names = {name for name in _routes() if name.split(":")[0] != ADMIN_NAMESPACE}

    missing = sorted(names - set(ROUTES))
    stale = sorted(set(ROUTES) - names)

    assert not missing, f"Routes with no expectation in ROUTES: {missing}"
    assert not stale, f"ROUTES names routes that no longer exist: {stale}"


def _client(client, request, persona):
    if persona in ("anon",):
        return client
    user = request.getfixturevalue("customer_user" if persona == "other_ids" else persona)
    client.force_login(user)
    return client


def _path(path, world, persona):
    ids = world["globex" if persona == "other_ids" else "northwind"]
    return path.format(**ids)


def _expected(statuses: str) -> dict[str, int]:
    codes = statuses.split()
    assert len(codes) == len(PERSONAS), statuses
    return dict(zip(PERSONAS, map(int, codes), strict=True))


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_expected_status_on_every_route(client, request, world, persona):
    # One world per persona, every route in a loop: the table stays fast enough for CI.
    client = _client(client, request, persona)
    table = {**ROUTES, ADMIN_NAMESPACE: ADMIN_ROUTE}
    wrong, seen = [], []

    for name, (path, statuses) in table.items():
        response = client.get(_path(path, world, persona), HTTP_ACCEPT="application/json")
        seen.append(f"{name}\t{persona}\t{response.status_code}")
        expected = _expected(statuses).get(persona)
        if expected is not None and response.status_code != expected:
            wrong.append(f"{name} ({path}): expected {expected}, got {response.status_code}")

    if PROBE:
        with open(PROBE, "a") as out:
            out.write("\n".join(seen) + "\n")
    assert not wrong, "\n".join(wrong)


# Routes whose POST is not a change an auditor could make: signing in and out, and asking for
# the audit chain to be verified (the auditor's own duty: it records a verification run).
NOT_CHANGES = {"login", "logout", "api-token", "audit:verify"}
# A form page that answers a post it cannot use with its form again (200), writing nothing.
FORM_PAGES = {"credits_portal:request"}


@pytest.mark.parametrize("persona", ["auditor", "other_ids"])
def test_unsafe_methods_are_refused_and_write_nothing(client, request, world, persona):
    """Auditors on every route, and a customer on another customer's ids: POST, PUT, PATCH
    and DELETE are refused, and no table changes."""
    client = _client(client, request, persona)
    snapshot = Snapshot()
    allowed = []

    for name, (path, _) in ROUTES.items():
        if name in NOT_CHANGES:
            continue
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(
                _path(path, world, persona), {"reason": "x"}, content_type="application/json"
            )
            refused = (302, 400, 403, 404, 405) + ((200,) if name in FORM_PAGES else ())
            if response.status_code not in refused:
                allowed.append(f"{method.upper()} {name}: {response.status_code}")

    assert not allowed, "\n".join(allowed)
    assert snapshot.unchanged(), snapshot.changes()


# --- sec9b: no row may probe an id that nothing stands behind ---------------------------------
# A literal id in a path answers 404 because nothing has it, which proves no access rule.


@pytest.mark.django_db(False)
def test_every_id_in_a_route_is_a_row_of_the_world():
    literal = sorted(
        name for name, (path, _) in ROUTES.items()
        if re.search(r"/\d+(?=[/.]|$)", path.split("?", 1)[0])
    )  # fmt: skip

    assert not literal, f"Routes probing a literal id, not a row of the world: {literal}"

"""Hostile input at every write: each refused with a 400 or 409 (never a 5xx), nothing written.

The API's writes come from its OpenAPI schema and the pages' from the URL resolver, so a new
write cannot ship without a row here (`test_every_api_write_has_a_row`,
`test_every_page_that_takes_a_post_has_a_row`). A row is a persona, a path and a body (or form)
that the write accepts; each of its fields, nested ones too, then gets every hostile value of
its kind: too long, NUL, a lone surrogate, nested, huge numbers, out-of-range or impossible dates.
Unicode that is merely unusual may be accepted; anything else must be refused, and a refused
request must leave every table as it was (the `Snapshot`). Each attempt runs in a savepoint
rolled back afterwards, so every one meets the same state. Simultaneous identical requests
answer once, and the audit chain still verifies.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connections, transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.exceptions import DUPLICATE_MESSAGE, api_exception_handler
from config.security import JSON_MAX_DEPTH, json_depth
from credits import services as credit_services
from credits.serializers import CALCULATOR_EXAMPLE
from licensing.deprovisioning import reconciliation
from licensing.deprovisioning import services as deprovisioning
from licensing.deprovisioning.connectors.webhook import new_webhook_secret
from licensing.models import Customer
from licensing.roles import Role
from tests.factories import UserFactory
from tests.support import (
    EFFECTIVE,
    Snapshot,
    connected_system,
    issued_credit,
    open_dispute,
    paid_contract,
    placed_hold,
    requested_credit,
    review_queue_rows,
    terminated_run,
)

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# Hostile values by the kind of the value they replace. `None` marks values a write may accept.
LONG = "x" * 100_000
STRING = [("long", LONG), ("nul", "a\x00b"), ("surrogate", "a\ud800b"),
          ("nested", {"a": [{"b": ["c"]}]}), ("list", ["a", "b"]),
          ("unicode", "Zoë 🚀 \u202etxt.exe \u0301 ﷽")]  # fmt: skip
NUMBER = [("huge", 10**30), ("negative huge", -(10**30)), ("float huge", 1e308),
          ("fraction", 1.5), ("string", "1\x00"), ("nested", {"a": 1}), ("bool", True)]  # fmt: skip
DATE = [("ancient", "0001-01-01"), ("far", "9999-12-31"), ("beyond", "10000-01-01"),
        ("impossible", "2026-02-30"), ("nul", "2026-03-01\x00"),
        ("nested", ["2026-03-01"])]  # fmt: skip
DECIMAL = [("huge", "1" * 40), ("many places", "1." + "1" * 40), ("exponent", "1e999999"),
           ("nan", "NaN"), ("infinity", "Infinity"), ("negative", "-5.00"),
           ("nested", {"a": "1"})]  # fmt: skip
ACCEPTABLE = {"unicode"}
# What a refusal may answer: a 400 with errors, or a 409 for a state or duplicate conflict.
REFUSED = {400, 409}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def hostile_for(value) -> list[tuple[str, object]]:
    if isinstance(value, bool):
        return [("string", "maybe\x00"), ("nested", {"a": True})]
    if isinstance(value, int):
        return NUMBER
    if isinstance(value, str) and _DATE.match(value):
        return DATE
    if isinstance(value, str) and _DECIMAL.match(value):
        return DECIMAL
    if isinstance(value, str):
        return STRING
    return []


def leaves(body, path=()):
    """Every scalar of a body with its path (lists by their first item only)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield from leaves(value, (*path, key))
    elif isinstance(body, list):
        if body:
            yield from leaves(body[0], (*path, 0))
    else:
        yield path, body


def replaced(body, path, value):
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def as_json(body) -> str:
    # Surrogates written as JSON escapes, as a client would send them; NaN refused as text.
    return json.dumps(body, ensure_ascii=True, allow_nan=True)


@dataclass
class Write:
    persona: str
    path: str
    body: dict | None = None
    accepted: int = 200
    # A body of a CSV upload, sent as multipart.
    upload: str = ""
    form: dict = field(default_factory=dict)
    # Fields that steer a page rather than carry data (where to go next, which button): any
    # value may be taken, so long as nothing breaks and nothing else is written.
    steering: tuple[str, ...] = ()


# The API's writes, by operation id: who sends them, where, and a body they accept. `{x}` is a
# key of the `targets` fixture.
API_WRITES = {
    "v1_auth_token_create": Write("anon", "/api/v1/auth/token/",
                                  {"username": "maya", "password": "pw"}),
    "v1_customers_create": Write("manager", "/api/v1/customers/",
                                 {"code": "acme", "name": "Acme", "country": "US",
                                  "billing_email": "billing@acme.test"}, 201),
    "v1_products_create": Write("controller", "/api/v1/products/",
                                {"sku": "NEW-1", "name": "New", "description": "A product"}, 201),
    "v1_plans_create": Write("controller", "/api/v1/plans/",
                             {"code": "NEW-PLAN", "name": "New plan", "product": "{product}",
                              "tier": "standard", "currency": "USD", "billing_cycle": "monthly",
                              "pricing_model": "per_seat", "unit_price": "12.50",
                              "unit_label": "seat"}, 201),
    "v1_contracts_create": Write("manager", "/api/v1/contracts/",
                                 {"number": "C-NEW-1", "customer": "{customer}",
                                  "account_manager": "maya", "term_start": "2026-01-01",
                                  "term_end": "2027-01-01", "billing_anchor": "2026-01-01",
                                  "prepaid": False, "commitment_years": 1, "grace_days": 10,
                                  "lines": [{"plan": "{plan_code}", "quantity": 5,
                                             "unit_price": "30.00"}],
                                  "reason": "Signed"}, 201),
    "contracts_transition": Write("manager", "/api/v1/contracts/{contract}/terminate/",
                                  {"reason": "Ends early", "effective_date": "{today}",
                                   "version": "{contract_version}"}),
    "v1_contracts_holds_create": Write("manager", "/api/v1/contracts/{contract}/holds/",
                                       {"kind": "legal_hold", "reason": "Litigation"}, 201),
    "v1_holds_lift_create": Write("manager2", "/api/v1/holds/{hold}/lift/",
                                  {"reason": "Settled"}),
    "v1_entitlements_create": Write("manager", "/api/v1/entitlements/",
                                    {"contract": "{contract}", "kind": "seat_pool",
                                     "name": "Extra seats", "scope": "product:seats",
                                     "key": "K-1", "quantity": 5, "unit": "seats",
                                     "starts_on": "2026-02-01", "ends_on": "2026-06-01",
                                     "renewal": "auto", "reason": "Granted"}, 201),
    "entitlements_transition": Write("manager", "/api/v1/entitlements/{entitlement}/suspend/",
                                     {"reason": "Unpaid", "version": "{entitlement_version}"}),
    "v1_entitlements_assignments_create": Write(
        "manager", "/api/v1/entitlements/{entitlement}/assignments/",
        {"system": "{system}", "external_id": "user-1", "group_id": "group-1"}, 201),
    "v1_connected_systems_create": Write("admin_user", "/api/v1/connected-systems/",
                                         {"name": "Directory", "kind": "identity_provider",
                                          "protocol": "webhook",
                                          "base_url": "https://idp.example.com/hooks",
                                          "secret": "{webhook_secret}"}, 201),
    "v1_connected_systems_reconcile_create": Write(
        "manager", "/api/v1/connected-systems/{system}/reconcile/", None),
    "v1_deprovisioning_runs_execute_create": Write(
        "manager", "/api/v1/deprovisioning-runs/{run}/execute/", {"reason": "Now"}),
    "v1_deprovisioning_runs_rollback_create": Write(
        "manager", "/api/v1/deprovisioning-runs/{done_run}/rollback/", {"reason": "Mistake"},
        202),
    "v1_deprovisioning_runs_rollback_approve_create": Write(
        "manager2", "/api/v1/deprovisioning-runs/{undo_run}/rollback/approve/",
        {"reason": "Agreed"}),
    "v1_credits_calculator_create": Write("manager", "/api/v1/credits/calculator/",
                                          CALCULATOR_EXAMPLE),
    "v1_credits_change_requests_create": Write(
        "manager", "/api/v1/credits/change-requests/",
        {"contract": "{free_contract}", "intent": "downgrade",
         "effective_date": EFFECTIVE.isoformat(),
         "lines": [{"contract_line": "{free_line}", "quantity_after": 20}], "form": "credit_note",
         "note": "Fewer seats"}, 201),
    "v1_credits_credits_approve_create": Write(
        "analyst", "/api/v1/credits/credits/{credit}/approve/",
        {"reason": "Fine", "version": "{credit_version}"}),
    "v1_credits_credits_reject_create": Write(
        "analyst", "/api/v1/credits/credits/{credit}/reject/",
        {"reason": "No", "version": "{credit_version}"}),
    "v1_credits_credits_send_back_create": Write(
        "analyst", "/api/v1/credits/credits/{credit}/send-back/",
        {"reason": "Check the seats", "version": "{credit_version}"}),
    "v1_credits_credits_resubmit_create": Write(
        "manager", "/api/v1/credits/credits/{sent_back}/resubmit/",
        {"reason": "Checked", "form": "credit_note", "version": "{sent_back_version}"}),
    "v1_credits_credits_withdraw_create": Write(
        "manager", "/api/v1/credits/credits/{sent_back}/withdraw/",
        {"reason": "Not needed", "version": "{sent_back_version}"}),
    "v1_credits_disputes_reject_create": Write("analyst",
                                               "/api/v1/credits/disputes/{dispute}/reject/",
                                               {"reason": "The figures stand"}),
    "v1_credits_disputes_uphold_create": Write(
        "approver", "/api/v1/credits/disputes/{dispute}/uphold/",
        {"outcome": "correction", "resolution": "You are right",
         "corrections": [{"contract_line": "{issued_line}", "quantity_after": 15}]}),
    "v1_credits_exchange_rates_create": Write("analyst", "/api/v1/credits/exchange-rates/",
                                              {"currency": "EUR", "base": "USD",
                                               "rate": "1.100000", "valid_from": "{today}"}, 201),
    "usage_reports_create": Write("manager", "/api/v1/usage-reports/",
                                  {"rows": [{"entitlement": "{entitlement}", "date": "{today}",
                                             "metric": "seats_in_use", "quantity": 40}]}, 201),
    "breaches_detect": Write("manager", "/api/v1/breaches/detect/", None),
    "breaches_true_up_calculator": Write("manager", "/api/v1/breaches/true-up/calculator/",
                                         {"currency": "USD", "period_start": "2026-03-01",
                                          "period_end": "2026-04-01",
                                          "overuse_start": "2026-03-11",
                                          "lines": [{"id": "seats", "amount_paid": "1550.00",
                                                     "quantity": 50, "peak": 60}]}),
    # Breach cases (`breach_targets`): one detected, one confirmed with an earlier period's
    # over-use, one offered (its milestone), one willful past its final deadline whose
    # deprovisioning one manager asked for, and a customer's usage warning.
    "v1_breach_cases_create": Write("manager", "/api/v1/breach-cases/{detected_case}/review/",
                                    {"reason": "Looking into it"}),
    "v1_breach_cases_classify_create": Write(
        "manager", "/api/v1/breach-cases/{detected_case}/classify/",
        {"classification": "willful", "rationale": "Kept adding users after two warnings"}),
    "v1_breach_cases_communications_create": Write(
        "manager", "/api/v1/breach-cases/{detected_case}/communications/",
        {"kind": "call", "subject": "First call", "body": "They will remove 10 users",
         "occurred_at": "{now}", "participants": "Nina, Maya", "staff_note": "Friendly",
         "reason": "Call notes"}, 201),
    "v1_breach_cases_options_create": Write(
        "manager", "/api/v1/breach-cases/{confirmed_case}/options/grace_extension/",
        {"action": "adjust", "amount": "100.00", "fees": "10.00", "deadline": "{in_a_month}",
         "explanation": "Ten seats for the rest of the period", "reason": "Rounded down"}),
    "v1_breach_cases_earlier_overuse_create": Write(
        "manager", "/api/v1/breach-cases/{confirmed_case}/earlier-overuse/{earlier}/",
        {"decision": "included", "reason": "Known since last period"}),
    "v1_breach_cases_milestones_create": Write(
        "manager", "/api/v1/breach-cases/{offered_case}/milestones/",
        {"title": "Remove ten users", "due_on": "{in_a_week}", "is_final": False,
         "our_contact": "{manager_id}", "customer_contact_name": "Nina",
         "customer_contact_email": "nina@northwind.test", "remind_days": 3,
         "reason": "Agreed on the call"}, 201),
    "v1_breach_milestones_complete_create": Write(
        "manager", "/api/v1/breach-milestones/{milestone}/complete/", {"reason": "Users removed"}),
    "v1_breach_cases_deprovision_create": Write(
        "manager", "/api/v1/breach-cases/{overdue_case}/deprovision/", {"reason": "No reply"}),
    "v1_breach_cases_deprovision_approve_create": Write(
        "manager2", "/api/v1/breach-cases/{overdue_case}/deprovision/approve/",
        {"reason": "Agreed: nothing else worked"}),
    "v1_usage_warnings_dismiss_create": Write(
        "customer_user", "/api/v1/usage-warnings/{warning}/dismiss/", None),
}  # fmt: skip


def _write_operations() -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        operation["operationId"]
        for operations in schema["paths"].values()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    }


def test_every_api_write_has_a_row():
    operations = _write_operations()

    assert not operations - set(API_WRITES), "API writes with no row"
    assert not set(API_WRITES) - operations, "rows for API writes that no longer exist"


def _breach_targets(manager, customer) -> dict:
    """Breach cases in the states their writes need, the customer's usage warning, and dates."""
    from breaches.models import UsageWarning
    from breaches.services import breach_case_classify, breach_deprovision_request
    from breaches.services.warnings import usage_warnings_raise
    from licensing.pricing.calendar import add_months
    from tests.breaches.support import current_case, detected_case, move

    today = timezone.localdate()
    detected = current_case(manager, customer)
    # Over-use from two days before this period began: an earlier period's to decide on.
    start = today - timedelta(days=15)
    contract = paid_contract(customer, period=(start, add_months(start, 1)), seats=50,
                             unit_price="31.00")  # fmt: skip
    confirmed = detected_case(manager, contract.entitlements.get(), start=start - timedelta(days=2),
                              days=4, on=today)  # fmt: skip
    confirmed = move(manager, confirmed, "review", "confirm", on=today)
    offered = move(manager, current_case(manager, customer), "review", "confirm", "offer",
                   on=today)  # fmt: skip
    # Willful, agreed and never carried out: past its final deadline. The clock cannot move for
    # one row of a world the others share, so the deadline moves into the past instead.
    overdue = current_case(manager, customer)
    breach_case_classify(actor=manager, case_id=overdue.pk, classification="willful",
                         rationale="Kept adding users after two warnings")  # fmt: skip
    overdue = move(manager, overdue, "review", "confirm", "offer", on=today)
    overdue = move(manager, overdue, "agree", option="true_up", on=today)
    overdue.milestones.filter(is_final=True).update(due_on=today - timedelta(days=1))
    breach_deprovision_request(actor=manager, case_id=overdue.pk, on=today, reason="No reply")
    # Where tasks run on commit (the race test), the reports have raised them already.
    usage_warnings_raise(on=today)
    warning = UsageWarning.objects.filter(entitlement__contract__customer=customer).first()
    return {
        "detected_case": detected.pk, "confirmed_case": confirmed.pk,
        "earlier": confirmed.earlier_overuse.get().pk, "offered_case": offered.pk,
        "milestone": offered.milestones.first().pk, "overdue_case": overdue.pk,
        "warning": warning.pk, "manager_id": manager.pk,
        "now": timezone.now().isoformat(), "in_a_week": (today + timedelta(days=7)).isoformat(),
        "in_a_month": (today + timedelta(days=30)).isoformat(),
    }  # fmt: skip


@pytest.fixture
def targets(settings, tmp_path, customer_a, customer_user, manager, analyst, approver):
    """A row of each kind a write needs, its id by the name the paths use."""
    settings.MEDIA_ROOT = tmp_path
    contract = paid_contract(customer_a)
    credit = requested_credit(manager, contract)
    sent_back = credit_services.credit_send_back(
        actor=analyst, credit_id=requested_credit(manager, paid_contract(customer_a)).pk,
        reason="Check the seats",
    )  # fmt: skip
    free = paid_contract(customer_a)
    issued = issued_credit(manager, analyst, paid_contract(customer_a))
    entitlement = contract.entitlements.get()
    system = connected_system()
    done_run = _executed_run(manager, customer_a)
    undo_run = _executed_run(manager, customer_a)
    reconciliation.rollback_request(actor=manager, run_id=undo_run.pk, reason="Mistake")
    return {
        "customer": customer_a.pk, "contract": contract.pk, "contract_version": contract.version,
        "free_contract": free.pk, "free_line": free.lines.get().pk,
        "plan_code": contract.lines.get().plan.code,
        "product": contract.lines.get().plan.product_id, "entitlement": entitlement.pk,
        "entitlement_version": entitlement.version, "credit": credit.pk,
        "credit_version": credit.version, "sent_back": sent_back.pk,
        "sent_back_version": sent_back.version, "dispute": open_dispute(customer_user, issued).pk,
        "issued_line": issued.contract.lines.get().pk, "hold": placed_hold(manager, contract).pk,
        "system": system.pk, "run": terminated_run(manager, customer_a).pk,
        "done_run": done_run.pk, "undo_run": undo_run.pk, "today": timezone.localdate().isoformat(),
        "webhook_secret": new_webhook_secret(), **_breach_targets(manager, customer_a),
    }  # fmt: skip


def _executed_run(actor, customer):
    """A run carried out today (it had nothing to send), so it can be rolled back."""
    from licensing.deprovisioning.models import DeprovisioningRun

    run = terminated_run(actor, customer)
    run.refresh_from_db()
    # Where tasks run on commit (the race test's real transactions), it may have finished already.
    if run.state != DeprovisioningRun.State.COMPLETED:
        deprovisioning.run_execute(
            actor=actor, run_id=run.pk, reason="Now", on=timezone.localdate()
        )
    deprovisioning.run_advance(run_id=run.pk, on=timezone.localdate())
    run.refresh_from_db()
    return run


def _filled(value, targets):
    """The body with `{name}` placeholders replaced by the targets' ids (typed as they are)."""
    if isinstance(value, dict):
        return {k: _filled(v, targets) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, targets) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return targets[value[1:-1]]
    return value


@pytest.fixture
def manager2(db):
    """A second account manager: holds and rollbacks need somebody other than who asked."""
    return UserFactory(username="otto", role=Role.ACCOUNT_MANAGER)


def _client(request, persona):
    client = APIClient()
    if persona != "anon":
        client.force_login(request.getfixturevalue(persona))
    return client


def _attempt(client, path: str, text: str, content_type="application/json"):
    """One request in a savepoint rolled back afterwards; its status, body and whether a refusal
    left every table as it was."""
    with transaction.atomic():
        snapshot = Snapshot()
        response = client.generic("POST", path, text, content_type=content_type)
        unchanged = response.status_code < 300 or snapshot.unchanged()
        changes = {} if unchanged else snapshot.changes()
        transaction.set_rollback(True)
    return response, changes


def _describe(response) -> str:
    try:
        return json.dumps(response.json())[:300]
    except ValueError:
        return response.content[:300].decode(errors="replace")


@pytest.mark.parametrize("operation", sorted(API_WRITES))
def test_the_rows_body_is_accepted(request, targets, operation):
    # Without this, a refusal below could be a refusal of the body rather than of the value.
    write = API_WRITES[operation]
    client = _client(request, write.persona)
    body = _filled(write.body, targets)

    response, _ = _attempt(client, write.path.format(**targets), as_json(body or {}))

    assert response.status_code == write.accepted, _describe(response)


@pytest.mark.parametrize("operation", sorted(API_WRITES))
def test_hostile_values_in_every_field_are_refused_and_write_nothing(request, targets, operation):
    write = API_WRITES[operation]
    client = _client(request, write.persona)
    path, body = write.path.format(**targets), _filled(write.body, targets) or {}
    cases = [
        (("(body)",), kind, value)
        for kind, value in [
            ("list", [body]),
            ("string", "x"),
            ("deep", None),
            ("nul key", {"a\x00": 1}),
        ]
    ]
    cases += [(where, kind, value) for where, original in leaves(body)
              for kind, value in hostile_for(original)]  # fmt: skip
    wrong = []

    for where, kind, value in cases:
        if kind == "deep":
            text = nested(JSON_MAX_DEPTH + 1)
        elif where == ("(body)",):
            text = as_json(value)
        else:
            text = as_json(replaced(body, where, value))
        response, changes = _attempt(client, path, text)
        status = response.status_code
        # An operation that takes no body ignores whatever is sent.
        ignored = write.body is None and status == write.accepted
        accepted = ignored or (kind in ACCEPTABLE and status == write.accepted)
        if not (accepted or status in REFUSED) or changes:
            wrong.append(f"{'.'.join(map(str, where))} {kind}: {status} {_describe(response)}"
                         f"{' wrote ' + str(list(changes)) if changes else ''}")  # fmt: skip

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("operation", sorted(API_WRITES))
def test_a_nul_in_a_form_encoded_field_is_refused_and_writes_nothing(request, targets, operation):
    # The JSON parser refuses NUL at the door; a form-encoded body reaches the fields.
    write = API_WRITES[operation]
    client = _client(request, write.persona)
    path, body = write.path.format(**targets), _filled(write.body, targets) or {}
    flat = {k: v for k, v in body.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    wrong = []

    for name in flat:
        text = urlencode({**flat, name: f"{flat[name]}\x00"})
        response, changes = _attempt(client, path, text, "application/x-www-form-urlencoded")
        if response.status_code != 400 or changes:
            wrong.append(f"{name}: {response.status_code} {_describe(response)} {list(changes)}")

    assert not wrong, "\n".join(wrong)


# Writes that take effect once: sent twice at the same moment, one is accepted and the other
# refused (a unique key, a state already left, a line already asked for). The rest may take
# both (a second hold, a usage figure replaced, a calculator's answer).
ONCE = {
    "v1_customers_create", "v1_products_create", "v1_plans_create", "v1_contracts_create",
    "contracts_transition", "v1_holds_lift_create", "entitlements_transition",
    "v1_entitlements_assignments_create", "v1_connected_systems_create",
    "v1_deprovisioning_runs_rollback_create", "v1_deprovisioning_runs_rollback_approve_create",
    "v1_credits_change_requests_create", "v1_credits_credits_approve_create",
    "v1_credits_credits_resubmit_create", "v1_credits_disputes_uphold_create",
    "v1_credits_exchange_rates_create",
}  # fmt: skip
# Decisions on the same credit or dispute as another row: raced on rows of their own would need
# a second world; the approve and uphold rows race the same rows.
RACED_ELSEWHERE = {
    "v1_credits_credits_reject_create", "v1_credits_credits_send_back_create",
    "v1_credits_credits_withdraw_create", "v1_credits_disputes_reject_create",
}  # fmt: skip


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_every_write_sent_twice_at_once_answers_once_without_a_5xx(request, targets, manager2):
    """All writes in one world (a transactional world is slow to build), each raced with
    itself; the audit chain still verifies afterwards."""
    from audit.selectors import audit_verify_chain
    from tests.support import race

    wrong = []
    for operation, write in API_WRITES.items():
        if operation in RACED_ELSEWHERE:
            continue
        path = write.path.format(**targets)
        text = as_json(_filled(write.body, targets) or {})
        # Personas are fixtures: made here, once, not by two threads at once.
        clients = [_client(request, write.persona) for _ in range(2)]

        def send(client, path=path, text=text):
            return client.generic("POST", path, text, content_type="application/json")

        outcomes = race([lambda c=c: send(c) for c in clients])
        codes = sorted(r.status_code if hasattr(r, "status_code") else 599 for r in outcomes)
        if not set(codes) <= {write.accepted, *REFUSED}:
            wrong.append(f"{operation}: {codes}")
        elif operation in ONCE and codes.count(write.accepted) != 1:
            wrong.append(f"{operation}: accepted {codes.count(write.accepted)} times {codes}")

    assert not wrong, "\n".join(wrong)
    assert audit_verify_chain().ok


# Kept from the first version of this table: the parser's own rules, and duplicates.


@pytest.mark.parametrize(
    ("text", "depth"),
    [("1", 0), ("[]", 1), ('{"a": [1, {"b": 2}]}', 3), ('{"a": "[[[{{{"}', 1),
     ('["\\"[[["]', 1)],
)  # fmt: skip
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


@pytest.mark.parametrize("who", ["anonymous", "manager"])
@pytest.mark.parametrize(
    "url", ["/api/v1/auth/token/", "/api/v1/customers/", "/api/v1/credits/calculator/"]
)
def test_json_nested_too_deep_answers_400(api, manager, who, url):
    client = APIClient() if who == "anonymous" else api(manager)

    response = client.generic("POST", url, nested(100_000), content_type="application/json")

    assert response.status_code in (400, 401, 403)
    if who == "manager" or url.endswith("token/"):
        assert response.status_code == 400
        assert "deeper than 32" in response.json()["detail"]


def test_json_nested_to_the_limit_is_parsed(api, manager):
    response = api(manager).generic(
        "POST", "/api/v1/customers/", nested(JSON_MAX_DEPTH), content_type="application/json"
    )

    assert response.status_code == 400
    assert "deeper" not in str(response.json())


@pytest.mark.parametrize(
    "url",
    ["/api/v1/contracts/?customer=%00", "/api/v1/contracts/?number=a%00b",
     "/api/v1/entitlements/?state=%00", "/contracts/?q=%00"],
)  # fmt: skip
def test_a_nul_in_a_filter_answers_400(client, manager, url):
    client.force_login(manager)

    assert client.get(url).status_code == 400


def test_a_nul_in_a_json_field_answers_400_and_writes_nothing(api, manager):
    body = {"code": "nul", "name": "Nul\u0000Corp", "country": "US", "billing_email": "a@b.test"}

    response = api(manager).post("/api/v1/customers/", body, format="json")

    assert response.status_code == 400
    assert not Customer.objects.filter(code="nul").exists()


def test_an_integrity_error_maps_to_409_with_a_message():
    response = api_exception_handler(IntegrityError("duplicate key"), {})

    assert response.status_code == 409
    assert "already exists" in response.data["detail"]


def test_a_models_unique_check_maps_to_409_under_its_field(controller):
    # What a product created twice at once meets when the first commits before the second's
    # `full_clean()`: the model's own unique check, not the database's.
    from licensing.models import Product
    from licensing.services import product_create

    product_create(actor=controller, sku="TWICE", name="Twice")
    with pytest.raises(DjangoValidationError) as raised:
        product_create(actor=controller, sku="TWICE", name="Twice again")

    response = api_exception_handler(raised.value, {})

    assert (response.status_code, list(response.data)) == (409, ["sku"])
    assert "already exists" in response.data["sku"][0]
    assert list(Product.objects.values_list("name", flat=True)) == ["Twice"]


def test_a_models_other_validation_maps_to_400_with_an_error_per_field():
    error = DjangoValidationError(
        {"name": ["This field cannot be blank."], "__all__": ["Ends before it starts."]}
    )

    response = api_exception_handler(error, {})

    assert response.status_code == 400
    assert response.data == {"name": ["This field cannot be blank."],
                             "non_field_errors": ["Ends before it starts."]}  # fmt: skip


def test_a_page_shows_a_lost_race_as_a_message_not_a_500(rf):
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from shell.middleware import DomainErrorMiddleware

    request = rf.post("/contracts/1/transition/", HTTP_REFERER="/contracts/1/")
    request.session = {}
    request._messages = FallbackStorage(request)

    response = DomainErrorMiddleware(lambda r: None).process_exception(
        request, IntegrityError("duplicate key value violates unique constraint")
    )

    assert (response.status_code, response.url) == (302, "/contracts/1/")
    assert [str(m) for m in get_messages(request)] == [DUPLICATE_MESSAGE]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_creates_answer_one_201_and_no_500(manager):
    body = {"code": "twice", "name": "Twice", "country": "US", "billing_email": "a@b.test"}
    barrier = threading.Barrier(4)
    codes = []

    def create():
        client = APIClient()
        client.force_login(manager)
        try:
            barrier.wait()
            codes.append(client.post("/api/v1/customers/", body, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes)[0] == 201
    assert set(codes) <= {201, 400, 409}
    assert codes.count(201) == 1
    assert Customer.objects.filter(code="twice").count() == 1


# Pages: every route that takes a POST, found by asking each route as an administrator and as a
# customer's user (a route that answers 405 or 404 to both takes none). Signing out is no write.
NOT_PAGE_WRITES = {"logout"}
PAGE_WRITES = {"logout"}
PAGE_WRITES = {
    "login": Write("anon", "/login/", accepted=302,
                   form={"username": "maya", "password": "pw"}),
    "licensing:contract-transition": Write(
        "manager", "/contracts/{contract}/transition/", accepted=302,
        form={"transition": "suspend", "reason": "Unpaid", "version": "{contract_version}",
              "next": "/contracts/"}, steering=("next",)),
    "licensing:entitlement-transition": Write(
        "manager", "/entitlements/{entitlement}/transition/", accepted=302,
        form={"transition": "suspend", "reason": "Unpaid", "version": "{entitlement_version}"}),
    "credits:credit-approve": Write("analyst", "/finance/credits/{credit}/approve/", accepted=302,
                                    form={"reason": "Fine", "version": "{credit_version}"}),
    "credits:credit-reject": Write("analyst", "/finance/credits/{credit}/reject/", accepted=302,
                                   form={"reason": "No", "version": "{credit_version}"}),
    "credits:credit-send-back": Write(
        "analyst", "/finance/credits/{credit}/send-back/", accepted=302,
        form={"reason": "Check the seats", "version": "{credit_version}"}),
    "credits:credit-resubmit": Write(
        "manager", "/finance/credits/{sent_back}/resubmit/", accepted=302,
        form={"reason": "Checked", "version": "{sent_back_version}",
              "credit_form": "credit_note"}),
    "credits:credit-withdraw": Write(
        "manager", "/finance/credits/{sent_back}/withdraw/", accepted=302,
        form={"reason": "Not needed", "version": "{sent_back_version}"}),
    "credits:dispute-resolve": Write(
        "approver", "/finance/disputes/{dispute}/resolve/", accepted=302,
        form={"outcome": "correction", "resolution": "You are right",
              "line_{issued_line}": "15"}),
    "credits:policy-draft": Write("controller", "/finance/policies/draft/", accepted=302,
                                  form={"(form)": "policy_form"}),
    "credits:policy-publish": Write("controller", "/finance/policies/{draft}/publish/",
                                    accepted=302),
    "credits:exchange-rates": Write(
        "analyst", "/finance/exchange-rates/", accepted=302,
        form={"currency": "EUR", "base": "USD", "rate": "1.1", "valid_from": "{today}"}),
    "credits_portal:dispute": Write("customer_user", "/portal/credits/{undisputed}/dispute/",
                                    accepted=302, form={"reason": "We released 35 seats."}),
    "credits_portal:resubmit": Write(
        "customer_user", "/portal/credits/{own_sent_back}/resubmit/", accepted=302,
        form={"reason": "Corrected", "credit_form": "credit_note"}),
    "credits_portal:withdraw": Write("customer_user", "/portal/credits/{own_sent_back}/withdraw/",
                                     accepted=302, form={"reason": "Not needed after all"}),
    "credits_portal:request": Write(
        "customer_user", "/portal/credits/request/", accepted=200,
        form={"contract": "{current_contract}", "intent": "downgrade",
              "effective_date": "{today}", "line_{current_line}_quantity_after": "20",
              "credit_form": "credit_note", "note": "Fewer seats", "action": "preview"},
        steering=("action",)),
    "breaches:usage-upload": Write(
        "manager", "/breaches/usage/upload/", accepted=302,
        upload="entitlement,date,metric,quantity\n{entitlement},{today},seats_in_use,40\n",
        form={"reason": "Daily figures"}),
    "audit:verify": Write("auditor", "/audit/verify/", accepted=302),
    "audit:exports": Write(
        "auditor", "/audit/exports/", accepted=302,
        form={"format": "bundle", "period_start": "{month_ago}", "period_end": "{today}",
              "contract": "{contract}", "object_type": "", "object_id": ""}),
    "licensing:scheduled-change-cancel": Write(
        "manager", "/scheduled-changes/{scheduled}/cancel/", accepted=302,
        form={"reason": "Customer changed its mind", "next": "/contracts/"}, steering=("next",)),
    # Deprovisioning.
    "deprovisioning:terminate": Write(
        "manager", "/deprovisioning/terminate/?contract={free_contract}", accepted=302,
        form={"reason": "Terminated for convenience", "effective_date": "{today}",
              "planned_for": "{today}", "confirm": "1"},
        # Another date's plan (or none confirmed) is shown, not carried out.
        steering=("planned_for", "confirm")),
    "deprovisioning:hold-place": Write(
        "manager", "/deprovisioning/contracts/{contract}/holds/", accepted=302,
        form={"kind": "legal_hold", "reason": "Litigation hold, matter 2026-114"}),
    "deprovisioning:hold-lift": Write("manager2", "/deprovisioning/holds/{hold}/lift/",
                                      accepted=302, form={"reason": "Settled"}),
    "deprovisioning:delivery-retry": Write(
        "manager", "/deprovisioning/deliveries/{escalated_delivery}/retry/", accepted=302,
        form={"reason": "The license server is back"}),
    "deprovisioning:delivery-close": Write(
        "manager", "/deprovisioning/deliveries/{escalated_delivery}/close/", accepted=302,
        form={"reason": "The account was removed by hand"}),
    "deprovisioning:finding-resolve": Write(
        "manager", "/deprovisioning/findings/{finding}/resolve/", accepted=302,
        form={"reason": "The holder left the company"}),
    "deprovisioning:blackout-remove": Write(
        "manager", "/deprovisioning/blackouts/{blackout}/remove/", accepted=302,
        form={"reason": "The customer no longer needs the freeze"}),
    "deprovisioning:blackout-add": Write(
        "manager", "/deprovisioning/contracts/{contract}/blackouts/", accepted=302,
        form={"starts_on": "{in_a_week}", "ends_on": "{in_a_month}",
              "reason": "Customer's year-end freeze"}),
    "deprovisioning:run-execute": Write("manager", "/deprovisioning/runs/{run}/execute/",
                                        accepted=302, form={"reason": "Now"}),
    "deprovisioning:run-rollback": Write("manager", "/deprovisioning/runs/{done_run}/rollback/",
                                         accepted=302, form={"reason": "Mistake"}),
    "deprovisioning:run-rollback-approve": Write(
        "manager2", "/deprovisioning/runs/{undo_run}/rollback/approve/", accepted=302,
        form={"reason": "Agreed"}),
    "deprovisioning:system-reconcile": Write(
        "manager", "/deprovisioning/systems/{system}/reconcile/", accepted=302,
        form={"next": "/deprovisioning/systems/"}, steering=("next",)),
    "deprovisioning:policy-draft": Write(
        "manager", "/deprovisioning/policies/draft/", accepted=302,
        # A ticked box is ticked whatever it sends.
        form={"(form)": "revocation_form"}, steering=("suppress_renewal",)),
    "deprovisioning:policy-publish": Write(
        "admin_user", "/deprovisioning/policies/{revocation_draft}/publish/", accepted=302,
        form={"reason": "Reviewed with legal"}),
    "audit:retention-draft": Write("manager", "/audit/retention/draft/", accepted=302,
                                   form={"(form)": "retention_form"}),
    "audit:retention-publish": Write(
        "admin_user", "/audit/retention/{retention_draft}/publish/", accepted=302,
        form={"reason": "Reviewed with legal"}),
    # Breach cases (`breach_targets`).
    "breaches:case-move": Write("manager", "/breaches/cases/{detected_case}/move/review/",
                                accepted=302, form={"review-reason": "Looking into it"}),
    "breaches:case-classify": Write(
        "manager", "/breaches/cases/{detected_case}/classify/", accepted=302,
        form={"classify-classification": "willful",
              "classify-rationale": "Kept adding users after two warnings"}),
    "breaches:case-log": Write(
        "manager", "/breaches/cases/{detected_case}/log/", accepted=302,
        form={"log-kind": "call", "log-occurred_at": "{this_morning}",
              "log-participants": "Nina, Maya", "log-subject": "First call",
              "log-body": "They will remove ten users", "log-reason": "Logged from the case page"}),
    "breaches:case-email": Write(
        "manager", "/breaches/cases/{detected_case}/email/", accepted=302,
        form={"email-template": "breach_notice", "email-note": "Happy to talk this week.",
              "email-reason": "Sent from the case page"}),
    "breaches:case-notice": Write(
        "manager", "/breaches/cases/{offered_case}/notices/", accepted=302,
        form={"notice-kind": "{notice_kind}", "notice-reason": "Issued from the case page"}),
    "breaches:case-assign": Write(
        "manager", "/breaches/cases/{detected_case}/assign/", accepted=302,
        form={"assign-owner": "{manager_id}", "assign-reason": "Maya knows the customer"}),
    "breaches:case-note": Write(
        "manager", "/breaches/cases/{detected_case}/note/", accepted=302,
        form={"note-notes": "Their IT lead prefers calls", "note-reason": "Staff notes updated"}),
    "breaches:milestone-add": Write(
        "manager", "/breaches/cases/{offered_case}/milestones/", accepted=302,
        form={"milestone-title": "Send the seat count", "milestone-due_on": "{in_a_week}",
              "milestone-reason": "Agreed on the call"}),
    "breaches:milestone-done": Write(
        "manager", "/breaches/cases/{offered_case}/milestones/{milestone}/done/", accepted=302,
        form={"complete-{milestone}-reason": "Done as agreed"}),
    "breaches:case-deprovision": Write(
        "manager2", "/breaches/cases/{overdue_case}/deprovision/approve/", accepted=302,
        form={"deprovision-reason": "Final deadline passed unmet"}),
    "breaches:option-adjust": Write(
        "manager", "/breaches/cases/{confirmed_case}/options/{option}/adjust/", accepted=302,
        form={"adjust-{option}-explanation": "Thirty more days to bring usage down",
              "adjust-{option}-reason": "Customer asked for plainer words"}),
    "breaches:option-change": Write(
        "manager", "/breaches/cases/{confirmed_case}/options/{option}/drop/", accepted=302,
        form={"option-{option}-reason": "Not for this customer"}),
    "breaches:earlier-decide": Write(
        "manager", "/breaches/cases/{confirmed_case}/earlier/{earlier}/waived/", accepted=302,
        form={"earlier-{earlier}-reason": "Goodwill"}),
    "breaches_portal:agree": Write(
        "customer_user", "/portal/breaches/cases/{offered_case}/agree/", accepted=302,
        form={"option": "true_up", "comment": "We will pay for the extra seats"}),
    "breaches_portal:warning-dismiss": Write(
        "customer_user", "/portal/breaches/warnings/{warning}/dismiss/", accepted=302,
        form={"next": "/portal/"}, steering=("next",)),
}  # fmt: skip

# A form's values are text; their kinds are read from the row's value.
FORM_TEXT = [("long", LONG), ("nul", "a\x00b"),
             ("unicode", "Zoë 🚀 \u202etxt.exe ﷽")]  # fmt: skip
FORM_NUMBER = [("huge", "9" * 40), ("negative huge", "-" + "9" * 40), ("exponent", "1e999999"),
               ("nan", "NaN"), ("infinity", "Infinity"), ("long", "9" * 100_000),
               ("nul", "1\x00")]  # fmt: skip
FORM_DATE = [("ancient", "0001-01-01"), ("far", "9999-12-31"), ("beyond", "10000-01-01"),
             ("impossible", "2026-02-30"), ("nul", "2026-03-01\x00"), ("long", LONG)]  # fmt: skip
FORM_UPLOAD = [("nul", "entitlement,date,metric,quantity\n{entitlement},{today},seats\x00,1\n"),
               ("huge", "entitlement,date,metric,quantity\n{entitlement},{today},seats_in_use,"
                        + "9" * 40 + "\n"),
               ("ancient", "entitlement,date,metric,quantity\n{entitlement},0001-01-01,"
                           "seats_in_use,1\n"),
               ("not utf-8", "entitlement,date,metric,quantity\n\udcff\n"),
               ("id too big", "entitlement,date,metric,quantity\n" + "9" * 30
                              + ",{today},seats_in_use,1\n")]  # fmt: skip


def form_hostile_for(value: str) -> list[tuple[str, object]]:
    if _DATE.match(value):
        return FORM_DATE
    if re.match(r"^-?\d+(\.\d+)?$", value):
        return FORM_NUMBER
    return FORM_TEXT


def _page_routes():
    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                yield from walk(pattern.url_patterns, inner or None)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield ":".join(filter(None, [namespace, pattern.name]))

    return set(walk(get_resolver().url_patterns))


def test_every_page_that_takes_a_post_has_a_row(client, world, admin_user, customer_user):
    from tests.security.test_access_matrix import ROUTES

    # Signing out would end the probe's session: it is named, not probed.
    pages = {name: path for name, (path, _) in ROUTES.items()
             if not path.startswith("/api/") and name in _page_routes()
             and name not in NOT_PAGE_WRITES}  # fmt: skip
    taking_posts = set()
    for user in (admin_user, customer_user):
        client.force_login(user)
        for name, path in pages.items():
            with transaction.atomic():
                response = client.post(path.format(**world["northwind"]), {})
                transaction.set_rollback(True)
            # 404: not here for this user (the debug-only demo systems: for anyone).
            if response.status_code not in (404, 405):
                taking_posts.add(name)

    assert taking_posts == set(PAGE_WRITES)


@pytest.fixture
def page_targets(targets, customer_a, customer_user, manager, analyst, controller, period):
    """The API's targets, and what pages need besides: a contract in a period under way, a
    credit the customer asked for that was sent back, one that is issued and undisputed, a
    drafted policy and the draft form's values, and `_more_page_targets`."""
    from credits.forms import PolicyDraftForm
    from credits.rules import DEFAULT_RULES
    from credits.selectors import credit_policy_in_force

    current = paid_contract(customer_a, period=period)
    own = requested_credit(customer_user, paid_contract(customer_a, period=period),
                           effective=timezone.localdate())  # fmt: skip
    own = credit_services.credit_send_back(actor=analyst, credit_id=own.pk, reason="Check it")
    undisputed = issued_credit(manager, analyst, paid_contract(customer_a))
    today = timezone.localdate()
    draft = credit_services.policy_create_draft(
        actor=controller, rules=DEFAULT_RULES, title="Credit policy", introduction="Clearer.",
        effective_from=today + timedelta(days=30), change_summary="Clearer words",
    )  # fmt: skip
    fields = PolicyDraftForm().fields
    policy_form = {
        **{
            k: v
            for k, v in PolicyDraftForm.initial_from(credit_policy_in_force(on=today)).items()
            if k in fields
        },
        "effective_from": (today + timedelta(days=40)).isoformat(),
        "change_summary": "Shorter deadlines",
    }
    return {
        **targets, "current_contract": current.pk, "current_line": current.lines.get().pk,
        "own_sent_back": own.pk, "undisputed": undisputed.pk, "draft": draft.pk,
        "policy_form": {k: [str(v) for v in value] if isinstance(value, list) else str(value)
                        for k, value in policy_form.items() if value is not None},
        "month_ago": (today - timedelta(days=30)).isoformat(),
        "this_morning": f"{today.isoformat()}T08:30",
        **_more_page_targets(targets, paid_contract(customer_a, period=period), manager, today),
        **_review_targets(manager, customer_a),
        **_retention_targets(manager, today),
    }  # fmt: skip


def _retention_targets(manager, today) -> dict:
    """A retention policy drafted by the manager, and the draft form's values with an override
    row of each kind filled in."""
    from audit.forms import RetentionDraftForm
    from audit.retention import retention_policy_draft, retention_policy_in_force

    in_force = retention_policy_in_force(on=today)
    draft = retention_policy_draft(
        actor=manager, rules=in_force.rules, summary="Same rules, reviewed",
        effective_from=today + timedelta(days=30), reason="Yearly review",
    )  # fmt: skip
    form = {k: str(v) for k, v in RetentionDraftForm.initial_from(in_force.rules).items()}
    return {
        "retention_draft": draft.pk,
        "retention_form": {
            **form, "summary": "Contracts' history kept ten years",
            "effective_from": (today + timedelta(days=40)).isoformat(),
            "event_type_1": "licensing.contract", "event_days_1": "3653",
            "history_type_1": "licensing.contract", "history_days_1": "3653",
            "reason": "Legal asks for ten years",
        },
    }  # fmt: skip


def _review_targets(manager, customer) -> dict:
    """The review queue's rows, its delivery escalated: escalating takes five failed attempts
    against a server, and the rows need only the state."""
    from licensing.deprovisioning.models import Delivery

    rows = review_queue_rows(manager, customer, name="Hostile review")
    Delivery.objects.filter(pk=rows["delivery"]).update(
        state=Delivery.State.ESCALATED, attempts=5, escalated_at=timezone.now()
    )
    return {"escalated_delivery": rows["delivery"], "finding": rows["finding"],
            "blackout": rows["blackout"]}  # fmt: skip


def _more_page_targets(targets, contract, manager, today) -> dict:
    """A scheduled seat change, the confirmed case's option and the notice the offered case
    may get, and a revocation policy drafted (by the manager) with the draft form's values."""
    from breaches.models import BreachCase
    from breaches.notices import notice_kinds_allowed
    from licensing import services
    from licensing.deprovisioning import services as deprovisioning_services
    from licensing.deprovisioning.forms import PolicyDraftForm as RevocationDraftForm
    from licensing.models import PolicyVersion
    from tests.factories import admin_actor

    change = services.change_schedule(
        actor=admin_actor(), kind="quantity", entitlement_id=contract.entitlements.get().pk,
        quantity_after=30, effective_date=today + timedelta(days=5), on=today,
        reason="Customer asked for fewer seats from next week",
    )  # fmt: skip
    in_force = deprovisioning_services.revocation_policy(today)
    draft = deprovisioning_services.policy_draft(
        actor=manager, kind=PolicyVersion.Kind.REVOCATION, rules=in_force.rules,
        summary="Same rules, reviewed", effective_from=today + timedelta(days=30),
        reason="Yearly review",
    )  # fmt: skip
    fields = RevocationDraftForm.initial_from(in_force)
    # A browser sends a ticked box as "on" and leaves an unticked one out.
    revocation_form = {
        k: ("on" if v is True else str(v)) for k, v in fields.items() if v is not False
    }
    confirmed = BreachCase.objects.get(pk=targets["confirmed_case"])
    offered = BreachCase.objects.get(pk=targets["offered_case"])
    return {
        "scheduled": change.pk, "option": confirmed.options.get(kind="grace_extension").pk,
        "notice_kind": notice_kinds_allowed(manager, offered)[0][0],
        "revocation_draft": draft.pk,
        "revocation_form": {**revocation_form, "summary": "Fourteen days' notice",
                            "effective_from": (today + timedelta(days=40)).isoformat(),
                            "reason": "Legal asks for 14 days' notice"},
    }  # fmt: skip


def _form_data(write: Write, targets) -> dict:
    if "(form)" in write.form:
        return dict(targets[write.form["(form)"]])
    return {key.format(**targets): value.format(**targets) for key, value in write.form.items()}


def _page_attempt(client, write: Write, targets, data: dict, upload: str | None = None):
    """One form post in a savepoint rolled back afterwards: its response, whether it was
    refused, and what a refusal changed."""
    from django.contrib.messages import get_messages
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = {}
    if write.upload:
        text = (upload if upload is not None else write.upload).format(**targets)
        raw = text.encode("utf-8", errors="surrogateescape")
        files = {"file": SimpleUploadedFile("usage.csv", raw, content_type="text/csv")}
    # Messages an earlier attempt left behind (a redirect is never followed here) would read as
    # this attempt's refusal: only this request's count.
    client.cookies.pop("messages", None)
    session = client.session
    if session.pop("_messages", None) is not None:
        session.save()
    with transaction.atomic():
        snapshot = Snapshot()
        response = client.post(write.path.format(**targets), {**data, **files})
        errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
        # A page answers an unknown id with a 404, as it does for another customer's.
        status = response.status_code
        refused = status in REFUSED | {404} or bool(errors) or _form_errors(response)
        changes = snapshot.changes() if refused and not snapshot.unchanged() else {}
        transaction.set_rollback(True)
    return response, refused, changes


def _form_errors(response) -> bool:
    context = response.context
    names = context.keys() if context is not None else ()
    return any(getattr(context[n], "errors", None) for n in names if n.endswith("form"))


@pytest.mark.parametrize("name", sorted(PAGE_WRITES))
def test_the_pages_form_is_accepted(client, request, page_targets, name):
    write = PAGE_WRITES[name]
    if write.persona != "anon":
        client.force_login(request.getfixturevalue(write.persona))

    response, refused, _ = _page_attempt(
        client, write, page_targets, _form_data(write, page_targets)
    )

    assert (response.status_code, refused) == (write.accepted, False)


@pytest.mark.parametrize("name", sorted(PAGE_WRITES))
def test_hostile_values_in_every_form_field_are_refused_and_write_nothing(
    client, request, page_targets, name
):
    write = PAGE_WRITES[name]
    if write.persona != "anon":
        client.force_login(request.getfixturevalue(write.persona))
    data = _form_data(write, page_targets)
    cases = [(key, kind, value) for key, original in data.items() if isinstance(original, str)
             for kind, value in form_hostile_for(original)]  # fmt: skip
    cases += [("(unknown field)", "nul", "a\x00b")]
    wrong = []

    for key, kind, value in cases:
        attempt = {**data, key: value}
        response, refused, changes = _page_attempt(client, write, page_targets, attempt)
        status = response.status_code
        if status >= 500 or changes or not (refused or kind in ACCEPTABLE or key in write.steering):
            wrong.append(f"{key} {kind}: {status} refused={refused} {list(changes)}")
    for kind, upload in FORM_UPLOAD if write.upload else []:
        response, refused, changes = _page_attempt(client, write, page_targets, data, upload)
        if response.status_code >= 500 or changes or not refused:
            wrong.append(f"file {kind}: {response.status_code} refused={refused} {list(changes)}")

    assert not wrong, "\n".join(wrong)

"""API fuzzing from the OpenAPI schema, in-process against the WSGI app, as every role.

Every operation gets a few generated requests (MAX_EXAMPLES, small so CI stays quick): none may
answer 5xx, and every answer must match the schema's content type and response body. Readers
(a manager, an analyst, an auditor, a customer's user) try every operation; the roles whose
difference lies in what they may change (approver, controller, administrator) try the writes,
since every staff role reads the same rows. Run it alone with
`pytest tests/security/test_fuzz.py`; FUZZ_EXAMPLES=50 digs deeper.
"""

import json
import os

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from config.wsgi import application
from tests.support import paid_contract, requested_credit

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _schema():
    # Generated, not fetched: the schema page may sit behind a login.
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(raw, cls=DjangoJSONEncoder)))
    loaded.app = application
    return loaded


schema = _schema()


@pytest.fixture(autouse=True)
def _one_connection():
    """The WSGI handler would close the test's connection after each request, as Django's own
    test client prevents for itself; the fuzzed requests run in the test's transaction too."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _token(request, role: str) -> str:
    """A role's API token, with a contract and a credit for each customer to find."""
    manager = request.getfixturevalue("manager")
    for customer in (request.getfixturevalue("customer_a"), request.getfixturevalue("customer_b")):
        requested_credit(manager, paid_contract(customer))
    user = request.getfixturevalue(role)
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture(params=["manager", "analyst", "auditor", "customer_user"])
def token(request):
    return _token(request, request.param)


@pytest.fixture(params=["approver", "controller", "admin_user"])
def deciders_token(request):
    return _token(request, request.param)


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_answers_5xx_or_off_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@schema.include(method=["POST", "PUT", "PATCH", "DELETE"]).parametrize()
@FUZZ_SETTINGS
def test_no_write_answers_5xx_or_off_schema_for_those_who_decide(case, deciders_token):
    case.call_and_validate(headers={"Authorization": f"Token {deciders_token}"}, checks=CHECKS)

"""Nested JSON, NUL characters and simultaneous duplicates answer 400/409, never 500."""

import threading

import pytest
from django.db import IntegrityError, connections
from rest_framework.test import APIClient

from config.exceptions import api_exception_handler
from config.security import JSON_MAX_DEPTH, json_depth
from licensing.models import Customer

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


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

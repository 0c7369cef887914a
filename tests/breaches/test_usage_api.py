"""POST /api/v1/usage-reports/: a CSV file or JSON rows in, the counts or the errors out."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from breaches.models import UsageFigure, UsageReport
from tests.breaches.conftest import csv_bytes, stored

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-reports/"
HEADER = "entitlement,date,metric,quantity"


def _upload(data: bytes, name: str = "usage.csv") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="text/csv")}


def test_a_manager_uploads_a_csv_file(api, manager, seats, day):
    response = api(manager).post(
        URL, _upload(csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48")), format="multipart"
    )

    assert response.status_code == 201
    report = UsageReport.objects.get()
    assert response.json() == {"id": report.pk, "rows": 1, "replaced": 0}
    assert (report.source, report.filename) == ("csv", "usage.csv")


def test_a_manager_sends_json_rows_and_a_resend_replaces(api, manager, seats, day):
    rows = [
        {"entitlement": seats.pk, "date": str(day), "metric": "seats_in_use", "quantity": 48},
        {"entitlement": seats.pk, "date": str(day), "metric": "api_calls", "quantity": 900},
    ]
    first = api(manager).post(URL, {"rows": rows}, format="json")

    second = api(manager).post(URL, {"rows": rows}, format="json")

    assert first.status_code == second.status_code == 201
    assert first.json()["rows"] == 2 and first.json()["replaced"] == 0
    assert second.json()["rows"] == 2 and second.json()["replaced"] == 2
    assert UsageFigure.objects.filter(replaced_at__isnull=True).count() == 2


def test_an_api_token_of_a_manager_may_send_usage(manager, seats, day):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")

    response = client.post(
        URL,
        {"rows": [{"entitlement": seats.pk, "date": str(day), "metric": "installations",
                   "quantity": 2}]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201
    assert UsageReport.objects.get().sent_by == manager


def test_a_bad_file_answers_every_error_and_stores_nothing(api, manager, seats, day):
    before = stored()

    response = api(manager).post(
        URL,
        _upload(csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,4", f"{seats.pk},tomorrow,"
                          "cpu,-2")),
        format="multipart",
    )  # fmt: skip

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(3, "date"), (3, "metric"),
                                                         (3, "quantity")]  # fmt: skip
    assert all(e["message"] for e in errors)
    assert stored() == before


def test_bad_json_rows_count_from_one(api, manager, seats, day):
    rows = [
        {"entitlement": seats.pk, "date": str(day), "metric": "seats_in_use", "quantity": 4},
        {"entitlement": seats.pk, "date": str(day), "metric": "seats_in_use"},
    ]

    response = api(manager).post(URL, {"rows": rows}, format="json")

    assert response.status_code == 400
    assert response.json() == {"errors": [{"line": 2, "field": "quantity", "message": "Missing."}]}


@pytest.mark.parametrize("body", [{}, {"rows": "a,b"}, {"rows": []}])
def test_a_request_without_rows_or_file_is_refused_with_a_reason(api, manager, body):
    response = api(manager).post(URL, body, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["line"] is None and error["field"] in ("file", "rows")


def test_an_entitlement_of_another_customer_is_unknown_to_a_customer(
    api, customer_user, other_seats, day
):
    response = api(customer_user).post(
        URL, {"rows": [{"entitlement": other_seats.pk, "date": str(day),
                        "metric": "seats_in_use", "quantity": 1}]}, format="json",
    )  # fmt: skip

    assert response.status_code in (403, 404)
    assert UsageReport.objects.count() == 0


@pytest.mark.parametrize(
    "persona, status",
    [
        ("manager", 201),
        ("admin_user", 201),
        ("analyst", 403),
        ("approver", 403),
        ("auditor", 403),
        ("customer_user", 403),
    ],
    indirect=["persona"],
)
def test_who_may_send_usage(api, persona, status, seats, day):
    response = api(persona).post(
        URL, {"rows": [{"entitlement": seats.pk, "date": str(day), "metric": "seats_in_use",
                        "quantity": 1}]}, format="json",
    )  # fmt: skip

    assert response.status_code == status
    assert UsageReport.objects.count() == (1 if status == 201 else 0)


def test_anonymous_may_not_send_usage(api, seats, day):
    response = api().post(
        URL, _upload(csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48")), format="multipart"
    )

    assert response.status_code in (401, 403)
    assert UsageReport.objects.count() == 0

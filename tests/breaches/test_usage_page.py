"""The manager's CSV upload page: errors at the top with line, field and message."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from breaches.models import UsageReport
from tests.breaches.conftest import csv_bytes, stored

pytestmark = pytest.mark.django_db

URL = "/breaches/usage/upload/"
HEADER = "entitlement,date,metric,quantity"


def _post(client, data: bytes):
    upload = SimpleUploadedFile("usage.csv", data, content_type="text/csv")
    return client.post(URL, {"file": upload, "reason": "Licence server export"}, follow=True)


def test_a_manager_sees_the_upload_form(client, manager):
    client.force_login(manager)

    response = client.get(URL)

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content


def test_a_good_file_says_how_many_rows_and_replacements(client, manager, seats, day):
    client.force_login(manager)
    _post(client, csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,48"))

    response = _post(client, csv_bytes(HEADER, f"{seats.pk},{day},seats_in_use,49"))

    report = UsageReport.objects.first()
    assert f"Usage report {report.pk} stored: 1 rows read, 1 earlier figures replaced." in (
        response.content.decode()
    )
    assert report.reason == "Licence server export"


def test_a_bad_file_lists_each_error_and_stores_nothing(client, manager, seats, day):
    client.force_login(manager)
    before = stored()

    response = _post(client, csv_bytes(HEADER, f"{seats.pk},{day},cpu_hours,48"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "The file was not stored: 1 problem" in html
    assert "<td>2</td><td>metric</td><td>Unknown metric &#x27;cpu_hours&#x27;" in html
    assert stored() == before


@pytest.mark.parametrize("persona", ["analyst", "customer_user"], indirect=True)
def test_others_may_not_open_the_upload_page(client, persona):
    client.force_login(persona)

    assert client.get(URL).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and "/login/" in response["Location"]

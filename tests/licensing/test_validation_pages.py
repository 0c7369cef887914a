"""The pages answer ids that are not numbers the way the API does: a 404 for a path, a message
beside the filter for a query, never a server error."""

import pytest

from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/contracts/abc/",
        "/contracts/1.5/",
        "/contracts/abc/transition/",
        "/entitlements/abc/",
        "/entitlements/abc/transition/",
    ],
)
def test_a_non_integer_id_in_a_page_path_is_a_404(client, manager, url):
    client.force_login(manager)

    response = client.get(url)

    assert response.status_code == 404


def test_a_non_integer_customer_filter_shows_a_message_and_no_rows(client, manager):
    ContractFactory(number="C-VISIBLE")
    client.force_login(manager)

    response = client.get("/contracts/", {"customer": "abc"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page
    assert "C-VISIBLE" not in page

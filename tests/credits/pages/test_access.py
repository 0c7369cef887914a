"""Who may open the finance pages: staff roles read them, customers and strangers do not."""

import pytest
from django.urls import reverse

STAFF = ["analyst", "approver", "controller", "manager", "auditor", "admin_user"]


def _pages(credit) -> list[str]:
    return [
        reverse("credits:queue"),
        reverse("credits:credit", args=[credit.pk]),
        reverse("credits:disputes"),
        reverse("credits:policies"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [(name, 200) for name in STAFF] + [("customer_user", 403), ("other_customer_user", 403)],
    indirect=["persona"],
)
def test_staff_read_the_finance_pages_and_customers_do_not(client, credit, persona, status):
    client.force_login(persona)

    answers = {url: client.get(url).status_code for url in _pages(credit)}

    assert answers == {url: status for url in _pages(credit)}


@pytest.mark.django_db
def test_a_user_without_a_role_may_not_open_the_queue(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))

    assert client.get(reverse("credits:queue")).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("credits:queue"))

    assert response.status_code == 302
    assert response.url.startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [("analyst", 200), ("auditor", 200), ("manager", 200), ("customer_user", 403)],
    indirect=["persona"],
)
def test_the_credit_note_downloads_for_staff_only(client, issued_credit, persona, status):
    client.force_login(persona)

    response = client.get(reverse("credits:credit-note", args=[issued_credit.pk]))

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_a_credit_not_yet_issued_has_no_credit_note(client, credit, analyst):
    client.force_login(analyst)

    response = client.get(reverse("credits:credit-note", args=[credit.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_an_unknown_credit_is_not_found(client, analyst):
    client.force_login(analyst)

    assert client.get(reverse("credits:credit", args=[987654])).status_code == 404

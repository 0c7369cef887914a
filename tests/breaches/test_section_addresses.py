"""A section's own address (the one people type or trim a link back to) opens its list of cases."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_breaches_address_opens_the_case_queue(client, manager):
    client.force_login(manager)

    response = client.get("/breaches/", follow=True)

    assert response.redirect_chain == [("/breaches/cases/", 302)]
    assert response.status_code == 200


def test_the_portal_breaches_address_opens_the_customers_cases(client, customer_user):
    client.force_login(customer_user)

    response = client.get("/portal/breaches/", follow=True)

    assert response.redirect_chain == [("/portal/breaches/cases/", 302)]
    assert response.status_code == 200

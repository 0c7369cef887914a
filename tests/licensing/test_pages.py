import pytest
from django.urls import reverse

from audit.models import AuditEvent
from licensing.models import Entitlement
from tests.factories import ContractFactory, EntitlementFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("manager", "/dashboard/"),
        ("analyst", "/finance/"),
        ("approver", "/finance/"),
        ("controller", "/finance/"),
        ("auditor", "/audit/"),
        ("admin_user", "/dashboard/"),
        ("customer_user", "/portal/"),
    ],
    indirect=["persona"],
)
def test_each_role_lands_on_its_own_home(client, persona, home):
    client.force_login(persona)

    response = client.get("/")

    assert response.status_code == 302
    assert response.url == home
    assert client.get(home).status_code == 200


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/contracts/")

    assert response.status_code == 302
    assert response.url.startswith("/login/")


@pytest.mark.django_db
def test_login_page_signs_a_user_in(client, manager):
    response = client.post("/login/", {"username": "maya", "password": "pw"})

    assert response.status_code == 302
    assert client.get("/").url == "/dashboard/"


@pytest.mark.django_db
def test_customer_sees_own_contract_in_the_portal(client, customer_user, customer_a):
    contract = ContractFactory(customer=customer_a)
    client.force_login(customer_user)

    response = client.get(reverse("portal:contract", args=[contract.pk]))

    assert response.status_code == 200
    assert contract.number in response.content.decode()


@pytest.mark.django_db
def test_customer_cannot_see_another_customers_contract(client, customer_user, customer_b):
    theirs = ContractFactory(customer=customer_b)
    client.force_login(customer_user)

    response = client.get(reverse("portal:contract", args=[theirs.pk]))

    assert response.status_code == 404
    assert theirs.number not in response.content.decode()


@pytest.mark.django_db
def test_portal_lists_only_the_customers_own_entitlements(client, customer_user, customer_a,
                                                          customer_b):  # fmt: skip
    mine = EntitlementFactory(contract=ContractFactory(customer=customer_a), name="Our seats")
    EntitlementFactory(contract=ContractFactory(customer=customer_b), name="Their seats")
    client.force_login(customer_user)

    body = client.get(reverse("portal:entitlements")).content.decode()

    assert mine.name in body
    assert "Their seats" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["licensing:contracts", "licensing:dashboard"])
def test_customers_do_not_get_back_office_pages(client, customer_user, url_name):
    client.force_login(customer_user)

    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status", "state"),
    [
        ("manager", 302, Entitlement.State.SUSPENDED),
        ("auditor", 403, Entitlement.State.ACTIVE),
        ("analyst", 403, Entitlement.State.ACTIVE),
        ("customer_user", 404, Entitlement.State.ACTIVE),
    ],
    indirect=["persona"],
)
def test_only_managers_change_entitlements_from_the_contract_page(client, persona, status, state):
    entitlement = EntitlementFactory()
    client.force_login(persona)

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "Invoice overdue", "version": entitlement.version,
         "next": entitlement.contract.get_absolute_url()},
    )  # fmt: skip

    assert response.status_code == status
    assert Entitlement.objects.get(pk=entitlement.pk).state == state


@pytest.mark.django_db
def test_a_suspension_from_the_page_shows_in_the_contract_activity(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)
    contract_url = entitlement.contract.get_absolute_url()

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "Invoice overdue", "version": entitlement.version,
         "next": contract_url},
        follow=True,
    )  # fmt: skip

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == contract_url
    assert "Invoice overdue" in body
    assert AuditEvent.objects.filter(action="entitlement.suspend").count() == 1


@pytest.mark.django_db
def test_a_missing_reason_is_a_form_error_and_changes_nothing(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "   ", "version": entitlement.version},
    )

    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).state == Entitlement.State.ACTIVE


@pytest.mark.django_db
def test_an_illegal_transition_from_a_page_is_a_message_not_an_error_page(client, manager):
    entitlement = EntitlementFactory(state="revoked")
    client.force_login(manager)
    contract_url = entitlement.contract.get_absolute_url()

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "Try", "version": entitlement.version},
        HTTP_REFERER=f"http://testserver{contract_url}",
        follow=True,
    )

    assert response.status_code == 200
    assert "it is revoked" in response.content.decode()


@pytest.mark.django_db
def test_a_stale_page_loses_with_a_conflict_message(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)
    url = reverse("licensing:entitlement-transition", args=[entitlement.pk])
    client.post(url, {"transition": "suspend", "reason": "First", "version": entitlement.version})

    response = client.post(
        url,
        {"transition": "revoke", "reason": "Second", "version": entitlement.version},
        follow=True,
    )

    assert "changed by someone else" in response.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).state == Entitlement.State.SUSPENDED


@pytest.mark.django_db
def test_contract_list_filters_by_status_and_searches_by_customer(client, manager, customer_a):
    wanted = ContractFactory(customer=customer_a)
    ContractFactory(active=False)
    client.force_login(manager)

    body = client.get("/contracts/", {"status": "active", "q": "northwind"}).content.decode()

    assert wanted.number in body
    assert body.count("C-T-") == 1


@pytest.mark.django_db
def test_contract_list_answers_htmx_with_the_table_only(client, manager):
    ContractFactory()
    client.force_login(manager)

    response = client.get("/contracts/", HTTP_HX_REQUEST="true")

    assert "<table" in response.content.decode()
    assert "<html" not in response.content.decode()


def _contracts(n):
    for _ in range(n):
        EntitlementFactory(contract=ContractFactory())


@pytest.mark.django_db
def test_contract_list_query_count_does_not_grow_with_rows(
    client, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    _contracts(2)
    with django_assert_max_num_queries(50) as few:
        client.get("/contracts/")

    _contracts(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/contracts/")


@pytest.mark.django_db
def test_contract_page_query_count_does_not_grow_with_entitlements(
    client, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    small, large = ContractFactory(), ContractFactory()
    EntitlementFactory(contract=small)
    for _ in range(12):
        EntitlementFactory(contract=large)
    with django_assert_max_num_queries(80) as few:
        client.get(small.get_absolute_url())

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(large.get_absolute_url())

"""Personal data sealed at rest under rotating keys, read in clear only by roles that need it."""

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.personal import MASK
from audit.sealing import TOKEN_PREFIX
from licensing.models import Customer
from tests.factories import CustomerFactory
from tests.support import paid_contract, requested_credit

pytestmark = pytest.mark.django_db

EMAIL = "jane.doe@northwind.example"


def _raw(table: str, column: str, where: str, params) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {where}", params)
        return [row[0] for row in cursor.fetchall()]


def test_the_column_and_its_history_hold_ciphertext_not_the_address():
    customer = CustomerFactory(billing_email=EMAIL)

    stored = _raw("licensing_customer", "billing_email", "id = %s", [customer.pk])
    history = _raw("licensing_historicalcustomer", "billing_email", "id = %s", [customer.pk])

    assert stored and history
    for value in stored + history:
        assert value.startswith(TOKEN_PREFIX) and EMAIL not in value
    assert Customer.objects.get(pk=customer.pk).billing_email == EMAIL


def test_a_change_requests_note_is_sealed_at_rest(manager, customer_a):
    change = requested_credit(manager, paid_contract(customer_a), note="Call Jane on 0161 496 0000")

    [stored] = _raw("credits_changerequest", "note", "id = %s", [change.change_id])

    assert stored.startswith(TOKEN_PREFIX) and "Jane" not in stored
    assert change.change.note == "Call Jane on 0161 496 0000"


def test_an_empty_value_stays_empty_so_it_can_still_be_filtered():
    CustomerFactory(billing_email="")

    assert Customer.objects.filter(billing_email="").count() == 1


def test_rotating_keys_reseals_every_value_under_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [old]
    customer = CustomerFactory(billing_email=EMAIL)
    [before] = _raw("licensing_customer", "billing_email", "id = %s", [customer.pk])

    settings.PERSONAL_DATA_KEYS = [new, old]
    call_command("rotate_personal_data_keys", stdout=io.StringIO())
    settings.PERSONAL_DATA_KEYS = [new]  # the old key is gone

    [after] = _raw("licensing_customer", "billing_email", "id = %s", [customer.pk])
    assert after != before and after.startswith(TOKEN_PREFIX)
    assert Fernet(new).decrypt(after.encode()).decode() == EMAIL
    assert Customer.objects.get(pk=customer.pk).billing_email == EMAIL
    assert Customer.history.filter(id=customer.pk).first().billing_email == EMAIL


def test_a_value_sealed_under_a_dropped_key_fails_loudly(settings):
    settings.PERSONAL_DATA_KEYS = [Fernet.generate_key().decode()]
    customer = CustomerFactory(billing_email=EMAIL)
    settings.PERSONAL_DATA_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ValueError, match="cannot be opened") as caught:
        Customer.objects.get(pk=customer.pk)

    assert EMAIL not in str(caught.value)


def test_the_migration_seals_rows_written_in_clear_before_it():
    customer = CustomerFactory(billing_email="")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE licensing_customer SET billing_email = %s WHERE id = %s", [EMAIL, customer.pk]
        )
    migration = importlib.import_module("licensing.migrations.0012_personal_data_encrypted")

    migration.seal_existing(None, connection.schema_editor())
    migration.seal_existing(None, connection.schema_editor())  # twice: nothing sealed twice

    [stored] = _raw("licensing_customer", "billing_email", "id = %s", [customer.pk])
    assert stored.startswith(TOKEN_PREFIX)
    assert Customer.objects.get(pk=customer.pk).billing_email == EMAIL


@pytest.mark.parametrize(
    ("persona", "clear"),
    [("manager", True), ("analyst", True), ("approver", True), ("auditor", False)],
)
def test_the_api_shows_contacts_in_clear_only_to_roles_that_need_them(api, persona, clear, request):
    customer = CustomerFactory(billing_email=EMAIL)
    user = request.getfixturevalue(persona)

    shown = api(user).get(f"/api/v1/customers/{customer.pk}/").json()["billing_email"]

    assert (shown == EMAIL) is clear
    if not clear:
        assert shown == "j•••@northwind.example"


@pytest.mark.parametrize(("persona", "clear"), [("analyst", True), ("auditor", False)])
def test_the_credit_page_masks_the_customers_note_for_auditors(
    client, manager, customer_a, persona, clear, request
):
    credit = requested_credit(manager, paid_contract(customer_a), note="Ring Jane on 0161 496 0000")
    client.force_login(request.getfixturevalue(persona))

    page = client.get(reverse("credits:credit", args=[credit.pk])).text

    assert ("Ring Jane on 0161 496 0000" in page) is clear
    assert (MASK in page) is not clear

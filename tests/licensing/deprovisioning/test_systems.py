"""Connected systems: secrets sealed at rest and never in history, base URLs checked, holders."""

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError

from licensing.deprovisioning.systems import (
    base_url_refusal,
    open_secret,
    reseal_secret,
    seal_secret,
)
from licensing.models import Assignment, ConnectedSystem
from tests.factories import EntitlementFactory

SECRET = "whsec_c2VjcmV0LW5vdC1mb3ItdGhlLWRhdGFiYXNl"


def test_a_sealed_secret_opens_to_the_same_text_and_does_not_show_it():
    sealed = seal_secret(SECRET)

    assert SECRET not in sealed
    assert open_secret(sealed) == SECRET


def test_keys_rotate_by_putting_a_new_one_first(settings):
    old_key = Fernet.generate_key().decode()
    settings.CONNECTOR_SECRET_KEYS = [old_key]
    sealed = seal_secret(SECRET)
    settings.CONNECTOR_SECRET_KEYS = [Fernet.generate_key().decode(), old_key]

    resealed = reseal_secret(sealed)
    settings.CONNECTOR_SECRET_KEYS = settings.CONNECTOR_SECRET_KEYS[:1]

    assert open_secret(resealed) == SECRET


def test_a_secret_sealed_under_an_unknown_key_does_not_open(settings):
    settings.CONNECTOR_SECRET_KEYS = [Fernet.generate_key().decode()]
    sealed = seal_secret(SECRET)
    settings.CONNECTOR_SECRET_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(ValueError) as caught:
        open_secret(sealed)

    assert SECRET not in str(caught.value)


@pytest.mark.django_db
def test_the_sealed_secret_stays_out_of_history():
    system = ConnectedSystem.objects.create(
        name="License server", kind="license_server", protocol="webhook"
    )
    system.secret_sealed = seal_secret(SECRET)
    system.save()

    history = system.history.first()
    assert not hasattr(history, "secret_sealed")
    assert system.has_secret


@pytest.mark.django_db
def test_a_holder_is_assigned_once_per_entitlement_and_system():
    entitlement = EntitlementFactory()
    system = ConnectedSystem.objects.create(name="IdP", kind="identity_provider", protocol="scim2")
    Assignment.objects.create(entitlement=entitlement, system=system, external_id="u-1")

    with pytest.raises(IntegrityError):
        Assignment.objects.create(entitlement=entitlement, system=system, external_id="u-1")


@pytest.mark.parametrize(
    ("url", "debug", "refused"),
    [
        ("https://idp.example.com/scim/v2", False, False),
        ("http://idp.example.com/scim/v2", False, True),
        ("http://127.0.0.1:8000/demo/scim/v2", True, False),
        ("http://localhost:8000/demo/hooks", True, False),
        ("https://127.0.0.1/scim", False, True),
        ("https://localhost/scim", False, True),
        ("https://10.0.0.5/scim", False, True),
        ("https://169.254.169.254/latest", False, True),
        ("https://[::1]/scim", False, True),
        ("http://10.0.0.5/scim", True, True),
        ("ftp://idp.example.com/", True, True),
        ("https://user:pass@idp.example.com/", False, True),
        ("not a url", True, True),
    ],
)
def test_base_url_rules(url, debug, refused):
    assert (base_url_refusal(url, debug=debug) is not None) is refused

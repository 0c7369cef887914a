"""A transition form's `next` is checked before the change is written; an unsafe one falls back."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from licensing.models import Entitlement
from tests.factories import EntitlementFactory

pytestmark = pytest.mark.django_db

UNSAFE = {
    "another site": "https://evil.example/phish",
    "scheme-relative": "//evil.example/",
    "malformed IPv6": "http://[::1",
    "header injection": "/contracts/\r\nSet-Cookie: x=1",
    "javascript": "javascript:alert(1)",
    "relative": "contracts/",
}


@pytest.mark.parametrize("target", UNSAFE.values(), ids=UNSAFE.keys())
def test_an_unsafe_next_falls_back_to_the_objects_page_after_one_change(client, manager, target):
    entitlement = EntitlementFactory()
    client.force_login(manager)

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "Invoice overdue", "version": entitlement.version,
         "next": target},
    )  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == entitlement.get_absolute_url()
    assert Entitlement.objects.get(pk=entitlement.pk).state == "suspended"
    assert AuditEvent.objects.filter(action="entitlement.suspend").count() == 1


def test_a_safe_next_on_this_site_is_followed(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)
    target = entitlement.contract.get_absolute_url() + "?tab=activity"

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": "Invoice overdue", "version": entitlement.version,
         "next": target},
    )  # fmt: skip

    assert response["Location"] == target

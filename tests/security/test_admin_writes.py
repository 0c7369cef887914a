"""The Django admin writes nothing unaudited: licensing rows are read-only there, users audited."""

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from licensing.models import CustomerMembership
from licensing.roles import Role

pytestmark = pytest.mark.django_db


def test_the_admin_cannot_move_a_customer_user_to_another_customer(
    client, admin_user, customer_user, customer_b
):
    membership = CustomerMembership.objects.get(user=customer_user)
    client.force_login(admin_user)
    url = f"/admin/licensing/customermembership/{membership.pk}/change/"
    events = AuditEvent.objects.count()

    page = client.get(url)
    response = client.post(url, {"user": customer_user.pk, "customer": customer_b.pk})

    assert page.status_code == 200 and 'name="customer"' not in page.content.decode()
    assert response.status_code == 403
    assert CustomerMembership.objects.get(pk=membership.pk).customer.code == "northwind"
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "model", ["customer", "customermembership", "product", "plan", "bundle", "contract"]
)
def test_the_admin_adds_no_licensing_row(client, admin_user, model):
    client.force_login(admin_user)

    response = client.get(f"/admin/licensing/{model}/add/")

    assert response.status_code == 403


def test_a_role_given_in_the_admin_is_an_audit_event(client, admin_user, manager):
    client.force_login(admin_user)
    approvers = Group.objects.get(name=Role.FINANCE_APPROVER.value)
    page = client.get(f"/admin/auth/user/{manager.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        groups=[approvers.pk], user_permissions=[], date_joined_0="2026-01-01",
        date_joined_1="00:00:00", last_login_0="", last_login_1="",
    )  # fmt: skip

    response = client.post(f"/admin/auth/user/{manager.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="user.admin_change")
    assert event.actor_username == "ada"
    assert event.data["groups"] == [Role.FINANCE_APPROVER.value]

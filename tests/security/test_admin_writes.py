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


# Every model in the admin: read-only there, or each write path audited (below).
AUDITED_IN_ADMIN = {"auth.User": {"add", "change", "delete"}, "axes.AccessAttempt": {"delete"}}


def test_every_admin_write_path_is_audited_or_closed(rf, admin_user):
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = admin_user
    open_paths = {}
    for model, model_admin in admin.site._registry.items():
        allowed = {
            verb for verb in ("add", "change", "delete")
            if getattr(model_admin, f"has_{verb}_permission")(request)
        }  # fmt: skip
        if allowed - AUDITED_IN_ADMIN.get(model._meta.label, set()):
            open_paths[model._meta.label] = sorted(allowed)

    assert not open_paths, f"Admin writes with no audit event: {open_paths}"


def test_a_password_set_in_the_admin_is_an_audit_event(client, admin_user, manager):
    client.force_login(admin_user)
    url = f"/admin/auth/user/{manager.pk}/password/"
    password = "a-long-new-passphrase-42"

    response = client.post(url, {"password1": password, "password2": password,
                                 "usable_password": "true"})  # fmt: skip

    assert response.status_code == 302, response.context["form"].errors
    manager.refresh_from_db()
    assert manager.check_password(password)
    event = AuditEvent.objects.get(action="user.admin_password_change")
    assert (event.actor_username, event.object_id, event.data) == (
        "ada",
        str(manager.pk),
        {"username": "maya"},
    )
    assert password not in str(event.data) + event.reason


def test_a_refused_password_in_the_admin_changes_nothing(client, admin_user, manager):
    client.force_login(admin_user)
    events = AuditEvent.objects.count()

    response = client.post(f"/admin/auth/user/{manager.pk}/password/",
                           {"password1": "short", "password2": "short"})  # fmt: skip

    assert response.status_code == 200 and response.context["form"].errors
    manager.refresh_from_db()
    assert manager.check_password("pw")
    assert AuditEvent.objects.count() == events


def test_roles_are_read_only_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    approvers = Group.objects.get(name=Role.FINANCE_APPROVER.value)
    permissions = set(approvers.permissions.values_list("pk", flat=True))

    added = client.get("/admin/auth/group/add/")
    changed = client.post(f"/admin/auth/group/{approvers.pk}/change/",
                          {"name": "Approvers", "permissions": []})  # fmt: skip

    assert (added.status_code, changed.status_code) == (403, 403)
    approvers.refresh_from_db()
    assert approvers.name == Role.FINANCE_APPROVER.value
    assert set(approvers.permissions.values_list("pk", flat=True)) == permissions


def test_api_tokens_are_not_listed_or_made_in_the_admin(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 404


def test_clearing_a_lockout_in_the_admin_is_an_audit_event(client, admin_user):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="maya", ip_address="203.0.113.9", failures_since_start=5, user_agent="x",
        get_data="", post_data="", http_accept="", path_info="/login/",
    )  # fmt: skip
    client.force_login(admin_user)

    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    event = AuditEvent.objects.get(action="sign_in.lockout_clear")
    assert event.data == {"username": "maya", "ip_address": "203.0.113.9"}

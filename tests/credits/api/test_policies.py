"""The credit policy through the API: published versions newest first and the one in force."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credits import services
from credits.rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db

URL = "/api/v1/credits/policies/"


def draft(controller, *, days_ahead: int = 30, title: str = "Credit policy, second edition"):
    return services.policy_create_draft(
        actor=controller,
        rules={**DEFAULT_RULES, "minimum_credit": "25"},
        title=title,
        introduction="We give back the unused part of what you paid.",
        effective_from=timezone.localdate() + timedelta(days=days_ahead),
        change_summary="Credits under 25 are no longer issued.",
    )


def published(controller, **kwargs):
    return services.policy_publish(
        on=timezone.localdate(), actor=controller, policy_id=draft(controller, **kwargs).pk
    )


def test_the_list_shows_published_versions_newest_first(api, customer_user, controller):
    published(controller)
    draft(controller, title="Not yet published")

    response = api(customer_user).get(URL)

    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [2, 1]


def test_a_version_shows_its_text_examples_and_what_changed(api, customer_user, controller):
    policy = published(controller)

    response = api(customer_user).get(URL)

    row = response.json()["results"][0]
    assert {key: row[key] for key in ("number", "label", "effective_from", "title",
                                      "change_summary")} == {
        "number": 2, "label": "credit/v2", "effective_from": f"{policy.effective_from}",
        "title": "Credit policy, second edition",
        "change_summary": "Credits under 25 are no longer issued.",
    }  # fmt: skip
    assert row["text"] == policy.text and "464.52" in row["text"]
    assert row["examples"] == policy.examples and row["examples"]


def test_the_current_version_is_the_one_in_force_today(api, customer_user, controller):
    published(controller)  # takes effect in 30 days

    response = api(customer_user).get(f"{URL}current/")

    assert response.status_code == 200
    assert (response.json()["number"], response.json()["label"]) == (1, "credit/v1")


def test_a_version_is_read_by_its_number(api, customer_user, controller):
    published(controller)

    response = api(customer_user).get(f"{URL}2/")

    assert response.status_code == 200
    assert response.json()["title"] == "Credit policy, second edition"


def test_a_draft_cannot_be_read(api, customer_user, controller):
    policy = draft(controller)

    response = api(customer_user).get(f"{URL}{policy.number}/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "persona",
    ["manager", "analyst", "approver", "controller", "auditor", "admin_user", "customer_user"],
    indirect=True,
)
def test_every_signed_in_role_reads_the_policy(api, persona):
    assert api(persona).get(URL).status_code == 200
    assert api(persona).get(f"{URL}current/").status_code == 200


@pytest.mark.parametrize("path", ["", "current/", "1/"])
def test_anonymous_users_cannot_read_the_policy(api, path):
    response = api().get(f"{URL}{path}")

    assert response.status_code in (401, 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_policy_cannot_be_written_through_the_api(api, controller, method):
    path = URL if method == "post" else f"{URL}1/"

    response = getattr(api(controller), method)(path, {"title": "Changed"}, format="json")

    assert response.status_code == 405

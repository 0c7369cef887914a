"""The retention policy pages: drafted by one person, published by another, read by auditors."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from audit.models import AuditEvent, RetentionPolicyVersion
from licensing.roles import Role
from tests.factories import UserFactory
from tests.support import Snapshot

pytestmark = pytest.mark.django_db

LIST = "/audit/retention/"
DRAFT = "/audit/retention/draft/"


@pytest.fixture
def manager2(db):
    return UserFactory(username="otto", role=Role.ACCOUNT_MANAGER)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def body(**changes) -> dict:
    data = {
        "summary": "Contracts' history kept ten years",
        "effective_from": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "event_days": "2557", "verification_days": "400", "history_days": "2557",
        "event_type_1": "", "event_days_1": "",
        "history_type_1": "licensing.contract", "history_days_1": "3653",
        "reason": "Legal asks for ten years",
    }  # fmt: skip
    return {**data, **changes}


def test_a_policy_drafted_by_one_manager_is_published_only_by_another(client, manager, manager2):
    client.force_login(manager)
    drafted = client.post(DRAFT, body())
    draft = RetentionPolicyVersion.objects.get(number=3)
    page = client.get(f"/audit/retention/{draft.pk}/").content.decode()
    refused = client.post(f"/audit/retention/{draft.pk}/publish/", {"reason": "Mine"}, follow=True)

    assert drafted.status_code == 302 and drafted.url == f"/audit/retention/{draft.pk}/"
    assert draft.rules["history"] == {"keep_days": 2557, "then": "delete",
                                      "by_model": {"licensing.contract": 3653}}  # fmt: skip
    assert draft.summary == "Contracts' history kept ten years" and draft.drafted_by == manager
    assert "History of contract: deleted after" in page and "3,653 days" in page
    assert "licensing.contract" not in page
    assert "Somebody other than its drafter must publish a policy" in page
    assert any("other than its drafter" in m for m in messages_of(refused))
    assert RetentionPolicyVersion.objects.get(pk=draft.pk).status == "draft"

    client.force_login(manager2)
    client.post(f"/audit/retention/{draft.pk}/publish/", {"reason": "Reviewed with legal"})

    published = RetentionPolicyVersion.objects.get(pk=draft.pk)
    assert published.status == "published" and published.published_by == manager2
    assert AuditEvent.objects.filter(
        action="retention_policy.publish", object_id=str(draft.pk), actor=manager2
    ).exists()
    assert published.history.filter(history_change_reason="Reviewed with legal").exists()


def test_a_published_version_offers_no_publishing_and_refuses_it(client, manager):
    policy = RetentionPolicyVersion.objects.get(number=2)
    client.force_login(manager)
    snapshot = Snapshot()

    page = client.get(f"/audit/retention/{policy.pk}/").content.decode()
    response = client.post(f"/audit/retention/{policy.pk}/publish/", {"reason": "Again"},
                           follow=True)  # fmt: skip

    assert "Review and publish" not in page
    assert any("only a draft publishes" in m for m in messages_of(response))
    assert snapshot.unchanged()


def test_the_draft_form_names_kinds_of_record_and_takes_days_as_numbers(client, manager):
    client.force_login(manager)

    page = client.get(LIST).content.decode()

    assert 'name="history_days" value="2557"' in page and 'type="number"' in page
    assert "Change history rows: delete after (days)" in page
    assert '<option value="licensing.contract">Contract</option>' in page
    assert "In force today: retention policy v2." in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"history_days": "10"}, "history_days", "Keep at least 30 days."),
        ({"event_days": "seven years"}, "event_days", "Give a whole number of days."),
        ({"history_type_1": "licensing.nothing"}, "history_type_1", "Select a valid choice"),
        ({"history_type_1": ""}, "history_type_1", "Choose the kind of record these days"),
        ({"history_days_1": ""}, "history_days_1", "Say how many days, or clear the row."),
        ({"history_type_2": "licensing.contract", "history_days_2": "4000"}, "history_type_2",
         "already has a row above"),
        ({"summary": ""}, "summary", "the summary is the changelog entry"),
        ({"effective_from": "2020-01-01"}, "effective_from", "cannot take effect in the past"),
    ],
    ids=["too short", "not a number", "unknown model", "days without a kind", "kind without days",
         "the same kind twice", "no changelog entry", "in the past"],
)  # fmt: skip
def test_a_bad_draft_is_refused_at_the_top_and_by_the_field(client, manager, changes, field,
                                                            message):  # fmt: skip
    client.force_login(manager)
    snapshot = Snapshot()

    response = client.post(DRAFT, body(**changes))

    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved: correct what is marked below." in page
    assert message in str(response.context["form"].errors[field])
    assert message.split("{")[0] in page.replace("&#x27;", "'")
    assert snapshot.unchanged()


def test_an_auditor_reads_the_policies_but_may_not_draft_or_publish(client, auditor, manager):
    client.force_login(manager)
    client.post(DRAFT, body())
    draft = RetentionPolicyVersion.objects.get(number=3)
    client.force_login(auditor)
    snapshot = Snapshot()

    listing = client.get(LIST).content.decode()
    detail = client.get(f"/audit/retention/{draft.pk}/").content.decode()
    drafted = client.post(DRAFT, body())
    published = client.post(f"/audit/retention/{draft.pk}/publish/", {"reason": "Go"})

    assert "Draft a new version" not in listing
    assert "Timeline" in listing  # the auditor's own tabs
    assert "Your role may not publish retention policies." in detail
    assert (drafted.status_code, published.status_code) == (403, 403)
    assert snapshot.unchanged()


def test_customers_never_see_retention_policies(client, customer_user):
    client.force_login(customer_user)

    assert client.get(LIST).status_code == 403
    assert (
        client.get(f"/audit/retention/{RetentionPolicyVersion.objects.first().pk}/").status_code
        == 403
    )


def test_the_manager_finds_retention_in_the_navigation(client, manager):
    client.force_login(manager)

    page = client.get("/dashboard/").content.decode()

    assert 'href="/audit/retention/"' in page

from datetime import timedelta

import pytest
from django.urls import reverse

from credits import services
from credits.rules import DEFAULT_RULES
from credits.views.portal import policy_html
from tests.support import publish_policy

pytestmark = pytest.mark.django_db


def test_the_policy_page_shows_the_version_in_force_with_its_worked_examples(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:policy"))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["version"].number == 1
    assert "Version 1" in body
    assert "In force since 1 January 2020" in body
    assert "<h3>How a credit is calculated</h3>" in body
    assert "## " not in body
    # The examples are tables built from the version's JSON, not the text's bullet list.
    assert '<table class="calc calc-fixed">' in body
    assert "USD 464.52" in body and "USD 516.13" in body
    assert "30 of 50 seats released for 16 of 31 days" in body
    assert "A new credit policy takes effect" not in body


def test_the_policy_page_announces_a_scheduled_version_and_what_changes(
    client, customer_user, controller, today
):
    publish_policy(
        controller,
        effective_from=today + timedelta(days=30),
        summary="Credits under 25 are no longer issued.",
        minimum_credit="25",
    )
    client.force_login(customer_user)

    body = client.get(reverse("credits_portal:policy")).content.decode()

    when = f"{today + timedelta(days=30):%-d %B %Y}"
    assert f"A new credit policy takes effect on {when}." in body
    assert "What changes: Credits under 25 are no longer issued." in body
    assert reverse("credits_portal:policy-version", args=[2]) in body


def test_the_changelog_lists_each_published_version_with_its_summary_and_date(
    client, customer_user, controller, today
):
    starts = today + timedelta(days=30)
    publish_policy(
        controller, effective_from=starts, summary="Disputes answered in 14 days.", dispute_days=14
    )
    services.policy_create_draft(
        actor=controller,
        rules=DEFAULT_RULES,
        title="Draft",
        introduction="Not yet.",
        effective_from=starts + timedelta(days=30),
        change_summary="A draft nobody sees.",
    )
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:policy-versions"))

    body = response.content.decode()
    assert [(row.version.number, row.state) for row in response.context["rows"]] == [
        (2, "scheduled"),
        (1, "in_force"),
    ]
    assert "Disputes answered in 14 days." in body
    assert f"From {starts:%-d %B %Y}" in body
    assert "First published version." in body
    assert "A draft nobody sees." not in body


@pytest.mark.parametrize(("number", "status"), [(1, 200), (2, 200), (3, 404), (99, 404)])
def test_every_published_version_is_readable_and_a_draft_is_not(
    client, customer_user, controller, today, number, status
):
    publish_policy(controller, effective_from=today + timedelta(days=5), summary="Two.")
    services.policy_create_draft(
        actor=controller,
        rules=DEFAULT_RULES,
        title="Three",
        introduction="Draft.",
        effective_from=today + timedelta(days=50),
        change_summary="Three.",
    )
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:policy-version", args=[number]))

    assert response.status_code == status


def test_a_scheduled_version_says_when_it_takes_effect(client, customer_user, controller, today):
    starts = today + timedelta(days=5)
    publish_policy(controller, effective_from=starts, summary="Two.")
    client.force_login(customer_user)

    body = client.get(reverse("credits_portal:policy-version", args=[2])).content.decode()

    assert f"Takes effect on {starts:%-d %B %Y}" in body
    assert "A new credit policy takes effect" not in body  # the page is that version


def test_policy_text_renders_headings_bullets_and_sub_bullets():
    text = "# Title\n\nIntro line\ncontinues.\n\n## Part\n\n- one\n\n  - one a\n\n- two\n\nAfter."

    html = policy_html(text, omit_heading="Title")

    assert html == (
        "<p>Intro line continues.</p><h3>Part</h3>"
        "<ul><li>one<ul><li>one a</li></ul></li><li>two</li></ul><p>After.</p>"
    )


def test_policy_text_escapes_everything_it_does_not_write_itself():
    text = '# <i>T</i>\n\n<script>alert(1)</script>\n\n- <b onclick="x()">bold</b>\n\n  - a & b'

    html = policy_html(text)

    assert "<script>" not in html and "<b " not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;" in html
    assert "<li>a &amp; b</li>" in html


def test_policy_text_can_leave_out_the_worked_examples_section():
    text = (
        "## Rules\n\nKeep.\n\n## Worked examples\n\n### One\n\n- seats: x\n\nTotal.\n\n"
        "## After\n\nKeep too."
    )

    html = policy_html(text, omit_section="Worked examples")

    assert html == "<h3>Rules</h3><p>Keep.</p><h3>After</h3><p>Keep too.</p>"


@pytest.mark.parametrize("name", ["policy", "policy-versions", "list", "request", "calculator"])
def test_staff_are_refused_the_customer_portal(client, approver, name):
    # Only the change request page also serves staff who ask on a customer's behalf.
    client.force_login(approver)

    assert client.get(reverse(f"credits_portal:{name}")).status_code == 403

"""The auditor's workspace in a real browser: filter, open a change, export a bundle, verify it."""

import re

import pytest
from playwright.sync_api import expect

from audit import tree
from audit.models import AuditEvent, ExportJob
from licensing.roles import Role
from licensing.services import entitlement_transition
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    EntitlementFactory,
    UserFactory,
    admin_actor,
)
from tests.support import sign_in

from .verifier import readme_bundle_verifier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_auditor_filters_to_a_contract_opens_a_change_and_verifies_the_exported_bundle(
    browser_page, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = browser_page
    auditor = UserFactory(username="auditor", role=Role.AUDITOR)
    ours = ContractFactory(customer=CustomerFactory(name="Northwind Traders"))
    theirs = ContractFactory(customer=CustomerFactory(name="Globex"))
    seats = EntitlementFactory(contract=ours, name="Named-user seats", quantity=120)
    EntitlementFactory(contract=theirs, name="Globex seats")
    for entitlement, reason in ((seats, "Invoice 4711 is overdue"),):
        entitlement_transition(actor=admin_actor(), entitlement_id=entitlement.pk,
                               transition="suspend", reason=reason)  # fmt: skip

    sign_in(page, username="auditor")
    expect(page).to_have_url(re.compile(r"/audit/$"))
    page.get_by_label("Contract").select_option(label=f"{ours.number} · Northwind Traders")
    page.get_by_role("button", name="Apply").click()

    rows = page.locator("table.audit-timeline tbody tr")
    expect(rows.first).to_contain_text(ours.number)
    expect(page.locator("table.audit-timeline tbody")).not_to_contain_text(theirs.number)
    suspension = rows.filter(has_text="Invoice 4711 is overdue").filter(has_text="Changed")
    suspension.get_by_role("link", name="Changed").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Entitlement changed")
    state = page.locator("table.changes tr", has_text="State")
    expect(state.locator("td.before")).to_have_text("Active")
    expect(state.locator("td.after")).to_have_text("Suspended")
    page.get_by_role("link", name="← Back to the timeline").click()
    expect(page.get_by_label("Contract")).to_have_value(str(ours.pk))

    page.get_by_role("button", name="Verifiable bundle (zip)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export: Verifiable bundle (zip)")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    path = tmp_path / "bundle.zip"
    download.value.save_as(path)

    manifest = readme_bundle_verifier()["check_bundle"](path, tree.public_key_b64())
    assert manifest["filter"] == {"contract": ours.pk}
    assert manifest["created_by"] == "auditor"
    job = ExportJob.objects.get()
    assert (job.requested_by, job.format, job.state) == (auditor, "bundle", "done")
    event = AuditEvent.objects.get(action="audit.export")
    assert (event.actor, event.data["filter"]) == (auditor, {"contract": ours.pk})

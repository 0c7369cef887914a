"""The credit note PDF, read back as a customer's PDF reader would: with pdftotext."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from credits import services as credit_services
from credits.pdf import render_credit_note
from licensing.errors import DomainError
from tests.support import add_rate

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")


def _text(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode()


@pytest.mark.django_db
def test_the_credit_note_shows_number_amount_policy_and_explanation(issued_credit):
    text = _text(render_credit_note(issued_credit))

    assert issued_credit.number in text
    assert "USD 90.00" in text
    assert "Credit policy v1" in text and "credit/v1" not in text
    assert "6 of 10 seats released for 15 of 30 days" in text
    assert "Northwind Traders" in text
    assert "billing@northwind.example" in text
    assert issued_credit.contract.number in text
    assert "Credit note against the account" in text


@pytest.mark.django_db
def test_the_credit_note_downloads_from_the_credit_page(client, auditor, issued_credit):
    client.force_login(auditor)

    response = client.get(reverse("credits:credit-note", args=[issued_credit.pk]))

    text = _text(response.content)
    assert issued_credit.number in text
    assert "USD 90.00" in text
    assert "http://testserver/portal/" in text  # the policy page, as a full address
    assert f'filename="{issued_credit.number}.pdf"' in response["Content-Disposition"]


@pytest.mark.django_db
def test_a_yen_credit_note_has_no_decimals(paid_contract, request_credit, analyst, approver,
                                           controller):  # fmt: skip
    contract = paid_contract(seats=3, unit_price="100000", currency="JPY")
    add_rate("JPY", "0.25")  # high, so that JPY 50,000 (USD 12,500) passes all three steps
    credit = request_credit(contract, quantity_after=2)
    for actor in (analyst, approver, controller):
        credit = credit_services.credit_approve(actor=actor, credit_id=credit.pk)

    text = _text(render_credit_note(credit))

    # 100,000 × 3 seats × 1/3 × 15/30 = 50,000 yen, with no minor unit.
    assert "JPY 50,000" in text
    assert "JPY 50,000.00" not in text


@pytest.mark.django_db
def test_a_discount_credit_note_lists_its_schedule(paid_contract, request_credit, analyst):
    credit = request_credit(paid_contract(), form="future_discount")
    credit = credit_services.credit_approve(actor=analyst, credit_id=credit.pk)

    text = _text(render_credit_note(credit))

    assert "Discount on future invoices" in text
    assert "Invoice 1" in text


@pytest.mark.django_db
def test_only_an_issued_credit_has_a_credit_note(credit):
    with pytest.raises(DomainError):
        render_credit_note(credit)

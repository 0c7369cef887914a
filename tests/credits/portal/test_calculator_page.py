import json

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_calculator_page_is_prefilled_with_the_worked_example(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:calculator"))

    body = response.content.decode()
    assert response.status_code == 200
    assert '<script id="calculator-example" type="application/json">' in body
    example = response.context["example"]
    assert [line["basis"] for line in example["lines"]] == ["seat", "usage", "bundle"]
    assert 'src="/static/js/calculator.js"' in body
    assert f'data-api-url="{reverse("credit-calculator")}"' in body
    assert "csrftoken" in response.cookies  # what the script sends back in X-CSRFToken


def test_the_api_answers_the_pages_request_with_the_csrf_token_from_the_cookie(customer_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer_user)
    page = client.get(reverse("credits_portal:calculator"))
    token = page.cookies["csrftoken"].value
    body = json.dumps(page.context["example"])

    answered = client.post(
        reverse("credit-calculator"),
        body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    refused = client.post(reverse("credit-calculator"), body, content_type="application/json")

    assert answered.status_code == 200
    credits = {line["id"]: line["credit"] for line in answered.json()["lines"]}
    assert (credits["seats"], credits["api"]) == ("464.52", "516.13")
    assert refused.status_code == 403

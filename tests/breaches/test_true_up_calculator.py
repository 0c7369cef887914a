"""POST /api/v1/breaches/true-up/calculator/: stateless, for any signed-in user."""

import copy

import pytest
from django.core.management import call_command

from breaches.serializers import TRUE_UP_EXAMPLE

pytestmark = pytest.mark.django_db

URL = "/api/v1/breaches/true-up/calculator/"


def _body(**changes) -> dict:
    body = copy.deepcopy(TRUE_UP_EXAMPLE)
    body.update(changes)
    return body


def _line(**changes) -> dict:
    line = copy.deepcopy(TRUE_UP_EXAMPLE["lines"][0])
    line.update(changes)
    return line


@pytest.mark.parametrize(
    "persona", ["manager", "analyst", "auditor", "customer_user"], indirect=True
)
def test_the_issues_example_for_any_signed_in_user(api, persona):
    response = api(persona).post(URL, TRUE_UP_EXAMPLE, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "currency": "USD",
        "lines": [
            {
                "id": "seats",
                "charge": "210.00",
                "explanation": "10 over the 50 entitled (peak 60) for 21 of 31 days: "
                "USD 1,550.00 × 10/50 × 21/31 = USD 210.00.",
            }
        ],
        "total_charge": "210.00",
    }


def test_amounts_carry_exactly_the_currencys_minor_digits(api, manager):
    body = _body(
        currency="JPY",
        lines=[_line(id="a", amount_paid="31000"), _line(id="b", amount_paid="155", peak=50)],
    )

    response = api(manager).post(URL, body, format="json")

    assert response.status_code == 200
    assert [line["charge"] for line in response.json()["lines"]] == ["4200", "0"]
    assert response.json()["total_charge"] == "4200"
    assert "No charge" in response.json()["lines"][1]["explanation"]


def test_lowercase_currency_is_read_as_its_code(api, manager):
    response = api(manager).post(URL, _body(currency="usd"), format="json")

    assert response.status_code == 200
    assert response.json()["currency"] == "USD"


BAD = [
    ("unknown currency", _body(currency="XYZ"), {"currency"}),
    ("empty period", _body(period_end="2026-03-01"), {"period_end"}),
    ("inverted period", _body(period_end="2026-02-01"), {"period_end"}),
    ("overuse before the period", _body(overuse_start="2026-02-28"), {"overuse_start"}),
    ("overuse on the period end", _body(overuse_start="2026-04-01"), {"overuse_start"}),
    ("not a date", _body(period_start="March"), {"period_start"}),
    ("missing field", {k: v for k, v in TRUE_UP_EXAMPLE.items() if k != "overuse_start"},
     {"overuse_start"}),
    ("no lines", _body(lines=[]), {"lines"}),
]  # fmt: skip


@pytest.mark.parametrize("case, body, fields", BAD, ids=[c[0] for c in BAD])
def test_each_bad_field_answers_400_naming_it(api, manager, case, body, fields):
    response = api(manager).post(URL, body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == fields


LINE_BAD = [
    ("negative amount", {"amount_paid": "-1.00"}, "amount_paid"),
    ("too many decimals", {"amount_paid": "1550.001"}, "amount_paid"),
    ("zero quantity", {"quantity": 0}, "quantity"),
    ("negative quantity", {"quantity": -5}, "quantity"),
    ("negative peak", {"peak": -1}, "peak"),
    ("missing peak", {"peak": None}, "peak"),
]


def _errors_of_line(errors, index: int) -> dict:
    # DRF gives a list's item errors as a list with {} for valid items, or by index as a dict.
    return errors[index] if isinstance(errors, list) else errors[str(index)]


@pytest.mark.parametrize("case, change, field", LINE_BAD, ids=[c[0] for c in LINE_BAD])
def test_an_error_inside_a_line_is_reported_under_lines_by_index(api, manager, case, change, field):
    bad = _line(id="second", **change)
    if change.get(field, 0) is None:
        del bad[field]

    response = api(manager).post(URL, _body(lines=[_line(), bad]), format="json")

    assert response.status_code == 400
    errors = response.json()["lines"]
    assert set(_errors_of_line(errors, 1)) == {field}
    assert not (isinstance(errors, list) and errors[0])


def test_duplicate_line_ids_are_refused_on_the_repeated_line(api, manager):
    response = api(manager).post(URL, _body(lines=[_line(), _line()]), format="json")

    assert response.status_code == 400
    assert _errors_of_line(response.json()["lines"], 1) == {
        "id": ["Line id 'seats' is used twice."]
    }


def test_anonymous_may_not_use_the_calculator(api):
    assert api().post(URL, TRUE_UP_EXAMPLE, format="json").status_code in (401, 403)


def test_the_schema_still_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")

    schema = (tmp_path / "s.yml").read_text()
    assert "/api/v1/usage-reports/:" in schema
    assert "/api/v1/breaches/true-up/calculator/:" in schema

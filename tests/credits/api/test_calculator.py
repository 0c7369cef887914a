"""The public credit calculator: the documented example, currencies, bad input, who may call it."""

import copy
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

URL = "/api/v1/credits/calculator/"

# The example of the issue, word for word.
EXAMPLE = {
    "currency": "USD",
    "intent": "downgrade",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "effective_date": "2026-03-16",
    "lines": [
        {"id": "seats", "basis": "seat", "amount_paid": "1500.00", "quantity_before": 50,
         "quantity_after": 20},
        {"id": "api", "basis": "usage", "amount_paid": "1000.00", "included_units": 1000000,
         "units_used": 400000},
        {"id": "suite", "basis": "bundle", "amount_paid": "900.00", "components": [
            {"id": "editor", "standalone_price": "20.00", "quantity_before": 10,
             "quantity_after": 5},
            {"id": "viewer", "standalone_price": "5.00", "quantity_before": 40,
             "quantity_after": 40}]},
    ],
}  # fmt: skip
SEATS, API, SUITE = 0, 1, 2


def body(**changes) -> dict:
    data = copy.deepcopy(EXAMPLE)
    data.update(changes)
    return data


def with_line(index: int, **changes) -> dict:
    data = body()
    data["lines"][index].update(changes)
    return data


def without_line_field(index: int, name: str) -> dict:
    data = body()
    del data["lines"][index][name]
    return data


def with_component(index: int, **changes) -> dict:
    data = body()
    data["lines"][SUITE]["components"][index].update(changes)
    return data


def without(name: str) -> dict:
    data = body()
    del data[name]
    return data


def error_at(errors, path: tuple) -> list:
    """The messages at a path; JSON keys a list's items by their index as a string."""
    for key in path:
        errors = errors[str(key) if isinstance(errors, dict) else key]
    # A list serializer's own complaint (empty, not a list) sits under non_field_errors.
    return errors["non_field_errors"] if isinstance(errors, dict) else errors


def calculate(client, data):
    return client.post(URL, data, format="json")


def amount_pattern(digits: int) -> re.Pattern:
    return re.compile(r"^\d+$" if digits == 0 else rf"^\d+\.\d{{{digits}}}$")


# The documented answer


def test_the_documented_example_credits_seats_and_usage_as_published(api, customer_user):
    response = calculate(api(customer_user), EXAMPLE)

    assert response.status_code == 200
    credits = {line["id"]: line["credit"] for line in response.json()["lines"]}
    assert credits["seats"] == "464.52"
    assert credits["api"] == "516.13"


def test_the_documented_example_credits_the_bundle_by_its_components(api, customer_user):
    response = calculate(api(customer_user), EXAMPLE)

    suite = response.json()["lines"][SUITE]
    # 900.00 is split 200:200 by standalone value; half the editors go for 16 of 31 days.
    assert suite["credit"] == "116.13"
    assert [(c["id"], c["credit"]) for c in suite["components"]] == [
        ("editor", "116.13"),
        ("viewer", "0.00"),
    ]


def test_the_answer_has_the_documented_shape(api, customer_user):
    response = calculate(api(customer_user), EXAMPLE)

    answer = response.json()
    assert set(answer) == {"currency", "policy_version", "lines", "total_credit", "notes"}
    assert (answer["currency"], answer["policy_version"]) == ("USD", "credit/v1")
    assert [line["id"] for line in answer["lines"]] == ["seats", "api", "suite"]
    assert [set(line) for line in answer["lines"]] == [
        {"id", "credit", "explanation"},
        {"id", "credit", "explanation"},
        {"id", "credit", "explanation", "components"},
    ]
    assert all(set(c) == {"id", "credit", "explanation"} for c in answer["lines"][2]["components"])


def test_the_total_is_the_sum_of_the_rounded_lines(api, customer_user):
    response = calculate(api(customer_user), EXAMPLE)

    assert response.json()["total_credit"] == "1096.78"  # 464.52 + 516.13 + 116.13


@pytest.mark.parametrize(
    ("index", "numbers"),
    [
        (SEATS, ["30 of 50 seats", "16 of 31 days", "USD 1,500.00", "30/50", "16/31",
                 "USD 464.52"]),
        (API, ["15 of 31 days elapsed", "USD 1,000.00", "16/31", "USD 516.13"]),
        (SUITE, ["USD 116.13"]),
    ],
    ids=["seat", "usage", "bundle"],
)  # fmt: skip
def test_each_explanation_shows_the_numbers_it_used(api, customer_user, index, numbers):
    response = calculate(api(customer_user), EXAMPLE)

    explanation = response.json()["lines"][index]["explanation"]
    for number in numbers:
        assert number in explanation


def test_a_bundle_components_explanation_shows_its_share_of_the_price(api, customer_user):
    response = calculate(api(customer_user), EXAMPLE)

    editor = response.json()["lines"][SUITE]["components"][0]["explanation"]
    for number in ["USD 450.00", "USD 900.00", "USD 20.00", "× 10", "5 of 10 units", "16 of 31"]:
        assert number in editor


def test_usage_explains_units_when_they_are_the_larger_share(api, customer_user):
    data = with_line(API, units_used=600000)

    response = calculate(api(customer_user), data)

    line = response.json()["lines"][API]
    assert line["credit"] == "400.00"
    assert "600,000 of 1,000,000 units used" in line["explanation"]


# Currencies: amounts carry exactly the minor unit's digits


@pytest.mark.parametrize(
    ("currency", "paid", "seats", "digits"),
    [("JPY", "150000", "46452", 0), ("USD", "1500.00", "464.52", 2),
     ("KWD", "150.000", "46.452", 3)],
)  # fmt: skip
def test_amounts_carry_exactly_the_currencys_minor_digits(
    api, customer_user, currency, paid, seats, digits
):
    data = body(currency=currency)
    data["lines"][SEATS]["amount_paid"] = paid

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    answer = response.json()
    assert answer["currency"] == currency
    assert answer["lines"][SEATS]["credit"] == seats
    amounts = [answer["total_credit"]] + [
        amount
        for line in answer["lines"]
        for amount in [line["credit"]] + [c["credit"] for c in line.get("components", [])]
    ]
    assert all(amount_pattern(digits).match(amount) for amount in amounts), amounts


@pytest.mark.parametrize(("currency", "zero"), [("JPY", "0"), ("USD", "0.00"), ("KWD", "0.000")])
def test_nothing_left_of_the_period_credits_zero_in_the_currencys_digits(
    api, customer_user, currency, zero
):
    data = body(currency=currency, effective_date="2026-04-01")
    data["lines"] = data["lines"][:1]
    data["lines"][0]["amount_paid"] = "1500"

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    assert (response.json()["lines"][0]["credit"], response.json()["total_credit"]) == (zero, zero)
    assert "no days remain" in response.json()["lines"][0]["explanation"]


def test_a_lower_case_currency_code_is_accepted(api, customer_user):
    response = calculate(api(customer_user), body(currency="usd"))

    assert response.status_code == 200
    assert response.json()["currency"] == "USD"


def test_a_line_rounds_half_up_to_the_minor_unit(api, customer_user):
    # 10.00 × 1/4 × 1/20 = 0.125 exactly: half up gives 0.13 where banker's rounding gives 0.12.
    data = body(period_start="2026-03-01", period_end="2026-03-21", effective_date="2026-03-20")
    data["lines"] = [
        {"id": "seats", "basis": "seat", "amount_paid": "10.00", "quantity_before": 4,
         "quantity_after": 3}
    ]  # fmt: skip

    response = calculate(api(customer_user), data)

    assert response.json()["lines"][0]["credit"] == "0.13"


def test_trailing_zeros_beyond_the_minor_unit_are_accepted(api, customer_user):
    response = calculate(api(customer_user), with_line(SEATS, amount_paid="1500.000000"))

    assert response.status_code == 200
    assert response.json()["lines"][SEATS]["credit"] == "464.52"


def test_a_seat_line_ignores_components_it_does_not_use(api, customer_user):
    data = with_line(SEATS, components=[{"id": "x", "standalone_price": "1", "quantity_before": 1}])

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    assert "components" not in response.json()["lines"][SEATS]


# Intents


def test_a_termination_releases_every_seat_when_quantity_after_is_omitted(api, customer_user):
    data = body(intent="terminate")
    del data["lines"][SEATS]["quantity_after"]
    for component in data["lines"][SUITE]["components"]:
        del component["quantity_after"]

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    lines = response.json()["lines"]
    assert lines[SEATS]["credit"] == "774.19"  # 1500.00 × 50/50 × 16/31
    assert lines[SUITE]["credit"] == "464.52"  # 900.00 × 16/31, split 232.26 + 232.26


def test_a_termination_accepts_quantity_after_zero(api, customer_user):
    data = body(intent="terminate")
    data["lines"][SEATS]["quantity_after"] = 0
    for component in data["lines"][SUITE]["components"]:
        component["quantity_after"] = 0

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    assert response.json()["lines"][SEATS]["credit"] == "774.19"


def test_a_pause_to_the_period_end_releases_everything(api, customer_user):
    data = body(intent="pause", resume_date="2026-04-01")
    del data["lines"][SEATS]["quantity_after"]
    for component in data["lines"][SUITE]["components"]:
        del component["quantity_after"]

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    assert response.json()["lines"][SEATS]["credit"] == "774.19"


@pytest.mark.parametrize("day", ["2026-03-01", "2026-04-01"], ids=["first", "end"])
def test_the_effective_date_may_be_either_end_of_the_period(api, customer_user, day):
    response = calculate(api(customer_user), body(effective_date=day))

    assert response.status_code == 200


# Bad input: 400 with the error under the field's name


def terminate_with_seats_after() -> dict:
    return with_line(SEATS, **{"quantity_after": 20}) | {"intent": "terminate"}


def terminate_with_component_after() -> dict:
    data = body(intent="terminate")
    del data["lines"][SEATS]["quantity_after"]
    data["lines"][SUITE]["components"][0]["quantity_after"] = 5
    del data["lines"][SUITE]["components"][1]["quantity_after"]
    return data


def downgrade_without_component_after() -> dict:
    data = body()
    del data["lines"][SUITE]["components"][1]["quantity_after"]
    return data


def duplicate_line_ids() -> dict:
    data = body()
    data["lines"][API]["id"] = "seats"
    return data


def duplicate_component_ids() -> dict:
    return with_component(1, id="editor")


BAD_INPUT = {
    # The request as a whole
    "unknown currency": (body(currency="XYZ"), ("currency",)),
    "currency of letters not a code": (body(currency="dollars"), ("currency",)),
    "missing currency": (without("currency"), ("currency",)),
    "unknown intent": (body(intent="upgrade"), ("intent",)),
    "missing intent": (without("intent"), ("intent",)),
    "missing period_start": (without("period_start"), ("period_start",)),
    "missing period_end": (without("period_end"), ("period_end",)),
    "missing effective_date": (without("effective_date"), ("effective_date",)),
    "not a date": (body(period_start="2026-13-01"), ("period_start",)),
    "empty period": (body(period_end="2026-03-01", effective_date="2026-03-01"),
                     ("period_end",)),
    "inverted period": (body(period_end="2026-02-01", effective_date="2026-03-01"),
                        ("period_end",)),
    "effective before the period": (body(effective_date="2026-02-28"), ("effective_date",)),
    "effective after the period": (body(effective_date="2026-04-02"), ("effective_date",)),
    "missing lines": (without("lines"), ("lines",)),
    "no lines": (body(lines=[]), ("lines",)),
    "duplicate line ids": (duplicate_line_ids(), ("lines", API, "id")),
    # A seat line
    "missing line id": (without_line_field(SEATS, "id"), ("lines", SEATS, "id")),
    "unknown basis": (with_line(SEATS, basis="flat"), ("lines", SEATS, "basis")),
    "missing basis": (without_line_field(SEATS, "basis"), ("lines", SEATS, "basis")),
    "missing amount_paid": (without_line_field(SEATS, "amount_paid"),
                            ("lines", SEATS, "amount_paid")),
    "negative amount_paid": (with_line(SEATS, amount_paid="-1.00"),
                             ("lines", SEATS, "amount_paid")),
    "amount_paid not a number": (with_line(SEATS, amount_paid="lots"),
                                 ("lines", SEATS, "amount_paid")),
    "amount_paid finer than cents": (with_line(SEATS, amount_paid="1500.005"),
                                     ("lines", SEATS, "amount_paid")),
    "missing quantity_before": (without_line_field(SEATS, "quantity_before"),
                                ("lines", SEATS, "quantity_before")),
    "zero quantity_before": (with_line(SEATS, quantity_before=0),
                             ("lines", SEATS, "quantity_before")),
    "negative quantity_before": (with_line(SEATS, quantity_before=-5),
                                 ("lines", SEATS, "quantity_before")),
    "quantity_before beyond 64 bits": (with_line(SEATS, quantity_before=2**63),
                                       ("lines", SEATS, "quantity_before")),
    "quantity_before not a number": (with_line(SEATS, quantity_before="ten"),
                                     ("lines", SEATS, "quantity_before")),
    "negative quantity_after": (with_line(SEATS, quantity_after=-1),
                                ("lines", SEATS, "quantity_after")),
    "quantity_after above quantity_before": (with_line(SEATS, quantity_after=51),
                                             ("lines", SEATS, "quantity_after")),
    "downgrade without quantity_after": (without_line_field(SEATS, "quantity_after"),
                                         ("lines", SEATS, "quantity_after")),
    "terminate keeping seats": (terminate_with_seats_after(),
                                ("lines", SEATS, "quantity_after")),
    # A usage line
    "zero included_units": (with_line(API, included_units=0), ("lines", API, "included_units")),
    "missing included_units": (without_line_field(API, "included_units"),
                               ("lines", API, "included_units")),
    "negative units_used": (with_line(API, units_used=-1), ("lines", API, "units_used")),
    "missing units_used": (without_line_field(API, "units_used"), ("lines", API, "units_used")),
    # A bundle line
    "missing components": (without_line_field(SUITE, "components"),
                           ("lines", SUITE, "components")),
    "no components": (with_line(SUITE, components=[]), ("lines", SUITE, "components")),
    "negative standalone_price": (with_component(0, standalone_price="-20.00"),
                                  ("lines", SUITE, "components", 0, "standalone_price")),
    "components without a price": (
        with_line(SUITE, components=[
            {"id": "editor", "standalone_price": "0", "quantity_before": 10, "quantity_after": 5},
        ]),
        ("lines", SUITE, "components"),
    ),
    "zero component quantity_before": (with_component(0, quantity_before=0),
                                       ("lines", SUITE, "components", 0, "quantity_before")),
    "component quantity_after above its quantity_before": (
        with_component(0, quantity_after=11),
        ("lines", SUITE, "components", 0, "quantity_after"),
    ),
    "negative component quantity_after": (
        with_component(1, quantity_after=-1),
        ("lines", SUITE, "components", 1, "quantity_after"),
    ),
    "downgrade without a component's quantity_after": (
        downgrade_without_component_after(),
        ("lines", SUITE, "components", 1, "quantity_after"),
    ),
    "terminate keeping a component": (
        terminate_with_component_after(),
        ("lines", SUITE, "components", 0, "quantity_after"),
    ),
    "duplicate component ids": (duplicate_component_ids(),
                                ("lines", SUITE, "components", 1, "id")),
}  # fmt: skip


@pytest.mark.parametrize(("data", "path"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_answers_400_naming_the_field(api, customer_user, data, path):
    response = calculate(api(customer_user), data)

    assert response.status_code == 400, response.json()
    messages = error_at(response.json(), path)
    assert isinstance(messages, list) and messages, response.json()
    assert all(isinstance(message, str) and message for message in messages)


def seats_second_and_too_many() -> dict:
    data = body()
    data["lines"] = [data["lines"][API], {**data["lines"][SEATS], "quantity_after": 60}]
    return data


# Since DRF 3.18 a list serializer keys its items' errors by index; our own checks answer in the
# same shape, whichever DRF is configured to use.
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (seats_second_and_too_many(),
         {"lines": {"1": {"quantity_after": ["Cannot exceed quantity_before."]}}}),
        (downgrade_without_component_after(),
         {"lines": {"2": {"components": {"1": {"quantity_after": [
             "Required for a downgrade: how many remain afterwards."]}}}}}),
        (duplicate_line_ids(), {"lines": {"1": {"id": ["Line id 'seats' is used twice."]}}}),
    ],
    ids=["field check", "component check", "request check"],
)  # fmt: skip
def test_an_error_inside_a_line_sits_under_lines_by_index(api, customer_user, data, expected):
    response = calculate(api(customer_user), data)

    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.filterwarnings("ignore:The list-based error format")
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (seats_second_and_too_many(),
         {"lines": [{}, {"quantity_after": ["Cannot exceed quantity_before."]}]}),
        (downgrade_without_component_after(),
         {"lines": [{}, {}, {"components": [{}, {"quantity_after": [
             "Required for a downgrade: how many remain afterwards."]}]}]}),
        (duplicate_line_ids(), {"lines": [{}, {"id": ["Line id 'seats' is used twice."]}, {}]}),
    ],
    ids=["field check", "component check", "request check"],
)  # fmt: skip
def test_errors_follow_drfs_older_list_shape_when_configured(
    api, customer_user, settings, data, expected
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "LIST_SERIALIZER_ERRORS_AS_DICT": False}

    response = calculate(api(customer_user), data)

    assert response.status_code == 400
    assert response.json() == expected


def test_a_termination_error_explains_what_to_send(api, customer_user):
    response = calculate(api(customer_user), terminate_with_seats_after())

    message = error_at(response.json(), ("lines", SEATS, "quantity_after"))[0]
    assert "omit" in message and "0" in message


def test_the_error_for_an_unknown_currency_names_the_code(api, customer_user):
    response = calculate(api(customer_user), body(currency="XYZ"))

    assert "XYZ" in response.json()["currency"][0]


# Who may call it


def test_anonymous_calls_are_refused(api):
    response = calculate(api(), EXAMPLE)

    assert response.status_code in (401, 403)
    assert "lines" not in response.json()


@pytest.mark.parametrize(
    "persona",
    ["manager", "analyst", "approver", "controller", "auditor", "admin_user", "customer_user",
     "other_customer_user"],
    indirect=True,
)  # fmt: skip
def test_any_signed_in_role_may_calculate(api, persona):
    response = calculate(api(persona), EXAMPLE)

    assert response.status_code == 200
    assert response.json()["total_credit"] == "1096.78"


def test_the_calculator_only_answers_post(api, customer_user):
    response = api(customer_user).get(URL)

    assert response.status_code == 405


def test_the_calculator_reads_three_rows_and_writes_nothing(
    api, customer_user, django_assert_num_queries
):
    client = api(customer_user)

    # The session, the user and the policy in force: nothing grows with the lines.
    with django_assert_num_queries(3) as captured:
        calculate(client, EXAMPLE)

    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for q in captured.captured_queries
        if "django_session" not in q["sql"]
    )


# The published schema


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")


def test_the_schema_describes_the_calculator(api, analyst):
    schema = api(analyst).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = schema["paths"][URL]["post"]
    assert "200" in operation["responses"]
    assert "requestBody" in operation

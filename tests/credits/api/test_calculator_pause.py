"""Pause, defined: the whole line stops from effective_date until resume_date (exclusive)."""

import pytest

from .test_calculator import API, EXAMPLE, SEATS, SUITE, URL, calculate, error_at

pytestmark = pytest.mark.django_db


def pause(resume_date="2026-03-26", **changes) -> dict:
    """The documented example as a pause from 16 Mar (31-day March period)."""
    data = {**EXAMPLE, "intent": "pause", "resume_date": resume_date, **changes}
    data["lines"] = [
        {key: value for key, value in line.items() if key != "quantity_after"}
        for line in EXAMPLE["lines"]
    ]
    data["lines"][SUITE]["components"] = [
        {key: value for key, value in c.items() if key != "quantity_after"}
        for c in EXAMPLE["lines"][SUITE]["components"]
    ]
    return data


def credits_of(response) -> dict:
    return {line["id"]: line["credit"] for line in response.json()["lines"]}


def test_a_seat_line_is_credited_for_the_paused_days_with_every_seat_released(api, customer_user):
    response = calculate(api(customer_user), pause())

    assert response.status_code == 200, response.json()
    # 1500.00 × 10/31 = 483.870… → 483.87
    assert credits_of(response)["seats"] == "483.87"


def test_a_resume_date_past_the_period_end_counts_the_period_only(api, customer_user):
    response = calculate(api(customer_user), pause(resume_date="2026-06-01"))

    assert response.status_code == 200
    # 1500.00 × 16/31 = 774.19, the same as a pause that resumes on 1 Apr
    assert credits_of(response)["seats"] == "774.19"


def test_each_bundle_component_is_credited_on_its_allocated_amount(api, customer_user):
    response = calculate(api(customer_user), pause())

    suite = response.json()["lines"][SUITE]
    # editor 200 and viewer 200 of standalone value: 450.00 each × 10/31 = 145.16
    assert [c["credit"] for c in suite["components"]] == ["145.16", "145.16"]
    assert suite["credit"] == "290.32"


@pytest.mark.parametrize(
    ("resume_date", "units_used", "credit"),
    [
        ("2026-03-26", 400_000, "322.58"),  # 10/31 paused < 60% unused: 1000 × 10/31
        ("2026-05-01", 700_000, "300.00"),  # 16/31 paused > 30% unused: 1000 × 0.3
        ("2026-03-26", 1_200_000, "0.00"),  # more than the commitment used: nothing back
    ],
    ids=["paused-share", "unused-share", "used-up"],
)
def test_a_usage_line_is_credited_the_smaller_of_paused_and_unused_share(
    api, customer_user, resume_date, units_used, credit
):
    data = pause(resume_date=resume_date)
    data["lines"][API]["units_used"] = units_used

    response = calculate(api(customer_user), data)

    assert response.status_code == 200
    assert credits_of(response)["api"] == credit


@pytest.mark.parametrize(
    "resume_date", [None, "2026-03-16", "2026-03-10"], ids=["missing", "same-day", "before"]
)
def test_a_pause_without_a_resume_date_after_its_start_is_a_400_naming_resume_date(
    api, customer_user, resume_date
):
    data = pause()
    if resume_date is None:
        del data["resume_date"]
    else:
        data["resume_date"] = resume_date

    response = calculate(api(customer_user), data)

    assert response.status_code == 400
    assert error_at(response.json(), ("resume_date",))


def test_a_pause_with_quantity_after_is_a_400_naming_quantity_after(api, customer_user):
    data = pause()
    data["lines"][SEATS]["quantity_after"] = 20

    response = calculate(api(customer_user), data)

    assert response.status_code == 400
    assert error_at(response.json(), ("lines", SEATS, "quantity_after"))


def test_a_resume_date_on_a_downgrade_is_a_400_naming_resume_date(api, customer_user):
    response = calculate(api(customer_user), {**EXAMPLE, "resume_date": "2026-03-26"})

    assert response.status_code == 400
    assert error_at(response.json(), ("resume_date",))


def test_the_calculator_url_is_the_documented_one():
    assert URL == "/api/v1/credits/calculator/"

"""Brute force, token lifetime and revocation, passwords, throttles, body size, calculator cap."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.credits.api.test_calculator import EXAMPLE
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _token_for(username: str, password: str = "pw"):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def _sign_in_page(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.parametrize("surface", ["page", "token"])
def test_five_wrong_passwords_lock_the_name_out_for_fifteen_minutes(client, manager, surface):
    def attempt(password):
        if surface == "page":
            return _sign_in_page(client, "maya", password)
        return _token_for("maya", password)

    failures = [attempt("wrong").status_code for _ in range(5)]
    locked = attempt("pw")

    assert failures[:4] == [200 if surface == "page" else 400] * 4
    assert locked.status_code == 429
    assert not Token.objects.filter(user=manager).exists()


def test_a_lockout_holds_one_name_from_one_address_only(client, manager, analyst):
    for _ in range(5):
        _sign_in_page(client, "maya", "wrong")

    assert _token_for("priya").status_code == 200


def test_the_lockout_ends_after_fifteen_minutes(client, manager, time_machine):
    for _ in range(5):
        _sign_in_page(client, "maya", "wrong")
    time_machine.move_to(timezone.now() + timedelta(minutes=16))

    assert _token_for("maya").status_code == 200


def test_an_expired_token_answers_401(manager, settings):
    token = Token.objects.create(user=manager)
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - timedelta(hours=settings.API_TOKEN_HOURS, seconds=1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/v1/contracts/")

    assert response.status_code == 401
    assert not Token.objects.filter(pk=token.pk).exists()


def test_asking_again_after_expiry_gives_a_new_token(manager, settings):
    old = Token.objects.create(user=manager)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=25))

    response = _token_for("maya")

    assert response.status_code == 200
    assert response.json()["token"] != old.key


def test_set_password_anywhere_revokes_the_users_tokens(manager, analyst):
    Token.objects.create(user=manager)
    Token.objects.create(user=analyst)

    manager.set_password("a new long passphrase")
    manager.save()

    assert not Token.objects.filter(user=manager).exists()
    assert Token.objects.filter(user=analyst).exists()


def test_saving_a_user_without_a_new_password_keeps_the_token(manager):
    Token.objects.create(user=manager)

    manager.first_name = "Maya"
    manager.save()

    assert Token.objects.filter(user=manager).exists()


def test_changing_the_password_in_the_admin_revokes_tokens(client, admin_user, manager):
    Token.objects.create(user=manager)
    client.force_login(admin_user)
    new = "correct horse battery staple"

    response = client.post(
        f"/admin/auth/user/{manager.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert not Token.objects.filter(user=manager).exists()


def test_signing_out_revokes_tokens(client, manager):
    Token.objects.create(user=manager)
    client.force_login(manager)

    client.post("/logout/")

    assert not Token.objects.filter(user=manager).exists()


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short1pass", False), ("123456789012345", False), ("password12345", False),
     ("a long enough passphrase", True)],
)  # fmt: skip
def test_passwords_need_twelve_characters_and_pass_the_usual_validators(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_api_calls_over_the_rate_answer_429(api, manager, monkeypatch, who):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    if who == "user":
        client, call = api(manager), lambda c: c.get("/api/v1/products/")
    else:
        client = APIClient()
        call = lambda c: c.post(TOKEN_URL, {"username": "maya", "password": "pw"})  # noqa: E731

    codes = [call(client).status_code for _ in range(3)]
    cache.clear()

    assert codes == [200, 200, 429]


def test_a_body_over_six_megabytes_is_refused_not_an_error(api, manager):
    body = b'{"reason": "' + b"x" * (6 * 1024 * 1024) + b'"}'

    contract = ContractFactory()

    response = api(manager).generic(
        "POST", f"/api/v1/contracts/{contract.pk}/suspend/", body, content_type="application/json"
    )

    # Django refuses it before DRF's parser runs (RequestDataTooBig); never a 500.
    assert response.status_code == 400


def test_a_form_over_six_megabytes_is_a_400(client, manager):
    contract = ContractFactory()
    client.force_login(manager)

    response = client.post(
        f"/contracts/{contract.pk}/transition/", {"reason": "x" * (6 * 1024 * 1024)}
    )

    assert response.status_code == 400


def test_the_calculator_takes_at_most_a_hundred_lines(api, customer_user):
    line = EXAMPLE["lines"][0]
    lines = [{**line, "id": f"l{n}"} for n in range(101)]

    response = api(customer_user).post(
        "/api/v1/credits/calculator/", {**EXAMPLE, "lines": lines}, format="json"
    )

    assert response.status_code == 400
    assert "lines" in response.json()

"""The typed environment readers: every Fernet-key setting is read and checked by one helper."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_fernet_keys

ROOT = Path(__file__).resolve().parents[2]
NAME = "LD_TEST_FERNET_KEYS"


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)


def test_keys_in_the_environment_are_read_in_order(monkeypatch):
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(NAME, f" {first} , {second} ")

    keys = env_fernet_keys(NAME, dev_salt="ignored", required=True)

    assert keys == [first, second]


def test_unset_in_development_derives_one_stable_key_from_the_salt(unset):
    keys = env_fernet_keys(NAME, dev_salt="connectors:dev-secret", required=True)

    assert len(keys) == 1
    assert keys == env_fernet_keys(NAME, dev_salt="connectors:dev-secret", required=True)
    assert keys != env_fernet_keys(NAME, dev_salt="personal-data:dev-secret", required=True)
    assert Fernet(keys[0]).decrypt(Fernet(keys[0]).encrypt(b"sealed")) == b"sealed"


def test_unset_in_production_a_setting_that_is_not_required_has_no_keys(unset):
    assert env_fernet_keys(NAME, dev_salt=None, required=False) == []


@pytest.mark.parametrize("value", [None, "", " , "])
def test_a_required_setting_without_keys_in_production_stops_the_start(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(NAME, raising=False)
    else:
        monkeypatch.setenv(NAME, value)

    with pytest.raises(ImproperlyConfigured, match=f"Set {NAME} to one or more Fernet keys"):
        env_fernet_keys(NAME, dev_salt=None, required=True)


@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ=", "x" * 44])
def test_a_bad_key_stops_the_start_naming_the_variable_and_never_the_value(
    monkeypatch, required, bad
):
    good = Fernet.generate_key().decode()
    monkeypatch.setenv(NAME, f"{good},{bad}")

    with pytest.raises(ImproperlyConfigured) as refused:
        env_fernet_keys(NAME, dev_salt="ignored", required=required)

    assert str(refused.value).startswith(f"{NAME} holds a value that is not a Fernet key")
    assert "entry 2 of 2" in str(refused.value)
    assert bad not in str(refused.value) and good not in str(refused.value)


@pytest.mark.parametrize("setting", ["CONNECTOR_SECRET_KEYS", "PERSONAL_DATA_KEYS"])
def test_a_bad_key_in_a_real_setting_stops_django_at_start(setting):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1",
           setting: "not-a-fernet-key"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode != 0
    assert f"{setting} holds a value that is not a Fernet key" in result.stderr

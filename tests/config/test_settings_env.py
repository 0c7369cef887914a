"""Issue 9: the limits an operator tunes are read from the environment, with the issue's
defaults when unset (API rates, token lifetime, session age, the audit checkpoints' folder)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["API_THROTTLE_USER", "API_THROTTLE_ANON", "API_TOKEN_HOURS", "SESSION_COOKIE_AGE",
         "AUDIT_CHECKPOINT_DIR"]  # fmt: skip
PRINT = (
    "from django.conf import settings as s; import json; print(json.dumps(["
    "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], s.API_TOKEN_HOURS, s.SESSION_COOKIE_AGE,"
    "s.AUDIT_CHECKPOINT_DIR]))"
)


def _settings(**env) -> list:
    base = {k: v for k, v in os.environ.items() if k not in NAMES}
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT}"], cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1", **env},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["API_TOKEN_HOURS", "SESSION_COOKIE_AGE"])
def test_a_limit_that_is_not_a_number_stops_the_start_naming_it(name):
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1",
             name: "a day"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode != 0 and f"{name} must be a whole number" in done.stderr


def test_rates_token_hours_and_session_age_come_from_the_environment():
    rates, hours, age, _ = _settings(API_THROTTLE_USER="7/minute", API_THROTTLE_ANON="3/minute",
                                  API_TOKEN_HOURS="2", SESSION_COOKIE_AGE="900")  # fmt: skip

    assert (rates["user"], rates["anon"], hours, age) == ("7/minute", "3/minute", 2, 900)


def test_unset_a_token_lives_24_hours_and_checkpoints_go_to_var_audit_in_the_project():
    _, hours, _, checkpoints = _settings()

    assert hours == 24
    assert checkpoints == str(ROOT / "var" / "audit")

"""Production settings pass Django's deployment checklist; CSP, and docs behind sign-in."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_manage_check_deploy_passes_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "licensedesk.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
        "SECRET_KEY": "throwaway-deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
        "AUDIT_HMAC_KEY": "throwaway-deploy-check-audit-0123456789abcdef",
        "AUDIT_SIGNING_KEY": "dGhyb3dhd2F5LWRlcGxveS1jaGVjay1zaWduaW5nLWs=",
        "PERSONAL_DATA_KEYS": "dGhyb3dhd2F5LWRlcGxveS1jaGVjay1wZXJzb25hbCE=",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_carry_a_content_security_policy_without_inline_scripts(client, manager):
    client.force_login(manager)

    response = client.get("/dashboard/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy


def test_the_api_docs_have_no_inline_script(client, analyst):
    client.force_login(analyst)

    html = client.get("/api/docs/").content.decode()

    assert "<script>" not in html.replace(" ", "")


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_are_behind_sign_in(client, url):
    response = client.get(url)

    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert response.url.startswith("/login/")

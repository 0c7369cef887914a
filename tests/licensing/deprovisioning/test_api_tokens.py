"""API-quota entitlements carry time-bound tokens, renewed until the contract ends."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing import services as licensing
from licensing.deprovisioning import services
from licensing.errors import DomainError
from licensing.models import ApiToken
from licensing.selectors import api_token_holder
from tests.factories import ContractFactory, EntitlementFactory


@pytest.fixture
def quota(db):
    return EntitlementFactory(contract=ContractFactory(grace_days=0), kind="api_quota",
                              unit="calls", quantity=100_000)  # fmt: skip


@pytest.fixture
def issued(quota, manager):
    return licensing.api_token_issue(actor=manager, entitlement_id=quota.pk, reason="Onboarding")


def test_an_issued_token_grants_its_entitlement_and_is_kept_only_hashed_and_sealed(quota, issued):
    token, plaintext = issued

    assert api_token_holder(plaintext, now=timezone.now()) == quota
    assert plaintext not in (token.token_hash, token.token_sealed, token.prefix + "x")
    assert token.expires_at == token.issued_at + timedelta(days=30)
    assert not hasattr(token.history.get(), "token_sealed")
    assert plaintext not in str(AuditEvent.objects.get(action="api_token.issue").data)


def test_only_api_quota_entitlements_carry_tokens(db, manager):
    seats = EntitlementFactory(kind="seat_pool")

    with pytest.raises(DomainError):
        licensing.api_token_issue(actor=manager, entitlement_id=seats.pk, reason="Try")

    assert not ApiToken.objects.exists()


def test_a_token_in_its_last_week_is_renewed_and_both_work_until_the_old_one_ends(
    issued, quota, pinned_clock
):
    token, plaintext = issued
    pinned_clock.shift(timedelta(days=24))

    counts = licensing.api_tokens_renew_due(now=timezone.now())
    again = licensing.api_tokens_renew_due(now=timezone.now())

    token.refresh_from_db()
    successor = token.renewed_by
    assert (counts, again) == ({"renewed": 1, "stopped": 0}, {"renewed": 0, "stopped": 0})
    assert successor.expires_at == token.expires_at + timedelta(days=30)
    assert api_token_holder(plaintext, now=timezone.now()) == quota
    assert AuditEvent.objects.get(action="api_token.renew").data["successor"] == successor.pk
    pinned_clock.shift(timedelta(days=7))
    assert api_token_holder(plaintext, now=timezone.now()) is None


def test_renewal_stops_at_termination_though_the_entitlement_still_runs(
    issued, quota, manager, today, pinned_clock
):
    token, plaintext = issued
    services.contract_terminate(actor=manager, contract_id=quota.contract_id, reason="Ended",
                                effective_date=today + timedelta(days=40), on=today)  # fmt: skip
    pinned_clock.shift(timedelta(days=24))

    counts = licensing.api_tokens_renew_due(now=timezone.now())

    token.refresh_from_db()
    quota.refresh_from_db()
    assert counts == {"renewed": 0, "stopped": 1}
    assert (quota.state, quota.renewal, token.renewed_by) == ("active", "none", None)
    # The token it has works out its time; no new one follows.
    assert api_token_holder(plaintext, now=timezone.now()) == quota
    assert ApiToken.objects.count() == 1


def test_revoking_the_entitlement_revokes_its_tokens_at_once(issued, quota, manager):
    token, plaintext = issued

    licensing.entitlement_transition(actor=manager, entitlement_id=quota.pk, transition="revoke",
                                     reason="Abuse")  # fmt: skip

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_holder(plaintext, now=timezone.now()) is None
    assert token.history.first().history_change_reason == "Abuse"
    assert AuditEvent.objects.get(action="api_token.revoke").object_id == str(token.pk)


def test_a_deprovisioning_run_revokes_tokens_under_its_policy(issued, quota, manager, today):
    token, plaintext = issued
    _, run = services.contract_terminate(actor=manager, contract_id=quota.contract_id,
                                         reason="Ended", on=today)  # fmt: skip

    services.run_advance(run_id=run.pk, on=today)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_holder(plaintext, now=timezone.now()) is None
    revoked = AuditEvent.objects.get(action="api_token.revoke")
    assert revoked.policy_version == "revocation/v1"
    assert licensing.api_tokens_renew_due(now=timezone.now() + timedelta(days=25)) == {
        "renewed": 0, "stopped": 0,
    }  # fmt: skip

"""The offer's and the resolution's guards as public refusals: the page says them before a
move is tried, and the service answers a refused move with the same words."""

from datetime import date

import pytest

from breaches.services import (
    breach_case_offer_refusal,
    breach_case_resolve_refusal,
    breach_case_transition,
    remediation_option_drop,
)
from licensing.errors import TransitionNotAllowed
from tests.breaches.support import ON, march_case, move, report_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(manager, customer_a):
    return move(manager, march_case(manager, customer_a), "review", "confirm")


def _drop_all(manager, case) -> None:
    for option in case.options.all():
        remediation_option_drop(actor=manager, option_id=option.pk, reason="Test: none left")


def test_a_case_with_an_option_left_may_be_offered(manager, confirmed):
    assert breach_case_offer_refusal(manager, confirmed) is None


def test_with_every_option_dropped_the_page_and_the_service_say_the_same_refusal(
    client, manager, confirmed
):
    _drop_all(manager, confirmed)
    refusal = breach_case_offer_refusal(manager, confirmed)
    client.force_login(manager)

    [offer] = [m for m in client.get(f"/breaches/cases/{confirmed.pk}/").context["moves"]
               if m["name"] == "offer"]  # fmt: skip
    with pytest.raises(TransitionNotAllowed) as refused:
        breach_case_transition(actor=manager, case_id=confirmed.pk, transition="offer",
                               reason="Try", on=ON)  # fmt: skip

    assert refusal.startswith("No option to offer")
    assert offer["blocker"] == refusal
    assert str(refused.value).startswith(refusal)


def test_a_case_in_remediation_is_resolvable_only_after_compliant_usage_is_reported(
    client, manager, confirmed
):
    case = move(manager, confirmed, "offer")
    case = move(manager, case, "agree", option="true_up")
    case = move(manager, case, "start_remediation")
    client.force_login(manager)

    refusal = breach_case_resolve_refusal(manager, case)
    [resolve] = [m for m in client.get(f"/breaches/cases/{case.pk}/").context["moves"]
                 if m["name"] == "resolve"]  # fmt: skip
    assert refusal == (
        "Not yet resolvable: no usage figure within the entitlement has been reported, since "
        "the agreement, for a day on or after 14 March 2026."
    )
    assert resolve["blocker"] == refusal

    report_usage(manager, case.entitlement, {date(2026, 3, 15): 48}, on=date(2026, 3, 16))

    assert breach_case_resolve_refusal(manager, case) is None
    resolved = breach_case_transition(actor=manager, case_id=case.pk, transition="resolve",
                                      reason="Back within", on=date(2026, 3, 16))  # fmt: skip
    assert resolved.state == "resolved"

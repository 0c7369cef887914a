from datetime import date
from decimal import Decimal

import pytest

from credits import services
from credits.models import ChangeRequest, Credit, CreditNoteSequence
from licensing.errors import DomainError
from licensing.roles import Role
from tests.factories import UserFactory
from tests.support import downgrade, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_approvals_of_one_step_issue_exactly_one_credit(manager, seat_contract):
    credit = downgrade(manager, seat_contract, 20).credit
    analysts = [UserFactory(username=f"analyst{i}", role=Role.FINANCE_ANALYST) for i in range(12)]

    outcomes = race([
        (lambda a=a: services.credit_approve(actor=a, credit_id=credit.pk)) for a in analysts
    ])  # fmt: skip

    issued = [o for o in outcomes if isinstance(o, Credit)]
    assert len(issued) == 1, outcomes
    assert all(isinstance(o, Credit | Exception) for o in outcomes)
    assert Credit.objects.get(pk=credit.pk).status == Credit.Status.ISSUED
    assert CreditNoteSequence.objects.get().last_number == 1


def test_simultaneous_requests_on_one_payment_never_exceed_it(manager, analyst, seat_contract):
    requesters = [manager, analyst]

    outcomes = race([
        (lambda u=u: downgrade(u, seat_contract, 0, effective=date(2026, 3, 1)))
        for u in requesters
    ])  # fmt: skip

    made = [o for o in outcomes if isinstance(o, ChangeRequest)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert made[0].total == Decimal("1500.00")
    assert "awaiting a decision" in str(refused[0])

"""Personas, `api` and `today` come from tests/conftest.py; here: entitlements and a past day."""

from datetime import date, timedelta

import pytest

from audit.models import AuditEvent
from breaches.models import UsageFigure, UsageReport
from tests.factories import ContractFactory, EntitlementFactory


@pytest.fixture
def day(today) -> date:
    """A day already past, so its usage may be reported."""
    return today - timedelta(days=3)


@pytest.fixture
def seats(customer_a):
    return EntitlementFactory(contract=ContractFactory(customer=customer_a), quantity=50)


@pytest.fixture
def other_seats(customer_b):
    return EntitlementFactory(contract=ContractFactory(customer=customer_b), quantity=5)


def stored() -> dict:
    """What a usage report writes, counted: a refused one must leave every count as it was."""
    return {
        "reports": UsageReport.objects.count(),
        "report_history": UsageReport.history.count(),
        "figures": UsageFigure.objects.count(),
        "figure_history": UsageFigure.history.count(),
        "audit": AuditEvent.objects.count(),
    }


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()

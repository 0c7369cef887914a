"""The suite's pinned clock: every test runs on PINNED_DAY (business time zone), whatever the
calendar says. Factories and tests state their dates relative to it, so the suite passes today,
next year and in CI's pass with the machine's clock moved two years ahead.
tests/fixtures/clock.py pins it for every test.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

# A Friday mid-November 2026, inside the factories' default term (2026) and after the
# reference policies took effect.
PINNED_DAY = date(2026, 11, 20)


def pinned_now() -> datetime:
    return datetime.combine(PINNED_DAY, time(9, 30), tzinfo=ZoneInfo(settings.TIME_ZONE))

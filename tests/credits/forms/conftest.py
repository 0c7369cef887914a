# The finance pages' fixtures (paid_contract, request_credit, ...) serve the credit forms too.
from tests.credits.pages.conftest import (  # noqa: F401
    credit,
    issued_credit,
    paid_contract,
    request_credit,
)

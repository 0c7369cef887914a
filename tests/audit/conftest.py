# The API tests share one signed-in client helper.
from tests.licensing.api.conftest import api  # noqa: F401

# The API tests share one signed-in client helper.
from tests.api.conftest import api  # noqa: F401

from tests.licensing.api.conftest import api  # noqa: F401  (the signed-in API client of the API tests)

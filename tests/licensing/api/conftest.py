import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """A client signed in as the given user through a real session, or anonymous for None.

    A session (rather than `force_authenticate`) reloads the user on every request, so no
    permission cache carries over from one request to the next.
    """

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return client_for

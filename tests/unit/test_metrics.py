"""Which entrypoint failures count as errors of the service."""

from shared.http import Problem
from shared.metrics import is_client_error


def test_client_errors_are_not_the_services_errors():
    assert is_client_error(Problem(404, "Not Found"))
    assert is_client_error(Problem(422, "Unprocessable Content"))
    assert not is_client_error(Problem(503, "Service Unavailable"))
    assert not is_client_error(ConnectionError("database down"))

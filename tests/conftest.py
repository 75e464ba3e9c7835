"""Test-wide set-up. Eventlet must patch the standard library before anything else imports it,
so plain `pytest` behaves like `nameko test`."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.keys",
    "tests.support.outage",
    "tests.support.receivers",
]

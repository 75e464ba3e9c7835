"""Test-wide set-up. Eventlet must patch the standard library before anything else imports it,
so plain `pytest` behaves like `nameko test`."""

import eventlet

eventlet.monkey_patch()

pytest_plugins = ["tests.support.fixtures"]

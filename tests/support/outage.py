"""Stopping and starting the real database server, for outage tests.

Only a server that `scripts/stack.sh` started (its PID recorded in .stack/) can be stopped:
the test says so plainly instead of pretending when the server belongs to someone else.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "scripts" / "stack.sh"


def stack_dir() -> Path:
    return Path(os.environ.get("TRACKER_STACK_DIR", ROOT / ".stack"))


class DatabaseServer:
    def __init__(self) -> None:
        pid_file = stack_dir() / "ferretdb.pid"
        if not pid_file.exists():
            pytest.fail(
                "the outage test stops the database server, so it needs the one that "
                "`make stack-up` (scripts/stack.sh) started; none is recorded in "
                f"{pid_file}"
            )

    def stop(self) -> None:
        subprocess.run([str(STACK), "ferretdb-stop"], check=True, capture_output=True)

    def start(self) -> None:
        subprocess.run([str(STACK), "ferretdb-start"], check=True, capture_output=True)


@pytest.fixture
def database_server():
    server = DatabaseServer()
    yield server
    server.start()  # whatever happened, leave the server running for the next test

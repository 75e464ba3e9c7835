"""A database server of the test's own, to stop and start in outage tests.

The shared servers (scripts/stack.sh) belong to everyone running tests, possibly from other
checkouts, so a test that stops its database gets a private FerretDB (the same patched build,
a free port, a temporary folder) and never touches theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.private_stack import PrivateFerretDB


@pytest.fixture
def database_server(tmp_path: Path) -> Iterator[PrivateFerretDB]:
    """A running private FerretDB; `.stop()` and `.start()` it, `.uri` to connect."""
    server = PrivateFerretDB.built(tmp_path / "ferretdb")
    server.start()
    try:
        yield server
    finally:
        server.stop()

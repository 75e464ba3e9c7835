"""The image's HEALTHCHECK finds the service's port from its command line and environment."""

from __future__ import annotations

import os

import pytest

from shared.config import config_path
from shared.probe import config_of, main, probe_url


def test_the_port_comes_from_the_services_own_config_and_environment(monkeypatch):
    cmdline = ["nameko", "run", "--config", str(config_path("tiering")), "services..."]
    monkeypatch.setenv("TIERING_HTTP_ADDRESS", "0.0.0.0:18002")
    assert probe_url(cmdline, config_path("tiering").parent, "live") == (
        "http://127.0.0.1:18002/health/live"
    )
    assert config_of(["nameko", "run", "--config=services/x/config.yaml"]) == (
        "services/x/config.yaml"
    )
    with pytest.raises(ValueError, match="no --config"):
        config_of(["nameko", "run"])


def test_a_process_that_is_no_service_is_unhealthy(capsys):
    environ = dict(os.environ)
    try:
        assert main(["live", "--pid", str(os.getpid())]) == 1
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert "live probe failed: ValueError: no --config" in capsys.readouterr().err

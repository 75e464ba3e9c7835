import logging
from importlib import import_module

import pytest
from nameko.containers import get_container_cls

from shared.config import (
    COMMON_CONFIG,
    ConfigError,
    config_path,
    from_env,
    load_config,
    load_service_config,
    read_yaml,
    resolve,
)
from shared.container import TrackerContainer

SERVICES = ["registry", "tiering", "incubators", "notifications", "auth", "portal"]


@pytest.fixture
def root_logging():
    """The root logger as it was before the test, put back after (a container configures it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_environment_overrides_and_defaults(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("AMQP_URI: ${TEST_AMQP:amqp://localhost/}\nPORT: ${TEST_PORT:8001}\n")
    monkeypatch.setenv("TEST_AMQP", "amqp://broker:5672/prod")
    assert load_config(path) == {"AMQP_URI": "amqp://broker:5672/prod", "PORT": 8001}


def test_registry_config_names_every_address(monkeypatch):
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/")
    config = load_service_config("registry")
    assert config["MONGODB_URI"] == "mongodb://db.example:27017/"
    assert config["WEB_SERVER_ADDRESS"].endswith(":8001")
    assert config["LOGGING"]["disable_existing_loggers"] is False


def test_a_secret_file_beside_its_key_replaces_it(tmp_path):
    secret = tmp_path / "amqp_uri"
    secret.write_text("amqp://tracker:s3cret@broker:5672/prod\n")
    config = resolve(
        {"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "AMQP_URI_FILE": str(secret)}
    )
    assert config == {"AMQP_URI": "amqp://tracker:s3cret@broker:5672/prod"}


def test_an_unset_secret_file_keeps_the_value_and_lone_file_settings_stay_paths():
    config = resolve(
        {
            "MONGODB_URI": "mongodb://db/",
            "MONGODB_URI_FILE": None,
            "SMTP": {"ca": "/etc/ca.pem", "host_file": "/nowhere"},
        }
    )
    assert config == {
        "MONGODB_URI": "mongodb://db/",
        "SMTP": {"ca": "/etc/ca.pem", "host_file": "/nowhere"},
    }


def test_nested_secret_files_and_an_unreadable_one_named_without_contents(tmp_path):
    password = tmp_path / "smtp_password"
    password.write_text("p@ss\n")
    config = resolve({"SMTP": {"password": "", "password_file": str(password)}})
    assert config["SMTP"] == {"password": "p@ss"}
    with pytest.raises(ConfigError) as caught:
        resolve({"SMTP": {"password": "", "password_file": str(tmp_path / "missing")}})
    assert "password_file" in str(caught.value) and "missing" in str(caught.value)


def test_amqps_turns_on_verified_tls_for_the_host():
    tls = {"ca": "/run/ca.pem", "cert": "/run/client.pem", "key": "/run/client.key"}
    config = resolve({"AMQP_URI": "amqps://u:p@rabbit.internal:5671/", "AMQP_TLS": tls})
    assert config["AMQP_SSL"] == {
        "server_hostname": "rabbit.internal",
        "ca_certs": "/run/ca.pem",
        "certfile": "/run/client.pem",
        "keyfile": "/run/client.key",
    }
    plain = resolve({"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "AMQP_TLS": tls})
    assert "AMQP_SSL" not in plain and "AMQP_TLS" not in plain


def container_of(service: str, config: dict) -> TrackerContainer:
    module = import_module(f"services.{service}.service")
    return TrackerContainer(getattr(module, f"{service.title()}Service"), config)


@pytest.mark.parametrize("service", SERVICES)
def test_services_run_in_the_container_that_resolves_their_config(
    service, tmp_path, monkeypatch, root_logging
):
    secret = tmp_path / "uri"
    secret.write_text("amqps://svc:pw@rabbit.example:5671/tracker")
    monkeypatch.setenv("AMQP_URI_FILE", str(secret))
    monkeypatch.setenv("AMQP_TLS_CA", "/run/secrets/ca.pem")
    raw = read_yaml(config_path(service))  # what `nameko run --config` hands the container
    assert get_container_cls(raw) is TrackerContainer
    container = container_of(service, raw)
    assert container.config["AMQP_URI"] == "amqps://svc:pw@rabbit.example:5671/tracker"
    assert container.config["AMQP_SSL"]["ca_certs"] == "/run/secrets/ca.pem"
    assert container.config == load_service_config(service)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_file_holds_only_its_own_settings_and_gets_every_common_one(service):
    own, common = read_yaml(config_path(service)), read_yaml(COMMON_CONFIG)
    assert not set(own) & set(common), "repeated from services/common.yaml"
    resolved_away = {"AMQP_TLS"} | {key for key in common if key.endswith("_FILE")}
    assert set(common) - resolved_away <= set(load_service_config(service))
    assert "LOGGING" not in own  # so the container applies the common one (below)


COMMON_FROM_ENVIRONMENT = {  # a setting of services/common.yaml: (its variable, value set)
    "MONGODB_TIMEOUT_MS": ("MONGODB_TIMEOUT_MS", 1234),
    "HEALTH_CHECK_INTERVAL_SECONDS": ("HEALTH_CHECK_INTERVAL_SECONDS", 7),
    "EVENT_RETRY_DELAYS_MS": ("EVENT_RETRY_DELAYS_MS", "10,20"),
    "AUTH_KEY_CACHE_SECONDS": ("AUTH_KEY_CACHE_SECONDS", 3),
}


@pytest.mark.parametrize("service", SERVICES)
def test_common_and_own_settings_are_overridden_from_the_environment(service, monkeypatch):
    for variable, value in COMMON_FROM_ENVIRONMENT.values():
        monkeypatch.setenv(variable, str(value))
    monkeypatch.setenv(f"{service.upper()}_HTTP_ADDRESS", "0.0.0.0:9999")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    config = load_service_config(service)
    for setting, (_, value) in COMMON_FROM_ENVIRONMENT.items():
        assert config[setting] == value, setting
    assert config["WEB_SERVER_ADDRESS"] == "0.0.0.0:9999"
    assert config["LOGGING"]["root"]["level"] == "DEBUG"


def test_the_container_applies_the_common_logging_that_nameko_run_did_not(
    monkeypatch, root_logging
):
    """`nameko run` applies only the LOGGING of the file it is given, which has none."""
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    root_logging.handlers[:] = []
    root_logging.setLevel(logging.WARNING)
    container_of("registry", read_yaml(config_path("registry")))
    assert root_logging.level == logging.DEBUG
    [console] = root_logging.handlers
    assert console.formatter._fmt == "%(asctime)s %(levelname)s %(name)s %(message)s"
    assert logging.getLogger("pymongo").level == logging.INFO  # never its DEBUG commands


def test_a_config_with_its_own_logging_is_left_as_nameko_run_configured_it(root_logging):
    root_logging.setLevel(logging.ERROR)
    own = {**read_yaml(config_path("registry")), "LOGGING": {"version": 1}}
    assert container_of("registry", own).config["LOGGING"] == {"version": 1}
    assert root_logging.level == logging.ERROR


def test_the_smtp_password_and_ca_come_from_the_environment(tmp_path, monkeypatch):
    password = tmp_path / "pw"
    password.write_text("from-a-file")
    monkeypatch.setenv("SMTP_PASSWORD_FILE", str(password))
    monkeypatch.setenv("SMTP_TLS_CA", "/run/secrets/smtp-ca.pem")
    smtp = load_service_config("notifications")["SMTP"]
    assert smtp["password"] == "from-a-file" and smtp["ca"] == "/run/secrets/smtp-ca.pem"


def test_the_tracker_command_reads_secret_files_too(tmp_path, monkeypatch):
    secret = tmp_path / "uri"
    secret.write_text("amqp://cli:pw@broker/\n")
    monkeypatch.setenv("AMQP_URI_FILE", str(secret))
    assert from_env("AMQP_URI", "amqp://default/") == "amqp://cli:pw@broker/"

from importlib import import_module

import pytest
from nameko.containers import get_container_cls

from shared.config import (
    ConfigError,
    config_path,
    from_env,
    load_config,
    load_service_config,
    resolve,
)
from shared.container import TrackerContainer


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


@pytest.mark.parametrize("service", ["registry", "tiering", "incubators", "notifications"])
def test_services_run_in_the_container_that_resolves_their_config(service, tmp_path, monkeypatch):
    secret = tmp_path / "uri"
    secret.write_text("amqps://svc:pw@rabbit.example:5671/tracker")
    monkeypatch.setenv("AMQP_URI_FILE", str(secret))
    monkeypatch.setenv("AMQP_TLS_CA", "/run/secrets/ca.pem")
    raw = load_config_unresolved(config_path(service))
    assert get_container_cls(raw) is TrackerContainer
    service_cls = import_module(f"services.{service}.service")
    container = TrackerContainer(getattr(service_cls, f"{service.title()}Service"), raw)
    assert container.config["AMQP_URI"] == "amqps://svc:pw@rabbit.example:5671/tracker"
    assert container.config["AMQP_SSL"]["ca_certs"] == "/run/secrets/ca.pem"
    assert load_service_config(service)["AMQP_URI"] == container.config["AMQP_URI"]


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


def load_config_unresolved(path):
    """What `nameko run --config` hands the container: the YAML with ${ENV} substituted."""
    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)

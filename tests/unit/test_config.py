from shared.config import load_config, load_service_config


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

"""Settings: defaults, TOML layout, environment overrides, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import ConfigError, Settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_contract() -> None:
    s = Settings.load(None, environ={})
    assert s.mqtt_protocol == "5"
    assert s.mqtt_topic_prefix == "cmms" and s.mqtt_site == "+"
    assert s.push_batch_size == 500 and s.push_batch_age_s == 2.0
    assert s.health_port == 0
    assert s.reading_topic == "cmms/+/+/reading"
    assert s.tick_topic == "cmms/+/machine/+/tick"
    assert s.client_id == "cmms-connector-c1"
    # a wildcard cannot be published to: the status topic uses "all"
    assert s.status_topic == "cmms/all/connector/c1/status"


def test_toml_tables_prefix_their_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
connector_id = "plant1-a"
store_path = "store.sqlite3"
[mqtt]
host = "broker"
port = 8883
tls = true
site = "plant1"
protocol = "3.1.1"
[odoo]
url = "http://odoo:8069"
db = "cmms"
[push]
batch_size = 100
batch_age_s = 0.5
""",
    )
    s = Settings.load(path, environ={})
    assert (s.mqtt_host, s.mqtt_port, s.mqtt_tls) == ("broker", 8883, True)
    assert s.mqtt_protocol == "3.1.1"
    assert (s.odoo_url, s.odoo_db) == ("http://odoo:8069", "cmms")
    assert (s.push_batch_size, s.push_batch_age_s) == (100, 0.5)
    assert s.status_topic == "cmms/plant1/connector/plant1-a/status"
    assert s.reading_topic == "cmms/plant1/+/reading"


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[mqtt]\nhost = "from-file"\nport = 1883\n')
    env = {
        "CMMS_MQTT_HOST": "from-env",
        "CMMS_MQTT_PORT": "11883",
        "CMMS_ODOO_URL": "http://o:8069",
        "CMMS_ODOO_DB": "db1",
        "CMMS_ODOO_LOGIN": "bot",
        "CMMS_ODOO_API_KEY": "k",
        "CMMS_STORE": "/data/c.sqlite3",
        "CMMS_MQTT_TLS": "yes",
        "CMMS_MQTT_USERNAME": "",
        "CMMS_PUSH_BATCH_AGE_S": "0.25",
        "UNRELATED": "x",
    }
    s = Settings.load(path, environ=env)
    assert (s.mqtt_host, s.mqtt_port) == ("from-env", 11883)
    assert (s.odoo_url, s.odoo_db, s.odoo_login, s.odoo_api_key) == (
        "http://o:8069",
        "db1",
        "bot",
        "k",
    )
    assert s.store_path == "/data/c.sqlite3"
    assert s.mqtt_tls is True
    assert s.mqtt_username is None
    assert s.push_batch_age_s == 0.25


def test_secrets_are_not_in_repr() -> None:
    s = Settings.load(None, environ={"CMMS_ODOO_API_KEY": "topsecret", "CMMS_MQTT_PASSWORD": "pw"})
    assert "topsecret" not in repr(s) and "pw'" not in repr(s)


@pytest.mark.parametrize(
    ("text", "env", "match"),
    [
        ('[mqtt]\nhots = "typo"\n', {}, "unknown setting"),
        ("", {"CMMS_MQTT_PORT": "abc"}, "mqtt_port"),
        ("", {"CMMS_MQTT_TLS": "maybe"}, "not a boolean"),
        ("", {"CMMS_MQTT_PROTOCOL": "4.0"}, "mqtt_protocol"),
        ("", {"CMMS_PUSH_BATCH_SIZE": "6000"}, "5000"),
        ("mqtt_port = 1.5\n", {}, "not an integer"),
        ("this is not toml", {}, "not TOML"),
    ],
)
def test_invalid_settings_are_refused(
    tmp_path: Path, text: str, env: dict[str, str], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        Settings.load(write(tmp_path, text), environ=env)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize("given", ["3.1.1", "311", "v3.1.1"])
def test_protocol_spellings(given: str) -> None:
    assert Settings(mqtt_protocol=given).mqtt_protocol == "3.1.1"


def test_shipped_example_loads() -> None:
    example = Path(__file__).resolve().parents[1] / "connector.example.toml"
    s = Settings.load(example, environ={})
    assert s.mqtt_site == "plant1" and s.odoo_url == "http://odoo:8069"
    assert s.status_topic == "cmms/plant1/connector/c1/status"

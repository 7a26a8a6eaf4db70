"""The service wired together, in-process, with a real broker and a fake Odoo."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connector.__main__ import main
from connector.config import Settings
from connector.ingest.pipeline import CONFIG_KEY
from connector.push.items import OutboxItem
from connector.service import Service
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, FakeOdoo, make_config
from devkit.broker import Mosquitto
from devkit.util import free_port, wait_until

T0 = 1795334400.0


def settings_for(broker: Mosquitto | None, odoo_url: str, tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "connector_id": "svc",
        "mqtt_host": "127.0.0.1",
        "mqtt_port": broker.port if broker else free_port(),
        "mqtt_site": "plant1",
        "store_path": str(tmp_path / "svc.sqlite3"),
        "odoo_url": odoo_url,
        "odoo_db": "cmms",
        "odoo_login": "connector",
        "odoo_api_key": FakeOdoo.API_KEY,
        "push_batch_age_s": 0.05,
        "push_retry_base_s": 0.05,
        "push_retry_max_s": 0.2,
        "heartbeat_s": 0.3,
        "config_poll_s": 0.2,
        "alert_clear_delay_s": 0.0,
        "health_port": free_port(),
        "shutdown_flush_s": 2.0,
    }
    base.update(kw)
    return Settings(**base)


class Running:
    """A service running in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.service = Service(settings)
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.service.run(install_signals=False)

    def stop(self) -> int | None:
        self.service.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()
        return self.code


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for r in started:
        if r.thread.is_alive():
            r.stop()


def publish(port: int, tag: str, rows: list[tuple[float, float]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = json.dumps([{"ts": T0 + t, "value": v, "unit": "bar"} for t, v in rows])
    client.publish(f"cmms/plant1/{tag}/reading", payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def get_health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_waits_for_odoo_then_runs_and_pushes(
    mosquitto: Mosquitto, fake_odoo: FakeOdoo, tmp_path: Path, running: list[Running]
) -> None:
    fake_odoo.down = 4  # no cached config: the service must wait for Odoo
    settings = settings_for(mosquitto, fake_odoo.url, tmp_path)
    run = Running(settings)
    running.append(run)
    assert run.service.ready.wait(10)
    assert wait_until(lambda: get_health(settings.health_port)[0] == 200, 10)
    publish(mosquitto.port, "PT-101", [(0, 6.0), (1, 10.5), (2, 10.6), (3, 6.0)])
    assert wait_until(
        lambda: (
            {i["type"] for i in fake_odoo.accepted.values()}
            >= {"alert_raised", "alert_cleared", "heartbeat"}
        ),
        10,
    )
    code, doc = get_health(settings.health_port)
    assert code == 200 and doc["mqtt_connected"] and doc["config_version"] == "v1"
    beat = next(i for i in fake_odoo.accepted.values() if i["type"] == "heartbeat")
    assert beat["key"].startswith("heartbeat:svc:")
    assert set(beat["data"]) == {
        "connector_id",
        "mqtt_connected",
        "backlog",
        "readings_per_s",
        "dead_letters",
        "heartbeat_interval_s",
    }
    assert beat["data"]["heartbeat_interval_s"] == settings.heartbeat_s
    assert run.stop() == 0
    with open_store(settings.store_path) as store:
        assert store.get_json(CONFIG_KEY)["version"] == "v1"
        assert store.counts()["readings"] == 4


def test_config_version_change_is_applied(
    mosquitto: Mosquitto, fake_odoo: FakeOdoo, tmp_path: Path, running: list[Running]
) -> None:
    settings = settings_for(mosquitto, fake_odoo.url, tmp_path)
    run = Running(settings)
    running.append(run)
    assert run.service.ready.wait(10)
    assert wait_until(run.service.mqtt.connected.is_set, 10)  # type: ignore[union-attr]
    publish(mosquitto.port, "PT-101", [(0, 8.5)])  # fine under v1 (warning at 9)
    fake_odoo.config = make_config("v2", dict(SENSOR_PT101, high_warning=8.0))
    assert wait_until(
        lambda: run.service.pipeline.config_version == "v2",  # type: ignore[union-attr]
        5,
    )
    publish(mosquitto.port, "PT-101", [(1, 8.5)])
    assert wait_until(lambda: any(k.endswith(":raised") for k in fake_odoo.accepted), 5)
    [raised] = [i for k, i in fake_odoo.accepted.items() if k.endswith(":raised")]
    assert raised["ts"] == "2026-11-22T08:00:01Z"
    assert raised["data"]["severity"] == "warning"


def test_starts_from_cached_config_while_odoo_is_down(
    mosquitto: Mosquitto, tmp_path: Path, running: list[Running]
) -> None:
    dead_odoo = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(mosquitto, dead_odoo, tmp_path)
    with open_store(settings.store_path) as store:
        store.set_json(CONFIG_KEY, make_config("cached", SENSOR_PT101))
    run = Running(settings)
    running.append(run)
    assert run.service.ready.wait(10)
    assert wait_until(run.service.mqtt.connected.is_set, 10)  # type: ignore[union-attr]
    publish(mosquitto.port, "PT-101", [(0, 12.0)])

    def queued() -> int:
        with open_store(settings.store_path) as s:
            return int(s.counts()["outbox_pending"])

    assert wait_until(lambda: queued() >= 1, 5)  # the alert waits for Odoo
    assert run.service.pipeline.config_version == "cached"  # type: ignore[union-attr]
    assert run.stop() == 0
    with open_store(settings.store_path) as store:
        keys = [r[0] for r in store.execute("SELECT key FROM outbox WHERE status = 'pending'")]
    assert "PT-101:rule_violation:2026-11-22T08:00:00Z:raised" in keys


def test_malformed_config_from_odoo_is_not_fatal(
    mosquitto: Mosquitto, fake_odoo: FakeOdoo, tmp_path: Path, running: list[Running]
) -> None:
    fake_odoo.config = {"version": "bad", "sensors": "not a list"}
    settings = settings_for(mosquitto, fake_odoo.url, tmp_path)
    run = Running(settings)
    running.append(run)
    assert not run.service.ready.wait(1.0)  # keeps asking, does not die
    assert run.thread.is_alive()
    fake_odoo.config = make_config("good", SENSOR_PT101)
    assert run.service.ready.wait(10)

    # a malformed version later is refused and the good one stays in use
    def config_calls() -> int:
        return len([c for c in fake_odoo.calls if c[2] == "get_connector_config"])

    key = "config:malformed:config 'sensors' is not a list"
    before, refused_before = config_calls(), run.service.log_once.counts()[key]
    fake_odoo.config = {"version": "bad2", "sensors": {"tag": "PT-101"}}
    assert wait_until(lambda: config_calls() >= before + 3, 10)
    assert run.service.pipeline.config_version == "good"  # type: ignore[union-attr]
    assert run.service.log_once.counts()[key] > refused_before  # bad2 was refused
    assert run.stop() == 0


def test_health_is_503_without_broker(
    fake_odoo: FakeOdoo, tmp_path: Path, running: list[Running]
) -> None:
    settings = settings_for(None, fake_odoo.url, tmp_path)
    run = Running(settings)
    running.append(run)
    assert run.service.ready.wait(10)
    assert wait_until(lambda: get_health(settings.health_port)[0] == 503, 5)
    assert get_health(settings.health_port)[1]["mqtt_connected"] is False
    assert run.stop() == 0


def test_cli_status_and_requeue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cli.sqlite3"
    conf = tmp_path / "c.toml"
    conf.write_text(f'store_path = "{path.as_posix()}"\n', encoding="utf-8")
    for name in [n for n in os.environ if n.startswith("CMMS_")]:
        monkeypatch.delenv(name)
    assert main(["status", "--config", str(conf)]) == 1  # no store yet
    with open_store(path) as store:
        store.add_outbox(
            [
                OutboxItem("a", "heartbeat", "2026-11-22T08:00:00Z", {}),
                OutboxItem("b", "heartbeat", "2026-11-22T08:00:00Z", {}),
            ]
        )
        [row, _] = store.fetch_pending(2)
        store.mark_rejected([(row.id, "bad")])
    capsys.readouterr()
    assert main(["status", "--config", str(conf), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert (counts["outbox_pending"], counts["outbox_rejected"]) == (1, 1)
    assert main(["requeue-rejected", "--config", str(conf)]) == 0
    assert "1 items" in capsys.readouterr().out
    assert main(["status", "--config", str(conf)]) == 0
    table = dict(line.split() for line in capsys.readouterr().out.splitlines())
    assert (table["outbox_pending"], table["outbox_rejected"]) == ("2", "0")


def test_cli_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text("nonsense = 1\n", encoding="utf-8")
    assert main(["run", "--config", str(conf)]) == 2
    assert "unknown setting" in capsys.readouterr().err

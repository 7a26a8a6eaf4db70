"""Nothing measured is lost: the telemetry path under faults, end to end.

The connector acknowledges an MQTT message only once it is committed to its
SQLite store, and its outbox drains into Odoo with retries and idempotency
keys; a fault may cost latency, never data. Each test runs the simulator, a
Mosquitto of its own (the shipped configuration, persistence on), the
connector as a process and a real Odoo, injects one kind of fault while the
readings flow, and then checks:

* every reading the simulator published is in the connector's store exactly
  once, with its timestamp and value, and every FLEXO tick too (what was
  published comes from ``python -m simulator dump`` with the same scenario,
  seed and duration, cut where the run stopped); no dead letter;
* the alert items of the outbox are those the connector's own pipeline
  derives from the same readings when nothing goes wrong: the same
  idempotency keys, in the same order for each tag and alert type (not
  after SIGKILL, see ``test_connector_sigkill_mid_stream``);
* Odoo holds every key of the outbox once (``cmms.ingest.key``) and no other;
  one ``cmms.alert`` per equipment and alert type, whose occurrence count is
  the number of ``alert_raised`` items, whose condition is that of the last
  item, and to which every item of that tag and type was applied.

A fault that must happen while the readings flow does not race a stream of
fixed wall-clock length: the simulator runs open-ended (several times the
scenario's duration) and the test stops it (SIGTERM: it sends nothing more
and waits for the acknowledgements of what it sent) once the fault is over
and the connector has stored at least the scenario's readings. The stream is
then never shorter than the scenario, however slow the machine, and the
reference is what the connector's pipeline makes of what was published: the
dump's first readings and ticks, as many as the simulator reports.

Where a fault needs a backlog (a burst, a broker restart with messages
queued), the connector is stalled with SIGSTOP for a few seconds: on two
cores it keeps pace with a publisher at full speed, so without a stall the
broker would hold next to nothing.

Data-gap alerts are timer-driven (wall clock) and would fire whenever the
stream pauses, which these tests do on purpose: the sensors of the test's
database expect a reading hourly. That makes the CUSUM windows one reading
long, so drift alerts are raised and cleared often: welcome here, where
alerts should flow, and deterministic, since the reference is computed by the
same detectors.

The two tests at the end reproduce, on their own and deterministically, two
defects the fault tests ran into (both fixed): detector state lost at a
restart, and a stale ingest request racing its retry in Odoo.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.config import Settings
from connector.ingest.pipeline import Pipeline
from connector.push.odoo_client import OdooClient
from connector.store import open_store
from devkit import stack
from devkit.util import wait_progress, wait_until

ROOT = Path(__file__).resolve().parent.parent

ALERT_TYPES = ("alert_raised", "alert_active", "alert_cleared")
#: How many times its scenario's duration an open-ended run may last: far
#: longer than any fault phase takes; the test stops it long before.
OPEN_ENDED = 8
#: The simulator's FLEXO 104 is equipment FLX-104 in the demo data.
FLEXO_TAGS = "FLEXO_104=FLX-104"


def epoch(iso: str) -> float:
    """ISO 8601 UTC (``...Z``) to epoch seconds, independently of the connector."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def query(store: Path, sql: str, *params: Any) -> list[tuple]:
    """Read the connector's store (WAL: readers do not disturb the writer)."""
    if not store.exists():
        return []
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def stored_readings(store: Path) -> list[tuple[str, float, int | None, float]]:
    """``(tag, ts, seq, value)`` of every reading in the connector's store."""
    if not store.exists():
        return []
    with open_store(store) as s:
        return [(r.tag, r.ts, r.seq, r.value) for r in s.iter_readings()]


def count(store: Path, table: str, where: str = "1=1") -> int:
    rows = query(store, f"SELECT count(*) FROM {table} WHERE {where}")
    return rows[0][0] if rows else 0


def odoo_rows(server, sql: str) -> list[dict]:
    """Rows of a query on Odoo's database, straight from PostgreSQL."""
    pg = server.odoo.pg
    out = pg.psql(f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) t", db=server.db)
    return json.loads(out)


# -- what the simulator publishes, and what the connector must make of it -------


@dataclass
class Expected:
    readings: dict[tuple[str, int], tuple[float, float]]  # (tag, seq) -> (ts, value)
    rows: list[dict]  # in publishing order
    ticks: list[str]  # payloads as published
    labels: list[dict]  # the faults of the whole dump

    @classmethod
    def of(cls, rows: list[dict], ticks: list[str], labels: list[dict]) -> Expected:
        readings = {(r["tag"], r["seq"]): (round(epoch(r["ts"]), 3), r["value"]) for r in rows}
        assert len(readings) == len(rows), "the dump names each (tag, seq) once"
        return cls(readings=readings, rows=rows, ticks=ticks, labels=labels)

    def head(self, readings: int, ticks: int = 0) -> Expected:
        """The first readings and ticks: what a run stopped early published
        (the simulator publishes in the dump's order and stops between two)."""
        assert readings <= len(self.rows) and ticks <= len(self.ticks)
        return Expected.of(self.rows[:readings], self.ticks[:ticks], self.labels)


class Simulator:
    """``python -m simulator``: the dump of a run, and the run itself.

    An *open_ended* run goes on past the scenario's *duration* (up to
    ``OPEN_ENDED`` times it) until the test stops it (:meth:`stop`); its
    dump covers the whole length, of which the test keeps what was published
    (:meth:`published`)."""

    def __init__(
        self, workdir: Path, scenario: str, seed: int, duration: float, open_ended: bool = False
    ):
        self.workdir = workdir
        self.duration = duration
        # The scenario's simulated time ends about now (the connector's local
        # history and Odoo see recent readings, as in production; an
        # open-ended run goes on into the near future); the same start for
        # the dump and the run gives the same values.
        start = datetime.fromtimestamp((time.time() - duration) // 60 * 60, UTC)
        self.start_iso = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        length = duration * OPEN_ENDED if open_ended else duration
        self.args = [
            "--scenario", scenario, "--seed", str(seed), "--duration", str(length),
            "--start", self.start_iso,
        ]  # fmt: skip
        self.proc: subprocess.Popen | None = None
        self.out = workdir / "simulator.out"

    def dump(self) -> Expected:
        readings, ticks, labels = (self.workdir / f"dump-{n}.jsonl" for n in "rtl")
        subprocess.run(
            [sys.executable, "-m", "simulator", "dump", *self.args, "--out", str(readings),
             "--ticks", str(ticks), "--labels", str(labels)],
            cwd=ROOT, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        return Expected.of(
            [json.loads(line) for line in readings.read_text().splitlines()],
            ticks.read_text().splitlines(),
            [json.loads(line) for line in labels.read_text().splitlines()],
        )

    def scenario_readings(self, dump: Expected) -> int:
        """How many readings of the dump fall within the scenario's duration."""
        end = epoch(self.start_iso) + self.duration
        return sum(epoch(row["ts"]) < end for row in dump.rows)

    def start(self, port: int, rate: str, *extra: str) -> None:
        with self.out.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "simulator", "run", *self.args, "--rate", rate,
                 "--batch", "1", "--host", "127.0.0.1", "--port", str(port), *extra],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float = 300) -> dict[str, str]:
        """Wait for the end of the run; its summary (``messages acknowledged`` ...)."""
        assert self.proc is not None
        rc = self.proc.wait(timeout)
        text = self.out.read_text()
        assert rc == 0, f"the simulator did not get every message acknowledged:\n{text}"
        return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)

    def stop(self, timeout: float = 120) -> dict[str, str]:
        """End the run (SIGTERM: nothing more is sent, what was sent is
        acknowledged); its summary."""
        assert self.proc is not None
        if self.running():
            self.proc.terminate()
        return self.wait(timeout)

    @staticmethod
    def published(dump: Expected, summary: dict[str, str]) -> Expected:
        """What a run stopped early published: the dump's first readings and ticks."""
        readings = int(summary["readings"])
        assert int(summary["readings acknowledged"]) == readings
        return dump.head(readings, int(summary["ticks"]))

    def close(self) -> None:
        if self.proc is not None and self.running():
            self.proc.kill()
            self.proc.wait(10)


class Connector:
    """``python -m connector run`` as a process, on a fixed store and client id."""

    def __init__(self, server, broker: stack.Mosquitto, workdir: Path, name: str, **env: str):
        self.store = workdir / "connector.sqlite3"
        self.log_path = workdir / "connector.log"
        self.health_port = stack.free_port()
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "CMMS_CONNECTOR_ID": name,
            "CMMS_MQTT_HOST": "127.0.0.1",
            "CMMS_MQTT_PORT": str(broker.port),
            "CMMS_MQTT_CLIENT_ID": f"{name}-client",
            "CMMS_MQTT_RECONNECT_MAX_S": "2",
            "CMMS_ODOO_URL": server.url,
            "CMMS_ODOO_DB": server.db,
            "CMMS_ODOO_LOGIN": "cmms_connector",
            "CMMS_ODOO_API_KEY": server.api_key,
            "CMMS_STORE": str(self.store),
            "CMMS_PUSH_BATCH_AGE_S": "0.5",
            "CMMS_PUSH_RETRY_MAX_S": "2",
            "CMMS_HEARTBEAT_S": "2",
            "CMMS_HEALTH_PORT": str(self.health_port),
            "CMMS_FLEXO_MACHINE_TAGS": FLEXO_TAGS,
            **env,
        }

    def health(self) -> dict:
        try:
            url = f"http://127.0.0.1:{self.health_port}/health"
            with urllib.request.urlopen(url, timeout=2) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:  # 503 while not connected
            return json.loads(exc.read())
        except OSError:
            return {}

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "connector", "run"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        def subscribed():
            assert self.proc is not None
            assert self.proc.poll() is None, f"the connector exited:\n{self.log()}"
            return self.health().get("mqtt_connected")

        wait_until(subscribed, timeout, "the connector's MQTT subscription")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM: a clean stop flushes the outbox and exits 0."""
        assert self.proc is not None
        self.proc.terminate()
        try:
            assert self.proc.wait(60) == 0, f"SIGTERM stops the connector cleanly:\n{self.log()}"
        finally:
            self.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    # -- the store -------------------------------------------------------------

    def readings(self) -> int:
        rows = query(self.store, "SELECT coalesce(sum(n), 0) FROM reading_chunks")
        return int(rows[0][0]) if rows else 0

    def outbox(self, where: str = "1=1") -> list[dict]:
        rows = query(
            self.store,
            f"SELECT id, key, type, data, status, attempts FROM outbox WHERE {where} ORDER BY id",
        )
        return [
            {"id": i, "key": k, "type": t, "data": json.loads(d), "status": s, "attempts": a}
            for i, k, t, d, s, a in rows
        ]

    def pending_alerts(self) -> int:
        return count(self.store, "outbox", "status = 'pending' AND type LIKE 'alert_%'")

    def last_outbox_id(self) -> int:
        rows = query(self.store, "SELECT ifnull(max(id), 0) FROM outbox")
        return rows[0][0] if rows else 0


class ReadingCounter:
    """A plain subscriber counting the readings the broker receives, so that a
    test waits for "this many more readings were published" instead of sleeping."""

    def __init__(self, port: int):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.count = 0
        self._subscribed = threading.Event()
        self.client: mqtt.Client | None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe("cmms/+/+/reading", qos=0)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(30), "the counting subscriber did not subscribe"

    def _on_message(self, client, userdata, msg) -> None:
        body = json.loads(msg.payload)
        self.count += len(body) if isinstance(body, list) else 1

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None


# -- set-up ------------------------------------------------------------------------


def prepare_odoo(server) -> dict:
    """Sensors expecting hourly readings (no data-gap alerts when the stream
    pauses); the configuration the connector will pull."""
    sensor_ids = server.admin("cmms.sensor", "search", [])
    assert len(sensor_ids) >= 4, "the demo data has the simulator's four instruments"
    server.admin("cmms.sensor", "write", sensor_ids, {"interval_s": 3600.0})
    return OdooClient(
        server.url, server.db, "cmms_connector", server.api_key
    ).get_connector_config()


def reference_alerts(config: dict, expected: Expected) -> list[dict]:
    """The alert items the connector's pipeline makes of the readings, fault-free."""
    s = Settings()
    pipeline = Pipeline(
        open_store(":memory:"), s.mqtt_topic_prefix, s.alert_active_interval_s,
        s.alert_clear_delay_s, s.cusum_baseline_n, s.cusum_window_s,
    )  # fmt: skip
    pipeline.apply_config(config, persist=False)
    messages = []
    for row in expected.rows:
        payload = {k: v for k, v in row.items() if k != "tag"}
        messages.append((f"cmms/plant1/{row['tag']}/reading", json.dumps(payload).encode()))
    for start in range(0, len(messages), 500):
        pipeline.process(messages[start : start + 500])
    rows = pipeline.store.execute(
        "SELECT key, type, data FROM outbox WHERE type LIKE 'alert_%' ORDER BY id"
    )
    return [{"key": k, "type": t, "data": json.loads(d)} for k, t, d in rows]


def by_alert(items: list[dict]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Alert items grouped by (tag, alert type), in outbox order."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for item in items:
        if item["type"] in ALERT_TYPES:
            out[item["data"]["tag"], item["data"]["alert_type"]].append((item["key"], item["type"]))
    return dict(out)


# -- the checks ------------------------------------------------------------------


def assert_store_complete(connector: Connector, expected: Expected) -> None:
    """Every published reading and tick is in the store exactly once."""
    rows = stored_readings(connector.store)
    keys = Counter((tag, round(ts, 3), seq) for tag, ts, seq, _ in rows)
    doubled = [k for k, n in keys.items() if n > 1]
    assert not doubled, f"{len(doubled)} readings stored twice: {doubled[:5]}"
    stored = {(tag, seq): (round(ts, 3), value) for tag, ts, seq, value in rows}
    assert len(stored) == len(rows), "a (tag, seq) stored twice"
    missing = sorted(set(expected.readings) - set(stored))
    extra = sorted(set(stored) - set(expected.readings))
    assert not missing, (
        f"{len(missing)} of {len(expected.readings)} published readings are not in the "
        f"store, e.g. {missing[:10]}"
    )
    assert not extra, f"{len(extra)} readings nobody published: {extra[:10]}"
    wrong = [k for k, v in expected.readings.items() if stored[k] != v]
    assert not wrong, f"{len(wrong)} readings stored with another ts or value: {wrong[:5]}"
    ticks = [p for (p,) in query(connector.store, "SELECT payload FROM ticks")]
    assert Counter(ticks) == Counter(
        expected.ticks
    ), f"{len(ticks)} ticks stored, {len(expected.ticks)} published"
    assert count(connector.store, "dead_letters") == 0


def first_difference(got: list, want: list) -> str:
    at = next(
        (i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
        min(len(got), len(want)),
    )
    return (
        f"{len(got)} items, expected {len(want)}; from item {at}: "
        f"{got[at : at + 3]} instead of {want[at : at + 3]}"
    )


def assert_alerts_as_reference(connector: Connector, reference: list[dict]) -> None:
    """The outbox holds the fault-free run's alert items: same keys, same order."""
    got, want = by_alert(connector.outbox()), by_alert(reference)
    assert sum(len(v) for v in want.values()) >= 10, "the scenario makes alerts flow"
    assert set(got) == set(want), f"alerts on {sorted(got)}, expected {sorted(want)}"
    for pair, items in want.items():
        assert got[pair] == items, f"{pair}: {first_difference(got[pair], items)}"


def assert_alert_episodes(items: list[dict]) -> None:
    """Per tag and type: raised, active 1, 2, ..., cleared, raised ... with the
    keys of the episode's raise; never a second raise of an open alert."""
    for pair, seq in by_alert(items).items():
        open_as, actives = None, 0
        for key, kind in seq:
            if kind == "alert_raised":
                assert open_as is None, f"{pair}: {key} raised while {open_as} is open"
                open_as, actives = key.removesuffix(":raised"), 0
            elif kind == "alert_active":
                actives += 1
                assert key == f"{open_as}:active:{actives}", f"{pair}: {key} in {open_as}"
            else:
                assert key == f"{open_as}:cleared", f"{pair}: {key} clears {open_as}"
                open_as = None


def assert_odoo_holds_the_outbox_once(server, connector: Connector) -> None:
    outbox = connector.outbox()
    status = Counter(i["status"] for i in outbox)
    assert set(status) == {"sent"}, f"the outbox is not drained: {status}"
    keys = odoo_rows(server, "SELECT key, item_type, alert_id FROM cmms_ingest_key")
    held = Counter(k["key"] for k in keys)
    assert max(held.values()) == 1
    sent = {i["key"]: i["type"] for i in outbox}
    assert len(sent) == len(outbox)
    assert {k["key"]: k["item_type"] for k in keys} == sent, (
        f"Odoo lacks {sorted(set(sent) - set(held))[:5]}, "
        f"has unknown {sorted(set(held) - set(sent))[:5]}"
    )
    alert_of_key = {k["key"]: k["alert_id"] for k in keys}
    everything = odoo_rows(server, "SELECT equipment_id, alert_type FROM cmms_alert")
    per_equipment = Counter((a["equipment_id"], a["alert_type"]) for a in everything)
    assert max(per_equipment.values(), default=1) == 1, f"two alerts for one: {per_equipment}"
    # The instruments' alerts (the FLEXO's come from health snapshots).
    alerts = odoo_rows(
        server,
        "SELECT a.id, s.tag, a.alert_type, a.occurrence_count, a.condition, a.state "
        "FROM cmms_alert a JOIN cmms_sensor s ON s.id = a.sensor_id",
    )
    per_pair = Counter((a["tag"], a["alert_type"]) for a in alerts)
    items = by_alert(outbox)
    assert set(per_pair) == set(items), f"Odoo alerts {sorted(per_pair)} != {sorted(items)}"
    for alert in alerts:
        pair = (alert["tag"], alert["alert_type"])
        kinds = [kind for _, kind in items[pair]]
        assert alert["occurrence_count"] == kinds.count("alert_raised"), (
            f"{pair}: occurrence count {alert['occurrence_count']} in Odoo, "
            f"{kinds.count('alert_raised')} raised in the outbox"
        )
        last = "cleared" if kinds[-1] == "alert_cleared" else "active"
        assert alert["condition"] == last, f"{pair}: {alert['condition']}, last item {kinds[-1]}"
        applied_to = {alert_of_key[key] for key, _ in items[pair]}
        assert applied_to == {alert["id"]}, f"{pair}: items applied to alerts {applied_to}"


def end_stream(sim: Simulator, connector: Connector, dump: Expected) -> tuple[Expected, dict]:
    """Stop an open-ended run once the connector has stored the scenario's
    readings (waiting as long as they come in); what was published, and the
    run's summary."""
    scenario = sim.scenario_readings(dump)
    stored = wait_progress(lambda: min(connector.readings(), scenario), scenario, idle=30)
    assert stored, f"the connector stored {connector.readings()} of the scenario's {scenario}"
    summary = sim.stop()
    return sim.published(dump, summary), summary


def settle(connector: Connector, expected: Expected, timeout: float = 240, idle: float = 15):
    """Wait until everything published is stored and every alert item is in
    Odoo, or until nothing moves any more (the checks then say what is
    missing)."""
    wait_progress(
        lambda: (connector.readings(), count(connector.store, "ticks"), connector.pending_alerts()),
        (len(expected.readings), len(expected.ticks), 0),
        idle=idle,
        timeout=timeout,
    )


@pytest.fixture
def rig(odoo_server, own_broker, tmp_path):
    """Odoo, a broker, the simulator and the connector, cleaned up afterwards."""
    made: list = []

    def make(
        scenario: str, seed: int, duration: float, name: str, open_ended: bool = False, **env: str
    ):
        config = prepare_odoo(odoo_server)
        sim = Simulator(tmp_path, scenario, seed, duration, open_ended)
        connector = Connector(odoo_server, own_broker, tmp_path, name, **env)
        made.extend([sim, connector])
        return config, sim, connector

    yield make
    for thing in made:
        thing.close()


# -- the tests ---------------------------------------------------------------------


def freeze(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGSTOP)


def thaw(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGCONT)


def test_burst_far_above_the_connector_rate(rig, odoo_server, own_broker):
    """24k readings as fast as the broker acknowledges them, while the
    connector stalls: the backlog waits in the broker, then in the store;
    nothing is dropped."""
    config, sim, connector = rig("mixed", 3, 6000, "burst")
    expected = sim.dump()
    assert len(expected.readings) > 20000
    reference = reference_alerts(config, expected)
    connector.start()
    t0 = time.monotonic()
    sim.start(own_broker.port, "max")
    # On two cores the connector keeps pace with one publisher at full
    # speed; a stall (slow disk, long pause) leaves the burst to the broker.
    wait_until(lambda: connector.readings() >= 2000, 60, "the first readings stored")
    freeze(connector.proc)
    try:
        summary = sim.wait()
        published_s = time.monotonic() - t0
        stored = connector.readings()
    finally:
        thaw(connector.proc)
    assert int(summary["readings acknowledged"]) == len(expected.readings)
    # Ten times Mosquitto's default queue (1000 messages, the rest silently
    # dropped) waited for the connector's session.
    assert len(expected.readings) - stored > 10000
    settle(connector, expected, 240)
    print(
        f"\nburst: {len(expected.readings)} readings published in {published_s:.1f}s "
        f"({summary['readings/s']}/s), {stored} stored by then; all stored and their "
        f"alerts in Odoo after {time.monotonic() - t0:.1f}s"
    )
    connector.stop()
    assert_store_complete(connector, expected)
    assert_alerts_as_reference(connector, reference)
    assert_odoo_holds_the_outbox_once(odoo_server, connector)


def odoo_pairs(server) -> set[tuple[str, str]]:
    rows = odoo_rows(
        server,
        "SELECT s.tag, a.alert_type FROM cmms_alert a JOIN cmms_sensor s ON s.id = a.sensor_id",
    )
    return {(r["tag"], r["alert_type"]) for r in rows}


def test_odoo_down_restarted_and_slow_mid_stream(rig, odoo_server, own_broker):
    """Odoo stopped and started again (same port, same database) while
    readings and alerts flow; later frozen beyond the connector's RPC timeout,
    so that its stale requests are applied when it wakes up, concurrently
    with their retries, which must find them as duplicates."""
    config, sim, connector = rig(
        "catalogue", 0, 1800, "odoo-down", open_ended=True, CMMS_ODOO_TIMEOUT_S="2"
    )
    dump = sim.dump()
    scenario = dump.head(sim.scenario_readings(dump))
    connector.start()
    sim.start(own_broker.port, "40")  # the scenario in 45 s of wall time, then on until stopped
    odoo = odoo_server.odoo
    sent_alerts = "status = 'sent' AND type LIKE 'alert_%'"
    wait_until(lambda: count(connector.store, "outbox", sent_alerts), 60, "an alert in Odoo")

    # Down: stopped while the stream goes on (until readings were stored and
    # alerts raised meanwhile), then started again.
    odoo.stop()
    stopped_at, pending_at_stop = connector.readings(), connector.pending_alerts()
    wait_until(
        lambda: connector.readings() > stopped_at and connector.pending_alerts() > pending_at_stop,
        120, "readings stored and alerts raised while Odoo is down",
    )  # fmt: skip
    restarted_at, pending_while_down = connector.readings(), connector.pending_alerts()
    odoo.serve_again()
    assert sim.running(), "the stream went on until after Odoo's restart"
    assert stopped_at < restarted_at
    assert pending_while_down > pending_at_stop, "alerts were raised while Odoo was down"
    wait_until(lambda: not connector.pending_alerts(), 60, "the alerts of the outage in Odoo")

    # Slow: Odoo accepts connections but answers nothing for 6 s. Frozen once
    # every instrument alert exists in Odoo (see test_ingest_race_...: two
    # transactions creating the same alert at once lose items).
    pairs = set(by_alert(reference_alerts(config, scenario)))
    wait_until(lambda: odoo_pairs(odoo_server) >= pairs, 60, "an alert of every kind in Odoo")
    frozen_at = connector.readings()
    assert sim.running(), "Odoo freezes while readings flow"
    timeouts = connector.log(1_000_000).count("timed out")
    freeze(odoo.proc)
    try:
        # Frozen beyond the connector's RPC timeout: until a push timed out
        # and alert items wait for their retry.
        wait_until(
            lambda: connector.log(1_000_000).count("timed out") > timeouts
            and any(i["attempts"] and i["type"] in ALERT_TYPES for i in connector.outbox()),
            120, "a push to the frozen Odoo timed out, with alert items to retry",
        )  # fmt: skip
    finally:
        thaw(odoo.proc)
    expected, _ = end_stream(sim, connector, dump)
    reference = reference_alerts(config, expected)
    total = len(expected.readings)
    settle(connector, expected, 120)
    print(
        f"\nodoo: stopped at {stopped_at}, restarted at {restarted_at}, frozen at "
        f"{frozen_at} of {total} readings; alert items pending: {pending_at_stop} at the "
        f"stop, {pending_while_down} before the restart"
    )
    assert frozen_at < total
    log = connector.log(1_000_000)
    assert "timed out" in log, "the freeze outlasted the connector's RPC timeout"
    retried = [i for i in connector.outbox() if i["attempts"] and i["type"] in ALERT_TYPES]
    assert retried, "alert items were retried"
    connector.stop()
    assert_store_complete(connector, expected)
    assert_alerts_as_reference(connector, reference)
    assert_odoo_holds_the_outbox_once(odoo_server, connector)


def test_broker_restart_mid_stream(rig, odoo_server, own_broker):
    """Mosquitto stopped and started again (same port, same persistence
    folder) with thousands of messages queued for the connector: the
    connector reconnects, resumes its session and gets every one; the
    publisher's unacknowledged messages are sent again."""
    config, sim, connector = rig("catalogue", 1, 1800, "broker", open_ended=True)
    dump = sim.dump()
    connector.start()
    counter = ReadingCounter(own_broker.port)
    # The scenario in 12 s of wall time (600 readings/s), then on until stopped.
    sim.start(own_broker.port, "150")
    wait_until(lambda: connector.readings() >= 1000, 60, "the first readings stored")
    # The connector stalls until about 1800 messages queue up for it (3 s of
    # the stream), the broker restarts meanwhile.
    freeze(connector.proc)
    try:
        stored = connector.readings()
        wait_until(lambda: counter.count - stored >= 1800, 120, "1800 readings queued")
        counter.close()
        stored = connector.readings()
        own_broker.restart(pause_s=1)
    finally:
        counter.close()
        thaw(connector.proc)
    assert sim.running(), "the stream went on after the broker's restart"
    # It goes on until the scenario's readings are stored, well past the
    # restart (about 2,800 of them stored then).
    expected, summary = end_stream(sim, connector, dump)
    reference = reference_alerts(config, expected)
    total = len(expected.readings)
    assert int(summary["readings acknowledged"]) == total
    settle(connector, expected, 120)
    print(f"\nbroker: restarted with {stored} of {total} readings stored")
    connector.stop()
    assert_store_complete(connector, expected)
    assert "session resumed" in connector.log(1_000_000), "the broker kept the session"
    assert_alerts_as_reference(connector, reference)
    assert_odoo_holds_the_outbox_once(odoo_server, connector)


def test_connector_sigkill_mid_stream(rig, odoo_server, own_broker):
    """The connector killed with SIGKILL three times while readings flow and
    started again on the same store and MQTT client id.

    Alerts are compared with the fault-free run only up to the first kill: a
    restarted connector's detectors learn again (see
    ``test_restart_keeps_an_ongoing_drift_alert_open``). After that, each
    alert must go on where it was (no second raise of an open alert) and be
    in Odoo exactly once.
    """
    config, sim, connector = rig("catalogue", 2, 1800, "sigkill", open_ended=True)
    dump = sim.dump()
    connector.start()
    counter = ReadingCounter(own_broker.port)
    # The scenario in 72 s of wall time, then on until stopped: the three
    # restarts happen while readings flow however long each one takes.
    sim.start(own_broker.port, "25")
    kills, first_life = [], None
    try:
        for threshold in (1500, 3000, 4500):

            def stored(t: int = threshold) -> bool:
                return connector.readings() >= t

            wait_until(stored, 60, f"{threshold} readings")
            assert sim.running(), "killed while readings flow"
            connector.kill()
            kills.append(connector.readings())
            first_life = first_life or connector.last_outbox_id()
            # Messages queue up in the broker meanwhile (300 readings, 3 s of the stream).
            published = counter.count

            def queued(p: int = published) -> bool:
                return counter.count >= p + 300

            wait_until(queued, 60, "readings queued")
            connector.start()
    finally:
        counter.close()
    expected, summary = end_stream(sim, connector, dump)
    reference = reference_alerts(config, expected)
    total = len(expected.readings)
    assert int(summary["readings acknowledged"]) == total
    settle(connector, expected, 120)
    print(f"\nsigkill: killed at {kills} of {total} readings")
    connector.stop()
    assert_store_complete(connector, expected)
    assert_odoo_holds_the_outbox_once(odoo_server, connector)
    outbox = connector.outbox()
    assert_alert_episodes(outbox)
    before = by_alert([i for i in outbox if i["id"] <= first_life])
    want = by_alert(reference)
    assert sum(len(v) for v in before.values()) >= 5
    for pair, items in before.items():
        assert items == want[pair][: len(items)], f"{pair}: {first_difference(items, want[pair])}"


# -- bugs found by the tests above, reproduced on their own ----------------------


def test_restart_keeps_an_ongoing_drift_alert_open(rig, odoo_server, own_broker):
    """A clean restart (SIGTERM) while PT-101 drifts must not change PT-101's
    drift alert: the fault-free run keeps it open until the drift ends."""
    config, sim, connector = rig("pt101_drift", 0, 1800, "drift")
    expected = sim.dump()
    want = by_alert(reference_alerts(config, expected))[("PT-101", "drift")]
    # The drift alert of the fault-free run that lasts longest.
    episodes = [k.removesuffix(":raised") for k, kind in want if kind == "alert_raised"]
    longest = max(episodes, key=lambda e: sum(k.startswith(e) for k, _ in want))
    assert sum(k.startswith(longest) for k, _ in want) >= 10, "a drift alert stays open a while"
    connector.start()
    sim.start(own_broker.port, "100")
    raised = f"key = '{longest}:raised'"
    wait_until(lambda: count(connector.store, "outbox", raised), 60, "the drift alert")
    connector.stop()
    connector.start()
    sim.wait()
    settle(connector, expected, 60)
    connector.stop()
    got = by_alert(connector.outbox())[("PT-101", "drift")]
    assert got == want, first_difference(got, want)


def test_ingest_race_between_a_stale_request_and_its_retry(odoo_server):
    """What a slow Odoo does to the connector's batches, without the connector.

    The connector gave up waiting for a batch (RPC timeout) that Odoo is
    still applying, and sends the same items again with what came since: the
    alert is raised, cleared, raised again and cleared again. Odoo runs both
    requests at once; each item must end up applied exactly once.
    """
    server = odoo_server
    alert = {"tag": "LT-401", "alert_type": "rule_violation", "severity": "warning",
             "value": 92.5, "message": "92.5 % above high warning limit 90 %"}  # fmt: skip

    def item(key: str, kind: str, ts: str) -> dict:
        return {"key": f"LT-401:rule_violation:{key}", "type": kind, "ts": ts, "data": alert}

    first = "2026-11-22T08:00:00Z"
    second = "2026-11-22T08:02:00Z"
    items = [
        item(f"{first}:raised", "alert_raised", first),
        item(f"{first}:cleared", "alert_cleared", "2026-11-22T08:01:00Z"),
        item(f"{second}:raised", "alert_raised", second),
        item(f"{second}:cleared", "alert_cleared", "2026-11-22T08:03:00Z"),
    ]
    # The stale request: the first raise, then enough heartbeats to keep its
    # transaction open for a few seconds.
    beat = {"connector_id": "race", "mqtt_connected": True, "backlog": 0,
            "readings_per_s": 0.0, "dead_letters": 0}  # fmt: skip
    heartbeats = [
        {"key": f"heartbeat:race:{n}", "type": "heartbeat", "data": beat,
         "ts": f"2026-11-22T07:{n // 60:02d}:{n % 60:02d}Z"}
        for n in range(3000)
    ]  # fmt: skip
    stale = threading.Thread(target=server.jsonrpc_ingest, args=([items[0], *heartbeats],))
    stale.start()
    # The stale request has written its alert (not committed yet: the
    # heartbeats follow) when the retry comes in.
    writing = (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND c.relname = 'cmms_alert' AND l.mode = 'RowExclusiveLock'"
    )
    wait_until(lambda: server.odoo.pg.psql(writing, db=server.db) != "0", 30, "the stale write")
    retry = server.jsonrpc_ingest(items)
    stale.join(120)
    statuses = [r["status"] for r in retry["results"]]
    assert statuses[0] in ("accepted", "duplicate")
    keys = {r["key"] for r in odoo_rows(server, "SELECT key FROM cmms_ingest_key")}
    found = server.admin(
        "cmms.alert", "search_read", [("alert_type", "=", "rule_violation")],
        ["occurrence_count", "condition"],
    )  # fmt: skip
    assert len(found) == 1
    assert {i["key"] for i in items} <= keys, f"replies {statuses}: keys missing in Odoo"
    assert (found[0]["occurrence_count"], found[0]["condition"]) == (
        2,
        "cleared",
    ), f"replies {statuses}; alert {found[0]}"

"""Ingestion throughput and memory benchmark (a command that prints figures).

::

    python -m devkit.bench_connector                          # the full table
    python -m devkit.bench_connector --tags 100 --batch 1 20  # a subset
    python -m devkit.bench_connector --readings 20000         # shorter runs

It starts a Mosquitto with the project's ``deploy/mosquitto/mosquitto.conf``
(listener, persistence directory and log moved to a temporary directory) on
a free loopback port, and for each scenario (number of tags x readings per
message)

1. opens two persistent QoS 1 sessions and disconnects them: a **bare**
   paho-mqtt subscriber that only ``json.loads`` each payload, and the
   **connector** (the real :class:`~connector.service.Service`: MQTT with
   manual acknowledgement in its receiver process,
   :class:`~connector.ingest.pipeline.Pipeline` decoding, every detector of every
   tag, alert aggregation, the SQLite store with ``synchronous=FULL``,
   acknowledgement after commit);
2. publishes the scenario's readings once, so the broker queues them for
   both sessions;
3. lets each subscriber drain its queue alone, in its own process, and
   measures readings per second from the arrival of its first message to
   its last reading (for the connector: committed; every reading is
   counted), and the process's peak resident memory. The connector's
   start-up before its first message (opening the store, starting its
   receiver process: 0.1 to 0.3 s) is not throughput and is left out, as
   the bare subscriber has next to none.

The bare and connector figures therefore come from the same broker, the
same messages and the same run. The connector runs with a configuration
of one sensor per tag (limits, rate of change, stuck, CUSUM, data gap, the
online anomaly engine: a scorer per tag and a machine-level detector per
eight tags), no
Odoo (its outbox only fills) and history compaction off (it runs once a
minute in production, beside ingestion).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from connector.config import Settings

from . import ROOT
from .broker import Mosquitto
from .util import free_port

T0 = 1795334400.0
SITE = "bench"
TARGET_RATIO = 0.8
DEFAULT_TAGS = (100, 1_000, 10_000)
DEFAULT_BATCHES = (1, 20)
#: Publish at most this many QoS 1 messages before waiting for their PUBACKs
#: (paho keys unacknowledged publishes by a 16-bit id).
PUBLISH_WINDOW = 5_000


# -- broker ---------------------------------------------------------------------


@contextlib.contextmanager
def broker(workdir: Path, inflight: int | None = None) -> Iterator[int]:
    """Run Mosquitto with the shipped configuration; yield its port.

    *inflight* replaces the configuration's ``max_inflight_messages`` (an
    experiment: the shipped value is what the table is about).
    """
    overrides = {} if inflight is None else {"max_inflight_messages": str(inflight)}
    try:
        mosquitto = Mosquitto(workdir, overrides=overrides)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    with mosquitto:
        yield mosquitto.port


# -- scenario ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """``tags`` instruments, ``batch`` readings per message, ``readings`` in all."""

    tags: int
    batch: int
    readings: int

    @property
    def messages(self) -> int:
        """Messages published (every tag gets whole messages)."""
        return self.readings // self.batch

    @property
    def name(self) -> str:
        """Short id used in client ids."""
        return f"t{self.tags}-b{self.batch}-{os.getpid()}"


#: Each tag publishes at least this many messages in a scenario.
MESSAGES_PER_TAG = 10


def tag_name(i: int) -> str:
    """The i-th benchmark tag."""
    return f"BT-{i:05d}"


def sensor(tag: str) -> dict[str, Any]:
    """A sensor with every detector enabled; the values stay in the normal band."""
    return {
        "tag": tag,
        "unit": "bar",
        "nominal": 6.0,
        "signal_low": 0.0,
        "signal_high": 16.0,
        "low_critical": 2.0,
        "low_warning": 3.0,
        "high_warning": 9.0,
        "high_critical": 10.0,
        "deadband": 0.2,
        "on_delay_s": 5.0,
        "interval_s": 1.0,
        "roc_limit": 5.0,
        "stuck_deadband": 0.001,
        "stuck_window_s": 900.0,
        "cusum_k": 0.5,
        "cusum_h": 8.0,
    }


def messages(scenario: Scenario, seed: int = 1) -> Iterator[tuple[str, bytes]]:
    """The scenario's payloads: tags in turn, each tag's readings one second apart."""
    rng = random.Random(seed)
    steps = [0] * scenario.tags
    for m in range(scenario.messages):
        i = m % scenario.tags
        tag = tag_name(i)
        rows = []
        for _ in range(scenario.batch):
            rows.append(
                {"ts": T0 + steps[i], "value": round(6.0 + rng.gauss(0.0, 0.3), 3), "unit": "bar"}
            )
            steps[i] += 1
        payload = rows[0] if scenario.batch == 1 else rows
        yield f"cmms/{SITE}/{tag}/reading", json.dumps(payload, separators=(",", ":")).encode()


def publish(port: int, scenario: Scenario) -> float:
    """Publish the scenario with QoS 1; return the seconds it took."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    window: list[mqtt.MQTTMessageInfo] = []
    for topic, payload in messages(scenario):
        window.append(client.publish(topic, payload, qos=1))
        if len(window) >= PUBLISH_WINDOW:
            for info in window:
                info.wait_for_publish(60)
            window.clear()
    for info in window:
        info.wait_for_publish(60)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


# -- workers (child processes) ------------------------------------------------------


def _session_props(receive_maximum: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = receive_maximum  # the same as the connector's
    return props


def _rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident memory of a process (default: this one) in MiB.

    The peak is ``VmHWM``: ``ru_maxrss`` of a child process starts at its
    parent's size at fork time, which would hide a small subscriber.
    """
    values = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024.0
    if "VmHWM" not in values:  # not Linux
        if pid != "self":
            return 0.0, 0.0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        return peak, peak
    return values.get("VmRSS", 0.0), values["VmHWM"]


def _cpu_s(pid: int | str = "self") -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_worker(
    port: int, client_id: str, expect: int, subscribe_only: bool, receive_maximum: int
) -> dict[str, Any]:
    """A paho subscriber that json-decodes each payload and counts readings."""
    done = threading.Event()
    subscribed = threading.Event()
    state = {"readings": 0, "end": 0.0, "start": 0.0}

    def on_connect(client: mqtt.Client, *_: Any) -> None:
        client.subscribe(f"cmms/{SITE}/+/reading", qos=1)

    def on_subscribe(*_: Any) -> None:
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not state["start"]:  # the first message: the clock starts
            state["start"] = time.perf_counter()
        doc = json.loads(msg.payload)
        state["readings"] += len(doc) if isinstance(doc, list) else 1
        if state["readings"] >= expect and not done.is_set():
            state["end"] = time.perf_counter()
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", port, clean_start=False, properties=_session_props(receive_maximum))
    client.loop_start()
    ok = (subscribed if subscribe_only else done).wait(600)
    client.disconnect()
    client.loop_stop()
    current, peak = _rss_mb()
    seconds = state["end"] - state["start"] if ok and not subscribe_only else None
    return {
        "readings": state["readings"],
        "seconds": seconds,
        "rss_mb": current,
        "peak_mb": peak,
        "cpu_s": {"bare": _cpu_s()},
    }


def connector_worker(
    port: int,
    client_id: str,
    expect: int,
    tags: int,
    workdir: str,
    subscribe_only: bool,
    receive_maximum: int,
) -> dict[str, Any]:
    """The real connector service, with a cached configuration and no Odoo."""
    from connector.ingest.pipeline import CONFIG_KEY
    from connector.service import Service
    from connector.store import open_store

    path = Path(workdir) / f"{client_id}.sqlite3"
    with open_store(path) as store:
        config = {
            "version": "bench",
            # Eight tags per machine: the anomaly engine's machine-level detectors run too.
            "sensors": [{**sensor(tag_name(i)), "machine": f"M{i // 8}"} for i in range(tags)],
            "health_thresholds": {},
        }
        store.set_json(CONFIG_KEY, config)
    settings = Settings(
        connector_id=client_id,
        mqtt_host="127.0.0.1",
        mqtt_port=port,
        mqtt_site=SITE,
        mqtt_client_id=client_id,
        mqtt_session_expiry_s=3600,
        mqtt_receive_maximum=receive_maximum,
        store_path=str(path),
        odoo_url=f"http://127.0.0.1:{free_port()}",  # nobody there: items wait
        odoo_timeout_s=1.0,
        push_retry_base_s=30.0,
        push_retry_max_s=60.0,
        config_poll_s=3600.0,
        heartbeat_s=3600.0,
        history_compact_s=0.0,
        health_port=0,
        shutdown_flush_s=0.0,
    )
    service = Service(settings)
    # Timed from inside the service, as the bare subscriber times itself: no
    # polling thread takes the interpreter from the worker.
    marks: dict[str, float] = {}
    finished = threading.Event()
    put_run, process = service._put_run, service._process

    def first_run(run: Any) -> None:
        marks.setdefault("first", time.perf_counter())  # the first message: the clock starts
        put_run(run)

    def timed_process(messages: list[Any]) -> None:
        process(messages)
        pipeline = service.pipeline
        if pipeline is not None and pipeline.readings_total_ >= expect and not finished.is_set():
            marks["end"] = time.perf_counter()
            finished.set()

    service._put_run = first_run  # type: ignore[method-assign]
    service._process = timed_process  # type: ignore[method-assign]
    thread = threading.Thread(target=service.run, kwargs={"install_signals": False})
    start = time.perf_counter()
    thread.start()
    assert service.ready.wait(60), "the service did not start"
    if subscribe_only:
        deadline = time.monotonic() + 60
        while not (service.mqtt is not None and service.mqtt.connected.wait(0.1)):
            assert time.monotonic() < deadline, "the connector did not subscribe"
    else:
        finished.wait(600)
    end, first = marks.get("end"), marks.get("first")
    readings = service.pipeline.readings_total_ if service.pipeline else 0
    current, peak = _rss_mb()
    receiver = getattr(service.mqtt, "process_", None)
    if receiver is not None:  # the MQTT receiver process is part of the connector
        more = _rss_mb(receiver.pid)
        current, peak = current + more[0], peak + more[1]
    cpu = {"worker": _cpu_s()}
    if receiver is not None:
        cpu["receiver"] = _cpu_s(receiver.pid)
    service.stop()
    thread.join(60)
    seconds = None if end is None or first is None else end - first
    return {
        "readings": readings,
        "seconds": seconds,
        "startup_s": None if first is None else first - start,
        "rss_mb": current,
        "peak_mb": peak,
        "cpu_s": cpu,
    }


def _run_worker(args: argparse.Namespace) -> int:
    if args.worker == "bare":
        out = bare_worker(
            args.port, args.client_id, args.expect, args.subscribe_only, args.receive_maximum
        )
    else:
        out = connector_worker(
            args.port,
            args.client_id,
            args.expect,
            args.tags[0],
            args.workdir,
            args.subscribe_only,
            args.receive_maximum,
        )
    print(json.dumps(out))
    return 0


def worker(
    kind: str, port: int, scenario: Scenario, workdir: Path, phase: str, receive_maximum: int
) -> dict[str, Any]:
    """Run one worker in a child process and return its figures."""
    cmd = [
        sys.executable,
        "-m",
        "devkit.bench_connector",
        "--worker",
        kind,
        "--port",
        str(port),
        "--client-id",
        f"bench-{kind}-{scenario.name}",
        "--expect",
        str(scenario.messages * scenario.batch),
        "--tags",
        str(scenario.tags),
        "--workdir",
        str(workdir),
        "--receive-maximum",
        str(receive_maximum),
    ]
    if phase == "subscribe":
        cmd.append("--subscribe-only")
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the table ---------------------------------------------------------------------


@dataclass
class Row:
    """One line of the result table."""

    scenario: Scenario
    publish_rate: float
    bare: dict[str, Any]
    connector: dict[str, Any]

    @staticmethod
    def rate(result: dict[str, Any]) -> float:
        """Readings per second of a worker result."""
        return result["readings"] / result["seconds"] if result["seconds"] else 0.0

    @property
    def ratio(self) -> float:
        """Connector rate / bare rate."""
        bare = self.rate(self.bare)
        return self.rate(self.connector) / bare if bare else 0.0


def run_scenario(port: int, scenario: Scenario, workdir: Path, receive_maximum: int) -> Row:
    """Subscribe both, publish once, drain each alone."""
    for kind in ("bare", "connector"):
        worker(kind, port, scenario, workdir, "subscribe", receive_maximum)
    seconds = publish(port, scenario)
    bare = worker("bare", port, scenario, workdir, "drain", receive_maximum)
    connector = worker("connector", port, scenario, workdir, "drain", receive_maximum)
    if os.environ.get("CMMS_BENCH_DEBUG"):
        print(json.dumps({"bare": bare, "connector": connector}), file=sys.stderr)
    return Row(scenario, scenario.readings / seconds, bare, connector)


def print_table(rows: Sequence[Row]) -> None:
    """The result table (rates in readings per second, memory in MiB)."""
    head = (
        f"{'tags':>6} {'batch':>5} {'readings':>9} {'publish/s':>10} "
        f"{'bare/s':>9} {'connector/s':>11} {'ratio':>6} {'conn RSS':>9} {'bare RSS':>9}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        s = row.scenario
        print(
            f"{s.tags:>6} {s.batch:>5} {s.messages * s.batch:>9} {row.publish_rate:>10.0f} "
            f"{Row.rate(row.bare):>9.0f} {Row.rate(row.connector):>11.0f} {row.ratio:>6.2f} "
            f"{row.connector['peak_mb']:>9.1f} {row.bare['peak_mb']:>9.1f}"
        )
    print(
        f"\nratio = connector / bare (target >= {TARGET_RATIO}); RSS = peak resident memory "
        "of the subscriber (MiB; for the connector: its process plus its MQTT receiver)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m devkit.bench_connector``."""
    parser = argparse.ArgumentParser(prog="python -m devkit.bench_connector", description=__doc__)
    parser.add_argument("--tags", type=int, nargs="+", default=list(DEFAULT_TAGS))
    parser.add_argument("--batch", type=int, nargs="+", default=list(DEFAULT_BATCHES))
    parser.add_argument(
        "--readings",
        type=int,
        default=0,
        help="readings per scenario (default: 100,000 unbatched, 1,000,000 batched, and at "
        f"least {MESSAGES_PER_TAG} messages per tag)",
    )
    parser.add_argument(
        "--receive-maximum",
        type=int,
        default=Settings.mqtt_receive_maximum,
        help="MQTT 5 Receive Maximum of both subscribers (default: the connector's, %(default)s)",
    )
    parser.add_argument(
        "--broker-inflight",
        type=int,
        help="replace the broker's max_inflight_messages (experiment; default: as shipped)",
    )
    parser.add_argument("--worker", choices=("bare", "connector"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client-id", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--subscribe-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _run_worker(args)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="cmms-bench-") as tmp:
        workdir = Path(tmp)
        with broker(workdir / "broker", args.broker_inflight) as port:
            for tags in args.tags:
                for batch in args.batch:
                    total = args.readings or (100_000 if batch == 1 else 1_000_000)
                    # every tag sends several messages: the steady state, not
                    # mostly each tag's first message (cold detectors, a first
                    # look in the store)
                    total = max(total, tags * batch * MESSAGES_PER_TAG)
                    scenario = Scenario(tags, batch, total)
                    print(f"running {tags} tags, {batch} per message ...", file=sys.stderr)
                    rows.append(run_scenario(port, scenario, workdir, args.receive_maximum))
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

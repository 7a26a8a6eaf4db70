"""The publisher against a real Mosquitto broker."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from devkit.broker import Mosquitto
from simulator.clock import DEFAULT_START
from simulator.publisher import PublishConfig, run
from simulator.scenarios import SCENARIOS
from simulator.simulation import EnergyReading, Reading, Simulation, Tick, reading_payload

from .conftest import Collector, parse_summary
from .test_payloads import START, assert_valid_reading, assert_valid_tick

RunCli = Callable[..., subprocess.CompletedProcess[str]]
PopenCli = Callable[..., subprocess.Popen[str]]


def _received(
    collector: Collector,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
    """Split received messages into readings (with tag), ticks and batch sizes."""
    readings: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    sizes: list[int] = []
    for message in collector.messages:
        assert message.qos == 1
        parts = message.topic.split("/")
        body = message.json()
        if parts[2] == "machine" and parts[4] == "energy":
            continue  # energy meters: see _energy
        if parts[2] == "machine":
            assert parts == ["cmms", "plant1", "machine", "FLEXO_104", "tick"]
            ticks.append(body)
            continue
        assert len(parts) == 4 and parts[:2] == ["cmms", "plant1"] and parts[3] == "reading"
        rows = body if isinstance(body, list) else [body]
        sizes.append(len(rows) if isinstance(body, list) else 0)
        for row in rows:
            readings.append({"tag": parts[2], **row})
    return readings, ticks, sizes


def _energy(collector: Collector) -> list[dict[str, Any]]:
    """The energy meter readings received, with their machine id."""
    out = []
    for message in collector.messages:
        parts = message.topic.split("/")
        if len(parts) == 5 and parts[2] == "machine" and parts[4] == "energy":
            out.append({"machine_id": parts[3], **message.json()})
    return out


def _expected(
    sim: Simulation,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    readings = [
        {"tag": e.tag, **reading_payload(e)} for e in sim.events() if isinstance(e, Reading)
    ]
    ticks = [e.payload for e in sim.events() if isinstance(e, Tick)]
    return readings, ticks


def _key(row: dict[str, Any]) -> tuple[str, int]:
    return row["tag"], row["seq"]


def test_batched_run_delivers_every_reading(
    broker: Mosquitto, subscriber: Collector, run_cli: RunCli, tmp_path: Path
) -> None:
    labels = tmp_path / "labels.jsonl"
    done = run_cli(
        "run",
        "--scenario",
        "mixed",
        "--seed",
        "3",
        "--duration",
        "900",
        "--start",
        DEFAULT_START,  # the dump's start: the same readings
        "--rate",
        "max",
        "--batch",
        "25",
        "--labels",
        str(labels),
        "--host",
        broker.host,
        "--port",
        str(broker.port),
    )
    assert done.returncode == 0, done.stderr
    summary = parse_summary(done.stdout)
    sim = Simulation(SCENARIOS["mixed"], seed=3, duration_s=900)
    want_readings, want_ticks = _expected(sim)
    assert summary["readings"] == len(want_readings)
    assert summary["ticks"] == len(want_ticks) == 15
    assert summary["messages acknowledged"] == summary["messages published"]
    assert summary["readings acknowledged"] == summary["readings"]
    assert summary["messages failed"] == 0
    expected_messages = summary["messages published"]
    assert subscriber.wait_for(lambda msgs: len(msgs) >= expected_messages)
    subscriber.settle()
    got_readings, got_ticks, sizes = _received(subscriber)
    assert len(subscriber.messages) == expected_messages
    assert all(1 <= size <= 25 for size in sizes)
    assert Counter(sizes)[25] > len(sizes) // 2  # at full speed batches fill up
    # Every reading arrived exactly once, unchanged; per tag in order.
    assert sorted(got_readings, key=_key) == sorted(want_readings, key=_key)
    for tag in {r["tag"] for r in want_readings}:
        seqs = [r["seq"] for r in got_readings if r["tag"] == tag]
        assert seqs == sorted(seqs)
    assert got_ticks == want_ticks
    # Every meter reading too: the seven perfume machines' every minute and
    # the line's with each tick, counters never going back.
    want_energy = [
        {"machine_id": e.machine_id, **e.payload}
        for e in sim.events()
        if isinstance(e, EnergyReading)
    ]
    assert summary["energy readings"] == len(want_energy) == 15 * 8
    got_energy = _energy(subscriber)
    assert got_energy == want_energy
    for machine in {row["machine_id"] for row in got_energy}:
        counters = [row["kwh"] for row in got_energy if row["machine_id"] == machine]
        assert counters == sorted(counters) and counters[-1] > counters[0]
    for row in got_readings:
        assert_valid_reading(row, str(row["tag"]), START, START.replace(hour=9))
    for tick in got_ticks:
        assert_valid_tick(tick, 1.0)
    written = [json.loads(line) for line in labels.read_text().splitlines()]
    assert written == sim.labels() and written


def test_unbatched_run_sends_single_objects(
    broker: Mosquitto, subscriber: Collector, run_cli: RunCli
) -> None:
    done = run_cli(
        "run",
        "--scenario",
        "pt101_out_of_range",
        "--rate",
        "max",
        "--host",
        broker.host,
        "--port",
        str(broker.port),
    )
    assert done.returncode == 0, done.stderr
    summary = parse_summary(done.stdout)
    assert summary["messages published"] == summary["messages acknowledged"] == 2400
    assert subscriber.wait_for(lambda msgs: len(msgs) >= 2400)
    subscriber.settle()
    readings, ticks, sizes = _received(subscriber)
    assert len(readings) == 2400 and not ticks and set(sizes) == {0}
    pt = [r for r in readings if r["tag"] == "PT-101"]
    assert sum(1 for r in pt if float(r["value"]) > 16.0) == 60


def test_outstanding_messages_stay_bounded(broker: Mosquitto, subscriber: Collector) -> None:
    sim = Simulation(SCENARIOS["normal"], seed=1, duration_s=1250, flexo=False, energy=False)
    config = PublishConfig(
        host=broker.host, port=broker.port, rate=None, batch=1, max_outstanding=8
    )
    stats = run(sim, config)
    assert stats.published == stats.acknowledged == stats.readings == 5000
    assert stats.readings_acknowledged == 5000
    assert 1 <= stats.max_outstanding_seen <= 8
    assert subscriber.wait_for(lambda msgs: len(msgs) >= 5000)
    subscriber.settle()
    assert len(subscriber.messages) == 5000


class _PaceClock:
    """The publisher's wall clock, moving only while it waits for its pace:
    the elapsed time is then the pacing's alone, not the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class _PaceStop(threading.Event):
    def __init__(self, clock: _PaceClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        if timeout:
            self.clock.now += timeout
        return self.is_set()


def test_rate_paces_simulated_time(broker: Mosquitto, monkeypatch: Any) -> None:
    from simulator import publisher

    clock = _PaceClock()
    monkeypatch.setattr(publisher, "time", SimpleNamespace(monotonic=clock.monotonic))
    sim = Simulation(SCENARIOS["pt101_out_of_range"], seed=1, duration_s=40)
    config = PublishConfig(host=broker.host, port=broker.port, rate=20.0, batch=10)
    stats = run(sim, config, stop=_PaceStop(clock))
    assert 1.85 <= stats.elapsed_s <= 4.0  # 40 simulated s at 20x
    assert stats.complete and stats.readings == 160
    # Paced runs do not hold readings back to fill a batch.
    assert stats.published >= 4 * 35


def test_sigterm_stops_cleanly(
    broker: Mosquitto, subscriber: Collector, popen_cli: PopenCli, tmp_path: Path
) -> None:
    labels = tmp_path / "labels.jsonl"
    proc = popen_cli(
        "run",
        "--scenario",
        "catalogue",
        "--start",
        DEFAULT_START,
        "--rate",
        "50",
        "--labels",
        str(labels),
        "--host",
        broker.host,
        "--port",
        str(broker.port),
    )
    assert subscriber.wait_for(lambda msgs: len(msgs) >= 4 * 150, timeout=30)
    proc.send_signal(signal.SIGTERM)
    # What had arrived by the signal: the run's simulated time then.
    before, _, _ = _received(subscriber)
    signalled_at = max(datetime.fromisoformat(str(r["ts"])) for r in before)
    stdout, stderr = proc.communicate(timeout=60)
    # It stops within ten wall seconds of its pace (rate 50: 500 simulated
    # seconds), counted in simulated time, which a slow machine only shortens.
    assert parse_summary(stdout)["simulated"] - (signalled_at - START).total_seconds() < 10 * 50
    assert proc.returncode == 0, stderr
    summary = parse_summary(stdout)
    assert summary["messages acknowledged"] == summary["messages published"] > 0
    assert summary["simulated"] < 1800  # it did stop early
    subscriber.settle()
    readings, _, _ = _received(subscriber)
    assert len(readings) == summary["readings"]
    # Labels cover only the simulated time that was published.
    written = [json.loads(line) for line in labels.read_text().splitlines()]
    stopped_at = START + timedelta(seconds=summary["simulated"])
    last_ts = max(datetime.fromisoformat(str(r["ts"])) for r in readings)
    assert last_ts < stopped_at
    assert written  # it ran past 120 s, where the first catalogue faults start
    for row in written:
        assert datetime.fromisoformat(row["start"]) <= last_ts
        assert datetime.fromisoformat(row["end"]) <= stopped_at

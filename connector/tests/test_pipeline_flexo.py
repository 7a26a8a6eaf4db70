"""Pipeline + FLEXO engine: a tick's items are queued with the tick, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.flexo.engine import FlexoEngine
from connector.ingest.pipeline import FLEXO_KEY, Pipeline
from connector.ingest.schema import Reading
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config
from connector.util import iso_utc

T0 = 1795327200.0  # 2026-11-22T06:00:00Z
TOPIC = "cmms/plant1/machine/FLEXO_104/tick"
COMPONENTS = {
    "PRE_FEEDER": {"tension_dev_pct": 2.0, "feed_stops_hour": 0, "health_score": None},
    "FEEDER": {"double_sheet_hour": 1, "vacuum_dev_pct": 4.0, "health_score": None},
    "PRINTING": {
        "registration_error_mm": 0.1,
        "registration_error_max_mm": 0.2,
        "ink_viscosity_dev_pct": 5.0,
        "reject_rate_pct": 1.2,
        "health_score": None,
    },
    "SLOTTER": {
        "miscut_pct": 0.5,
        "burr_mm": 0.04,
        "blade_life_used_pct": 30,
        "health_score": None,
    },
    "DOWN_STACKER": {"jam_hour": 0, "misstack_pct": 0.3, "sync_dev_pct": 2.0, "health_score": None},
}


def tick(minute: int, shift: str = "A", **components: dict[str, Any]) -> tuple[str, bytes]:
    """The payload the simulator publishes for the minute ending at T0 + minute."""
    doc: dict[str, Any] = {
        "timestamp": iso_utc(T0 + 60 * minute),
        "shift": shift,
        "machine_id": "FLEXO_104",
        "overall": {
            "produced_units": 220,
            "good_units": 216,
            "reject_units": 4,
            "runtime_minutes": 1.0,
            "downtime_minutes": 0.0,
            "design_speed_cpm": 250.0,
            "actual_speed_cpm": 220.0,
            "oee": None,
            "availability": None,
            "performance": None,
            "quality": None,
        },
        "components": {**COMPONENTS, **components},
        "events": [],
    }
    if minute == 3:
        doc["events"] = [
            {
                "timestamp": iso_utc(T0 + 60),
                "type": "downtime",
                "component": "FEEDER",
                "reason": "FEEDER UNIT TROUBLE MEKANIK",
                "duration_min": 1.5,
            }
        ]
    return TOPIC, json.dumps(doc).encode()


def outbox(store: Store, kind: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    rows = store.execute("SELECT key, type, data FROM outbox ORDER BY id")
    return [(k, t, json.loads(d)) for k, t, d in rows if kind is None or t == kind]


def closed(store: Store) -> list[tuple[str, str, dict[str, Any]]]:
    """The closing ``oee_record`` items (not the running shift's provisional ones)."""
    return [row for row in outbox(store, "oee_record") if not row[2].get("running")]


def make(store: Store) -> Pipeline:
    pipe = Pipeline(
        store,
        clock=lambda: T0,
        flexo=FlexoEngine(
            snapshot_interval_s=900, machine_tags={"FLEXO_104": "FLX-104"}, component_tags={}
        ),
    )
    pipe.apply_config(make_config("v1", SENSOR_PT101))
    return pipe


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "s.sqlite3")


def test_a_tick_queues_its_items_in_the_same_transaction(store: Store) -> None:
    pipe = make(store)
    result = pipe.process([tick(1)])
    assert (result.ticks, result.items) == (1, 6)  # 5 snapshots, the running shift's OEE
    [(key, _, running)] = outbox(store, "oee_record")
    assert key == "oee:FLEXO_104:A:2026-11-22T06:00:00Z:running:1"
    assert running["running"] is True and running["machine"] == "FLX-104"
    snaps = outbox(store, "health_snapshot")
    assert [k for k, _, _ in snaps] == [
        f"health:FLEXO_104:{c}:2026-11-22T06:01:00Z"
        for c in ("PRE_FEEDER", "FEEDER", "PRINTING", "SLOTTER", "DOWN_STACKER")
    ]
    assert [d["tag"] for _, _, d in snaps] == [
        "FLX-104-PF",
        "FLX-104-FD",
        "FLX-104-PR",
        "FLX-104-SL",
        "FLX-104-DS",
    ]
    # healthy; PRINTING loses 0.15 x (100 - 88) for the speed (220 of 250)
    assert [d["score"] for _, _, d in snaps] == [100.0, 100.0, 98.2, 100.0, 100.0]
    assert all(d["recommendations"] == [] for _, _, d in snaps)
    state = store.get_json(FLEXO_KEY + "FLEXO_104")
    assert state["last_ts"] == T0 + 60 and state["shift"]["letter"] == "A"


def test_stops_shifts_and_redelivery(store: Store) -> None:
    pipe = make(store)
    batch = [tick(m) for m in range(1, 5)] + [tick(5, shift="B")]
    pipe.process(batch)
    [(key, _, stop)] = outbox(store, "downtime_event")
    assert key == "downtime:FLEXO_104:2026-11-22T06:01:00Z:FEEDER"
    assert stop == {
        "machine": "FLX-104",
        "reason": "FEEDER UNIT TROUBLE MEKANIK",
        "start": "2026-11-22T06:01:00Z",
        "duration_min": 1.5,
        "component": "FEEDER",
    }
    [(key, _, oee)] = closed(store)
    assert key == "oee:FLEXO_104:A:2026-11-22T06:00:00Z"
    assert oee["period_end"] == "2026-11-22T06:04:00Z" and oee["produced"] == 880
    before = outbox(store)
    again = pipe.process(batch)  # redelivered by the broker: nothing new
    assert (again.ticks, again.duplicates, again.items) == (0, 5, 0)
    assert outbox(store) == before


def test_engine_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = open_store(path)
    make(store).process([tick(m) for m in range(1, 4)])
    store.close()
    store = open_store(path)
    pipe = make(store)  # a new process: state comes from the store
    pipe.process([tick(4), tick(5, shift="B")])
    [(_, _, oee)] = closed(store)
    assert oee["produced"] == 4 * 220 and oee["period_start"] == "2026-11-22T06:00:00Z"
    # within 15 minutes and without a band change, no snapshot after the restart
    assert {k.rsplit(":", 3)[-3] for k, _, _ in outbox(store, "health_snapshot")} == {
        "2026-11-22T06"
    }
    assert len(outbox(store, "health_snapshot")) == 5


def test_replay_in_a_fresh_store_gives_the_same_keys(tmp_path: Path) -> None:
    batch = [tick(m) for m in range(1, 5)] + [tick(5, shift="B")]
    keys = []
    for name in ("a", "b"):
        store = open_store(tmp_path / f"{name}.sqlite3")
        make(store).process(batch)
        keys.append([k for k, _, _ in outbox(store)])
    # 5 snapshots, a stop, the closed shift A, the running shifts A and B
    assert keys[0] == keys[1] and len(keys[0]) == 5 + 1 + 1 + 2


def test_a_failing_tick_rolls_back_its_items_and_state(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = make(store)
    pipe.process([tick(1)])
    state = store.get_json(FLEXO_KEY + "FLEXO_104")
    calls = {"n": 0}
    real = store.add_outbox

    def flaky(items: Any, now: float | None = None) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ZeroDivisionError("bug")
        return real(items, now)

    monkeypatch.setattr(store, "add_outbox", flaky)
    bad = dict(COMPONENTS["PRINTING"], registration_error_mm=0.9)
    result = pipe.process([tick(2, PRINTING=bad)])
    assert result.dead_letters == 1 and result.ticks == 0
    assert store.get_json(FLEXO_KEY + "FLEXO_104") == state
    assert pipe.flexo_states_["FLEXO_104"] == state
    # the same tick, retried from the dead letter once the bug is gone
    result = pipe.process([tick(2, PRINTING=bad)])
    assert result.ticks == 1 and result.items == 1  # PRINTING dropped a band


def test_thresholds_come_from_the_config(store: Store) -> None:
    pipe = make(store)
    config = make_config("v2", SENSOR_PT101)
    config["health_thresholds"] = {
        "SLOTTER": {"blade_life_used_pct": {"good": 20, "warning": 25, "critical": 28}}
    }
    pipe.apply_config(config)
    pipe.process([tick(1)])
    [slotter] = [d for k, _, d in outbox(store, "health_snapshot") if ":SLOTTER:" in k]
    assert slotter["metrics"]["blade_life_used_pct"] == 20.0  # 30 % used > 25


def test_silent_tags(store: Store) -> None:
    pipe = make(store)
    pipe.process([("cmms/plant1/PT-101/reading", b'{"ts": 1795327200, "value": 6, "unit": "bar"}')])
    assert pipe.check_gaps(T0 + 1.0) == 0 and pipe.silent_tags() == []
    pipe.check_gaps(T0 + 10.0)
    assert pipe.silent_tags() == ["PT-101"]


def test_insert_readings_tells_duplicates_apart(store: Store) -> None:
    r = [Reading("PT-101", T0 + i, float(i), "bar") for i in range(4)]
    assert store.insert_readings(r[:2], T0) == [True, True]
    # a mix of new and stored, and the same reading twice in one payload
    assert store.insert_readings([r[1], r[2], r[2], r[0], r[3]], T0) == [
        False,
        True,
        False,
        False,
        True,
    ]
    assert store.insert_readings([r[0], r[1]], T0) == [False, False]
    seq = [Reading("PT-101", T0, 1.0, "bar", seq=7), Reading("PT-101", T0, 1.0, "bar", seq=8)]
    assert store.insert_readings(seq, T0) == [True, True]
    assert store.counts()["readings"] == 6

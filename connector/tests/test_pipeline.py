"""Pipeline: messages in, readings + alert items + dead letters out, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.detect.base import DATA_GAP
from connector.ingest.pipeline import CONFIG_KEY, Pipeline, parse_topic
from connector.store import StorageError, Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
TOPIC = "cmms/plant1/PT-101/reading"


def msg(i: int, value: float, seq: int | None = None, tag: str = "PT-101") -> tuple[str, bytes]:
    obj: dict[str, Any] = {"ts": T0 + i, "value": value, "unit": "bar"}
    if seq is not None:
        obj["seq"] = seq
    return f"cmms/plant1/{tag}/reading", json.dumps(obj).encode()


def outbox(store: Store) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (k, t, json.loads(d))
        for k, t, d in store.execute("SELECT key, type, data FROM outbox ORDER BY id")
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "s.sqlite3")


@pytest.fixture
def pipe(store: Store) -> Pipeline:
    p = Pipeline(store, "cmms", active_interval_s=60, clear_delay_s=2, clock=lambda: T0)
    p.apply_config(make_config("v1", dict(SENSOR_PT101, cusum_h=None)))
    return p


def test_parse_topic_with_multi_level_prefix() -> None:
    route = parse_topic("acme/cmms", "acme/cmms/p1/TT-201/reading")
    assert route is not None and route.name == "TT-201"
    assert parse_topic("cmms", "cmms/p1/PT-101/status") is None
    assert parse_topic("cmms", "cmms//PT-101/reading") is None
    assert parse_topic("cmms", "cmms/p1/a/b/reading") is None


def test_limit_violation_raises_one_alert_in_the_same_transaction(
    pipe: Pipeline, store: Store
) -> None:
    result = pipe.process([msg(0, 6.0), msg(1, 10.5), msg(2, 10.6)])
    assert (result.readings, result.items, result.dead_letters) == (3, 1, 0)
    [(key, typ, data)] = outbox(store)
    assert typ == "alert_raised"
    assert key == "PT-101:rule_violation:2026-11-22T08:00:01Z:raised"
    assert data == {
        "tag": "PT-101",
        "alert_type": "rule_violation",
        "severity": "critical",
        "value": 10.5,
        "message": "10.5 bar above high critical limit 10 bar",
    }
    assert pipe.open_alerts() == [("PT-101", "rule_violation")]
    [state] = store.load_alert_states()
    assert state.open and state.raised_ts == T0 + 1


def test_redelivered_message_changes_nothing(pipe: Pipeline, store: Store) -> None:
    batch = [msg(0, 6.0, seq=1), msg(1, 10.5, seq=2)]
    pipe.process(batch)
    before = (store.counts(), outbox(store))
    again = pipe.process(batch)
    assert (again.readings, again.duplicates, again.items) == (0, 2, 0)
    assert (store.counts(), outbox(store)) == before


def test_bad_message_is_a_dead_letter_and_the_batch_goes_on(pipe: Pipeline, store: Store) -> None:
    result = pipe.process(
        [
            msg(0, 6.0),
            (TOPIC, b'{"ts": 1, "value": "x", "unit": "bar"}'),
            ("cmms/plant1/what/ever/topic", b"{}"),
            msg(1, 6.1),
        ]
    )
    assert (result.readings, result.dead_letters) == (2, 2)
    rows = store.execute("SELECT topic, kind, reason FROM dead_letters ORDER BY id")
    assert rows[0][1] == "bad value" and rows[1][1] == "unknown topic"
    assert store.counts()["readings"] == 2


def test_tick_is_stored_once(pipe: Pipeline, store: Store) -> None:
    tick = json.dumps(
        {
            "timestamp": "2025-10-17T08:15:00Z",
            "shift": "A",
            "machine_id": "FLEXO_104",
            "overall": {},
            "components": {},
            "events": [],
        }
    ).encode()
    topic = "cmms/plant1/machine/FLEXO_104/tick"
    assert pipe.process([(topic, tick), (topic, tick)]).ticks == 1
    assert store.counts()["ticks"] == 1


def test_unknown_tag_is_stored_without_detectors(pipe: Pipeline, store: Store) -> None:
    result = pipe.process([msg(0, 1e6, tag="XX-999")])
    assert result.readings == 1 and result.items == 0


def test_full_alert_life_cycle(pipe: Pipeline, store: Store) -> None:
    values = [6.0] + [10.5] * 130 + [6.0] * 5
    pipe.process([msg(i, v) for i, v in enumerate(values)])
    types = [t for _, t, _ in outbox(store)]
    assert types == ["alert_raised", "alert_active", "alert_active", "alert_cleared"]
    assert pipe.open_alerts() == []


def test_restart_continues_the_open_alert(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    config = make_config("v1", SENSOR_PT101)
    store = open_store(path)
    first = Pipeline(store, clear_delay_s=2)
    first.apply_config(config)
    first.process([msg(i, 10.5) for i in range(10)])
    store.close()
    store = open_store(path)
    second = Pipeline(store, clear_delay_s=2)
    assert second.load_cached_config() and second.config_version == "v1"
    second.process([msg(i, 10.5) for i in range(10, 20)] + [msg(i, 6.0) for i in range(20, 25)])
    types = [t for _, t, _ in outbox(store)]
    assert types == ["alert_raised", "alert_cleared"]  # not raised twice


def test_replay_after_a_crash_produces_the_same_keys(tmp_path: Path) -> None:
    """A batch stored but not acknowledged is redelivered to a fresh process."""
    values = [6.0, 9.5, 9.6, 10.4, 10.2, 9.0, 6.0, 6.0, 6.0, 6.0]
    keys = []
    for run in ("a", "b"):
        store = open_store(tmp_path / f"{run}.sqlite3")
        pipe = Pipeline(store, clear_delay_s=2)
        pipe.apply_config(make_config("v1", SENSOR_PT101))
        pipe.process([msg(i, v) for i, v in enumerate(values)])
        keys.append([k for k, _, _ in outbox(store)])
    assert keys[0] == keys[1] and len(keys[0]) == 4


def test_data_gap_raises_on_timer_and_clears_on_the_next_reading(
    pipe: Pipeline, store: Store
) -> None:
    pipe.process([msg(0, 6.0)], received_at=T0)
    assert pipe.check_gaps(T0 + 1.5) == 0
    assert pipe.check_gaps(T0 + 2.5) == 1
    assert pipe.check_gaps(T0 + 3.5) == 0  # still open, no repeat within 60 s
    pipe.process([msg(5, 6.0)], received_at=T0 + 5)
    rows = [(t, d["alert_type"]) for _, t, d in outbox(store)]
    assert rows == [("alert_raised", DATA_GAP), ("alert_cleared", DATA_GAP)]


def test_rearm_after_reconnect_prevents_false_gaps(pipe: Pipeline) -> None:
    pipe.process([msg(0, 6.0)], received_at=T0)
    pipe.rearm_gaps(T0 + 100)  # the connector itself was offline
    assert pipe.check_gaps(T0 + 101) == 0


def test_config_reload(pipe: Pipeline, store: Store) -> None:
    assert not pipe.apply_config(make_config("v1", SENSOR_PT101))  # same version
    assert pipe.apply_config(
        make_config("v2", dict(SENSOR_PT101, high_critical=20.0, high_warning=None))
    )
    pipe.process([msg(0, 10.5)])
    assert outbox(store) == []
    assert store.get_json(CONFIG_KEY)["version"] == "v2"


def test_bad_sensor_entry_is_skipped(store: Store) -> None:
    pipe = Pipeline(store)
    pipe.apply_config(
        make_config("v1", dict(SENSOR_PT101, high_warning="x"), dict(SENSOR_PT101, tag="TT-201"))
    )
    assert set(pipe.monitors_) == {"TT-201"}


def test_internal_error_is_contained(
    pipe: Pipeline, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ts: float, value: float) -> dict[str, Any]:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(pipe.monitors_["PT-101"], "update", broken)
    result = pipe.process([msg(0, 6.0), msg(1, 6.0, tag="TT-201")])
    assert result.dead_letters == 1 and result.readings == 1
    [(kind, reason)] = store.execute("SELECT kind, reason FROM dead_letters")
    assert kind == "internal error" and "ZeroDivisionError" in reason
    # the failing message's reading was rolled back with it, so a fix + replay
    # of the dead letter can store it
    assert [r.tag for r in store.iter_readings()] == ["TT-201"]


def test_storage_failure_is_not_swallowed(pipe: Pipeline, store: Store) -> None:
    store.close()
    with pytest.raises(StorageError):
        pipe.process([msg(0, 6.0)])


def test_readings_decoded_beforehand_give_the_same_result(tmp_path: Path) -> None:
    """The MQTT receiver process decodes reading payloads and sends them with
    the message (pickled): the pipeline then does what it does with the payload."""
    import pickle

    from connector.ingest.mqtt_proc import predecode

    batch = [
        {"ts": T0 + 10 + i, "value": 6.0 + (5.0 if i == 3 else 0.0), "unit": "bar"}
        for i in range(6)
    ]
    messages = [
        msg(0, 6.0),
        msg(1, 6.1, seq=1),
        (TOPIC, json.dumps(batch).encode()),
        (TOPIC, json.dumps(batch).encode()),  # redelivered
        (TOPIC, b'[{"ts": 1, "value": "x", "unit": "bar"}]'),  # refused
        ("cmms/plant1/machine/FL-01/tick", b"{}"),  # not a reading topic
        msg(20, 10.8),
        msg(21, 6.0),
    ]
    results = []
    for decoded in (False, True):
        store = open_store(tmp_path / f"{decoded}.sqlite3")
        p = Pipeline(store, "cmms", active_interval_s=60, clear_delay_s=2, clock=lambda: T0)
        p.apply_config(make_config("v1", dict(SENSOR_PT101, cusum_h=None)))
        if decoded:
            sent = [(t, b, predecode(t, b)) for t, b in messages]
            # the arrays of plain readings only: single readings are decoded here
            assert [m[2] is None for m in sent] == [True, True, False, False] + [True] * 4
            batches = [pickle.loads(pickle.dumps(m, pickle.HIGHEST_PROTOCOL)) for m in sent]
        else:
            batches = list(messages)
        counts = [p.process([m], received_at=T0 + i) for i, m in enumerate(batches)]
        dead = store.execute("SELECT reason FROM dead_letters ORDER BY id")
        results.append((counts, outbox(store), dead, store.counts()))
    assert results[0] == results[1]
    counts, items, _, totals = results[0]
    assert totals["dead_letters"] == 2 and [c.duplicates for c in counts][3] == 6
    assert [typ for _, typ, _ in items].count("alert_raised") >= 1

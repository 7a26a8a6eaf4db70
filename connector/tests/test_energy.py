"""Energy meters: counters to hourly ``energy`` items, exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.energy import EnergyEngine
from connector.flexo.engine import FlexoEngine
from connector.ingest.pipeline import ENERGY_KEY, Pipeline
from connector.ingest.schema import DecodeError, MeterReading, decode_energy
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config
from connector.util import iso_utc

H = 1795334400.0  # 2026-11-22T08:00:00Z
FLEXO = "cmms/plant1/machine/FLEXO_104/energy"
MIXER = "cmms/plant1/machine/MX-01/energy"


def meter(topic: str, *rows: tuple[float, float]) -> tuple[str, bytes]:
    """One energy message: ``(seconds after H, counter kWh)`` rows."""
    body = [{"ts": iso_utc(H + t), "kwh": kwh} for t, kwh in rows]
    return topic, json.dumps(body if len(body) > 1 else body[0]).encode()


def tick(minute: int, produced: int) -> tuple[str, bytes]:
    """A FLEXO tick for the minute ending at H + minute."""
    doc = {
        "timestamp": iso_utc(H + 60 * minute),
        "shift": "A",
        "machine_id": "FLEXO_104",
        "overall": {"produced_units": produced, "good_units": produced, "reject_units": 0,
                    "runtime_minutes": 1.0, "downtime_minutes": 0.0,
                    "design_speed_cpm": 250.0, "actual_speed_cpm": float(produced)},
        "components": {},
        "events": [],
    }  # fmt: skip
    return "cmms/plant1/machine/FLEXO_104/tick", json.dumps(doc).encode()


def energy_items(store: Store) -> list[tuple[str, dict[str, Any]]]:
    rows = store.execute("SELECT key, data FROM outbox WHERE type = 'energy' ORDER BY id")
    return [(k, json.loads(d)) for k, d in rows]


def latest(items: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The last report of each (machine, period): what Odoo keeps."""
    out: dict[str, dict[str, Any]] = {}
    for _, data in items:
        out[f"{data['machine']}@{data['period_start']}"] = data
    return out


def make(store: Store) -> Pipeline:
    pipe = Pipeline(
        store,
        clock=lambda: H,
        flexo=FlexoEngine(machine_tags={"FLEXO_104": "FLX-104"}),
        energy=EnergyEngine(3600, 300, {"FLEXO_104": "FLX-104"}),
    )
    pipe.apply_config(make_config("v1", SENSOR_PT101))
    return pipe


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "s.sqlite3")


# -- decoding ---------------------------------------------------------------------


def test_decode_energy_payloads() -> None:
    assert decode_energy(b'[{"ts": 1795334400, "kwh": 1}, {"ts": 1795334460, "kwh": 2.5}]') == [
        MeterReading(H, 1.0),
        MeterReading(H + 60, 2.5),
    ]
    for bad, reason in (
        (b'{"ts": "2026-11-22T08:00:00Z"}', "missing kwh"),
        (b'{"ts": "2026-11-22T08:00:00Z", "kwh": -1}', "bad kwh"),
        (b'{"ts": "2026-11-22T08:00:00Z", "kwh": "12"}', "bad kwh"),
        (b'{"ts": "2026-11-22T08:00:00", "kwh": 12}', "bad ts"),
        (b'{"ts": 1795334400, "kwh": NaN}', "non-finite number"),
        (b"[]", "empty array"),
        (b'[{"ts": 1795334400, "kwh": 1}, 7]', "not an object"),
    ):
        with pytest.raises(DecodeError) as caught:
            decode_energy(bad)
        assert caught.value.kind == reason, bad


# -- the engine -------------------------------------------------------------------


def test_energy_is_shared_between_hours_by_time() -> None:
    engine = EnergyEngine(3600, 0)
    step = engine.meter(
        None,
        "MX-01",
        [MeterReading(H + 1800, 10.0), MeterReading(H + 5400, 14.0), MeterReading(H + 7200, 15.0)],
    )
    assert [(i.key, i.data) for i in step.items] == [
        (
            "energy:MX-01:2026-11-22T08:00:00Z",
            {"machine": "MX-01", "period_start": "2026-11-22T08:00:00Z",
             "period_end": "2026-11-22T09:00:00Z", "kwh": 2.0},
        ),
        (
            "energy:MX-01:2026-11-22T09:00:00Z",
            {"machine": "MX-01", "period_start": "2026-11-22T09:00:00Z",
             "period_end": "2026-11-22T10:00:00Z", "kwh": 3.0},
        ),
    ]  # fmt: skip
    assert step.items[0].ts == "2026-11-22T09:00:00Z"
    assert (step.readings, step.stale, step.resets) == (3, 0, 0)
    # The first reading only sets the base; a reading not newer changes nothing.
    again = engine.meter(step.state, "MX-01", [MeterReading(H + 7200, 15.0)])
    assert (again.items, again.readings, again.stale) == ([], 0, 1)
    assert again.state == step.state


def test_a_counter_reset_counts_from_zero() -> None:
    engine = EnergyEngine(3600, 0)
    readings = [(0, 9990.0), (1200, 9995.0), (2400, 3.0), (3600, 6.0), (3700, 6.5)]
    step = engine.meter(None, "MX-01", [MeterReading(H + t, k) for t, k in readings])
    [item] = step.items
    assert item.data["kwh"] == pytest.approx(5.0 + 3.0 + 3.0)
    assert step.resets == 1 and step.state["resets"] == 1


def test_a_dip_that_comes_back_is_a_glitch_not_a_reset() -> None:
    engine = EnergyEngine(3600, 0)
    readings = [(0, 15000.0), (600, 15001.0), (1200, 0.0), (1800, 15002.5), (3600, 15003.0)]
    step = engine.meter(None, "MX-01", [MeterReading(H + t, k) for t, k in readings])
    [item] = step.items
    assert item.data["kwh"] == pytest.approx(3.0), "15000 -> 15003, the dip counted once"
    assert step.state["reset"] is None
    # A drop that lasts is a reset; a counter passing the old value later
    # is just the new meter growing.
    readings = [(0, 50.0), (600, 2.0), (4800, 40.0), (7200, 60.0)]
    step = engine.meter(None, "MC-01", [MeterReading(H + t, k) for t, k in readings])
    assert sum(i.data["kwh"] for i in step.items) == pytest.approx(60.0)


def test_a_period_waits_for_the_close_delay_and_late_units_revise_it() -> None:
    engine = EnergyEngine(3600, 300)
    st = engine.units(None, "FLEXO_104", H + 60, 200, 60).state
    step = engine.meter(st, "FLEXO_104", [MeterReading(H, 0.0), MeterReading(H + 3600, 40.0)])
    assert step.items == [], "not before 09:05"
    st = engine.units(step.state, "FLEXO_104", H + 3600, 250, 60).state  # 08:59-09:00
    step = engine.meter(st, "FLEXO_104", [MeterReading(H + 3900, 44.0)])
    [item] = step.items
    assert item.key == "energy:FLEXO_104:2026-11-22T08:00:00Z"
    assert item.data["kwh"] == pytest.approx(40.0) and item.data["produced"] == 450
    # A tick of that hour arriving later sends the period again, revised.
    late = engine.units(step.state, "FLEXO_104", H + 1800, 100, 60)
    [revision] = late.items
    assert revision.key == "energy:FLEXO_104:2026-11-22T08:00:00Z:r1"
    assert revision.data["produced"] == 550 and revision.data["kwh"] == pytest.approx(40.0)
    # Units of the next hour wait for it.
    nxt = engine.units(late.state, "FLEXO_104", H + 3960, 240, 60)
    assert nxt.items == [] and nxt.state["units"] == {str(int(H + 3600)): 240}


def test_engine_rejects_a_period_that_does_not_divide_a_day() -> None:
    with pytest.raises(ValueError):
        EnergyEngine(7000)


# -- the pipeline -----------------------------------------------------------------


def test_meter_messages_become_hourly_items_with_flexo_units(store: Store) -> None:
    pipe = make(store)
    messages = [meter(FLEXO, (0, 1000.0)), meter(MIXER, (0, 50.0))]
    for minute in range(1, 61):
        messages.append(tick(minute, 200))
        messages.append(meter(FLEXO, (60 * minute, 1000.0 + 0.7 * minute)))
        messages.append(meter(MIXER, (60 * minute, 50.0 + 0.1 * minute)))
    messages.append(meter(FLEXO, (3960, 1044.0)))
    messages.append(meter(MIXER, (3960, 56.5)))
    result = pipe.process(messages)
    assert (result.ticks, result.meter_readings, result.dead_letters) == (60, 124, 0)
    items = energy_items(store)
    assert [k for k, _ in items] == [
        "energy:FLEXO_104:2026-11-22T08:00:00Z",
        "energy:MX-01:2026-11-22T08:00:00Z",
    ]
    flexo, mixer = (d for _, d in items)
    assert flexo["machine"] == "FLX-104"
    assert flexo["kwh"] == pytest.approx(42.0) and flexo["produced"] == 60 * 200
    assert mixer["kwh"] == pytest.approx(6.0) and "produced" not in mixer
    assert pipe.meter_readings_total_ == 124


def test_a_redelivered_batch_counts_nothing_twice(store: Store) -> None:
    pipe = make(store)
    batch = [meter(MIXER, (t, 10.0 + t / 600)) for t in range(0, 7201, 600)]
    pipe.process(batch)
    before = energy_items(store)
    again = pipe.process(batch)
    assert (again.meter_readings, again.duplicates, again.items) == (0, len(batch), 0)
    assert energy_items(store) == before and len(before) == 1


def test_energy_survives_a_restart_without_loss_or_double_count(tmp_path: Path) -> None:
    """Split anywhere, with a crash in between and the broker redelivering
    what was not acknowledged: the same items as in one go."""
    # 0.6 kWh every 5 minutes; at 6000 s the meter is replaced (a reset: the
    # new one reads 1.0 after its first 5 minutes, a whole 1 kWh).
    rows = [(t, 500.0 + 0.002 * t) for t in range(0, 6000, 300)]
    rows += [(t, 1.0 + 0.002 * (t - 6000)) for t in range(6000, 3 * 3600 + 601, 300)]
    batch = [meter(MIXER, row) for row in rows]
    reference = open_store(tmp_path / "ref.sqlite3")
    make(reference).process(batch)
    want = energy_items(reference)
    assert len(want) == 3
    path = tmp_path / "s.sqlite3"
    store = open_store(path)
    make(store).process(batch[:17])
    store.close()
    store = open_store(path)  # a new process: the engine state comes from the store
    make(store).process(batch[12:])  # the unacknowledged tail comes again
    assert energy_items(store) == want
    total = sum(d["kwh"] for d in latest(want).values())
    closed = [kwh for t, kwh in rows if t <= 3 * 3600]  # three hours reported
    assert total == pytest.approx(closed[19] - closed[0] + closed[-1])


def test_a_failing_message_rolls_back_the_energy_state(store: Store) -> None:
    pipe = make(store)
    pipe.process([meter(MIXER, (0, 10.0))])
    state = store.get_json(ENERGY_KEY + "MX-01")
    result = pipe.process([(MIXER, b'{"ts": "2026-11-22T09:00:00Z", "kwh": -4}')])
    assert result.dead_letters == 1
    assert store.get_json(ENERGY_KEY + "MX-01") == state


def test_readings_do_not_go_through_the_energy_engine(store: Store) -> None:
    pipe = make(store)
    payload = json.dumps({"ts": H, "value": 6.0, "unit": "bar"}).encode()
    pipe.process([("cmms/plant1/PT-101/reading", payload)])
    assert not store.execute("SELECT key FROM kv WHERE key LIKE 'energy:%'")

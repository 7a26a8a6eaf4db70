"""Every reading and tick matches the contract in docs/contracts.md."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simulator.clock import parse_start
from simulator.flexo import COMPONENTS, REASON_CODES, shift_of
from simulator.instruments import DEFAULT_INSTRUMENTS, instruments_by_tag
from simulator.scenarios import SCENARIOS
from simulator.simulation import Reading, Simulation, Tick, encode, reading_payload

INSTRUMENTS = instruments_by_tag(DEFAULT_INSTRUMENTS)
START = datetime.fromtimestamp(parse_start(None), UTC)

# The FLEXO tick fields of the component-health specification.
COMPONENT_METRICS = {
    "PRE_FEEDER": {"tension_dev_pct", "feed_stops_hour", "health_score"},
    "FEEDER": {"double_sheet_hour", "vacuum_dev_pct", "health_score"},
    "PRINTING": {
        "registration_error_mm",
        "registration_error_max_mm",
        "ink_viscosity_dev_pct",
        "reject_rate_pct",
        "doctor_blade_wear_pct",
        "anilox_pressure_bar",
        "health_score",
    },
    "SLOTTER": {"miscut_pct", "burr_mm", "blade_life_used_pct", "health_score"},
    "DOWN_STACKER": {"jam_hour", "misstack_pct", "sync_dev_pct", "health_score"},
}
OVERALL = {
    "produced_units",
    "good_units",
    "reject_units",
    "runtime_minutes",
    "downtime_minutes",
    "design_speed_cpm",
    "actual_speed_cpm",
    "oee",
    "availability",
    "performance",
    "quality",
}


def assert_valid_reading(payload: Any, tag: str, start: datetime, end: datetime) -> datetime:
    """Assert one reading object follows the contract; return its time."""
    assert isinstance(payload, dict)
    assert set(payload) <= {"ts", "value", "unit", "quality", "seq", "tag"}
    assert {"ts", "value", "unit"} <= set(payload)
    if "tag" in payload:
        assert payload["tag"] == tag
    ts = payload["ts"]
    assert isinstance(ts, str) and ts.endswith("Z")
    when = datetime.fromisoformat(ts)
    assert when.tzinfo is not None and start <= when < end
    value = payload["value"]
    assert isinstance(value, int | float) and not isinstance(value, bool)
    assert math.isfinite(value)
    assert payload["unit"] == INSTRUMENTS[tag].unit
    assert payload.get("quality", "good") in ("good", "uncertain", "bad")
    seq = payload.get("seq")
    assert seq is None or (isinstance(seq, int) and seq >= 1)
    return when


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_reading_matches_the_contract(seed: int) -> None:
    sim = Simulation(SCENARIOS["mixed"], seed=seed, duration_s=1800)
    end = START + timedelta(seconds=1800)
    last_seq: dict[str, int] = defaultdict(int)
    last_ts: dict[str, datetime] = {}
    count = 0
    for reading in sim.readings():
        payload = json.loads(encode({"tag": reading.tag, **reading_payload(reading)}))
        when = assert_valid_reading(payload, reading.tag, START, end)
        assert payload["seq"] == last_seq[reading.tag] + 1  # contiguous per tag
        last_seq[reading.tag] = payload["seq"]
        assert reading.tag not in last_ts or when > last_ts[reading.tag]
        last_ts[reading.tag] = when
        count += 1
    assert set(last_seq) == set(INSTRUMENTS) and count > 6000


def test_reading_payload_shape() -> None:
    reading = Reading("PT-101", 0.0, "2026-11-22T08:00:00Z", 6.012, "bar", 17)
    assert reading_payload(reading) == {
        "ts": "2026-11-22T08:00:00Z",
        "value": 6.012,
        "unit": "bar",
        "quality": "good",
        "seq": 17,
    }
    assert encode(reading_payload(reading)) == (
        b'{"ts":"2026-11-22T08:00:00Z","value":6.012,"unit":"bar","quality":"good","seq":17}'
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        encode({"value": math.nan})


def assert_valid_tick(tick: dict[str, Any], interval_min: float) -> None:
    """Assert one FLEXO tick follows the specification's payload."""
    assert set(tick) == {
        "timestamp",
        "shift",
        "machine_id",
        "overall",
        "components",
        "events",
    }
    assert tick["machine_id"] == "FLEXO_104"
    when = datetime.fromisoformat(tick["timestamp"])
    middle = when - timedelta(minutes=interval_min / 2)
    assert tick["shift"] == shift_of(middle.timestamp())
    overall = tick["overall"]
    assert set(overall) == OVERALL
    for key in ("oee", "availability", "performance", "quality"):
        assert overall[key] is None
    assert overall["runtime_minutes"] + overall["downtime_minutes"] == pytest.approx(
        interval_min, abs=0.002
    )
    assert overall["good_units"] + overall["reject_units"] == overall["produced_units"]
    assert min(overall["good_units"], overall["reject_units"]) >= 0
    assert overall["design_speed_cpm"] == 250
    assert 0 <= overall["actual_speed_cpm"] <= overall["design_speed_cpm"]
    if overall["runtime_minutes"] == 0:
        assert overall["produced_units"] == 0
    assert set(tick["components"]) == set(COMPONENTS)
    for component, metrics in tick["components"].items():
        assert set(metrics) == COMPONENT_METRICS[component]
        assert metrics["health_score"] is None
        for name, value in metrics.items():
            if name != "health_score":
                assert isinstance(value, int | float) and math.isfinite(value) and value >= 0
    for event in tick["events"]:
        assert set(event) == {
            "timestamp",
            "type",
            "component",
            "reason",
            "duration_min",
        }
        assert event["type"] == "downtime"
        assert event["reason"] in REASON_CODES[event["component"]]
        started = datetime.fromisoformat(event["timestamp"])
        ended = started + timedelta(minutes=event["duration_min"])
        # Reported in the tick during which the stop ended.
        assert when - timedelta(minutes=interval_min) < ended <= when + timedelta(seconds=0.1)


def test_flexo_ticks_match_the_specification() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=5, duration_s=12 * 3600)
    ticks = [e for e in sim.events() if isinstance(e, Tick)]
    assert len(ticks) == 12 * 60
    for tick in ticks:
        assert_valid_tick(json.loads(encode(tick.payload)), 1.0)
    events = [ev for t in ticks for ev in t.payload["events"]]
    assert events, "twelve hours without a single stop"
    assert {t.payload["shift"] for t in ticks} == {"A", "B"}
    downtime = sum(t.payload["overall"]["downtime_minutes"] for t in ticks)
    assert downtime == pytest.approx(sum(ev["duration_min"] for ev in events), abs=70)
    availability = 1 - downtime / (12 * 60)
    assert 0.75 < availability < 0.99
    blade = [t.payload["components"]["SLOTTER"]["blade_life_used_pct"] for t in ticks]
    assert max(blade) > blade[0]  # the blade wears


def test_blade_change_resets_wear() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=5, duration_s=4 * 86400, interval_s=3600.0)
    ticks = [e.payload for e in sim.events() if isinstance(e, Tick)]
    changes = [ev for t in ticks for ev in t["events"] if ev["reason"] == "GANTI PISAU SLOTTER"]
    assert changes
    wear = [t["components"]["SLOTTER"]["blade_life_used_pct"] for t in ticks]
    assert max(wear) <= 91.0 and min(wear[100:]) < 5.0


def test_tick_interval_option() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=5, duration_s=600, tick_interval_s=10)
    ticks = [e for e in sim.events() if isinstance(e, Tick)]
    assert [t.t for t in ticks] == [10.0 * k for k in range(1, 61)]
    for tick in ticks:
        assert_valid_tick(tick.payload, 10 / 60)


def test_flexo_tables_are_per_component_of_the_one_list() -> None:
    """The simulator's component list is the connector's; its tables of
    per-component parameters have a row for each component, no more."""
    from connector.flexo import scoring
    from simulator import flexo, history

    assert COMPONENTS is scoring.COMPONENTS
    assert tuple(REASON_CODES) == COMPONENTS
    for table in (flexo._TROUBLE_REASONS, flexo._STOP_RATE_H, history.MAINTENANCE_BASE_H):
        assert set(table) == set(COMPONENTS)
    assert set(flexo._MICRO_RATE_H) <= set(COMPONENTS)

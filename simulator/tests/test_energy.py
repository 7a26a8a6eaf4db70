"""The energy meters: cumulative counters, deterministic, tied to the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.energy import DEFAULT_METERS, FLEXO_IDLE_KW, Meter, MeterBank, flexo_interval_kwh
from simulator.scenarios import SCENARIOS
from simulator.simulation import EnergyReading, Simulation, Tick


def energy_events(sim: Simulation) -> list[EnergyReading]:
    return [e for e in sim.events() if isinstance(e, EnergyReading)]


def test_every_machine_has_a_growing_counter() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=5, duration_s=1800)
    events = energy_events(sim)
    machines = {e.machine_id for e in events}
    assert machines == {m.machine_id for m in DEFAULT_METERS} | {"FLEXO_104"}
    for machine in machines:
        rows = [e for e in events if e.machine_id == machine]
        assert len(rows) == 30
        counters = [e.payload["kwh"] for e in rows]
        assert counters == sorted(counters) and counters[-1] > counters[0] > 1e4
        assert [e.t for e in rows] == sorted(e.t for e in rows)
        assert rows[0].payload["ts"] == "2026-11-22T08:01:00Z"  # the end of the first minute


def test_the_same_seed_gives_the_same_counters() -> None:
    runs = [
        [(e.machine_id, e.payload) for e in energy_events(Simulation(SCENARIOS["mixed"], seed=2,
                                                                     duration_s=600))]
        for _ in range(2)
    ]  # fmt: skip
    assert runs[0] == runs[1]
    other = energy_events(Simulation(SCENARIOS["mixed"], seed=3, duration_s=600))
    assert [e.payload for e in other] != [p for _, p in runs[0]]


def test_flexo_meter_follows_the_ticks() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=1, duration_s=3600)
    events = list(sim.events())
    ticks = [e for e in events if isinstance(e, Tick)]
    flexo = [e for e in events if isinstance(e, EnergyReading) and e.machine_id == "FLEXO_104"]
    assert [e.t for e in flexo] == [t.t for t in ticks]
    used = flexo[-1].payload["kwh"] - flexo[0].payload["kwh"]
    expected = sum(flexo_interval_kwh(t.payload["overall"]) for t in ticks[1:])
    assert used == pytest.approx(expected, abs=0.01)
    produced = sum(t.payload["overall"]["produced_units"] for t in ticks[1:])
    # Around 60 kW at ~220 boards a minute: 4 to 6 Wh a board.
    assert 0.003 < used / produced < 0.006
    # A stopped line still draws its idle power.
    assert flexo_interval_kwh({"runtime_minutes": 0, "downtime_minutes": 60.0}) == FLEXO_IDLE_KW


def test_perfume_meters_follow_the_production_hours() -> None:
    meter = Meter("MX-01", 10.0, 0.5, idle=0.05)
    night = MeterBank([meter], seed=0, start_epoch=1795312800.0)  # 02:00 UTC
    day = MeterBank([meter], seed=0, start_epoch=1795334400.0)  # 08:00 UTC
    used = []
    for bank in (night, day):
        first = bank.read(0.0)[0]["kwh"]
        used.append(bank.read(3600.0)[0]["kwh"] - first)
    assert used[0] == pytest.approx(0.5, rel=0.3) and used[1] == pytest.approx(5.0, rel=0.3)
    with pytest.raises(ValueError):
        Meter("MX/01", 1.0, 0.5)
    with pytest.raises(ValueError):
        Meter("MX-01", 1.0, 0.1, idle=0.5)


def test_quiet_scenarios_and_flags() -> None:
    assert not energy_events(Simulation(SCENARIOS["pt101_out_of_range"], seed=0, duration_s=120))
    assert energy_events(
        Simulation(SCENARIOS["pt101_out_of_range"], seed=0, duration_s=120, energy=True)
    )
    assert not energy_events(Simulation(SCENARIOS["normal"], seed=0, duration_s=120, energy=False))
    no_line = energy_events(Simulation(SCENARIOS["normal"], seed=0, duration_s=120, flexo=False))
    assert "FLEXO_104" not in {e.machine_id for e in no_line} and no_line
    with pytest.raises(ValueError):
        Simulation(SCENARIOS["normal"], energy_interval_s=0)


def test_dump_writes_the_energy_readings(tmp_path: Path) -> None:
    out, energy = tmp_path / "r.jsonl", tmp_path / "e.jsonl"
    rc = main(["dump", "--scenario", "normal", "--duration", "300", "--energy-interval", "120",
               "--out", str(out), "--energy-out", str(energy)])  # fmt: skip
    assert rc == 0
    rows = [json.loads(line) for line in energy.read_text().splitlines()]
    assert len(rows) == 2 * 7 + 5  # 120 and 240 s for the seven; a tick a minute
    assert set(rows[0]) == {"machine_id", "ts", "kwh"}
    rc = main(["dump", "--scenario", "normal", "--duration", "300", "--no-energy",
               "--out", str(out), "--energy-out", str(energy)])  # fmt: skip
    assert rc == 0 and energy.read_text() == ""

"""Live runs: readings stamped with the current time, the demo scenario."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

from simulator.__main__ import _simulation, build_parser
from simulator.scenarios import DEMO_BACKFILL_S, SCENARIOS
from simulator.simulation import EnergyReading, Reading, Simulation, Tick


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def test_run_stamps_readings_with_the_current_time() -> None:
    args = build_parser().parse_args(["run", "--scenario", "normal"])
    before = time.time()
    sim = _simulation(args)
    first = next(sim.readings())
    assert abs(_epoch(first.ts) - before) < 2.0, first.ts


def test_dump_keeps_its_fixed_start() -> None:
    args = build_parser().parse_args(["dump", "--scenario", "normal", "--out", "x"])
    first = next(_simulation(args).readings())
    assert first.ts == "2026-11-22T08:00:00Z"


def test_demo_backfills_the_line_up_to_now_then_goes_live() -> None:
    now = time.time()
    sim = Simulation(SCENARIOS["demo"], start=now)
    events = list(itertools.islice(sim.events(), 3000))
    ticks = [e for e in events if isinstance(e, Tick)]
    readings = [e for e in events if isinstance(e, Reading)]
    energy = [e for e in events if isinstance(e, EnergyReading)]
    backfill = [t for t in ticks if t.t <= DEMO_BACKFILL_S]
    # Two shifts of machine history, ending now.
    assert len(backfill) == DEMO_BACKFILL_S / 60.0
    assert abs(_epoch(backfill[-1].payload["timestamp"]) - now) < 1.0
    assert abs(_epoch(backfill[0].payload["timestamp"]) - (now - DEMO_BACKFILL_S + 60)) < 1.0
    # Instruments and energy meters only live, from now on.
    assert readings and abs(_epoch(readings[0].ts) - now) < 1.0
    assert all(r.t >= DEMO_BACKFILL_S for r in readings)
    assert all(e.t >= DEMO_BACKFILL_S for e in energy)
    # PT-101 goes out of its range within the first two live minutes.
    first = min(f.start_s for f in sim.faults) - DEMO_BACKFILL_S
    assert 0 < first < 90
    assert [f.kind for f in sim.faults if f.start_s - DEMO_BACKFILL_S < 600] == ["out_of_range"]

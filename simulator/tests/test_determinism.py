"""Same seed, same run; another seed, another run; the wall clock plays no part."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.scenarios import SCENARIOS
from simulator.simulation import Reading, Simulation


def _dump(name: str, seed: int, **kw: object) -> tuple[str, str, list[dict[str, object]]]:
    sim = Simulation(SCENARIOS[name], seed=seed, **kw)  # type: ignore[arg-type]
    readings, ticks = io.StringIO(), io.StringIO()
    sim.dump(readings, ticks)
    return readings.getvalue(), ticks.getvalue(), sim.labels()


@pytest.mark.parametrize("name", ["normal", "mixed", "catalogue"])
def test_same_seed_gives_identical_output(name: str) -> None:
    first = _dump(name, 42, duration_s=1200)
    time.sleep(0.01)  # a different wall-clock moment changes nothing
    second = _dump(name, 42, duration_s=1200)
    assert first == second
    assert first[0].count("\n") > 4000


def test_different_seed_gives_different_output() -> None:
    a_readings, a_ticks, a_labels = _dump("mixed", 1, duration_s=1800)
    b_readings, b_ticks, b_labels = _dump("mixed", 2, duration_s=1800)
    assert a_readings != b_readings
    assert a_ticks != b_ticks
    assert a_labels != b_labels
    # Not just a shifted copy: most values differ.
    a_values = [line.split('"value":')[1] for line in a_readings.splitlines()[:500]]
    b_values = [line.split('"value":')[1] for line in b_readings.splitlines()[:500]]
    assert sum(x != y for x, y in zip(a_values, b_values, strict=True)) > 400


def test_duration_only_cuts_the_run() -> None:
    long = list(Simulation(SCENARIOS["normal"], seed=3, duration_s=900).readings())
    short = list(Simulation(SCENARIOS["normal"], seed=3, duration_s=300).readings())
    assert long[: len(short)] == short
    assert all(r.t < 300 for r in short) and len(short) == 4 * 300


def test_start_sets_timestamps_not_values() -> None:
    base = list(Simulation(SCENARIOS["pt101_out_of_range"], seed=3).readings())
    moved = list(
        Simulation(
            SCENARIOS["pt101_out_of_range"],
            seed=3,
            start="2026-11-22T08:00:00.000+00:00",
        ).readings()
    )
    assert base == moved
    assert base[0].ts == "2026-11-22T08:00:00Z"
    assert base[-1].ts == "2026-11-22T08:09:59Z"


def test_interval_override_sets_the_reading_rate() -> None:
    sim = Simulation(SCENARIOS["normal"], seed=3, duration_s=10, interval_s=0.25, flexo=False)
    readings = [e for e in sim.events() if isinstance(e, Reading)]
    assert len(readings) == 4 * 40
    assert readings[5].ts == "2026-11-22T08:00:00.250Z"


def test_cli_dump_is_reproducible(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    outputs = []
    for attempt in range(2):
        out = tmp_path / f"r{attempt}.jsonl"
        labels = tmp_path / f"l{attempt}.jsonl"
        done = run_cli(
            "dump",
            "--scenario",
            "mixed",
            "--duration",
            "600",
            "--seed",
            "7",
            "--out",
            str(out),
            "--labels",
            str(labels),
        )
        assert done.returncode == 0, done.stderr
        outputs.append((out.read_bytes(), labels.read_bytes()))
    assert outputs[0] == outputs[1]
    expected, _, _ = _dump("mixed", 7, duration_s=600)
    assert outputs[0][0].decode() == expected

"""Fault injection: every label holds its fault, and nothing outside a label is faulty.

Each check compares a faulted run with its counterfactual: the same scenario
and seed without faults.  Faults draw from their own random streams, so the
two runs are identical outside the labels; inside, the difference is the
fault itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from simulator.faults import FAULT_KINDS, Fault, write_labels
from simulator.instruments import DEFAULT_INSTRUMENTS, instruments_by_tag
from simulator.scenarios import SCENARIOS, get_scenario
from simulator.simulation import Reading, Simulation, Tick

INSTRUMENTS = instruments_by_tag(DEFAULT_INSTRUMENTS)
Series = dict[str, dict[float, float]]


def _series(sim: Simulation) -> Series:
    series: Series = defaultdict(dict)
    for reading in sim.readings():
        series[reading.tag][reading.t] = reading.value
    return series


def _baseline(sim: Simulation) -> Simulation:
    clean = dataclasses.replace(sim.scenario, faults=(), random_faults=False)
    return Simulation(clean, seed=sim.seed, duration_s=sim.duration_s, flexo=sim.flexo)


def _step(tag: str) -> float:
    return 10.0 ** -INSTRUMENTS[tag].decimals


def check_labels_hold(sim: Simulation) -> dict[str, int]:
    """Assert every fault of ``sim`` against its counterfactual; count kinds checked."""
    faulted, clean = _series(sim), _series(_baseline(sim))
    checked: dict[str, int] = defaultdict(int)
    instrument_faults = [f for f in sim.faults if f.kind != "degradation"]
    for tag, inst in INSTRUMENTS.items():
        mine = [f for f in instrument_faults if f.tag == tag]
        oor = [f for f in mine if f.kind == "out_of_range"]
        for t, value in clean[tag].items():
            inside = [f for f in mine if f.active(t)]
            if not inside:
                # Outside every label: exactly the healthy value, inside the range.
                assert faulted[tag][t] == value, (tag, t)
            if not any(f.active(t) for f in oor) and t in faulted[tag]:
                assert inst.signal_low <= faulted[tag][t] <= inst.signal_high, (tag, t)
        for fault in mine:
            times = [t for t in clean[tag] if fault.active(t)]
            assert times, f"{fault} holds no reading"
            got = [faulted[tag].get(t) for t in times]
            want = [clean[tag][t] for t in times]
            check_one(fault, times, got, want, faulted[tag])
            checked[fault.kind] += 1
    return checked


def check_one(
    fault: Fault,
    times: list[float],
    got: list[float | None],
    want: list[float],
    faulted: dict[float, float],
) -> None:
    """Assert that the readings inside one label show that fault."""
    inst = INSTRUMENTS[fault.tag]
    step = _step(fault.tag)
    p = fault.params
    if fault.kind == "data_gap":
        assert all(v is None for v in got)
        before = [t for t in faulted if t < fault.start_s]
        assert not before or max(before) >= fault.start_s - 2 * inst.interval_s
        return
    values = [v for v in got if v is not None]
    assert len(values) == len(times), "a non-gap fault dropped readings"
    if fault.kind == "out_of_range":
        if p.get("direction", "high") == "high":
            assert all(v > inst.signal_high for v in values)
        else:
            assert all(v < inst.signal_low for v in values)
        if "level" in p:
            assert statistics.mean(values) == pytest.approx(
                p["level"], abs=5 * inst.noise_sd + step
            )
    elif fault.kind == "stuck":
        assert len(set(values)) == 1
        previous = [t for t in faulted if t < fault.start_s]
        if previous:
            assert values[0] == faulted[max(previous)]
        assert values != want  # the healthy signal did move meanwhile
    elif fault.kind == "drift":
        rate = p["rate_per_h"]
        for t, v, w in zip(times, values, want, strict=True):
            expected = inst.clip(w + rate * (t - fault.start_s) / 3600.0)
            assert v == pytest.approx(expected, abs=1.5 * step)
        # The mean really shifts: last quarter of the label against the healthy run.
        tail = len(values) * 3 // 4
        shift = statistics.mean(values[tail:]) - statistics.mean(want[tail:])
        assert math.copysign(1, shift) == math.copysign(1, rate)
        assert abs(shift) > 3 * inst.noise_sd
    elif fault.kind == "spike":
        for v, w in zip(values, want, strict=True):
            assert v == pytest.approx(inst.clip(w + p["magnitude"]), abs=1.5 * step)
        assert all(abs(v - w) > 10 * inst.noise_sd for v, w in zip(values, want, strict=True))
    elif fault.kind == "noise":
        diffs = [v - w for v, w in zip(values, want, strict=True)]
        expected_sd = inst.noise_sd * math.sqrt(p["factor"] ** 2 - 1)
        assert statistics.pstdev(diffs) == pytest.approx(expected_sd, rel=0.35)
        # Seen from the data alone: the reading-to-reading jitter is far larger.
        jitter = statistics.pstdev(b - a for a, b in itertools.pairwise(values))
        healthy = statistics.pstdev(b - a for a, b in itertools.pairwise(want))
        assert jitter > 3 * healthy
    elif fault.kind == "oscillation":
        for t, v, w in zip(times, values, want, strict=True):
            phase = 2 * math.pi * (t - fault.start_s) / p["period_s"]
            assert v == pytest.approx(
                inst.clip(w + p["amplitude"] * math.sin(phase)), abs=1.5 * step
            )
        assert max(values) - min(values) > 1.5 * p["amplitude"]
    else:  # pragma: no cover
        pytest.fail(f"unchecked kind {fault.kind}")


def test_catalogue_holds_every_kind() -> None:
    sim = Simulation(SCENARIOS["catalogue"], seed=11)
    checked = check_labels_hold(sim)
    assert set(checked) == set(FAULT_KINDS) - {"degradation"}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_faults_hold(seed: int) -> None:
    sim = Simulation(SCENARIOS["mixed"], seed=seed, duration_s=2400)
    instrument_faults = [f for f in sim.faults if f.kind != "degradation"]
    assert len(instrument_faults) >= 4
    check_labels_hold(sim)


def test_mixed_draws_every_kind_over_seeds() -> None:
    kinds = set()
    for seed in range(10):
        kinds |= {f.kind for f in Simulation(SCENARIOS["mixed"], seed=seed).faults}
    assert kinds == set(FAULT_KINDS)


def test_pt101_out_of_range_scenario() -> None:
    sim = Simulation(SCENARIOS["pt101_out_of_range"], seed=0)
    labels = sim.labels()
    assert labels == [
        {
            "tag": "PT-101",
            "fault": "out_of_range",
            "start": "2026-11-22T08:04:00Z",
            "end": "2026-11-22T08:05:00Z",
        }
    ]
    pt = [r for r in sim.readings() if r.tag == "PT-101"]
    high = [r for r in pt if r.value > 16.0]
    assert [r.t for r in high] == [float(t) for t in range(240, 300)]
    assert statistics.mean(r.value for r in high) == pytest.approx(20.0, abs=0.05)
    after = [r.value for r in pt if 300 <= r.t < 360]
    before = [r.value for r in pt if 180 <= r.t < 240]
    assert statistics.mean(after) == pytest.approx(statistics.mean(before), abs=0.02)
    others = [r for r in sim.readings() if r.tag != "PT-101"]
    for reading in others:
        inst = INSTRUMENTS[reading.tag]
        assert inst.signal_low <= reading.value <= inst.signal_high
    # Its scenario file twin gives the same data.
    twin = get_scenario(
        str(Path(__file__).resolve().parents[1] / "config" / "pt101_out_of_range.toml")
    )
    assert list(Simulation(twin, seed=0).readings()) == list(sim.readings())


def test_degradation_worsens_its_component() -> None:
    sim = Simulation(SCENARIOS["flexo_printing_degradation"], seed=3)
    healthy = _baseline(sim)
    assert [f.kind for f in sim.faults] == ["degradation"]

    def late_registration(run: Simulation) -> float:
        ticks = [e for e in run.events() if isinstance(e, Tick) and 2400 <= e.t <= 3000]
        return statistics.fmean(
            float(t.payload["components"]["PRINTING"]["registration_error_mm"]) for t in ticks
        )

    assert late_registration(sim) > late_registration(healthy) + 0.25
    assert sim.labels()[0]["component"] == "PRINTING"


def test_labels_file_format(tmp_path: Path) -> None:
    sim = Simulation(SCENARIOS["mixed"], seed=4)
    path = tmp_path / "labels.jsonl"
    assert write_labels(path, sim.labels()) == len(sim.faults)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == len(sim.faults)
    for row in rows:
        keys = {"tag", "fault", "start", "end"}
        if row["fault"] == "degradation":
            keys.add("component")
        assert set(row) == keys
        start = datetime.fromisoformat(row["start"])
        end = datetime.fromisoformat(row["end"])
        assert row["start"].endswith("Z") and start < end
        assert start >= datetime.fromisoformat("2026-11-22T08:00:00Z")
        assert end <= datetime.fromisoformat("2026-11-22T09:00:00Z")


def test_labels_are_clipped_to_what_ran() -> None:
    sim = Simulation(SCENARIOS["catalogue"], seed=1)
    labels = sim.labels(end_s=150.0)
    assert {(row["tag"], row["fault"]) for row in labels} == {
        ("PT-101", "drift"),
        ("TT-201", "stuck"),
        ("FT-301", "oscillation"),
        ("LT-401", "data_gap"),
    }
    assert all(row["end"] == "2026-11-22T08:02:30Z" for row in labels)
    # A shorter run clips the schedule the same way.
    short = Simulation(SCENARIOS["catalogue"], seed=1, duration_s=150.0)
    assert short.labels() == labels


def test_invalid_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("PT-101", "melt", 0.0, 1.0)
    with pytest.raises(ValueError, match="start_s < end_s"):
        Fault("PT-101", "spike", 5.0, 5.0)
    with pytest.raises(ValueError, match="unknown parameters"):
        Fault("PT-101", "spike", 0.0, 1.0, {"size": 3})
    with pytest.raises(ValueError, match="overlapping"):
        dataclasses.replace(
            SCENARIOS["normal"],
            faults=(
                Fault("PT-101", "spike", 10.0, 20.0),
                Fault("PT-101", "stuck", 15.0, 30.0),
            ),
        )
    with pytest.raises(ValueError, match="unknown tag"):
        dataclasses.replace(SCENARIOS["normal"], faults=(Fault("XX-1", "spike", 1.0, 2.0),))
    with pytest.raises(ValueError, match="inside its signal range"):
        dataclasses.replace(
            SCENARIOS["normal"],
            faults=(Fault("PT-101", "out_of_range", 1.0, 9.0, {"level": 12.0}),),
        )


def test_a_fault_changes_nothing_but_its_own_tag() -> None:
    sim = Simulation(SCENARIOS["pt101_out_of_range"], seed=9)
    clean = _baseline(sim)
    for a, b in zip(sim.readings(), clean.readings(), strict=True):
        assert (a.tag, a.t, a.seq) == (b.tag, b.t, b.seq)
        if a.tag != "PT-101":
            assert a == b
    assert isinstance(next(iter(sim.readings())), Reading)


def test_faults_other_than_out_of_range_stay_in_the_signal_range() -> None:
    scenario = dataclasses.replace(
        SCENARIOS["pt101_out_of_range"],
        faults=(
            Fault("PT-101", "spike", 100.0, 103.0, {"magnitude": 50.0}),
            Fault("TT-201", "drift", 100.0, 200.0, {"rate_per_h": -36000.0}),
        ),
    )
    readings = list(Simulation(scenario, seed=1, duration_s=300).readings())
    spikes = [r.value for r in readings if r.tag == "PT-101" and 100 <= r.t < 103]
    assert spikes == [16.0, 16.0, 16.0]
    drifted = [r.value for r in readings if r.tag == "TT-201" and 190 <= r.t < 200]
    assert drifted == [0.0] * 10

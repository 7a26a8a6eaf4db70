"""The anomaly engine on the simulator's labelled scenarios.

``python -m connector.ml.sim_eval [--seeds 5] [--hours 4]``

The plant simulator (``simulator/``) publishes the four instruments of the
demo plant with labelled faults (drift, stuck, spike, noise, oscillation,
out of range, data gap). This runs its scenarios in process, with no
broker, and feeds every reading through what the daemon runs: each tag's
detectors (:func:`connector.detect.tag.build_detectors`) and the
:class:`connector.detect.anomaly.AnomalyEngine` (the four instruments as one
machine, its one default configuration). An *alarm* is a run of readings of
one tag whose ``anomaly`` verdict is active.

Per fault type: **recall** (labels with an alarm of their tag starting
between the fault's start and ``TOLERANCE_S`` after its end) and the mean
**detection delay** (alarm start minus fault start); overall **precision**
(alarms that start during a labelled fault of any instrument, or within
``TOLERANCE_S`` after it, over all alarms; the instruments are coupled, so
a fault of the flow moves the pressure). Faults starting in the first
``WARMUP_S`` (the engine's warm-up) are left out. ``out_of_range`` and
``data_gap`` are the signal-range and data-gap detectors' (the engine sees
no reading outside the signal range nor a missing one): listed for
completeness.

Scenarios: ``catalogue`` (one fault of every kind, moved one hour later so
that the engine has learned) and ``mixed`` with random faults from seeds
``0 .. seeds - 1`` over ``hours`` hours.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..detect.anomaly import AnomalyEngine
from ..detect.base import RULE_VIOLATION
from ..detect.tag import build_detectors

TOLERANCE_S = 120.0
WARMUP_S = 600.0
MACHINE = "PLANT"


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run(scenario: Any, seed: int, duration_s: float) -> dict[str, Any]:
    """Alarms and labels of one simulated run."""
    from simulator.simulation import Simulation

    sim = Simulation(scenario, seed=seed, duration_s=duration_s, flexo=False, energy=False)
    sensors = [
        {
            "tag": inst.tag,
            "unit": inst.unit,
            "interval_s": inst.interval_s,
            "signal_low": inst.signal_low,
            "signal_high": inst.signal_high,
            "machine": MACHINE,
        }
        for inst in sim.instruments
    ]
    monitors = {s["tag"]: build_detectors(s) for s in sensors}
    engine = AnomalyEngine()
    engine.configure(sensors)
    t0 = sim.start_epoch
    alarms: list[tuple[str, float, float]] = []
    open_: dict[str, float] = {}
    last: dict[str, float] = {}
    readings = 0
    for reading in sim.readings():
        ts = t0 + reading.t
        readings += 1
        verdicts = monitors[reading.tag].update(ts, reading.value)
        if RULE_VIOLATION not in verdicts:
            continue
        active = engine.update(reading.tag, ts, reading.value).active
        tag = reading.tag
        if active and tag not in open_:
            open_[tag] = ts
        elif not active and tag in open_:
            alarms.append((tag, open_.pop(tag), last[tag]))
        last[tag] = ts
    for tag, start in open_.items():
        alarms.append((tag, start, last[tag]))
    labels = [
        (lab["tag"], lab["fault"], _epoch(lab["start"]), _epoch(lab["end"])) for lab in sim.labels()
    ]
    return {"alarms": alarms, "labels": labels, "t0": t0, "readings": readings}


def score(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Recall and delay per fault type, precision overall."""
    per: dict[str, dict[str, Any]] = {}
    true_alarms = all_alarms = 0
    for r in runs:
        labels = [lab for lab in r["labels"] if lab[2] - r["t0"] >= WARMUP_S]
        for tag, fault, start, end in labels:
            entry = per.setdefault(fault, {"labels": 0, "found": 0, "delays": []})
            entry["labels"] += 1
            hits = [a for a in r["alarms"] if a[0] == tag and start <= a[1] < end + TOLERANCE_S]
            if hits:
                entry["found"] += 1
                entry["delays"].append(min(a[1] for a in hits) - start)
        for _tag, a_start, _a_end in r["alarms"]:
            if a_start - r["t0"] < WARMUP_S:
                continue
            all_alarms += 1
            if any(s <= a_start < e + TOLERANCE_S for _t, _f, s, e in r["labels"]):
                true_alarms += 1
    return {
        "per_fault": per,
        "alarms": all_alarms,
        "true_alarms": true_alarms,
        "precision": true_alarms / all_alarms if all_alarms else 1.0,
    }


def scenarios(seeds: int, hours: float) -> list[tuple[str, Any, int, float]]:
    """The runs: the catalogue moved an hour later, and mixed per seed."""
    from simulator.scenarios import SCENARIOS

    cat = SCENARIOS["catalogue"]
    shift = 3600.0
    moved = dataclasses.replace(
        cat,
        faults=tuple(
            dataclasses.replace(f, start_s=f.start_s + shift, end_s=f.end_s + shift)
            for f in cat.faults
        ),
        duration_s=cat.duration_s + shift,
    )
    out = [("catalogue", moved, 0, moved.duration_s)]
    out += [("mixed", SCENARIOS["mixed"], seed, 3600.0 * hours) for seed in range(seeds)]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.ml.sim_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seeds", type=int, default=5, help="mixed runs (seeds 0 .. N-1)")
    parser.add_argument("--hours", type=float, default=4.0, help="length of each mixed run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runs = []
    readings = 0
    for name, scenario, seed, duration in scenarios(args.seeds, args.hours):
        r = run(scenario, seed, duration)
        readings += r["readings"]
        runs.append(r)
        print(f"{name} seed {seed}: {len(r['labels'])} labels, {len(r['alarms'])} alarms")
    result = score(runs)
    print(f"\n{'fault':<14} {'labels':>6} {'found':>6} {'recall':>7} {'delay s':>8}")
    for fault, e in sorted(result["per_fault"].items()):
        delay = sum(e["delays"]) / len(e["delays"]) if e["delays"] else float("nan")
        note = (
            "  (signal range / data gap detectors)" if fault in ("out_of_range", "data_gap") else ""
        )
        print(
            f"{fault:<14} {e['labels']:6d} {e['found']:6d} {e['found'] / e['labels']:7.2f}"
            f" {delay:8.1f}{note}"
        )
    print(
        f"precision {result['precision']:.2f} ({result['true_alarms']} of {result['alarms']}"
        f" alarms during or within {TOLERANCE_S:.0f} s after a labelled fault);"
        f" {readings} readings in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

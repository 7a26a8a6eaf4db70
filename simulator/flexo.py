"""FLEXO 104 tick generator.

One tick summarises one interval (``tick_interval_s``, a minute by default)
of the corrugated-board flexo line in the payload of the component-health
specification::

    {"timestamp": "...Z", "shift": "A", "machine_id": "FLEXO_104",
     "overall": {"produced_units", "good_units", "reject_units",
                 "runtime_minutes", "downtime_minutes", "design_speed_cpm",
                 "actual_speed_cpm", "oee": null, "availability": null,
                 "performance": null, "quality": null},
     "components": {"PRE_FEEDER": {...}, "FEEDER": {...}, "PRINTING": {...},
                    "SLOTTER": {...}, "DOWN_STACKER": {...}},
     "events": [{"timestamp", "type": "downtime", "component", "reason",
                 "duration_min"}]}

* ``timestamp`` is the end of the interval; the ``overall`` counters are
  those of the interval alone (``runtime_minutes + downtime_minutes`` equals
  the interval), ``actual_speed_cpm`` is the mean speed while running.
  OEE fields and ``health_score`` are ``null``: they are computed downstream.
* ``shift`` is A (06-14 UTC), B (14-22) or C (22-06), taken at the middle of
  the interval.
* ``*_hour`` metrics count micro-events (feed stops, double sheets, jams) in
  the trailing hour; the other metrics are the interval's measurement.
* A downtime stop is reported once, in the tick during which it ends, with
  its start time and total ``duration_min``; ``reason`` is a production
  report loss-time code such as ``FEEDER UNIT TROUBLE MEKANIK``.
* Slotter blade wear (``blade_life_used_pct``) grows with the cuts made; at
  90 % the blade is changed (a SLOTTER stop) and wear restarts at 0.

A ``degradation`` :class:`~simulator.faults.Fault` on the machine ramps one
component's metrics towards their critical bands and makes its stops more
frequent: the placeholder for component-degradation scenarios.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from typing import Any

from .clock import iso_utc
from .faults import Fault

__all__ = [
    "COMPONENTS",
    "DEFAULT_MACHINE_ID",
    "REASON_CODES",
    "FlexoSimulator",
    "shift_of",
    "tick_times",
]

DEFAULT_MACHINE_ID = "FLEXO_104"
COMPONENTS: tuple[str, ...] = (
    "PRE_FEEDER",
    "FEEDER",
    "PRINTING",
    "SLOTTER",
    "DOWN_STACKER",
)

# Loss-time reason codes as they appear in the production reports.
REASON_CODES: dict[str, tuple[str, ...]] = {
    "PRE_FEEDER": ("PRE FEEDER TROUBLE MEKANIK", "GANTI ROLL"),
    "FEEDER": ("FEEDER UNIT TROUBLE MEKANIK", "FEEDER UNIT TROUBLE ELEKTRIK"),
    "PRINTING": ("PRINTING UNIT TROUBLE MEKANIK", "GANTI PLATE / TINTA"),
    "SLOTTER": ("SLOTTER UNIT TROUBLE MEKANIK", "GANTI PISAU SLOTTER"),
    "DOWN_STACKER": ("DOWN STACKER TROUBLE MEKANIK", "DOWN STACKER MACET"),
}
BLADE_CHANGE_REASON = "GANTI PISAU SLOTTER"

# Stops per running hour of each component in good condition.
_STOP_RATE_H = {
    "PRE_FEEDER": 0.10,
    "FEEDER": 0.15,
    "PRINTING": 0.08,
    "SLOTTER": 0.05,
    "DOWN_STACKER": 0.10,
}
# Micro-events per running hour (counted in the *_hour metrics).
_MICRO_RATE_H = {"PRE_FEEDER": 0.4, "FEEDER": 0.8, "DOWN_STACKER": 0.3}
_BLADE_LIFE_CUTS = 500_000.0
_BLADE_CHANGE_AT_PCT = 90.0


def shift_of(epoch: float) -> str:
    """Return the shift letter (A 06-14, B 14-22, C 22-06 UTC) at ``epoch``."""
    hour = (epoch % 86_400.0) / 3600.0
    if 6.0 <= hour < 14.0:
        return "A"
    if 14.0 <= hour < 22.0:
        return "B"
    return "C"


class FlexoSimulator:
    """Generates the ticks of one FLEXO machine in simulated time.

    Parameters
    ----------
    seed
        Seed of the machine's random stream.
    start_epoch
        Epoch seconds of simulated time 0.
    machine_id
        The machine id in the payload and topic.
    tick_interval_s
        Simulated seconds covered by one tick.
    design_speed_cpm
        Design speed in cuts per minute.
    degradations
        ``degradation`` faults on this machine.

    Examples
    --------
    >>> flexo = FlexoSimulator(seed=1, start_epoch=0.0)
    >>> tick = flexo.tick(60.0)
    >>> sorted(tick["components"]) == sorted(COMPONENTS)
    True
    """

    def __init__(
        self,
        seed: int,
        start_epoch: float,
        *,
        machine_id: str = DEFAULT_MACHINE_ID,
        tick_interval_s: float = 60.0,
        design_speed_cpm: float = 250.0,
        degradations: Sequence[Fault] = (),
    ) -> None:
        if not tick_interval_s > 0:
            raise ValueError("tick_interval_s must be positive")
        for fault in degradations:
            if fault.kind != "degradation" or fault.component not in COMPONENTS:
                raise ValueError(f"not a FLEXO degradation fault: {fault}")
        self.machine_id = machine_id
        self.start_epoch = start_epoch
        self.tick_interval_s = tick_interval_s
        self.design_speed_cpm = design_speed_cpm
        self.degradations = tuple(degradations)
        self._rng = random.Random(f"sim:{seed}:flexo:{machine_id}")
        self.t_ = 0.0
        self.blade_life_used_pct_ = round(self._rng.uniform(20.0, 60.0), 2)
        self.down_until_ = 0.0
        self.stop_: dict[str, Any] | None = None
        self.micro_events_: dict[str, deque[float]] = {c: deque() for c in _MICRO_RATE_H}

    def severity(self, component: str, t: float) -> float:
        """Degradation of ``component`` at ``t``: 0 healthy, up to ``severity``."""
        level = 0.0
        for fault in self.degradations:
            if fault.component == component and fault.active(t):
                top = float(fault.params.get("severity", 1.0))
                ramp = (t - fault.start_s) / (fault.end_s - fault.start_s)
                level = max(level, top * ramp)
        return level

    def tick(self, t: float) -> dict[str, Any]:
        """Return the tick payload of the interval ending at simulated ``t``."""
        if t <= self.t_:
            raise ValueError("ticks must move forward in time")
        t0, t1 = self.t_, t
        self.t_ = t
        rng = self._rng
        interval_min = (t1 - t0) / 60.0
        sev = {c: self.severity(c, t1) for c in COMPONENTS}
        events: list[dict[str, Any]] = []

        # Downtime: finish a stop in progress, maybe start a new one.
        downtime_s = 0.0
        cursor = t0
        while cursor < t1:
            if self.down_until_ > cursor:
                end = min(self.down_until_, t1)
                downtime_s += end - cursor
                cursor = end
                if self.stop_ is not None and self.down_until_ <= t1:
                    events.append(self.stop_)
                    self.stop_ = None
                continue
            stop = self._draw_stop(cursor, t1, sev)
            if stop is None:
                break
            cursor = stop
        runtime_s = (t1 - t0) - downtime_s
        runtime_min = runtime_s / 60.0

        # Speed, output and the component metrics of the interval.
        printing_slow = 0.15 * sev["PRINTING"] + 0.05 * sev["PRE_FEEDER"]
        performance = min(0.98, max(0.5, rng.gauss(0.88, 0.03) - printing_slow))
        speed = self.design_speed_cpm * performance if runtime_s > 0 else 0.0
        produced = round(speed * runtime_min)
        self._micro_events(t0, t1, runtime_s, sev)
        components = self._components(sev, produced)
        reject_pct = (
            components["PRINTING"]["reject_rate_pct"]
            + components["SLOTTER"]["miscut_pct"]
            + components["DOWN_STACKER"]["misstack_pct"]
        )
        reject = min(produced, round(produced * reject_pct / 100.0))
        if self.blade_life_used_pct_ >= _BLADE_CHANGE_AT_PCT and self.down_until_ <= t1:
            self._start_stop(t1, "SLOTTER", BLADE_CHANGE_REASON, rng.uniform(10.0, 20.0))
            self.blade_life_used_pct_ = 0.0
        return {
            "timestamp": iso_utc(self.start_epoch + t1),
            "shift": shift_of(self.start_epoch + (t0 + t1) / 2.0),
            "machine_id": self.machine_id,
            "overall": {
                "produced_units": produced,
                "good_units": produced - reject,
                "reject_units": reject,
                "runtime_minutes": round(runtime_min, 3),
                "downtime_minutes": round(interval_min - runtime_min, 3),
                "design_speed_cpm": self.design_speed_cpm,
                "actual_speed_cpm": round(speed, 1),
                "oee": None,
                "availability": None,
                "performance": None,
                "quality": None,
            },
            "components": components,
            "events": events,
        }

    def _draw_stop(self, t0: float, t1: float, sev: dict[str, float]) -> float | None:
        """Maybe start a stop in ``[t0, t1)``; return its start or ``None``."""
        rng = self._rng
        rates = {c: _STOP_RATE_H[c] * (1.0 + 4.0 * sev[c]) / 3600.0 for c in COMPONENTS}
        total = sum(rates.values())
        start = t0 + rng.expovariate(total)
        if start >= t1:
            return None
        pick = rng.uniform(0.0, total)
        component = COMPONENTS[-1]
        for name in COMPONENTS:
            pick -= rates[name]
            if pick <= 0:
                component = name
                break
        reason = rng.choice(REASON_CODES[component])
        duration_min = min(60.0, 2.0 + rng.expovariate(1.0 / 8.0))
        self._start_stop(start, component, reason, duration_min)
        return start

    def _start_stop(self, start: float, component: str, reason: str, minutes: float) -> None:
        minutes = round(minutes, 1)
        self.down_until_ = start + minutes * 60.0
        self.stop_ = {
            "timestamp": iso_utc(self.start_epoch + start),
            "type": "downtime",
            "component": component,
            "reason": reason,
            "duration_min": minutes,
        }

    def _micro_events(self, t0: float, t1: float, runtime_s: float, sev: dict[str, float]) -> None:
        """Draw the interval's micro-events and forget those older than an hour."""
        for component, base in _MICRO_RATE_H.items():
            rate = base * (1.0 + 6.0 * sev[component]) / 3600.0
            events = self.micro_events_[component]
            if runtime_s > 0:
                at = t0 + self._rng.expovariate(rate)
                while at < t0 + runtime_s:
                    events.append(at)
                    at += self._rng.expovariate(rate)
            while events and events[0] <= t1 - 3600.0:
                events.popleft()

    def _components(self, sev: dict[str, float], produced: int) -> dict[str, dict[str, Any]]:
        rng = self._rng

        def pos(mean: float, sd: float, floor: float = 0.0) -> float:
            return max(floor, rng.gauss(mean, sd))

        self.blade_life_used_pct_ = min(
            100.0, self.blade_life_used_pct_ + 100.0 * produced / _BLADE_LIFE_CUTS
        )
        wear = self.blade_life_used_pct_ / 100.0
        registration = pos(0.12 + 0.5 * sev["PRINTING"], 0.03, 0.01)
        return {
            "PRE_FEEDER": {
                "tension_dev_pct": round(abs(rng.gauss(2.5 + 12.0 * sev["PRE_FEEDER"], 1.0)), 2),
                "feed_stops_hour": len(self.micro_events_["PRE_FEEDER"]),
                "health_score": None,
            },
            "FEEDER": {
                "double_sheet_hour": len(self.micro_events_["FEEDER"]),
                "vacuum_dev_pct": round(abs(rng.gauss(4.0 + 20.0 * sev["FEEDER"], 2.0)), 2),
                "health_score": None,
            },
            "PRINTING": {
                "registration_error_mm": round(registration, 3),
                "registration_error_max_mm": round(registration * rng.uniform(1.8, 2.5), 3),
                "ink_viscosity_dev_pct": round(
                    abs(rng.gauss(5.0 + 15.0 * sev["PRINTING"], 2.0)), 2
                ),
                "reject_rate_pct": round(pos(1.2 + 4.0 * sev["PRINTING"], 0.4), 2),
                "health_score": None,
            },
            "SLOTTER": {
                "miscut_pct": round(pos(0.5 + 3.0 * sev["SLOTTER"], 0.2), 2),
                "burr_mm": round(pos(0.03 + 0.06 * wear + 0.2 * sev["SLOTTER"], 0.01), 3),
                "blade_life_used_pct": round(self.blade_life_used_pct_, 2),
                "health_score": None,
            },
            "DOWN_STACKER": {
                "jam_hour": len(self.micro_events_["DOWN_STACKER"]),
                "misstack_pct": round(pos(0.4 + 3.0 * sev["DOWN_STACKER"], 0.15), 2),
                "sync_dev_pct": round(abs(rng.gauss(2.0, 1.0)), 2),
                "health_score": None,
            },
        }


def tick_times(duration_s: float, tick_interval_s: float) -> list[float]:
    """Simulated times of the ticks of a run: every full interval up to the end."""
    count = math.floor(duration_s / tick_interval_s + 1e-9)
    return [k * tick_interval_s for k in range(1, count + 1)]

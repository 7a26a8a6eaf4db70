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
  report loss-time code such as ``FEEDER UNIT TROUBLE MEKANIK``
  (:data:`REASON_CODES`, by component).
* ``reject_units`` is the sum of three defect counts: print defects
  (``PRINTING.reject_rate_pct``), mis-cuts (``SLOTTER.miscut_pct``) and
  mis-stacks (``DOWN_STACKER.misstack_pct``) of the interval's output.
* The line runs jobs (orders) of exponentially distributed length (mean four
  hours); each job has its own run speed, 82-94 % of the design speed.

Wear
----
Three consumables wear with the cuts made; their wear ``w`` is the fraction
of their life used (0 new).  When one reaches its change point the line
stops for its change (``reason`` below) and its wear restarts at 0:

=============== ========== ============ ========= ===================== =========
consumable      component  life (cuts)  change at reason                stop, min
=============== ========== ============ ========= ===================== =========
slotter blade   SLOTTER        500 000  90 %      GANTI PISAU SLOTTER   10-20
doctor blade    PRINTING     3 000 000  100 %     GANTI DOCTOR BLADE    15-30
anilox roll     PRINTING    40 000 000  100 %     GANTI ANILOX          60-120
=============== ========== ============ ========= ===================== =========

At the design speed a blade lasts about a day and a half, a doctor blade
ten days, an anilox roll four to five months.  With ``b``, ``d``, ``a`` the
wear of slotter blade, doctor blade and anilox and ``s`` the degradation
severity of the component (below), the metrics are drawn as::

    PRINTING.registration_error_mm ~ N(0.10 + 0.08 d^2 + 0.50 a^2 + 0.5 s, 0.03)
    PRINTING.reject_rate_pct       ~ N(1.0 + 1.5 d^2 + 4.5 a^2 + 4 s, 0.4)
    PRINTING.doctor_blade_wear_pct = 100 d
    PRINTING.anilox_pressure_bar   ~ N(2.0 + 1.2 a, 0.05)   (raised to make up
                                                             for worn cells)
    SLOTTER.blade_life_used_pct    = 100 b
    SLOTTER.burr_mm                ~ N(0.03 + 0.09 b^2 + 0.2 s, 0.01)
    SLOTTER.miscut_pct             ~ N(0.5 + 0.8 b^2 + 3 s, 0.2)

(clipped at 0; worn blades and anilox also cost a few percent of speed).  So
over one anilox life the printing unit drifts through the health bands of
the specification: registration error under 0.2 mm (good) while ``a`` is
below about 0.45, 0.2-0.5 mm (warning) up to about 0.9, above 0.5 mm
(critical) until the anilox is changed; the print reject rate follows
(2 % and 5 %).  Blade wear crosses 70 % (warning) before each change.

A ``degradation`` :class:`~simulator.faults.Fault` on the machine ramps one
component's metrics towards their critical bands (``s`` from 0 at its start
to ``severity`` at its end), makes its stops up to five times more frequent
and wears its consumables up to ten times faster (``1 + 9 s``).  It ends
with a repair: the component's consumables are renewed at the end of the
fault and, at the first tick end the line is not stopped, a repair stop of
30-90 minutes with the component's ``... TROUBLE MEKANIK`` reason follows,
so the metrics after the label are healthy again.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connector.flexo.scoring import COMPONENTS
from connector.reports import DEFECT_TYPES

from .clock import iso_utc
from .faults import Fault

__all__ = [
    "COMPONENTS",
    "CONSUMABLES",
    "DEFAULT_DESIGN_SPEED_CPM",
    "DEFAULT_MACHINE_ID",
    "DEFECT_TYPES",
    "REASON_CODES",
    "SHIFTS",
    "SHIFT_S",
    "Consumable",
    "FlexoSimulator",
    "Interval",
    "Stop",
    "shift_of",
    "tick_times",
]

DEFAULT_MACHINE_ID = "FLEXO_104"
DEFAULT_DESIGN_SPEED_CPM = 250.0
# Shift letters and their start hour (UTC); every shift lasts eight hours.
SHIFTS: tuple[tuple[str, int], ...] = (("A", 6), ("B", 14), ("C", 22))
SHIFT_S = 8 * 3600.0


@dataclass(frozen=True, slots=True)
class Consumable:
    """A wear part: its component, life in cuts and change (see the module doc)."""

    name: str
    component: str
    life_cuts: float
    change_at: float
    reason: str
    change_min: tuple[float, float]


CONSUMABLES: tuple[Consumable, ...] = (
    Consumable("slotter_blade", "SLOTTER", 500_000.0, 0.90, "GANTI PISAU SLOTTER", (10.0, 20.0)),
    Consumable("doctor_blade", "PRINTING", 3_000_000.0, 1.0, "GANTI DOCTOR BLADE", (15.0, 30.0)),
    Consumable("anilox", "PRINTING", 40_000_000.0, 1.0, "GANTI ANILOX", (60.0, 120.0)),
)

# Loss-time reason codes of unplanned stops, as in the production reports;
# the first one of a component is also the reason of a repair.
_TROUBLE_REASONS: dict[str, tuple[str, ...]] = {
    "PRE_FEEDER": ("PRE FEEDER TROUBLE MEKANIK", "GANTI ROLL"),
    "FEEDER": ("FEEDER UNIT TROUBLE MEKANIK", "FEEDER UNIT TROUBLE ELEKTRIK"),
    "PRINTING": ("PRINTING UNIT TROUBLE MEKANIK", "GANTI PLATE / TINTA"),
    "SLOTTER": ("SLOTTER UNIT TROUBLE MEKANIK",),
    "DOWN_STACKER": ("DOWN STACKER TROUBLE MEKANIK", "DOWN STACKER MACET"),
}
# Every loss-time reason code of a component: trouble and consumable changes.
REASON_CODES: dict[str, tuple[str, ...]] = {
    component: _TROUBLE_REASONS[component]
    + tuple(c.reason for c in CONSUMABLES if c.component == component)
    for component in COMPONENTS
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
_JOB_MEAN_S = 4 * 3600.0
_JOB_MIN_S = 1800.0
_REPAIR_MIN = (30.0, 90.0)


def shift_of(epoch: float) -> str:
    """Return the shift letter (A 06-14, B 14-22, C 22-06 UTC) at ``epoch``."""
    hour = (epoch % 86_400.0) / 3600.0
    if 6.0 <= hour < 14.0:
        return "A"
    if 14.0 <= hour < 22.0:
        return "B"
    return "C"


@dataclass(frozen=True, slots=True)
class Stop:
    """One downtime stop: start (simulated seconds), length, component, reason."""

    start_s: float
    minutes: float
    component: str
    reason: str

    @property
    def end_s(self) -> float:
        """Simulated second at which the line runs again."""
        return self.start_s + self.minutes * 60.0


@dataclass(frozen=True, slots=True)
class Interval:
    """Everything the model computed for one tick interval ``(t0, t1]``.

    ``stops`` are the stops that ended in the interval; ``defects`` the
    reject counts by :data:`DEFECT_TYPES` (their sum is ``reject``).
    """

    t0: float
    t1: float
    runtime_s: float
    speed_cpm: float
    produced: int
    defects: dict[str, int]
    components: dict[str, dict[str, Any]]
    stops: tuple[Stop, ...]

    @property
    def reject(self) -> int:
        """Rejected units of the interval."""
        return sum(self.defects.values())


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
    >>> 0.0 <= flexo.wear_["anilox"] < 1.0
    True
    """

    def __init__(
        self,
        seed: int,
        start_epoch: float,
        *,
        machine_id: str = DEFAULT_MACHINE_ID,
        tick_interval_s: float = 60.0,
        design_speed_cpm: float = DEFAULT_DESIGN_SPEED_CPM,
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
        # Wear of each consumable, fraction of its life used.
        self.wear_: dict[str, float] = {
            "slotter_blade": round(self._rng.uniform(0.20, 0.60), 4),
            "doctor_blade": round(self._rng.uniform(0.0, 0.60), 4),
            "anilox": round(self._rng.uniform(0.05, 0.35), 4),
        }
        self.job_perf_ = 0.88
        self.job_until_ = 0.0
        self.down_until_ = 0.0
        self.stop_: Stop | None = None
        self.micro_events_: dict[str, deque[float]] = {c: deque() for c in _MICRO_RATE_H}
        self.pending_repairs_: list[str] = []
        self._repaired: set[int] = set()

    @property
    def blade_life_used_pct_(self) -> float:
        """Slotter blade wear in percent."""
        return 100.0 * self.wear_["slotter_blade"]

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
        return self.payload(self.step(t))

    def payload(self, interval: Interval) -> dict[str, Any]:
        """The tick payload of an :class:`Interval` computed by :meth:`step`."""
        t0, t1 = interval.t0, interval.t1
        interval_min = (t1 - t0) / 60.0
        runtime_min = interval.runtime_s / 60.0
        reject = interval.reject
        return {
            "timestamp": iso_utc(self.start_epoch + t1),
            "shift": shift_of(self.start_epoch + (t0 + t1) / 2.0),
            "machine_id": self.machine_id,
            "overall": {
                "produced_units": interval.produced,
                "good_units": interval.produced - reject,
                "reject_units": reject,
                "runtime_minutes": round(runtime_min, 3),
                "downtime_minutes": round(interval_min - runtime_min, 3),
                "design_speed_cpm": self.design_speed_cpm,
                "actual_speed_cpm": round(interval.speed_cpm, 1),
                "oee": None,
                "availability": None,
                "performance": None,
                "quality": None,
            },
            "components": interval.components,
            "events": [
                {
                    "timestamp": iso_utc(self.start_epoch + stop.start_s),
                    "type": "downtime",
                    "component": stop.component,
                    "reason": stop.reason,
                    "duration_min": stop.minutes,
                }
                for stop in interval.stops
            ],
        }

    def step(self, t: float) -> Interval:
        """Advance the machine to simulated ``t``; return the interval's record."""
        if t <= self.t_:
            raise ValueError("ticks must move forward in time")
        t0, t1 = self.t_, t
        self.t_ = t
        rng = self._rng
        self._end_degradations(t1)
        sev = {c: self.severity(c, t1) for c in COMPONENTS}
        stops: list[Stop] = []

        # Downtime: finish a stop in progress, maybe start a new one.
        downtime_s = 0.0
        cursor = t0
        while cursor < t1:
            if self.down_until_ > cursor:
                end = min(self.down_until_, t1)
                downtime_s += end - cursor
                cursor = end
                if self.stop_ is not None and self.down_until_ <= t1:
                    stops.append(self.stop_)
                    self.stop_ = None
                continue
            stop = self._draw_stop(cursor, t1, sev)
            if stop is None:
                break
            cursor = stop
        runtime_s = (t1 - t0) - downtime_s
        runtime_min = runtime_s / 60.0

        # Job, speed, output and the component metrics of the interval.
        if t0 >= self.job_until_:
            self.job_perf_ = rng.uniform(0.82, 0.94)
            self.job_until_ = t0 + max(_JOB_MIN_S, rng.expovariate(1.0 / _JOB_MEAN_S))
        wear = self.wear_
        slow = (
            0.15 * sev["PRINTING"]
            + 0.05 * sev["PRE_FEEDER"]
            + 0.04 * wear["anilox"] ** 2
            + 0.02 * wear["slotter_blade"] ** 2
        )
        performance = min(0.98, max(0.5, rng.gauss(self.job_perf_, 0.02) - slow))
        speed = self.design_speed_cpm * performance if runtime_s > 0 else 0.0
        produced = round(speed * runtime_min)
        self._micro_events(t0, t1, runtime_s, sev)
        self._wear(produced, sev)
        components = self._components(sev)
        defects: dict[str, int] = {}
        left = produced
        for kind, pct in (
            ("print", components["PRINTING"]["reject_rate_pct"]),
            ("miscut", components["SLOTTER"]["miscut_pct"]),
            ("misstack", components["DOWN_STACKER"]["misstack_pct"]),
        ):
            defects[kind] = min(left, round(produced * pct / 100.0))
            left -= defects[kind]
        if self.down_until_ <= t1:
            self._maintain(t1)
        return Interval(t0, t1, runtime_s, speed, produced, defects, components, tuple(stops))

    def _end_degradations(self, t1: float) -> None:
        """Renew the consumables of components whose degradation ended by ``t1``."""
        for index, fault in enumerate(self.degradations):
            if index in self._repaired or fault.end_s > t1:
                continue
            self._repaired.add(index)
            assert fault.component is not None
            for consumable in CONSUMABLES:
                if consumable.component == fault.component:
                    self.wear_[consumable.name] = 0.0
            self.pending_repairs_.append(fault.component)

    def _maintain(self, t1: float) -> None:
        """At a tick end with the line running: a pending repair or a due change."""
        rng = self._rng
        if self.pending_repairs_:
            component = self.pending_repairs_.pop(0)
            reason = _TROUBLE_REASONS[component][0]
            self._start_stop(t1, component, reason, rng.uniform(*_REPAIR_MIN))
            return
        for consumable in CONSUMABLES:
            if self.wear_[consumable.name] >= consumable.change_at - 1e-9:
                minutes = rng.uniform(*consumable.change_min)
                self._start_stop(t1, consumable.component, consumable.reason, minutes)
                self.wear_[consumable.name] = 0.0
                return

    def _wear(self, produced: int, sev: dict[str, float]) -> None:
        """Wear the consumables by the interval's cuts (faster when degraded)."""
        for consumable in CONSUMABLES:
            speedup = 1.0 + 9.0 * sev[consumable.component]
            used = self.wear_[consumable.name] + speedup * produced / consumable.life_cuts
            self.wear_[consumable.name] = min(1.0, used)

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
        reason = rng.choice(_TROUBLE_REASONS[component])
        duration_min = min(60.0, 2.0 + rng.expovariate(1.0 / 8.0))
        self._start_stop(start, component, reason, duration_min)
        return start

    def _start_stop(self, start: float, component: str, reason: str, minutes: float) -> None:
        minutes = round(minutes, 1)
        self.down_until_ = start + minutes * 60.0
        self.stop_ = Stop(start, minutes, component, reason)

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

    def _components(self, sev: dict[str, float]) -> dict[str, dict[str, Any]]:
        rng = self._rng

        def pos(mean: float, sd: float, floor: float = 0.0) -> float:
            return max(floor, rng.gauss(mean, sd))

        blade = self.wear_["slotter_blade"]
        doctor = self.wear_["doctor_blade"]
        anilox = self.wear_["anilox"]
        print_wear = 0.08 * doctor**2 + 0.50 * anilox**2
        registration = pos(0.10 + print_wear + 0.5 * sev["PRINTING"], 0.03, 0.01)
        reject_print = 1.0 + 1.5 * doctor**2 + 4.5 * anilox**2 + 4.0 * sev["PRINTING"]
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
                "reject_rate_pct": round(pos(reject_print, 0.4), 2),
                "doctor_blade_wear_pct": round(100.0 * doctor, 2),
                "anilox_pressure_bar": round(pos(2.0 + 1.2 * anilox, 0.05), 2),
                "health_score": None,
            },
            "SLOTTER": {
                "miscut_pct": round(pos(0.5 + 0.8 * blade**2 + 3.0 * sev["SLOTTER"], 0.2), 2),
                "burr_mm": round(pos(0.03 + 0.09 * blade**2 + 0.2 * sev["SLOTTER"], 0.01), 3),
                "blade_life_used_pct": round(100.0 * blade, 2),
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

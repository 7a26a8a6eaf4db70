"""Energy meters of the perfume machines and the FLEXO 104 line.

Each meter publishes its cumulative counter in kWh, as real meters do, on
``<prefix>/<site>/machine/<machine_id>/energy``::

    {"ts": "2026-11-22T08:00:00Z", "kwh": 15230.751}

The machine ids of the perfume meters are their equipment tags in the demo
data (``MX-01`` ... ``AC-01``); the line's is the FLEXO machine id
(``FLEXO_104``), which the connector maps to ``FLX-104`` as for its ticks.
A counter starts at a value drawn from the seed (meters are not new).

Perfume machines (:data:`DEFAULT_METERS`, every ``interval_s``, 60 s by
default): the power over a step is ::

    rated_kw x (idle + (load - idle) x producing(t)) x (1 + w),

``producing`` 1 from 06:00 to 22:00 UTC (shifts A and B), 0 at night,
``w`` an AR(1) wander (sd 5 %, a ten-minute memory) drawn from
``(seed, machine)``.

FLEXO 104 (one reading right after each tick, from the tick's interval)::

    kWh = idle_kw x interval_h + (run_kw - idle_kw) x runtime_h x speed / design

with ``idle_kw`` 12 and ``run_kw`` 62 for 250 cuts/min: drives, dryers and
the vacuum scale with the speed, the rest runs while stopped. So energy per
unit rises with downtime and low speed (a degradation shows in kWh per
board, as it does in OEE).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_METERS",
    "FLEXO_IDLE_KW",
    "FLEXO_RUN_KW",
    "FlexoMeter",
    "Meter",
    "MeterBank",
    "flexo_interval_kwh",
]

DAY_S = 86_400.0
PRODUCTION_HOURS = (6.0, 22.0)
WANDER_SD = 0.05
WANDER_TAU_S = 600.0
FLEXO_IDLE_KW = 12.0
FLEXO_RUN_KW = 62.0


@dataclass(frozen=True)
class Meter:
    """The energy meter of one machine.

    Parameters
    ----------
    machine_id
        Topic level and machine id (the equipment tag in Odoo).
    rated_kw
        Rated power of the machine.
    load
        Mean load factor while producing.
    idle
        Load factor outside production hours.
    """

    machine_id: str
    rated_kw: float
    load: float
    idle: float = 0.05

    def __post_init__(self) -> None:
        """Validate the definition."""
        if not self.machine_id or any(c in self.machine_id for c in "/+#"):
            raise ValueError(f"invalid machine id {self.machine_id!r}: one MQTT topic level")
        if not self.rated_kw > 0:
            raise ValueError(f"{self.machine_id}: rated_kw must be positive")
        if not 0 <= self.idle <= self.load <= 1.5:
            raise ValueError(f"{self.machine_id}: 0 <= idle <= load <= 1.5")


#: The perfume plant's machines in the demo data, with their rated power.
DEFAULT_METERS: tuple[Meter, ...] = (
    Meter("MX-01", 7.5, 0.5),
    Meter("MC-01", 3.0, 0.7, idle=0.3),  # chilled maceration runs at night too
    Meter("CH-01", 11.0, 0.65, idle=0.2),
    Meter("FL-01", 5.5, 0.6),
    Meter("CP-01", 3.7, 0.5),
    Meter("LB-01", 2.2, 0.45),
    Meter("AC-01", 22.0, 0.6, idle=0.15),
)


def _start_counter(seed: int, machine_id: str) -> float:
    return round(random.Random(f"energy:{seed}:{machine_id}:start").uniform(1e4, 9e4), 3)


def producing(epoch: float) -> bool:
    """Whether the perfume lines produce at *epoch* (06:00-22:00 UTC)."""
    hour = (epoch % DAY_S) / 3600.0
    return PRODUCTION_HOURS[0] <= hour < PRODUCTION_HOURS[1]


class MeterBank:
    """The counters of the perfume machines' meters, advanced in steps.

    Examples
    --------
    >>> bank = MeterBank(DEFAULT_METERS[:1], seed=0, start_epoch=1795334400.0)
    >>> first = bank.read(0.0)[0]["kwh"]
    >>> later = bank.read(3600.0)[0]["kwh"]
    >>> 2.0 < later - first < 5.0  # 7.5 kW at about half load for an hour
    True
    """

    def __init__(self, meters: Sequence[Meter], seed: int, start_epoch: float) -> None:
        self.meters = tuple(meters)
        self.start_epoch = start_epoch
        self.t_ = 0.0
        self.kwh_ = [_start_counter(seed, m.machine_id) for m in self.meters]
        self.wander_ = [0.0] * len(self.meters)
        self.rngs_ = [random.Random(f"energy:{seed}:{m.machine_id}") for m in self.meters]

    def read(self, t: float) -> list[dict[str, Any]]:
        """Advance to simulated second *t*; the ``(machine_id, kwh)`` of every meter."""
        dt = t - self.t_
        if dt > 0:
            busy = producing(self.start_epoch + self.t_ + dt / 2.0)
            keep = math.exp(-dt / WANDER_TAU_S)
            shock = WANDER_SD * math.sqrt(1.0 - keep * keep)
            for i, meter in enumerate(self.meters):
                self.wander_[i] = self.wander_[i] * keep + self.rngs_[i].gauss(0.0, shock)
                factor = meter.load if busy else meter.idle
                power = meter.rated_kw * factor * max(0.0, 1.0 + self.wander_[i])
                self.kwh_[i] += power * dt / 3600.0
            self.t_ = t
        return [
            {"machine_id": m.machine_id, "kwh": round(k, 3)}
            for m, k in zip(self.meters, self.kwh_, strict=True)
        ]


def flexo_interval_kwh(overall: Mapping[str, Any]) -> float:
    """Energy of one FLEXO tick interval from its ``overall`` counters.

    >>> flexo_interval_kwh({"runtime_minutes": 1.0, "downtime_minutes": 0.0,
    ...                     "actual_speed_cpm": 250.0, "design_speed_cpm": 250.0})
    1.0333333333333334
    """
    run_h = float(overall.get("runtime_minutes") or 0.0) / 60.0
    down_h = float(overall.get("downtime_minutes") or 0.0) / 60.0
    design = float(overall.get("design_speed_cpm") or 0.0)
    speed = float(overall.get("actual_speed_cpm") or 0.0)
    ratio = min(speed / design, 1.2) if design > 0 else 0.0
    return FLEXO_IDLE_KW * (run_h + down_h) + (FLEXO_RUN_KW - FLEXO_IDLE_KW) * run_h * ratio


class FlexoMeter:
    """The FLEXO line's meter: its counter grows with each tick's interval."""

    def __init__(self, machine_id: str, seed: int) -> None:
        self.machine_id = machine_id
        self.kwh_ = _start_counter(seed, machine_id)

    def read(self, tick_payload: Mapping[str, Any]) -> dict[str, Any]:
        """Add the energy of the tick's interval; the meter's reading."""
        self.kwh_ += flexo_interval_kwh(tick_payload.get("overall") or {})
        return {"machine_id": self.machine_id, "kwh": round(self.kwh_, 3)}

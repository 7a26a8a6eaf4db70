"""Process instruments and the correlated process model behind them.

An :class:`Instrument` describes one transmitter: its tag, unit, set point
(``nominal``), physical signal range, measurement noise, the slow daily cycle
and how it couples to other instruments.  :class:`ProcessModel` advances the
true process values of all instruments together in simulated time:

* ``target = nominal + step offset + sum(coupling[k] * deviation of k)``
  where a step offset is an operator set-point change (only instruments with
  ``step_sd > 0``) and the deviation of an upstream instrument ``k`` is its
  true value minus its nominal;
* the process value follows ``target`` through a first-order lag
  (``lag_s``), then adds the daily cycle and a slow Ornstein-Uhlenbeck
  wander;
* a measurement is the process value plus white noise (``noise_sd``),
  clipped to the signal range and rounded to ``decimals``.

So a flow change (FT-301) moves the discharge pressure (PT-101) after a few
seconds, cools the tank temperature (TT-201) and raises the tank level
(LT-401) over minutes.  The default instruments are read from
``config/instruments.toml`` (:data:`PLANT_FILE`), the one definition of the
simulated plant, from which Odoo's demo instruments are generated too.
Every random draw comes from a ``random.Random`` seeded from
``(seed, purpose, tag)``: one tag's values never depend on another tag's
faults, and the same seed gives the same run.
"""

from __future__ import annotations

import json
import math
import random
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_INSTRUMENTS",
    "PLANT_FILE",
    "REGISTER_TABLES",
    "Instrument",
    "ProcessModel",
    "instruments_by_tag",
    "load_instruments",
    "order_by_coupling",
]

DAY_S = 86_400.0
#: The plant's instruments, written once: the simulator's default set and the
#: source of the Odoo demo instruments (``python -m simulator demo-xml``).
PLANT_FILE = Path(__file__).resolve().parent / "config" / "instruments.toml"
#: Sub-tables of an ``[[instrument]]`` that describe the instrument in Odoo's
#: register (``maintenance.equipment`` and ``cmms.sensor`` fields, see
#: :mod:`simulator.demo_xml`), ignored by the simulation.
REGISTER_TABLES = frozenset({"equipment", "sensor"})


@dataclass(frozen=True)
class Instrument:
    """One process instrument (transmitter) and how its process behaves.

    Parameters
    ----------
    tag
        Instrument tag, also the MQTT topic level (``PT-101``).
    kind
        ``pressure``, ``temperature``, ``flow`` or ``level``.
    unit
        Engineering unit sent with every reading.
    nominal
        Operating set point.
    signal_low, signal_high
        The transmitter's signal range (its 4-20 mA span); a healthy
        instrument never reports outside it.
    noise_sd
        Standard deviation of the white measurement noise.
    daily_amplitude, daily_peak_hour
        Amplitude of the 24 h cycle and the UTC hour at which it peaks.
    wander_sd, wander_tau_s
        Stationary standard deviation and time constant of the slow
        Ornstein-Uhlenbeck process wander.
    lag_s
        Time constant of the first-order response to set-point changes and
        to coupled instruments (0 for none).
    coupling
        ``{upstream tag: gain}``: the target moves by ``gain`` times the
        upstream instrument's deviation from its nominal.
    step_sd, step_mean_interval_s, step_limit
        Operator set-point changes: at exponentially distributed intervals
        the offset from nominal changes by ``N(0, step_sd)``, kept within
        ``+-step_limit``.
    interval_s
        Simulated seconds between two readings.
    decimals
        Resolution of the published value.
    description
        Free text for people.
    """

    tag: str
    kind: str
    unit: str
    nominal: float
    signal_low: float
    signal_high: float
    noise_sd: float = 0.0
    daily_amplitude: float = 0.0
    daily_peak_hour: float = 14.0
    wander_sd: float = 0.0
    wander_tau_s: float = 600.0
    lag_s: float = 0.0
    coupling: Mapping[str, float] = field(default_factory=dict)
    step_sd: float = 0.0
    step_mean_interval_s: float = 1800.0
    step_limit: float = 0.0
    interval_s: float = 1.0
    decimals: int = 3
    description: str = ""

    def __post_init__(self) -> None:
        """Validate the definition."""
        if not self.tag or "/" in self.tag or "+" in self.tag or "#" in self.tag:
            raise ValueError(f"invalid tag {self.tag!r}: must be one MQTT topic level")
        if not self.signal_low < self.signal_high:
            raise ValueError(f"{self.tag}: signal_low must be below signal_high")
        if not self.signal_low <= self.nominal <= self.signal_high:
            raise ValueError(f"{self.tag}: nominal must lie in the signal range")
        for name in (
            "noise_sd",
            "daily_amplitude",
            "wander_sd",
            "lag_s",
            "step_sd",
            "step_limit",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{self.tag}: {name} must not be negative")
        for name in ("wander_tau_s", "step_mean_interval_s", "interval_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{self.tag}: {name} must be positive")
        if not 0 <= self.decimals <= 9:
            raise ValueError(f"{self.tag}: decimals must be in 0..9")
        if self.tag in self.coupling:
            raise ValueError(f"{self.tag}: an instrument cannot couple to itself")
        # Freeze the mapping so the dataclass stays a value.
        object.__setattr__(self, "coupling", dict(self.coupling))

    @property
    def span(self) -> float:
        """Width of the signal range."""
        return self.signal_high - self.signal_low

    def clip(self, value: float) -> float:
        """Clip ``value`` into the signal range."""
        return min(max(value, self.signal_low), self.signal_high)

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as plain data (the config-file layout)."""
        data = asdict(self)
        data["coupling"] = dict(self.coupling)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instrument:
        """Build an instrument from a config-file table, refusing unknown keys.

        The tables of Odoo's register (:data:`REGISTER_TABLES`) are not
        process behaviour: they are skipped here.
        """
        known = {f.name for f in fields(cls)}
        data = {key: value for key, value in data.items() if key not in REGISTER_TABLES}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown instrument keys: {sorted(unknown)}")
        return cls(**dict(data))


def instruments_by_tag(instruments: Iterable[Instrument]) -> dict[str, Instrument]:
    """Index instruments by tag, refusing duplicates."""
    index: dict[str, Instrument] = {}
    for inst in instruments:
        if inst.tag in index:
            raise ValueError(f"duplicate instrument tag {inst.tag!r}")
        index[inst.tag] = inst
    return index


def order_by_coupling(instruments: Sequence[Instrument]) -> list[Instrument]:
    """Order instruments so that every upstream comes before its dependants.

    Raises ``ValueError`` for an unknown upstream tag or a coupling cycle.
    Instruments without dependencies keep their given order.
    """
    index = instruments_by_tag(instruments)
    for inst in instruments:
        for upstream in inst.coupling:
            if upstream not in index:
                raise ValueError(f"{inst.tag} couples to unknown tag {upstream!r}")
    ordered: list[Instrument] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(inst: Instrument) -> None:
        mark = state.get(inst.tag)
        if mark == 2:
            return
        if mark == 1:
            raise ValueError(f"coupling cycle through {inst.tag}")
        state[inst.tag] = 1
        for upstream in inst.coupling:
            visit(index[upstream])
        state[inst.tag] = 2
        ordered.append(inst)

    for inst in instruments:
        visit(inst)
    return ordered


def load_instruments(path: str | Path) -> tuple[Instrument, ...]:
    """Read instruments from a TOML or JSON file.

    TOML: an array of tables ``[[instrument]]``; JSON: either a list of
    objects or ``{"instrument": [...]}``.  Keys are the
    :class:`Instrument` fields; ``coupling`` is a table of gains.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data: Any
    if path.suffix.lower() == ".toml":
        data = tomllib.loads(text)
    elif path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"{path}: expected a .toml or .json file")
    rows = data.get("instrument") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path}: no [[instrument]] entries")
    instruments = tuple(Instrument.from_dict(row) for row in rows)
    order_by_coupling(instruments)  # validates tags and coupling
    return instruments


#: The simulator's default instruments, read from :data:`PLANT_FILE`.
DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = load_instruments(PLANT_FILE)


class _TagState:
    """Mutable per-tag process state (internal to :class:`ProcessModel`)."""

    __slots__ = (
        "inst",
        "lagged",
        "noise_rng",
        "next_step_t",
        "offset",
        "step_rng",
        "true_value",
        "wander",
        "wander_rng",
    )

    def __init__(self, inst: Instrument, seed: int, steps: bool) -> None:
        self.inst = inst
        self.noise_rng = random.Random(f"sim:{seed}:noise:{inst.tag}")
        self.wander_rng = random.Random(f"sim:{seed}:wander:{inst.tag}")
        self.step_rng = random.Random(f"sim:{seed}:steps:{inst.tag}")
        self.offset = 0.0
        self.lagged = inst.nominal
        self.wander = 0.0
        self.true_value = inst.nominal
        if steps and inst.step_sd > 0:
            self.next_step_t = self.step_rng.expovariate(1.0 / inst.step_mean_interval_s)
        else:
            self.next_step_t = math.inf


class ProcessModel:
    """True process values of a set of instruments, advanced together.

    Parameters
    ----------
    instruments
        The instruments; couplings may only name tags in this list.
    seed
        Seed of every random stream.
    start_epoch
        Epoch seconds of simulated time 0 (sets the phase of the daily cycle).
    process_changes
        Whether operator set-point steps happen.
    wander
        Whether the slow Ornstein-Uhlenbeck wander is on.

    Examples
    --------
    >>> model = ProcessModel(DEFAULT_INSTRUMENTS, seed=1, start_epoch=0.0)
    >>> model.advance(1.0)
    >>> 4.0 < model.measure("PT-101") < 8.0
    True
    """

    def __init__(
        self,
        instruments: Sequence[Instrument],
        seed: int,
        start_epoch: float,
        *,
        process_changes: bool = True,
        wander: bool = True,
    ) -> None:
        self.instruments = tuple(instruments)
        self.seed = seed
        self.start_epoch = start_epoch
        self.process_changes = process_changes
        self.wander_on = wander
        self.t_ = 0.0
        self._order = [
            _TagState(inst, seed, process_changes) for inst in order_by_coupling(instruments)
        ]
        self._states = {state.inst.tag: state for state in self._order}
        self._factors: dict[tuple[str, float], tuple[float, float, float]] = {}
        for state in self._order:
            inst = state.inst
            if wander and inst.wander_sd > 0:
                state.wander = state.wander_rng.gauss(0.0, inst.wander_sd)
        self._settle()

    def _settle(self) -> None:
        """Start in steady state: lag states equal their targets at t = 0."""
        for state in self._order:
            state.lagged = self._target(state)
            state.true_value = state.lagged + self._daily(state.inst, 0.0) + state.wander

    def _target(self, state: _TagState) -> float:
        inst = state.inst
        target = inst.nominal + state.offset
        for upstream, gain in inst.coupling.items():
            up = self._states[upstream]
            target += gain * (up.true_value - up.inst.nominal)
        return target

    def _daily(self, inst: Instrument, t: float) -> float:
        if inst.daily_amplitude == 0.0:
            return 0.0
        seconds_of_day = (self.start_epoch + t) % DAY_S
        phase = (seconds_of_day - inst.daily_peak_hour * 3600.0) / DAY_S
        return inst.daily_amplitude * math.cos(2.0 * math.pi * phase)

    def _decay(self, inst: Instrument, dt: float) -> tuple[float, float, float]:
        """Return ``(lag gain, wander decay, wander innovation sd)`` for ``dt``."""
        key = (inst.tag, dt)
        factors = self._factors.get(key)
        if factors is None:
            lag_gain = 1.0 if inst.lag_s == 0 else 1.0 - math.exp(-dt / inst.lag_s)
            decay = math.exp(-dt / inst.wander_tau_s)
            innovation = inst.wander_sd * math.sqrt(max(0.0, 1.0 - decay * decay))
            factors = (lag_gain, decay, innovation)
            if len(self._factors) < 4096:
                self._factors[key] = factors
        return factors

    def advance(self, t: float) -> None:
        """Move every instrument's process state to simulated time ``t``."""
        dt = t - self.t_
        if dt < 0:
            raise ValueError(f"time runs forward only ({t} < {self.t_})")
        if dt == 0:
            return
        self.t_ = t
        for state in self._order:
            inst = state.inst
            while state.next_step_t <= t:
                delta = state.step_rng.gauss(0.0, inst.step_sd)
                state.offset = max(-inst.step_limit, min(inst.step_limit, state.offset + delta))
                state.next_step_t += state.step_rng.expovariate(1.0 / inst.step_mean_interval_s)
            lag_gain, decay, innovation = self._decay(inst, dt)
            state.lagged += (self._target(state) - state.lagged) * lag_gain
            if self.wander_on and inst.wander_sd > 0:
                state.wander = state.wander * decay + innovation * state.wander_rng.gauss(0.0, 1.0)
            state.true_value = state.lagged + self._daily(inst, t) + state.wander

    def true_value(self, tag: str) -> float:
        """The process value of ``tag`` at the current time (no noise)."""
        return self._states[tag].true_value

    def setpoint_offset(self, tag: str) -> float:
        """The current operator set-point offset of ``tag`` from its nominal."""
        return self._states[tag].offset

    def set_offset(self, tag: str, offset: float) -> None:
        """Move the set point of ``tag`` to ``nominal + offset`` (an operator move)."""
        self._states[tag].offset = float(offset)

    def measure(self, tag: str) -> float:
        """One measurement of ``tag``: process value plus noise, clipped, rounded.

        Draws exactly one number from the tag's noise stream.
        """
        state = self._states[tag]
        inst = state.inst
        value = state.true_value + state.noise_rng.gauss(0.0, 1.0) * inst.noise_sd
        return round(inst.clip(value), inst.decimals)

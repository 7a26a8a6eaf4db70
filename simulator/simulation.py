"""The simulation engine: instruments, faults, FLEXO ticks and energy meters
in time order.

:class:`Simulation` turns a :class:`~simulator.scenarios.Scenario` and a seed
into a deterministic stream of :class:`Reading`, :class:`Tick` and
:class:`EnergyReading` events in simulated time.  It does no I/O; the
publisher and the ``dump`` command are thin consumers of
:meth:`Simulation.events`.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import math
import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .clock import IsoFormatter, iso_utc, parse_start
from .energy import DEFAULT_METERS, FlexoMeter, Meter, MeterBank
from .faults import Fault, FaultInjector, fault_labels, random_faults, validate_faults
from .flexo import COMPONENTS, DEFAULT_MACHINE_ID, FlexoSimulator, tick_times
from .instruments import Instrument, ProcessModel, instruments_by_tag
from .scenarios import Scenario

__all__ = [
    "QUALITY_GOOD",
    "EnergyReading",
    "Reading",
    "Simulation",
    "Tick",
    "encode",
    "energy_topic",
    "reading_payload",
    "reading_topic",
    "tick_topic",
]

QUALITY_GOOD = "good"


@dataclass(frozen=True, slots=True)
class Reading:
    """One instrument reading.

    ``t`` is simulated seconds since the start, ``ts`` the same instant in
    ISO 8601 UTC, ``seq`` the per-tag number of the reading (1, 2, ... over
    the readings actually published, so a data gap does not skip numbers).
    """

    tag: str
    t: float
    ts: str
    value: float
    unit: str
    seq: int


@dataclass(frozen=True, slots=True)
class Tick:
    """One FLEXO tick: its simulated time, machine and payload."""

    t: float
    machine_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EnergyReading:
    """One energy meter reading: its simulated time, machine and payload
    (``{"ts", "kwh"}``, the meter's cumulative counter)."""

    t: float
    machine_id: str
    payload: dict[str, Any]


def reading_payload(reading: Reading) -> dict[str, Any]:
    """The contract payload of one reading (without the tag).

    Examples
    --------
    >>> r = Reading("PT-101", 0.0, "2026-11-22T08:00:00Z", 6.01, "bar", 1)
    >>> reading_payload(r)  # doctest: +NORMALIZE_WHITESPACE
    {'ts': '2026-11-22T08:00:00Z', 'value': 6.01, 'unit': 'bar',
     'quality': 'good', 'seq': 1}
    """
    return {
        "ts": reading.ts,
        "value": reading.value,
        "unit": reading.unit,
        "quality": QUALITY_GOOD,
        "seq": reading.seq,
    }


def encode(payload: Any) -> bytes:
    """Compact UTF-8 JSON; refuses NaN and infinities."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def reading_topic(prefix: str, site: str, tag: str) -> str:
    """``<prefix>/<site>/<tag>/reading``."""
    return f"{prefix}/{site}/{tag}/reading"


def tick_topic(prefix: str, site: str, machine_id: str) -> str:
    """``<prefix>/<site>/machine/<machine_id>/tick``."""
    return f"{prefix}/{site}/machine/{machine_id}/tick"


def energy_topic(prefix: str, site: str, machine_id: str) -> str:
    """``<prefix>/<site>/machine/<machine_id>/energy``."""
    return f"{prefix}/{site}/machine/{machine_id}/energy"


class Simulation:
    """A scenario bound to a seed, a start instant and a duration.

    Parameters
    ----------
    scenario
        What to simulate.
    seed
        Seed of every random stream; the same seed gives the same events.
    start
        Start instant (see :func:`simulator.clock.parse_start`) of the live
        part: with a scenario's ``backfill_s``, the run begins that much
        earlier, and only the FLEXO ticks are generated before ``start``
        (the instruments and energy meters begin at ``start``), so that
        ``start="now"`` gives a machine history ending now and live readings
        stamped with the current time.
    duration_s
        Simulated seconds; the scenario's default when ``None``.
    interval_s
        Overrides every instrument's reading interval.
    flexo
        Overrides whether FLEXO ticks are generated.
    tick_interval_s
        Simulated seconds per FLEXO tick.
    instruments
        Overrides the scenario's instruments.
    machine_id
        The FLEXO machine id.
    energy
        Overrides whether the energy meters publish (the perfume machines'
        every ``energy_interval_s``, the FLEXO line's with each tick).
    energy_interval_s
        Simulated seconds between two readings of a perfume machine's meter.
    meters
        The perfume machines' meters (default
        :data:`~simulator.energy.DEFAULT_METERS`).

    Examples
    --------
    >>> from simulator.scenarios import SCENARIOS
    >>> sim = Simulation(SCENARIOS["pt101_out_of_range"], seed=7, duration_s=2)
    >>> [(r.tag, r.seq) for r in sim.readings()][:2]
    [('FT-301', 1), ('PT-101', 1)]
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        start: str | float | None = None,
        duration_s: float | None = None,
        interval_s: float | None = None,
        flexo: bool | None = None,
        tick_interval_s: float = 60.0,
        instruments: Sequence[Instrument] | None = None,
        machine_id: str = DEFAULT_MACHINE_ID,
        energy: bool | None = None,
        energy_interval_s: float = 60.0,
        meters: Sequence[Meter] | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = int(seed)
        self.backfill_s = float(scenario.backfill_s)
        self.start_epoch = parse_start(start) - self.backfill_s
        self.duration_s = float(scenario.duration_s if duration_s is None else duration_s)
        if not self.duration_s > 0:
            raise ValueError("duration must be positive")
        chosen = tuple(scenario.instruments if instruments is None else instruments)
        if interval_s is not None:
            if not interval_s > 0:
                raise ValueError("interval must be positive")
            chosen = tuple(dataclasses.replace(i, interval_s=interval_s) for i in chosen)
        self.instruments = chosen
        self.flexo = scenario.flexo if flexo is None else flexo
        if not tick_interval_s > 0:
            raise ValueError("tick interval must be positive")
        self.tick_interval_s = tick_interval_s
        self.machine_id = machine_id
        self.energy = scenario.energy if energy is None else energy
        if not energy_interval_s > 0:
            raise ValueError("energy interval must be positive")
        self.energy_interval_s = energy_interval_s
        self.meters = tuple(DEFAULT_METERS if meters is None else meters)
        faults = list(scenario.faults)
        if not 0 <= self.backfill_s < self.duration_s:
            raise ValueError("the backfill must be shorter than the duration")
        if scenario.random_faults:
            warmup = scenario.fault_warmup_s
            if warmup is not None or self.backfill_s:
                warmup = self.backfill_s + (120.0 if warmup is None else warmup)
            faults += random_faults(
                self.instruments,
                self.duration_s,
                self.seed,
                mean_gap_s=scenario.fault_gap_s,
                warmup_s=warmup,
            )
            if self.flexo:
                faults.append(self._random_degradation())
        if not self.flexo:
            faults = [f for f in faults if f.kind != "degradation"]
        self.faults: list[Fault] = validate_faults(
            faults, instruments_by_tag(self.instruments), (machine_id,)
        )

    def _random_degradation(self) -> Fault:
        rng = random.Random(f"sim:{self.seed}:random-degradation")
        component = rng.choice(COMPONENTS)
        start = round(rng.uniform(0.1, 0.4) * self.duration_s, 3)
        end = round(rng.uniform(0.6, 0.9) * self.duration_s, 3)
        severity = round(rng.uniform(0.6, 1.0), 3)
        return Fault(
            self.machine_id,
            "degradation",
            start,
            end,
            {"severity": severity},
            component=component,
        )

    def labels(self, end_s: float | None = None) -> list[dict[str, Any]]:
        """Ground-truth labels of the faults up to ``end_s`` (default: the end)."""
        end = self.duration_s if end_s is None else min(end_s, self.duration_s)
        return fault_labels(self.faults, self.start_epoch, end)

    def events(self) -> Iterator[Reading | Tick | EnergyReading]:
        """Every reading and tick of the run, in simulated-time order."""
        instruments = self.instruments
        model = ProcessModel(
            instruments,
            self.seed,
            self.start_epoch,
            process_changes=self.scenario.process_changes,
            wander=self.scenario.wander,
        )
        injector = FaultInjector(self.faults, instruments_by_tag(instruments), self.seed)
        flexo: FlexoSimulator | None = None
        ticks: deque[float] = deque()
        if self.flexo:
            flexo = FlexoSimulator(
                self.seed,
                self.start_epoch,
                machine_id=self.machine_id,
                tick_interval_s=self.tick_interval_s,
                degradations=[f for f in self.faults if f.kind == "degradation"],
            )
            ticks.extend(tick_times(self.duration_s, self.tick_interval_s))
        bank: MeterBank | None = None
        flexo_meter: FlexoMeter | None = None
        meter_times: deque[float] = deque()
        if self.energy:
            bank = MeterBank(self.meters, self.seed, self.start_epoch)
            meter_times.extend(
                at
                for at in tick_times(self.duration_s, self.energy_interval_s)
                if at >= self.backfill_s
            )
            if flexo is not None:
                flexo_meter = FlexoMeter(self.machine_id, self.seed)
        start = self.start_epoch
        live = self.backfill_s

        def machine_events(until: float) -> Iterator[Tick | EnergyReading]:
            """Ticks (each with the line's meter reading) and perfume meter
            readings up to *until*, in time order."""
            while (ticks and ticks[0] <= until) or (meter_times and meter_times[0] <= until):
                if ticks and (not meter_times or ticks[0] <= meter_times[0]):
                    at = ticks.popleft()
                    assert flexo is not None
                    payload = flexo.tick(at)
                    yield Tick(at, self.machine_id, payload)
                    if flexo_meter is not None and at >= live:
                        row = flexo_meter.read(payload)
                        yield EnergyReading(
                            at, self.machine_id, {"ts": iso_utc(start + at), "kwh": row["kwh"]}
                        )
                    continue
                at = meter_times.popleft()
                assert bank is not None
                for row in bank.read(at):
                    yield EnergyReading(
                        at, row["machine_id"], {"ts": iso_utc(start + at), "kwh": row["kwh"]}
                    )

        fmt = IsoFormatter()
        duration = self.duration_s
        seqs = [0] * len(instruments)
        heap: list[tuple[float, int, int]] = [(live, i, 0) for i in range(len(instruments))]
        heapq.heapify(heap)
        while heap:
            t = heap[0][0]
            if (ticks and ticks[0] <= t) or (meter_times and meter_times[0] <= t):
                yield from machine_events(t)
            model.advance(t)
            ts = fmt(start + t)
            while heap and heap[0][0] == t:
                _, index, k = heapq.heappop(heap)
                inst = instruments[index]
                value = injector.apply(inst.tag, t, model.measure(inst.tag))
                if value is not None:
                    seqs[index] += 1
                    yield Reading(inst.tag, t, ts, value, inst.unit, seqs[index])
                nxt = live + (k + 1) * inst.interval_s
                if nxt < duration:
                    heapq.heappush(heap, (nxt, index, k + 1))
        yield from machine_events(math.inf)

    def readings(self) -> Iterator[Reading]:
        """Only the readings of :meth:`events`."""
        for event in self.events():
            if isinstance(event, Reading):
                yield event

    def dump(
        self,
        readings_out: TextIO,
        ticks_out: TextIO | None = None,
        energy_out: TextIO | None = None,
    ) -> tuple[int, int]:
        """Write readings (and ticks, and energy readings) as JSON lines;
        return the counts of readings and ticks.

        A reading line is the contract payload plus its ``"tag"``; a tick line
        is the tick payload; an energy line the meter payload plus its
        ``"machine_id"``.
        """
        n_readings = n_ticks = 0
        for event in self.events():
            if isinstance(event, Reading):
                row = {"tag": event.tag, **reading_payload(event)}
                readings_out.write(json.dumps(row, separators=(",", ":")) + "\n")
                n_readings += 1
            elif isinstance(event, Tick):
                if ticks_out is not None:
                    ticks_out.write(json.dumps(event.payload, separators=(",", ":")) + "\n")
                    n_ticks += 1
            elif energy_out is not None:
                row = {"machine_id": event.machine_id, **event.payload}
                energy_out.write(json.dumps(row, separators=(",", ":")) + "\n")
        return n_readings, n_ticks


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file (readings, ticks or labels)."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

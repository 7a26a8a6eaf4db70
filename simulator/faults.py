"""Fault injection and ground-truth labels.

A :class:`Fault` is a labelled interval ``[start_s, end_s)`` of simulated
time on one tag.  Instrument faults are measurement faults: they change what
the transmitter reports, never the process, so other tags are unaffected.

=============== ============================================================
kind            what the instrument reports inside the interval
=============== ============================================================
``drift``       the healthy value plus a bias growing at ``rate_per_h``
``stuck``       the last value it reported before the interval, constant
``spike``       the healthy value plus ``magnitude`` (short, one to a few
                readings)
``out_of_range`` ``level`` plus the instrument's own noise, outside the
                signal range (``direction`` ``high`` or ``low``)
``noise``       the healthy value with ``factor`` times the normal noise
``oscillation`` the healthy value plus ``amplitude * sin(2 pi t/period_s)``
``data_gap``    nothing: no reading is published
``degradation`` (FLEXO components) the component's metrics worsen linearly
                from 0 to ``severity``; see :mod:`simulator.flexo`
=============== ============================================================

Except for ``out_of_range`` every faulted value is clipped into the signal
range, so "outside the signal range" happens exactly inside an
``out_of_range`` label.  Each fault draws its randomness from its own
``random.Random``, so injecting a fault never changes any other value of
the run.

Labels are JSON lines ``{"tag", "fault", "start", "end"}`` (ISO 8601 UTC,
``end`` exclusive); a ``degradation`` label also carries ``"component"``.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import iso_utc
from .instruments import Instrument

__all__ = [
    "FAULT_KINDS",
    "INSTRUMENT_FAULT_KINDS",
    "Fault",
    "FaultInjector",
    "fault_labels",
    "random_faults",
    "validate_faults",
    "write_labels",
]

INSTRUMENT_FAULT_KINDS: tuple[str, ...] = (
    "drift",
    "stuck",
    "spike",
    "out_of_range",
    "noise",
    "oscillation",
    "data_gap",
)
FAULT_KINDS: tuple[str, ...] = (*INSTRUMENT_FAULT_KINDS, "degradation")

# Parameters each kind accepts (anything else is refused).
_PARAMS: dict[str, frozenset[str]] = {
    "drift": frozenset({"rate_per_h"}),
    "stuck": frozenset({"value"}),
    "spike": frozenset({"magnitude"}),
    "out_of_range": frozenset({"level", "direction", "noise_sd"}),
    "noise": frozenset({"factor"}),
    "oscillation": frozenset({"amplitude", "period_s"}),
    "data_gap": frozenset(),
    "degradation": frozenset({"severity"}),
}


@dataclass(frozen=True)
class Fault:
    """One fault on one tag over ``[start_s, end_s)`` of simulated time.

    Parameters
    ----------
    tag
        Instrument tag, or the machine id for ``degradation``.
    kind
        One of :data:`FAULT_KINDS`.
    start_s, end_s
        Simulated seconds since the start of the run; ``end_s`` exclusive.
    params
        Kind-specific parameters (see the module docstring); missing ones
        get defaults scaled to the instrument.
    component
        The FLEXO component of a ``degradation``.
    """

    tag: str
    kind: str
    start_s: float
    end_s: float
    params: Mapping[str, Any] = field(default_factory=dict)
    component: str | None = None

    def __post_init__(self) -> None:
        """Validate kind, interval and parameter names."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {FAULT_KINDS}")
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise ValueError("fault start and end must be finite")
        if not 0 <= self.start_s < self.end_s:
            raise ValueError(f"fault on {self.tag}: need 0 <= start_s < end_s")
        unknown = set(self.params) - _PARAMS[self.kind]
        if unknown:
            raise ValueError(f"{self.kind} fault: unknown parameters {sorted(unknown)}")
        if (self.kind == "degradation") != (self.component is not None):
            raise ValueError("a component is given exactly for degradation faults")
        object.__setattr__(self, "params", dict(self.params))

    def active(self, t: float) -> bool:
        """Whether simulated time ``t`` lies in the fault interval."""
        return self.start_s <= t < self.end_s

    def label(self, start_epoch: float, end_s: float | None = None) -> dict[str, Any]:
        """The ground-truth label, with ``end`` clipped to ``end_s`` if given."""
        end = self.end_s if end_s is None else min(self.end_s, end_s)
        row: dict[str, Any] = {
            "tag": self.tag,
            "fault": self.kind,
            "start": iso_utc(start_epoch + self.start_s),
            "end": iso_utc(start_epoch + end),
        }
        if self.component is not None:
            row["component"] = self.component
        return row


def validate_faults(
    faults: Iterable[Fault],
    instruments: Mapping[str, Instrument],
    machine_ids: Iterable[str] = (),
) -> list[Fault]:
    """Check tags and that no two faults on one tag overlap; return them sorted."""
    machines = set(machine_ids)
    ordered = sorted(faults, key=lambda f: (f.tag, f.component or "", f.start_s))
    for fault in ordered:
        if fault.kind == "degradation":
            if fault.tag not in machines:
                raise ValueError(f"degradation fault on unknown machine {fault.tag!r}")
        elif fault.tag not in instruments:
            raise ValueError(f"fault on unknown tag {fault.tag!r}")
        else:
            _resolve_params(fault, instruments[fault.tag])  # raises on bad values
    for previous, current in itertools.pairwise(ordered):
        same = previous.tag == current.tag and previous.component == current.component
        if same and current.start_s < previous.end_s:
            raise ValueError(
                f"overlapping faults on {current.tag}: " f"{previous.kind} and {current.kind}"
            )
    return sorted(ordered, key=lambda f: (f.start_s, f.tag))


class _ActiveFault:
    """A fault bound to its instrument, resolved parameters and random stream."""

    __slots__ = ("fault", "inst", "params", "rng", "stuck_value")

    def __init__(self, fault: Fault, inst: Instrument, seed: int, index: int) -> None:
        self.fault = fault
        self.inst = inst
        self.rng = random.Random(f"sim:{seed}:fault:{index}:{fault.tag}:{fault.kind}")
        self.params = _resolve_params(fault, inst)
        self.stuck_value: float | None = self.params.get("value")


def _resolve_params(fault: Fault, inst: Instrument) -> dict[str, Any]:
    """Fill in defaults scaled to the instrument's span and noise."""
    p = dict(fault.params)
    span = inst.span
    if fault.kind == "drift":
        p.setdefault("rate_per_h", 0.05 * span)
    elif fault.kind == "spike":
        p.setdefault("magnitude", 0.3 * span)
    elif fault.kind == "out_of_range":
        direction = p.setdefault("direction", "high")
        if direction not in ("high", "low"):
            raise ValueError("out_of_range direction must be 'high' or 'low'")
        if "level" not in p:
            p["level"] = (
                inst.signal_high + 0.25 * span
                if direction == "high"
                else inst.signal_low - 0.1 * span
            )
        level = float(p["level"])
        if inst.signal_low <= level <= inst.signal_high:
            raise ValueError(
                f"out_of_range level {level} for {inst.tag} lies inside its signal "
                f"range {inst.signal_low}..{inst.signal_high}"
            )
        p.setdefault("noise_sd", inst.noise_sd)
    elif fault.kind == "noise":
        p.setdefault("factor", 6.0)
        if float(p["factor"]) < 1.0:
            raise ValueError("noise factor must be at least 1")
    elif fault.kind == "oscillation":
        p.setdefault("amplitude", 0.05 * span)
        p.setdefault("period_s", 40.0)
        if not float(p["period_s"]) > 0:
            raise ValueError("oscillation period_s must be positive")
    return p


class FaultInjector:
    """Applies instrument faults to measured values.

    Parameters
    ----------
    faults
        Instrument faults (``degradation`` faults are ignored here).
    instruments
        Instruments by tag.
    seed
        Seed of the per-fault random streams.

    Notes
    -----
    :meth:`apply` must be called for every reading of a tag in time order,
    including readings that end up inside a data gap: the injector remembers
    the last reported value for ``stuck`` faults.
    """

    def __init__(
        self,
        faults: Sequence[Fault],
        instruments: Mapping[str, Instrument],
        seed: int,
    ) -> None:
        self._by_tag: dict[str, list[_ActiveFault]] = {}
        for index, fault in enumerate(faults):
            if fault.kind == "degradation":
                continue
            inst = instruments[fault.tag]
            self._by_tag.setdefault(fault.tag, []).append(_ActiveFault(fault, inst, seed, index))
        for items in self._by_tag.values():
            items.sort(key=lambda a: a.fault.start_s)
        self._cursor: dict[str, int] = dict.fromkeys(self._by_tag, 0)
        self._last: dict[str, float] = {}

    def apply(self, tag: str, t: float, value: float) -> float | None:
        """Return the reported value at ``t``, or ``None`` inside a data gap."""
        items = self._by_tag.get(tag)
        if items is None:
            self._last[tag] = value
            return value
        cursor = self._cursor[tag]
        while cursor < len(items) and items[cursor].fault.end_s <= t:
            cursor += 1
        self._cursor[tag] = cursor
        if cursor == len(items) or t < items[cursor].fault.start_s:
            self._last[tag] = value
            return value
        result = self._faulted(items[cursor], t, value)
        if result is not None:
            self._last[tag] = result
        return result

    def _faulted(self, active: _ActiveFault, t: float, value: float) -> float | None:
        fault, inst, p = active.fault, active.inst, active.params
        kind = fault.kind
        elapsed = t - fault.start_s
        if kind == "data_gap":
            return None
        if kind == "out_of_range":
            noisy = float(p["level"]) + active.rng.gauss(0.0, 1.0) * float(p["noise_sd"])
            if p["direction"] == "high":
                noisy = max(noisy, inst.signal_high + 0.01 * inst.span)
            else:
                noisy = min(noisy, inst.signal_low - 0.01 * inst.span)
            return round(noisy, inst.decimals)
        if kind == "stuck":
            if active.stuck_value is None:
                active.stuck_value = self._last.get(fault.tag, value)
            faulted = active.stuck_value
        elif kind == "drift":
            faulted = value + float(p["rate_per_h"]) * elapsed / 3600.0
        elif kind == "spike":
            faulted = value + float(p["magnitude"])
        elif kind == "noise":
            extra = inst.noise_sd * math.sqrt(float(p["factor"]) ** 2 - 1.0)
            faulted = value + active.rng.gauss(0.0, 1.0) * extra
        elif kind == "oscillation":
            phase = 2.0 * math.pi * elapsed / float(p["period_s"])
            faulted = value + float(p["amplitude"]) * math.sin(phase)
        else:  # pragma: no cover - kinds are validated in Fault
            raise AssertionError(kind)
        return round(inst.clip(faulted), inst.decimals)


def random_faults(
    instruments: Sequence[Instrument],
    duration_s: float,
    seed: int,
    *,
    kinds: Sequence[str] = INSTRUMENT_FAULT_KINDS,
    mean_gap_s: float | None = None,
    warmup_s: float | None = None,
    recovery_s: float = 60.0,
) -> list[Fault]:
    """Draw non-overlapping faults for every instrument from ``seed``.

    Per tag, faults follow each other after an exponentially distributed
    healthy gap (mean ``mean_gap_s``, by default a third of the run, at most
    15 minutes) and a recovery time of ``recovery_s`` after each fault.  Kind,
    duration, sign and size are random; sizes are large enough to be
    unmistakable in the data.  Only faults that end before ``duration_s``
    are kept.
    """
    rng = random.Random(f"sim:{seed}:random-faults")
    if mean_gap_s is None:
        mean_gap_s = min(900.0, max(duration_s / 3.0, 1.0))
    if warmup_s is None:
        warmup_s = min(120.0, 0.1 * duration_s)
    faults: list[Fault] = []
    for inst in instruments:
        t = warmup_s + rng.expovariate(1.0 / mean_gap_s)
        while t < duration_s:
            kind = rng.choice(list(kinds))
            length, params = _random_shape(kind, inst, rng)
            end = t + length
            if end > duration_s:  # only whole faults: a cut one may not show
                break
            faults.append(Fault(inst.tag, kind, round(t, 3), round(end, 3), params))
            t = end + recovery_s + rng.expovariate(1.0 / mean_gap_s)
    faults.sort(key=lambda f: (f.start_s, f.tag))
    return faults


def _random_shape(kind: str, inst: Instrument, rng: random.Random) -> tuple[float, dict[str, Any]]:
    """Duration and parameters of one random fault of ``kind``."""
    sign = rng.choice((-1.0, 1.0))
    span = inst.span
    if kind == "drift":
        length = rng.uniform(300.0, 1200.0)
        bias = sign * rng.uniform(0.02, 0.05) * span  # reached at the end of the fault
        return length, {"rate_per_h": bias * 3600.0 / length}
    if kind == "stuck":
        return rng.uniform(120.0, 600.0), {}
    if kind == "spike":
        length = inst.interval_s * rng.randint(1, 3)
        return length, {"magnitude": sign * rng.uniform(0.2, 0.35) * span}
    if kind == "out_of_range":
        direction = "high" if sign > 0 else "low"
        level = (
            inst.signal_high + rng.uniform(0.1, 0.3) * span
            if direction == "high"
            else inst.signal_low - rng.uniform(0.05, 0.15) * span
        )
        return rng.uniform(30.0, 180.0), {
            "direction": direction,
            "level": round(level, 3),
        }
    if kind == "noise":
        return rng.uniform(60.0, 300.0), {"factor": rng.uniform(5.0, 10.0)}
    if kind == "oscillation":
        return rng.uniform(120.0, 600.0), {
            "amplitude": rng.uniform(0.03, 0.08) * span,
            "period_s": rng.uniform(20.0, 90.0),
        }
    if kind == "data_gap":
        return rng.uniform(30.0, 300.0), {}
    raise ValueError(f"cannot draw a random {kind!r} fault for an instrument")


def fault_labels(
    faults: Iterable[Fault], start_epoch: float, end_s: float | None = None
) -> list[dict[str, Any]]:
    """Labels of the faults that started before ``end_s``, clipped to it."""
    rows = []
    for fault in sorted(faults, key=lambda f: (f.start_s, f.tag)):
        if end_s is not None and fault.start_s >= end_s:
            continue
        rows.append(fault.label(start_epoch, end_s))
    return rows


def write_labels(path: str | Path, labels: Iterable[Mapping[str, Any]]) -> int:
    """Write labels as JSON lines; return how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for row in labels:
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
            count += 1
    return count

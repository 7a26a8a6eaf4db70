"""Named scenarios: instruments + fault schedule + duration.

Built-in scenarios (``python -m simulator list`` prints them):

``normal``
    An hour of healthy plant: set-point changes, wander, daily cycle, FLEXO
    ticks, energy meters; no fault.
``pt101_out_of_range``
    Ten quiet minutes in which PT-101 reads about 20 bar (its signal range
    is 0-16 bar) from minute 4 to minute 5, then returns to normal.  A
    connector must raise exactly one instrument-fault / rule-violation alert
    for PT-101.  No FLEXO ticks, no energy meters, no set-point changes, no
    wander: the only anomaly is the labelled one.
``demo``
    What ``scripts/up`` runs: sixteen hours of FLEXO 104 history published at
    once (so that closed shifts give OEE records and the components a health
    history), then a week of live plant: PT-101 reads about 20 bar (out of
    its signal range, a critical instrument fault) from 45 s to 105 s after
    the live start, and from ten minutes on, occasional random faults (about
    one per instrument and hour).  Meant to run with ``--start now``.
``mixed``
    An hour with random faults of every instrument kind, and one FLEXO
    component degradation, drawn from the seed; energy meters.
``catalogue``
    Half an hour with one fault of every kind at fixed times on a quiet
    process (the label-accuracy tests use it).
``pt101_drift``, ``tt201_stuck``, ``ft301_spike``, ``lt401_data_gap``,
``ft301_oscillation``, ``tt201_noise``, ``flexo_printing_degradation``
    One fault each on a quiet process, for exercising one detector.

Quiet scenarios publish no energy meters (their message counts stay those of
their instruments and ticks); ``normal`` and ``mixed`` do.

A scenario can also be a TOML or JSON file::

    name = "my_case"
    duration_s = 900
    process_changes = false     # optional, default true
    wander = false              # optional, default true
    flexo = false               # optional, default true
    energy = false              # optional, default true (energy meters)
    random_faults = false       # optional, default false
    instruments = "plant.toml"  # optional, relative to this file

    [[fault]]
    tag = "PT-101"
    kind = "out_of_range"
    start_s = 240
    end_s = 300
    level = 20.0                # any other key is a fault parameter
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .faults import Fault, validate_faults
from .flexo import DEFAULT_MACHINE_ID
from .instruments import (
    DEFAULT_INSTRUMENTS,
    Instrument,
    instruments_by_tag,
    load_instruments,
)

#: FLEXO history the ``demo`` scenario publishes before its live part: two
#: shifts, so that at least one whole shift closes.
DEMO_BACKFILL_S = 16 * 3600.0

__all__ = ["DEMO_BACKFILL_S", "SCENARIOS", "Scenario", "get_scenario", "load_scenario"]


@dataclass(frozen=True)
class Scenario:
    """What to simulate.

    Parameters
    ----------
    name, description
        Identification.
    duration_s
        Default length of the run in simulated seconds.
    instruments
        The instruments publishing readings.
    faults
        Scheduled faults.
    random_faults
        Whether to add faults drawn from the seed (see
        :func:`simulator.faults.random_faults`).
    process_changes
        Operator set-point changes on instruments that have them.
    wander
        Slow process wander.
    flexo
        Whether the FLEXO 104 publishes ticks.
    energy
        Whether the energy meters publish (the perfume machines', and the
        FLEXO line's when it runs).
    backfill_s
        Simulated seconds of FLEXO history published at once before the live
        part (see :class:`~simulator.simulation.Simulation`); fault times count
        from the start of the backfill.
    fault_gap_s, fault_warmup_s
        Mean healthy time between two random faults of one instrument, and
        the time before the first (from the end of the backfill); ``None``
        for the defaults of :func:`~simulator.faults.random_faults`.
    """

    name: str
    description: str
    duration_s: float
    instruments: tuple[Instrument, ...] = DEFAULT_INSTRUMENTS
    faults: tuple[Fault, ...] = ()
    random_faults: bool = False
    process_changes: bool = True
    wander: bool = True
    flexo: bool = True
    energy: bool = True
    backfill_s: float = 0.0
    fault_gap_s: float | None = None
    fault_warmup_s: float | None = None

    def __post_init__(self) -> None:
        """Validate duration and the fault schedule."""
        if not self.duration_s > 0:
            raise ValueError(f"scenario {self.name}: duration_s must be positive")
        if not 0 <= self.backfill_s < self.duration_s:
            raise ValueError(f"scenario {self.name}: need 0 <= backfill_s < duration_s")
        validate_faults(self.faults, instruments_by_tag(self.instruments), (DEFAULT_MACHINE_ID,))


def _quiet(
    name: str, description: str, duration_s: float, *faults: Fault, flexo: bool = False
) -> Scenario:
    return Scenario(
        name=name,
        description=description,
        duration_s=duration_s,
        faults=tuple(faults),
        process_changes=False,
        wander=False,
        flexo=flexo,
        energy=False,
    )


_BUILTIN: tuple[Scenario, ...] = (
    Scenario(
        name="normal",
        description="One hour of healthy plant with FLEXO ticks; no fault.",
        duration_s=3600.0,
    ),
    _quiet(
        "pt101_out_of_range",
        "PT-101 reads ~20 bar (range 0-16) from 240 s to 300 s, quiet otherwise.",
        600.0,
        Fault("PT-101", "out_of_range", 240.0, 300.0, {"level": 20.0}),
    ),
    Scenario(
        name="demo",
        description="FLEXO history up to now, PT-101 out of range within a minute, "
        "then occasional random faults for a week.",
        duration_s=DEMO_BACKFILL_S + 7 * 86400.0,
        faults=(
            Fault(
                "PT-101",
                "out_of_range",
                DEMO_BACKFILL_S + 45.0,
                DEMO_BACKFILL_S + 105.0,
                {"level": 20.0},
            ),
        ),
        random_faults=True,
        backfill_s=DEMO_BACKFILL_S,
        fault_gap_s=3600.0,
        fault_warmup_s=600.0,
    ),
    Scenario(
        name="mixed",
        description="One hour of random faults and a FLEXO degradation from the seed.",
        duration_s=3600.0,
        random_faults=True,
    ),
    _quiet(
        "catalogue",
        "One fault of every kind at fixed times on a quiet process.",
        1800.0,
        Fault("PT-101", "drift", 120.0, 720.0, {"rate_per_h": 2.0}),
        Fault("PT-101", "out_of_range", 900.0, 960.0, {"level": 20.0}),
        Fault("PT-101", "spike", 1200.0, 1202.0, {"magnitude": 4.0}),
        Fault("TT-201", "stuck", 120.0, 600.0),
        Fault("TT-201", "noise", 900.0, 1200.0, {"factor": 8.0}),
        Fault("FT-301", "oscillation", 120.0, 600.0, {"amplitude": 4.0, "period_s": 40.0}),
        Fault("FT-301", "spike", 900.0, 903.0, {"magnitude": -25.0}),
        Fault("LT-401", "data_gap", 120.0, 300.0),
        Fault("LT-401", "out_of_range", 600.0, 660.0, {"direction": "low", "level": -5.0}),
        Fault("LT-401", "drift", 900.0, 1500.0, {"rate_per_h": -10.0}),
        Fault(
            DEFAULT_MACHINE_ID,
            "degradation",
            300.0,
            1500.0,
            {"severity": 1.0},
            component="PRINTING",
        ),
        flexo=True,
    ),
    _quiet(
        "pt101_drift",
        "PT-101 drifts up 1.6 bar/h from 300 s to 1500 s.",
        1800.0,
        Fault("PT-101", "drift", 300.0, 1500.0, {"rate_per_h": 1.6}),
    ),
    _quiet(
        "tt201_stuck",
        "TT-201 freezes from 300 s to 1500 s (longer than a 900 s stuck window).",
        1800.0,
        Fault("TT-201", "stuck", 300.0, 1500.0),
    ),
    _quiet(
        "ft301_spike",
        "FT-301 spikes +30 m3/h for two readings at 300 s.",
        600.0,
        Fault("FT-301", "spike", 300.0, 302.0, {"magnitude": 30.0}),
    ),
    _quiet(
        "lt401_data_gap",
        "LT-401 publishes nothing from 240 s to 360 s.",
        600.0,
        Fault("LT-401", "data_gap", 240.0, 360.0),
    ),
    _quiet(
        "ft301_oscillation",
        "FT-301 oscillates +-4 m3/h with a 40 s period from 300 s to 600 s.",
        900.0,
        Fault("FT-301", "oscillation", 300.0, 600.0, {"amplitude": 4.0, "period_s": 40.0}),
    ),
    _quiet(
        "tt201_noise",
        "TT-201 noise rises eightfold from 300 s to 600 s.",
        900.0,
        Fault("TT-201", "noise", 300.0, 600.0, {"factor": 8.0}),
    ),
    _quiet(
        "flexo_printing_degradation",
        "The FLEXO 104 printing unit degrades from 600 s to 3000 s.",
        3600.0,
        Fault(
            DEFAULT_MACHINE_ID,
            "degradation",
            600.0,
            3000.0,
            {"severity": 1.0},
            component="PRINTING",
        ),
        flexo=True,
    ),
)

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _BUILTIN}


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a TOML or JSON file (layout in the module docstring)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = tomllib.loads(text)
    elif suffix == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"{path}: expected a .toml or .json scenario file")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario is a table/object")
    known = {
        "name",
        "description",
        "duration_s",
        "instruments",
        "fault",
        "random_faults",
        "process_changes",
        "wander",
        "flexo",
        "energy",
        "backfill_s",
        "fault_gap_s",
        "fault_warmup_s",
    }
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{path}: unknown scenario keys {sorted(unknown)}")
    instruments = DEFAULT_INSTRUMENTS
    if "instruments" in data:
        source = data["instruments"]
        if isinstance(source, str):
            instruments = load_instruments(path.parent / source)
        else:
            instruments = tuple(Instrument.from_dict(row) for row in source)
    faults = []
    for row in data.get("fault", []):
        row = dict(row)
        try:
            tag, kind = row.pop("tag"), row.pop("kind")
            start, end = float(row.pop("start_s")), float(row.pop("end_s"))
        except KeyError as exc:
            raise ValueError(f"{path}: fault without {exc.args[0]!r}") from None
        component = row.pop("component", None)
        faults.append(Fault(tag, kind, start, end, row, component))
    return Scenario(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", f"scenario file {path.name}")),
        duration_s=float(data.get("duration_s", 600.0)),
        instruments=tuple(instruments),
        faults=tuple(faults),
        random_faults=bool(data.get("random_faults", False)),
        process_changes=bool(data.get("process_changes", True)),
        wander=bool(data.get("wander", True)),
        flexo=bool(data.get("flexo", True)),
        energy=bool(data.get("energy", True)),
        backfill_s=float(data.get("backfill_s", 0.0)),
        fault_gap_s=_opt_float(data.get("fault_gap_s")),
        fault_warmup_s=_opt_float(data.get("fault_warmup_s")),
    )


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def get_scenario(name_or_path: str) -> Scenario:
    """Return a built-in scenario by name, or load a scenario file."""
    if name_or_path in SCENARIOS:
        return SCENARIOS[name_or_path]
    path = Path(name_or_path)
    if path.suffix.lower() in (".toml", ".json") and path.is_file():
        return load_scenario(path)
    raise KeyError(
        f"unknown scenario {name_or_path!r}; built-in: {', '.join(SCENARIOS)}"
        " (or give a .toml/.json scenario file)"
    )

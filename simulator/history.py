"""A year of FLEXO 104 production reports, from the tick model.

``python -m simulator history --year 2026 --out DIR`` runs
:class:`~simulator.flexo.FlexoSimulator` (the model behind the MQTT ticks:
same shifts, design speed, jobs, reject causes, stops, reason codes and
consumable wear) over a calendar year, with ``tick_interval_s`` ticks (five
minutes by default, a divisor of the eight-hour shift), and aggregates it the
way a plant's monthly production reports do.  The same seed gives the same
files, byte for byte.

The year runs from 1 January 06:00 UTC (start of shift A) to 1 January of
the next year 06:00: every date of the year has its shifts A (06-14 UTC),
B (14-22) and C (22-06, dated by the day it starts).

Files
-----
``flexo104_<YYYY-MM>.csv``, one per month, one row per shift, in date and
shift order:

=========================== ===============================================
column                      meaning
=========================== ===============================================
``date``                    ``YYYY-MM-DD`` (the day the shift starts)
``shift``                   ``A``, ``B`` or ``C``
``shift_start``             ISO 8601 UTC start of the shift
``machine_id``              ``FLEXO_104``
``produced``                units (cuts) produced
``good``                    ``produced - reject``
``reject``                  ``defect_print + defect_miscut + defect_misstack``
``defect_print``            rejects for print defects (PRINTING)
``defect_miscut``           rejects for wrong cuts (SLOTTER)
``defect_misstack``         rejects for bad stacking (DOWN_STACKER)
``runtime_min``             ``480 - downtime_min``
``downtime_min``            minutes stopped (sum of the shift's LOSSTIME rows)
``design_speed_cpm``        design speed, cuts per minute (250)
``actual_speed_cpm``        ``produced / runtime_min``, mean running speed
``stops``                   LOSSTIME rows of the shift
``downtime_<component>_min`` the shift's stopped minutes by component, for
                            ``pre_feeder``, ``feeder``, ``printing``,
                            ``slotter``, ``down_stacker`` (they sum to
                            ``downtime_min``)
``main_reason``             reason code with the most stopped minutes in the
                            shift (empty without a stop)
=========================== ===============================================

``flexo104_<YYYY>_losstime.csv``, the LOSSTIME sheet: one row per stop and
shift it falls in (a stop across a shift change gives two rows), in time
order:

======================= ===================================================
column                  meaning
======================= ===================================================
``event_id``            number of the stop (1, 2, ...), shared by its rows
``part``                1 for the shift the stop began in, 2 for the next
``date``, ``shift``     the shift of this row
``start``               ISO 8601 UTC start of the stop within this shift
``component``           the component stopped (``PRE_FEEDER`` ...)
``reason``              loss-time reason code (:data:`~simulator.flexo.REASON_CODES`)
``duration_min``        stopped minutes within this shift
``event_duration_min``  length of the whole stop
``shift_produced``      ``produced`` of the shift the stop began in
``shift_reject``        ``reject`` of that shift
``maintenance_hours``   maintenance hours actually spent on the stop (on
                        part 1 only, empty on part 2)
======================= ===================================================

``flexo104_<YYYY>_labels.jsonl``: the ``degradation`` faults of the year,
as in a run's label file (``tag`` is the machine id).  By default four are
drawn from the seed, one in each quarter of the year, 3-21 days long, on a
random component, severity 0.6-1.0; each ends with a repair stop.

Repair duration
---------------
``maintenance_hours`` is the target of a repair-duration model
(``total_produksi``/``produk_cacat`` in the production reports).  It is
drawn, for a stop of ``component`` that began in a shift with ``P``
produced and ``R`` rejected units, as::

    maintenance_hours = round(max(0.1, mu * exp(e - 0.5 * 0.18**2)), 2),
    mu = BASE[component] + 5.0e-5 * max(0, P - 60000) + 5.0e-4 * R,
    e ~ N(0, 0.18)

with ``BASE`` (hours) ``PRE_FEEDER`` 0.4, ``FEEDER`` 0.6, ``PRINTING``
1.2, ``SLOTTER`` 0.9, ``DOWN_STACKER`` 0.3
(:func:`expected_maintenance_hours` is ``mu``).  ``e`` comes from its own
random stream, so the target never changes the production data.  A busy
shift (high ``P``) and a worn or degraded machine (high ``R``: the anilox,
doctor blade and slotter blade wear, and degradations, raise the rejects)
mean longer repairs; the noise (about 18 %) keeps a model from being exact.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.reports import LOSSTIME_COLUMNS, SHIFT_COLUMNS

from .clock import iso_utc
from .faults import Fault
from .flexo import (
    COMPONENTS,
    DEFAULT_DESIGN_SPEED_CPM,
    DEFAULT_MACHINE_ID,
    DEFECT_TYPES,
    SHIFT_S,
    SHIFTS,
    FlexoSimulator,
    Stop,
)

__all__ = [
    "DEFAULT_DEGRADATIONS",
    "LOSSTIME_COLUMNS",
    "MAINTENANCE_BASE_H",
    "SHIFT_COLUMNS",
    "History",
    "expected_maintenance_hours",
    "generate_history",
    "random_degradations",
    "write_history",
]

MAINTENANCE_BASE_H: dict[str, float] = {
    "PRE_FEEDER": 0.4,
    "FEEDER": 0.6,
    "PRINTING": 1.2,
    "SLOTTER": 0.9,
    "DOWN_STACKER": 0.3,
}
_PRODUCED_FREE = 60_000
_PER_PRODUCED_H = 5.0e-5
_PER_REJECT_H = 5.0e-4
_NOISE_SIGMA = 0.18

_SHIFT_TENTHS = round(SHIFT_S / 6.0)  # a shift in tenths of a minute
DEFAULT_DEGRADATIONS = 4


def expected_maintenance_hours(component: str, produced: float, reject: float) -> float:
    """The noise-free repair duration ``mu`` of the module docstring.

    Examples
    --------
    >>> expected_maintenance_hours("PRINTING", 90_000, 4_000)  # 1.2 + 1.5 + 2.0
    4.7
    """
    busy = max(0.0, produced - _PRODUCED_FREE)
    mu = MAINTENANCE_BASE_H[component] + _PER_PRODUCED_H * busy + _PER_REJECT_H * reject
    return round(mu, 6)


@dataclass
class History:
    """A generated year: shift rows, LOSSTIME rows and the degradation faults.

    Rows hold the CSV cells as strings, keyed by :data:`SHIFT_COLUMNS` and
    :data:`LOSSTIME_COLUMNS`.
    """

    year: int
    machine_id: str
    start_epoch: float
    end_s: float
    shifts: list[dict[str, str]] = field(default_factory=list)
    losstime: list[dict[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """File name prefix, ``flexo104`` for ``FLEXO_104``."""
        return self.machine_id.lower().replace("_", "")

    def months(self) -> dict[str, list[dict[str, str]]]:
        """The shift rows by month (``YYYY-MM``), in calendar order."""
        by_month: dict[str, list[dict[str, str]]] = {}
        for row in self.shifts:
            by_month.setdefault(row["date"][:7], []).append(row)
        return by_month

    def labels(self) -> list[dict[str, Any]]:
        """Ground-truth labels of the degradation faults."""
        return [fault.label(self.start_epoch, self.end_s) for fault in self.faults]


def _year_bounds(year: int) -> tuple[float, float]:
    """Start epoch (1 Jan 06:00 UTC) and length in seconds of the report year."""
    first = datetime(year, 1, 1, SHIFTS[0][1], tzinfo=UTC)
    last = datetime(year + 1, 1, 1, SHIFTS[0][1], tzinfo=UTC)
    return first.timestamp(), (last - first).total_seconds()


def random_degradations(
    year: int,
    seed: int,
    count: int = DEFAULT_DEGRADATIONS,
    *,
    machine_id: str = DEFAULT_MACHINE_ID,
    align_s: float = 300.0,
) -> list[Fault]:
    """``count`` degradation faults over the year, one per equal slot.

    Each lasts 3-21 days (at most 80 % of its slot), lies inside its slot,
    hits a random component with severity 0.6-1.0; start and end are
    multiples of ``align_s``.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    _, length = _year_bounds(year)
    rng = random.Random(f"sim:{seed}:history-degradations:{year}:{machine_id}")
    faults = []
    for index in range(count):
        slot = length / count
        days = min(rng.uniform(3.0, 21.0), 0.8 * slot / 86_400.0)
        span = days * 86_400.0
        start = index * slot + rng.uniform(0.05 * slot, 0.95 * slot - span)
        start = math.floor(start / align_s) * align_s
        end = math.floor((start + span) / align_s) * align_s
        component = rng.choice(COMPONENTS)
        severity = round(rng.uniform(0.6, 1.0), 3)
        if end <= start:
            continue
        faults.append(
            Fault(
                machine_id, "degradation", start, end, {"severity": severity}, component=component
            )
        )
    return faults


@dataclass
class _Shift:
    produced: int = 0
    defects: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DEFECT_TYPES, 0))
    down_tenths: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    reasons: dict[str, int] = field(default_factory=dict)
    stops: int = 0

    @property
    def reject(self) -> int:
        return sum(self.defects.values())


def _tenths(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def generate_history(
    year: int,
    seed: int = 0,
    *,
    degradations: int | Sequence[Fault] = DEFAULT_DEGRADATIONS,
    machine_id: str = DEFAULT_MACHINE_ID,
    design_speed_cpm: float = DEFAULT_DESIGN_SPEED_CPM,
    tick_interval_s: float = 300.0,
) -> History:
    """Simulate the report year ``year``; see the module docstring.

    Parameters
    ----------
    year
        Calendar year of the reports.
    seed
        Seed of the machine, the degradations and the repair-duration noise.
    degradations
        How many random degradation faults (see :func:`random_degradations`),
        or the faults themselves (times in seconds since 1 Jan 06:00 UTC).
    machine_id, design_speed_cpm
        As for :class:`~simulator.flexo.FlexoSimulator`.
    tick_interval_s
        Simulated seconds per model step; must divide the eight-hour shift.
    """
    per_shift = SHIFT_S / tick_interval_s if tick_interval_s > 0 else 0.0
    if per_shift < 1 or abs(per_shift - round(per_shift)) > 1e-9:
        raise ValueError("tick_interval_s must divide the 8-hour shift")
    start_epoch, end_s = _year_bounds(year)
    if isinstance(degradations, int):
        faults = random_degradations(
            year, seed, degradations, machine_id=machine_id, align_s=tick_interval_s
        )
    else:
        faults = list(degradations)
    for fault in faults:
        if fault.end_s > end_s:
            raise ValueError(f"degradation beyond the year: {fault}")
    flexo = FlexoSimulator(
        seed,
        start_epoch,
        machine_id=machine_id,
        tick_interval_s=tick_interval_s,
        design_speed_cpm=design_speed_cpm,
        degradations=faults,
    )
    n_shifts = round(end_s / SHIFT_S)
    shifts = [_Shift() for _ in range(n_shifts)]
    stops: list[Stop] = []
    k = 0
    while True:
        k += 1
        t = k * tick_interval_s
        interval = flexo.step(t)
        stops.extend(s for s in interval.stops if s.start_s < end_s)
        if t <= end_s + 1e-6:
            shift = shifts[int((interval.t0 + interval.t1) / 2.0 // SHIFT_S)]
            shift.produced += interval.produced
            for kind, count in interval.defects.items():
                shift.defects[kind] += count
        elif flexo.stop_ is None or flexo.stop_.start_s >= end_s:
            break

    # Split the stops at shift changes (in tenths of a minute).
    # (event id, part, start, tenths, shift of part 1, stop)
    parts: list[tuple[int, int, float, int, int, Stop]] = []
    for event_id, stop in enumerate(sorted(stops, key=lambda s: s.start_s), start=1):
        begin, finish = stop.start_s, min(stop.end_s, end_s)
        part, origin = 0, -1
        while begin < finish:
            index = int(begin // SHIFT_S)
            upto = min(finish, (index + 1) * SHIFT_S)
            tenths = round((upto - begin) / 6.0)
            if tenths > 0:
                part += 1
                origin = index if part == 1 else origin
                parts.append((event_id, part, begin, tenths, origin, stop))
                shift = shifts[index]
                shift.down_tenths[stop.component] += tenths
                shift.reasons[stop.reason] = shift.reasons.get(stop.reason, 0) + tenths
                shift.stops += 1
            begin = upto

    history = History(year, machine_id, start_epoch, end_s, faults=faults)
    for index, shift in enumerate(shifts):
        history.shifts.append(_shift_row(history, index, shift, design_speed_cpm))
    noise = random.Random(f"sim:{seed}:history-maintenance:{year}:{machine_id}")
    for event_id, part, begin, tenths, origin_index, stop in parts:
        index = int(begin // SHIFT_S)
        origin_shift = shifts[origin_index]
        hours = ""
        if part == 1:
            mu = expected_maintenance_hours(
                stop.component, origin_shift.produced, origin_shift.reject
            )
            factor = math.exp(noise.gauss(0.0, _NOISE_SIGMA) - 0.5 * _NOISE_SIGMA**2)
            hours = f"{max(0.1, mu * factor):.2f}"
        shift_row = history.shifts[index]
        history.losstime.append(
            {
                "event_id": str(event_id),
                "part": str(part),
                "date": shift_row["date"],
                "shift": shift_row["shift"],
                "start": iso_utc(start_epoch + round(begin)),
                "component": stop.component,
                "reason": stop.reason,
                "duration_min": _tenths(tenths),
                "event_duration_min": f"{stop.minutes:.1f}",
                "shift_produced": str(origin_shift.produced),
                "shift_reject": str(origin_shift.reject),
                "maintenance_hours": hours,
            }
        )
    return history


def _shift_row(history: History, index: int, shift: _Shift, design_speed: float) -> dict[str, str]:
    began = datetime.fromtimestamp(history.start_epoch, UTC) + timedelta(seconds=index * SHIFT_S)
    down = sum(shift.down_tenths.values())
    run = _SHIFT_TENTHS - down
    speed = shift.produced / (run / 10.0) if run > 0 else 0.0
    main_reason = max(shift.reasons, key=shift.reasons.__getitem__) if shift.reasons else ""
    row = {
        "date": began.date().isoformat(),
        "shift": SHIFTS[index % len(SHIFTS)][0],
        "shift_start": iso_utc(began.timestamp()),
        "machine_id": history.machine_id,
        "produced": str(shift.produced),
        "good": str(shift.produced - shift.reject),
        "reject": str(shift.reject),
        **{f"defect_{kind}": str(shift.defects[kind]) for kind in DEFECT_TYPES},
        "runtime_min": _tenths(run),
        "downtime_min": _tenths(down),
        "design_speed_cpm": f"{design_speed:g}",
        "actual_speed_cpm": f"{speed:.1f}",
        "stops": str(shift.stops),
        **{f"downtime_{c.lower()}_min": _tenths(shift.down_tenths[c]) for c in COMPONENTS},
        "main_reason": main_reason,
    }
    return row


def write_history(
    history: History,
    out_dir: str | Path,
    *,
    fmt: str = "csv",
    mapping: str | Path | None = None,
) -> dict[str, Any]:
    """Write the monthly reports, the LOSSTIME file and the labels to ``out_dir``.

    Parameters
    ----------
    fmt : ``"csv"`` or ``"xlsx"``
        File format of the reports (the labels are JSON lines either way).
    mapping : path, optional
        A column mapping (:mod:`connector.reports`): the plant's headers and
        file names, e.g. ``simulator/config/laporan_flexo.toml`` for
        ``Laporan Flexo Januari 2026.xlsx``. Without one, the files are
        ``flexo104_<YYYY-MM>.csv`` and ``flexo104_<YYYY>_losstime.csv``
        with the columns of the module docstring.

    Returns the paths written: ``{"months": [...], "losstime": path,
    "labels": path}``.
    """
    if fmt not in ("csv", "xlsx"):
        raise ValueError("fmt must be csv or xlsx")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    months = []
    if mapping is None and fmt == "csv":
        for month, rows in history.months().items():
            path = out / f"{history.prefix}_{month}.csv"
            _write_csv(path, SHIFT_COLUMNS, rows)
            months.append(path)
        losstime = out / f"{history.prefix}_{history.year}_losstime.csv"
        _write_csv(losstime, LOSSTIME_COLUMNS, history.losstime)
    else:
        from connector.reports import file_name, load_mapping, write_table

        columns = load_mapping(mapping)
        for month, rows in history.months().items():
            name = file_name(
                columns, "shifts", prefix=history.prefix, year=int(month[:4]),
                month=int(month[5:7]),
            )  # fmt: skip
            months.append(write_table(out / f"{name}.{fmt}", "shifts", rows, columns))
        name = file_name(columns, "losstime", prefix=history.prefix, year=history.year)
        losstime = write_table(out / f"{name}.{fmt}", "losstime", history.losstime, columns)
    labels = out / f"{history.prefix}_{history.year}_labels.jsonl"
    with labels.open("w", encoding="utf-8", newline="\n") as handle:
        for row in history.labels():
            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
    return {"months": months, "losstime": losstime, "labels": labels}


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

"""A plant's own FLEXO reports in the simulator: statistics and shift ticks.

``python -m simulator reports SOURCE [--mapping TOML] [--ticks OUT.jsonl]``
reads the monthly production reports and the LOSSTIME sheet of a plant
(CSV or XLSX, column names mapped by a TOML file: see
:mod:`connector.reports`), reports every row it skips with its file and
line, prints what the seed's simulator printed before simulating (average
availability, performance and quality, how often a shift stops, the
components that stop most) and can replay the reports as FLEXO ticks, one
per shift, in the tick payload of the component-health specification:
the shift's production counters, its run and stopped minutes, and its
LOSSTIME stops as downtime events (a report has no component metrics, so
the connector falls back to the reason codes, as the specification says).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from connector.reports import shift_start

from .clock import iso_utc
from .flexo import DEFAULT_DESIGN_SPEED_CPM, SHIFT_S, SHIFTS

SHIFT_MIN = SHIFT_S / 60.0


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def summarize(shifts: Sequence[dict[str, Any]], losstime: Sequence[dict[str, Any]]) -> list[str]:
    """Lines of statistics of the reports (shift-weighted averages).

    >>> rows = [{"date": "2026-01-01", "shift": "A", "produced": 86_400, "good": 82_080,
    ...          "reject": 4_320, "runtime_min": 432.0, "downtime_min": 48.0,
    ...          "design_speed_cpm": 250.0, "actual_speed_cpm": 200.0}]
    >>> summarize(rows, [])[1]
    'availability 90.0 %, performance 80.0 %, quality 95.0 %, OEE 68.4 %'
    """
    lines = [f"shifts: {len(shifts)}, LOSSTIME rows: {len(losstime)}"]
    if shifts:
        run = sum(r.get("runtime_min") or 0.0 for r in shifts)
        down = sum(r.get("downtime_min") or 0.0 for r in shifts)
        produced = sum(r["produced"] for r in shifts)
        good = sum(r["good"] for r in shifts)
        design = [
            (r.get("design_speed_cpm") or 0.0) * (r.get("runtime_min") or 0.0) for r in shifts
        ]
        a, p, q = _pct(run, run + down), _pct(produced, sum(design)), _pct(good, produced)
        lines.append(
            f"availability {a:.1f} %, performance {p:.1f} %, quality {q:.1f} %, "
            f"OEE {a * p * q / 1e4:.1f} %"
        )
        stopped = sum(1 for r in shifts if (r.get("downtime_min") or 0.0) > 0)
        lines.append(f"shifts with a stop: {_pct(stopped, len(shifts)):.1f} %")
    if losstime:
        minutes: dict[str, float] = {}
        for row in losstime:
            component = row["component"]
            minutes[component] = minutes.get(component, 0.0) + (row.get("duration_min") or 0.0)
        # Most minutes first; equal ones in order of appearance (as Counter.most_common).
        most = sorted(minutes.items(), key=lambda item: item[1], reverse=True)[:3]
        top = ", ".join(f"{c} {m:.0f} min" for c, m in most)
        lines.append(f"stopped most: {top}")
    return lines


def shift_ticks(
    shifts: Sequence[dict[str, Any]],
    losstime: Sequence[dict[str, Any]],
    machine_id: str = "FLEXO_104",
) -> list[dict[str, Any]]:
    """One tick payload per shift row, stamped at the shift's end, in time order."""
    hours = dict(SHIFTS)
    stops: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in losstime:
        if row.get("date") and row.get("shift"):
            stops.setdefault((row["date"], str(row["shift"]).upper()), []).append(row)
    ticks = []
    for row in sorted(shifts, key=lambda r: shift_start(r, hours)):
        began = shift_start(row, hours)
        run = row.get("runtime_min")
        down = row.get("downtime_min")
        if run is None:
            run = SHIFT_MIN - (down or 0.0)
        if down is None:
            down = SHIFT_MIN - run
        design = row.get("design_speed_cpm") or DEFAULT_DESIGN_SPEED_CPM
        actual = row.get("actual_speed_cpm")
        if actual is None:
            actual = row["produced"] / run if run else 0.0
        events = [
            {
                "timestamp": stop["start"],
                "type": "downtime",
                "component": stop["component"],
                "reason": stop.get("reason") or f"{stop['component']} TROUBLE",
                "duration_min": stop["duration_min"],
            }
            for stop in stops.get((row["date"], str(row["shift"]).upper()), [])
        ]
        ticks.append(
            {
                "timestamp": iso_utc((began + timedelta(minutes=run + down)).timestamp()),
                "shift": str(row["shift"]).upper(),
                "machine_id": row.get("machine_id") or machine_id,
                "overall": {
                    "produced_units": row["produced"],
                    "good_units": row["good"],
                    "reject_units": row["reject"],
                    "runtime_minutes": run,
                    "downtime_minutes": down,
                    "design_speed_cpm": design,
                    "actual_speed_cpm": actual,
                    "oee": None,
                    "availability": None,
                    "performance": None,
                    "quality": None,
                },
                "components": {},
                "events": events,
            }
        )
    return ticks


def replay_ticks(
    shifts: Sequence[dict[str, Any]],
    losstime: Sequence[dict[str, Any]],
    out: str | Path,
    machine_id: str = "FLEXO_104",
) -> int:
    """Write :func:`shift_ticks` as JSON lines (as ``dump --ticks`` does); return the count."""
    ticks = shift_ticks(shifts, losstime, machine_id)
    with Path(out).open("w", encoding="utf-8", newline="\n") as handle:
        for tick in ticks:
            handle.write(json.dumps(tick, separators=(",", ":")) + "\n")
    return len(ticks)

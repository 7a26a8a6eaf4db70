"""``python -m simulator history``: a year of production reports from the tick model."""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.__main__ import main
from simulator.flexo import COMPONENTS, REASON_CODES, FlexoSimulator
from simulator.history import (
    LOSSTIME_COLUMNS,
    MAINTENANCE_BASE_H,
    SHIFT_COLUMNS,
    expected_maintenance_hours,
    generate_history,
    random_degradations,
    write_history,
)

YEAR = 2026
SEED = 7
Row = dict[str, str]


def _read_csv(path: Path) -> tuple[list[str], list[Row]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _tenths(text: str) -> int:
    """A ``.1f`` minutes cell in tenths of a minute, exactly."""
    return round(float(text) * 10)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The year written once through the command line."""
    out = tmp_path_factory.mktemp("history")
    printed = io.StringIO()
    status = main(["history", "--year", str(YEAR), "--out", str(out), "--seed", str(SEED)], printed)
    assert status == 0
    assert "shifts: 1095" in printed.getvalue()
    return out


@pytest.fixture(scope="module")
def shifts(out_dir: Path) -> list[Row]:
    rows: list[Row] = []
    for month in range(1, 13):
        columns, month_rows = _read_csv(out_dir / f"flexo104_{YEAR}-{month:02d}.csv")
        assert columns == list(SHIFT_COLUMNS)
        rows += month_rows
    return rows


@pytest.fixture(scope="module")
def losstime(out_dir: Path) -> list[Row]:
    columns, rows = _read_csv(out_dir / f"flexo104_{YEAR}_losstime.csv")
    assert columns == list(LOSSTIME_COLUMNS)
    return rows


def test_files_written(out_dir: Path) -> None:
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(
        [f"flexo104_{YEAR}-{m:02d}.csv" for m in range(1, 13)]
        + [f"flexo104_{YEAR}_losstime.csv", f"flexo104_{YEAR}_labels.jsonl"]
    )


def test_same_seed_same_files_other_seed_other_files(out_dir: Path, tmp_path: Path) -> None:
    again = write_history(generate_history(YEAR, SEED), tmp_path / "again")
    for path in [*again["months"], again["losstime"], again["labels"]]:
        assert path.read_bytes() == (out_dir / path.name).read_bytes(), path.name
    other = write_history(generate_history(YEAR, SEED + 1), tmp_path / "other")
    for path in [other["months"][0], other["losstime"], other["labels"]]:
        assert path.read_bytes() != (out_dir / path.name).read_bytes(), path.name


def test_each_month_has_its_days_and_shifts(out_dir: Path) -> None:
    for month in range(1, 13):
        _, rows = _read_csv(out_dir / f"flexo104_{YEAR}-{month:02d}.csv")
        days = calendar.monthrange(YEAR, month)[1]
        expected = [
            (f"{YEAR}-{month:02d}-{day:02d}", letter)
            for day in range(1, days + 1)
            for letter in "ABC"
        ]
        assert [(row["date"], row["shift"]) for row in rows] == expected
        hours = {"A": "06", "B": "14", "C": "22"}
        for row in rows:
            assert row["shift_start"] == f"{row['date']}T{hours[row['shift']]}:00:00Z"
            assert row["machine_id"] == "FLEXO_104"


def test_shift_totals_are_consistent(shifts: list[Row]) -> None:
    assert len(shifts) == 365 * 3
    for row in shifts:
        produced, good, reject = int(row["produced"]), int(row["good"]), int(row["reject"])
        assert good + reject == produced and min(good, reject) >= 0
        assert reject == sum(int(row[f"defect_{k}"]) for k in ("print", "miscut", "misstack"))
        runtime, downtime = _tenths(row["runtime_min"]), _tenths(row["downtime_min"])
        assert runtime + downtime == 4800 and 0 <= downtime <= 4800
        per_component = [_tenths(row[f"downtime_{c.lower()}_min"]) for c in COMPONENTS]
        assert sum(per_component) == downtime
        assert float(row["design_speed_cpm"]) == 250
        speed = float(row["actual_speed_cpm"])
        assert 0 <= speed <= 250
        if runtime:
            assert speed == pytest.approx(produced / (runtime / 10), abs=0.051)
        if downtime:
            reasons = {r for c in COMPONENTS for r in REASON_CODES[c]}
            assert row["main_reason"] in reasons and int(row["stops"]) >= 1
        else:
            assert row["main_reason"] == "" and row["stops"] == "0"
    # Plausible plant figures: availability, performance and quality of a flexo line.
    runtime_min = sum(_tenths(r["runtime_min"]) for r in shifts) / 10
    produced = sum(int(r["produced"]) for r in shifts)
    reject = sum(int(r["reject"]) for r in shifts)
    assert 0.8 < runtime_min / (len(shifts) * 480) < 0.97
    assert 0.8 < produced / runtime_min / 250 < 0.95
    assert 0.01 < reject / produced < 0.08


def test_losstime_sums_to_the_shift_downtime(shifts: list[Row], losstime: list[Row]) -> None:
    by_shift: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in losstime:
        by_shift[(row["date"], row["shift"])].append(row)
    for shift in shifts:
        rows = by_shift.pop((shift["date"], shift["shift"]), [])
        assert sum(_tenths(r["duration_min"]) for r in rows) == _tenths(shift["downtime_min"])
        for component in COMPONENTS:
            mine = sum(_tenths(r["duration_min"]) for r in rows if r["component"] == component)
            assert mine == _tenths(shift[f"downtime_{component.lower()}_min"])
        assert len(rows) == int(shift["stops"])
    assert not by_shift  # no event outside the year's shifts
    starts = [row["start"] for row in losstime]
    assert starts == sorted(starts)


def test_losstime_rows(shifts: list[Row], losstime: list[Row]) -> None:
    shift_of = {(r["date"], r["shift"]): r for r in shifts}
    events: dict[str, list[Row]] = defaultdict(list)
    for row in losstime:
        assert row["reason"] in REASON_CODES[row["component"]]
        assert _tenths(row["duration_min"]) > 0
        events[row["event_id"]].append(row)
    assert [int(e) for e in events] == list(range(1, len(events) + 1))
    continued = 0
    for rows in events.values():
        assert [r["part"] for r in rows] == [str(k) for k in range(1, len(rows) + 1)]
        first = rows[0]
        origin = shift_of[(first["date"], first["shift"])]
        total = sum(_tenths(r["duration_min"]) for r in rows)
        if not (first["date"] == f"{YEAR}-12-31" and first["shift"] == "C"):
            assert abs(total - _tenths(first["event_duration_min"])) <= len(rows)
        for row in rows:
            assert (row["shift_produced"], row["shift_reject"]) == (
                origin["produced"],
                origin["reject"],
            )
            assert row["event_duration_min"] == first["event_duration_min"]
            assert (row["maintenance_hours"] != "") == (row["part"] == "1")
        continued += len(rows) > 1
    assert continued > 10  # stops do run across shift changes
    reasons = {row["reason"] for row in losstime}
    assert reasons >= {"GANTI PISAU SLOTTER", "GANTI DOCTOR BLADE", "GANTI ANILOX"}


def _lstsq(x: list[list[float]], y: list[float]) -> list[float]:
    """Least squares by the normal equations (Gauss-Jordan with pivoting)."""
    n = len(x[0])
    m = [[sum(r[i] * r[j] for r in x) for j in range(n)] for i in range(n)]
    for i in range(n):
        m[i].append(sum(r[i] * v for r, v in zip(x, y, strict=True)))
    for i in range(n):
        pivot = max(range(i, n), key=lambda k: abs(m[k][i]))
        m[i], m[pivot] = m[pivot], m[i]
        for k in range(n):
            if k != i:
                f = m[k][i] / m[i][i]
                m[k] = [a - f * b for a, b in zip(m[k], m[i], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def test_repair_duration_is_learnable(losstime: list[Row]) -> None:
    rows = [r for r in losstime if r["maintenance_hours"]]
    assert len(rows) > 3000

    def features(row: Row) -> list[float]:
        busy = max(0.0, int(row["shift_produced"]) - 60_000) / 1000
        onehot = [float(row["component"] == c) for c in COMPONENTS[1:]]
        return [1.0, busy, int(row["shift_reject"]) / 1000, *onehot]

    x = [features(r) for r in rows]
    y = [float(r["maintenance_hours"]) for r in rows]
    assert min(y) >= 0.1
    # Fit on a random half, score on the other: a linear model beats the mean.
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    train, test = order[::2], order[1::2]
    weights = _lstsq([x[i] for i in train], [y[i] for i in train])
    mean = statistics.fmean(y[i] for i in train)
    sse = sum((y[i] - sum(w * f for w, f in zip(weights, x[i], strict=True))) ** 2 for i in test)
    sst = sum((y[i] - mean) ** 2 for i in test)
    assert 1 - sse / sst > 0.35
    # ... and finds the documented coefficients (per 1000 units, hours).
    assert weights[1] == pytest.approx(0.05, rel=0.3)
    assert weights[2] == pytest.approx(0.5, rel=0.3)
    printing = COMPONENTS.index("PRINTING")
    down_stacker = COMPONENTS.index("DOWN_STACKER")
    assert weights[2 + printing] - weights[2 + down_stacker] == pytest.approx(
        MAINTENANCE_BASE_H["PRINTING"] - MAINTENANCE_BASE_H["DOWN_STACKER"], abs=0.3
    )
    # The noise is multiplicative around the documented mean.
    ratio = [
        float(r["maintenance_hours"])
        / expected_maintenance_hours(
            r["component"], int(r["shift_produced"]), int(r["shift_reject"])
        )
        for r in rows
    ]
    assert statistics.fmean(ratio) == pytest.approx(1.0, abs=0.03)
    assert 0.12 < statistics.pstdev(math.log(v) for v in ratio) < 0.25


def test_history_is_the_tick_model_aggregated(shifts: list[Row]) -> None:
    start = datetime(YEAR, 1, 1, 6, tzinfo=UTC).timestamp()
    faults = random_degradations(YEAR, SEED)
    flexo = FlexoSimulator(SEED, start, tick_interval_s=300.0, degradations=faults)
    produced: dict[str, int] = defaultdict(int)
    reject: dict[str, int] = defaultdict(int)
    for k in range(1, 24 * 12 + 1):  # the first day, five-minute ticks
        tick = flexo.tick(k * 300.0)
        produced[tick["shift"]] += tick["overall"]["produced_units"]
        reject[tick["shift"]] += tick["overall"]["reject_units"]
    for row in shifts[:3]:
        assert int(row["produced"]) == produced[row["shift"]]
        assert int(row["reject"]) == reject[row["shift"]]


def test_labels_and_repairs(out_dir: Path, losstime: list[Row]) -> None:
    labels = [json.loads(line) for line in (out_dir / f"flexo104_{YEAR}_labels.jsonl").open()]
    assert len(labels) == 4
    starts = {row["start"]: row for row in losstime if row["part"] == "1"}
    for label in labels:
        assert set(label) == {"tag", "fault", "start", "end", "component"}
        assert label["fault"] == "degradation" and label["component"] in COMPONENTS
        assert f"{YEAR}-01-01T06:00:00Z" <= label["start"] < label["end"]
        assert label["end"] <= f"{YEAR + 1}-01-01T06:00:00Z"
        # The degradation ends with a repair of its component.
        later = [row for start, row in starts.items() if start >= label["end"]]
        repair = min(later, key=lambda row: row["start"])
        assert repair["component"] == label["component"]
        assert repair["reason"] == REASON_CODES[label["component"]][0]


def test_history_without_degradations(tmp_path: Path) -> None:
    history = generate_history(2025, 3, degradations=0, tick_interval_s=1800.0)
    assert history.faults == [] and history.labels() == []
    assert len(history.shifts) == 365 * 3
    written = write_history(history, tmp_path)
    assert written["labels"].read_text() == ""
    assert [p.name for p in written["months"]][:2] == [
        "flexo104_2025-01.csv",
        "flexo104_2025-02.csv",
    ]


def test_bad_history_arguments(tmp_path: Path) -> None:
    out = str(tmp_path / "x")
    assert main(["history", "--year", "2026", "--out", out, "--tick-interval", "7"]) == 2
    assert main(["history", "--year", "0", "--out", out]) == 2
    assert main(["history", "--year", "2026", "--out", out, "--degradations", "-1"]) == 2
    with pytest.raises(SystemExit):
        main(["history", "--out", out])

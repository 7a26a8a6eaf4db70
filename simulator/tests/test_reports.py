"""A plant's own reports: the simulated year written in their format and read
back, bad rows reported with their line numbers, the duration model and the
shift ticks from them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest

from connector.ml.duration import load_losstime, train_duration
from connector.reports import (
    LOSSTIME_COLUMNS,
    SHIFT_COLUMNS,
    ReportError,
    load_mapping,
    parse_rows,
    read_reports,
)
from simulator import history as sim_history
from simulator.__main__ import main
from simulator.history import generate_history, write_history
from simulator.reports import shift_ticks

MAPPING = Path(__file__).resolve().parent.parent / "config" / "laporan_flexo.toml"


@pytest.fixture(scope="module")
def year() -> sim_history.History:
    return generate_history(2026, seed=2, tick_interval_s=3600.0)


def expected(year: sim_history.History) -> dict[str, list[dict]]:
    return {
        "shifts": parse_rows("shifts", year.shifts, "x").rows,
        "losstime": parse_rows("losstime", year.losstime, "x").rows,
    }


def test_the_columns_are_the_simulators() -> None:
    assert SHIFT_COLUMNS == sim_history.SHIFT_COLUMNS
    assert LOSSTIME_COLUMNS == sim_history.LOSSTIME_COLUMNS
    mapping = load_mapping(MAPPING)
    assert set(mapping.columns["shifts"]) == set(SHIFT_COLUMNS)
    assert set(mapping.columns["losstime"]) == set(LOSSTIME_COLUMNS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_in_the_plants_format(year, tmp_path: Path, fmt: str) -> None:
    written = write_history(year, tmp_path, fmt=fmt, mapping=MAPPING)
    names = sorted(p.name for p in written["months"])
    assert f"Laporan Flexo Januari 2026.{fmt}" in names
    assert f"Laporan Flexo Desember 2026.{fmt}" in names
    assert written["losstime"].name == f"LOSSTIME Flexo 2026.{fmt}"
    if fmt == "csv":
        header = written["losstime"].read_text(encoding="utf-8").splitlines()[0]
        assert header.startswith("No,Bagian,Tanggal,Shift,Mulai,Komponen,Keterangan")
    found = read_reports(tmp_path, MAPPING)
    assert not found["shifts"].bad and not found["losstime"].bad
    want = expected(year)
    assert found["shifts"].rows == want["shifts"]
    assert found["losstime"].rows == want["losstime"]
    assert len(found["shifts"].rows) == 365 * 3


def test_the_own_format_reads_the_same(year, tmp_path: Path) -> None:
    write_history(year, tmp_path)
    found = read_reports(tmp_path)
    assert found["shifts"].rows == expected(year)["shifts"]
    # Without the mapping, the plant's headers are not understood: said so.
    write_history(year, tmp_path / "laporan", mapping=MAPPING)
    with pytest.raises(ReportError, match="no shifts or losstime table"):
        read_reports(tmp_path / "laporan" / "LOSSTIME Flexo 2026.csv")


BAD_CSV = """\
Tanggal,Shift,Total Produksi,Produk Cacat,Runtime (menit),Downtime (menit)
2024-10-01,A,4500,180,450,30
02/10/2024,B,4200,150,460,20
2024-10-03,C,banyak,10,480,0
,A,4000,100,480,0
2024-10-04,A,4000,5000,480,0

2024-10-05,B,3900.5,10,480,0
2024-10-06,C,4100,-3,470,10
2024-10-07,A,4300,120,480,0
"""


def test_bad_rows_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "Laporan Flexo Oktober 2024.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    found = read_reports(path, MAPPING)
    rows = found["shifts"].rows
    assert [(r["date"], r["produced"], r["good"]) for r in rows] == [
        ("2024-10-01", 4500, 4320),
        ("2024-10-02", 4200, 4050),
        ("2024-10-07", 4300, 4180),
    ]
    assert [str(b) for b in found["shifts"].bad] == [
        "Laporan Flexo Oktober 2024.csv:4: produced must be a whole number >= 0, got 'banyak'",
        "Laporan Flexo Oktober 2024.csv:5: date is empty",
        "Laporan Flexo Oktober 2024.csv:6: reject (5000) exceeds produced (4000)",
        "Laporan Flexo Oktober 2024.csv:8: produced must be a whole number >= 0, got '3900.5'",
        "Laporan Flexo Oktober 2024.csv:9: reject must be a whole number >= 0, got '-3'",
    ]
    # The command says it too, on stderr, and goes on.
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        assert main(["reports", str(path), "--mapping", str(MAPPING)], out=out) == 0
    assert "skipped: Laporan Flexo Oktober 2024.csv:4: produced" in err.getvalue()
    assert "rows skipped: 5" in out.getvalue()
    assert "shifts: 3," in out.getvalue()


def test_bad_rows_of_a_workbook_name_their_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Catatan"
    cover.append(["Laporan bulanan mesin Flexo 104"])
    sheet = book.create_sheet("LOSSTIME")
    sheet.append([])  # a blank line above the header
    sheet.append(["Mulai", "Komponen", "Keterangan", "Durasi (menit)", "Total Produksi Shift",
                  "Produk Cacat Shift", "Jam Perbaikan"])  # fmt: skip
    sheet.append(["2024-10-01T08:10:00Z", "Feeder", "FEEDER UNIT TROUBLE", 15, 70000, 2000, 0.8])
    sheet.append(["2024-10-01T09:00:00Z", "ANILOX", "X", 10, 70000, 2000, 1.0])
    sheet.append(["2024-10-01T10:00:00Z", "printing", "PRINTING", 20, 70000, None, 1.2])
    sheet.append(["2024-10-01T11:00:00Z", "printing", "PRINTING", 20, 70000, 2000, 1.4])
    path = tmp_path / "Laporan Flexo Oktober 2024.xlsx"
    book.save(path)
    bad: list = []
    rows = load_losstime(path, MAPPING, bad)
    assert [(r["component"], r["maintenance_hours"]) for r in rows] == [
        ("FEEDER", 0.8),
        ("PRINTING", 1.4),
    ]
    assert [str(b) for b in bad] == [
        "Laporan Flexo Oktober 2024.xlsx[LOSSTIME]:4: unknown component 'ANILOX' "
        "(PRE_FEEDER, FEEDER, PRINTING, SLOTTER, DOWN_STACKER)",
        "Laporan Flexo Oktober 2024.xlsx[LOSSTIME]:5: shift_reject is empty",
    ]


def test_the_duration_model_learns_from_the_plants_workbooks(year, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    write_history(year, reports, fmt="xlsx", mapping=MAPPING)
    # One damaged row in the LOSSTIME sheet: skipped and counted.
    path = reports / "LOSSTIME Flexo 2026.xlsx"
    book = openpyxl.load_workbook(path)
    losstime = book.active
    assert losstime is not None
    losstime.cell(row=3, column=6).value = "ANILOX"
    book.save(path)
    bad: list = []
    meta = train_duration(reports, tmp_path / "models", mapping=MAPPING, bad=bad,
                          n_estimators=20)  # fmt: skip
    assert [b.line for b in bad] == [3]
    assert meta.metrics["skipped_rows"] == 1
    assert meta.metrics["r2"] > 0.2
    with pytest.raises(ValueError, match="no LOSSTIME table"):
        train_duration(reports, tmp_path / "models")  # the plant's headers, no mapping


def test_shift_ticks_from_the_reports(year, tmp_path: Path) -> None:
    write_history(year, tmp_path, mapping=MAPPING)
    found = read_reports(tmp_path, MAPPING)
    ticks = shift_ticks(found["shifts"].rows, found["losstime"].rows)
    assert len(ticks) == len(year.shifts)
    assert ticks[0]["timestamp"] == "2026-01-01T14:00:00Z" and ticks[0]["shift"] == "A"
    assert sum(t["overall"]["produced_units"] for t in ticks) == sum(
        int(r["produced"]) for r in year.shifts
    )
    stops = sum(len(t["events"]) for t in ticks)
    assert stops == len(year.losstime)
    out = tmp_path / "ticks.jsonl"
    assert main(["reports", str(tmp_path), "--mapping", str(MAPPING), "--ticks", str(out)],
                out=io.StringIO()) == 0  # fmt: skip
    assert json.loads(out.read_text().splitlines()[-1])["shift"] == "C"

"""A plant's own production reports: monthly shift reports and the LOSSTIME sheet.

The repair-duration model (:mod:`connector.ml.duration`) learns from them
and the simulator (``python -m simulator reports``, ``history --format``)
reads and writes them. A plant keeps them as CSV files or Excel workbooks
(``Laporan Flexo Oktober 2024.csv``, ``.xlsx``) with its own column names; a
small TOML **mapping file** names, for each column this module knows, the
plant's column::

    [shifts]                       # the monthly production report
    date = "Tanggal"
    shift = "Shift"
    produced = "Total Produksi"
    reject = "Produk Cacat"
    ...
    [losstime]                     # the LOSSTIME sheet
    start = "Mulai"
    component = "Komponen"
    ...
    [files]                        # names of the files written (optional)
    shifts = "Laporan Flexo {month_name} {year}"
    losstime = "LOSSTIME Flexo {year}"

A column left out of the mapping keeps its own name. Without a mapping the
names are those ``python -m simulator history`` writes
(``simulator/history.py``). ``simulator/config/laporan_flexo.toml`` maps
them to the Indonesian headers of the FlexoTwin reports.

Reading a folder takes every ``.csv`` and ``.xlsx`` in it and tells a shift
report from a LOSSTIME sheet by its header; in a workbook, every sheet is
looked at (a workbook may hold the month's report and its LOSSTIME sheet).
A row that cannot be used (a missing or bad date, a count that is not a
whole number, rejects above production ...) is **skipped and reported**
with its file, sheet and line number (the header is line 1), never dropped
silently: :class:`Report` carries the rows and the :class:`BadRow` list.

>>> rows = [{"date": "2026-01-01", "shift": "A", "produced": "100", "reject": "5"},
...         {"date": "2026-01-01", "shift": "B", "produced": "90", "reject": "x"}]
>>> report = parse_rows("shifts", rows, "jan.csv")
>>> [(r["shift"], r["good"]) for r in report.rows]
[('A', 95)]
>>> print(report.bad[0])
jan.csv:3: reject must be a whole number >= 0, got 'x'
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .flexo.scoring import COMPONENTS

KINDS = ("shifts", "losstime")
#: Reject causes counted per shift: print defects, mis-cuts, mis-stacks.
DEFECT_TYPES: tuple[str, ...] = ("print", "miscut", "misstack")

#: The columns of each kind, in the order they are written (the simulator
#: writes its history with these: this is their one home).
SHIFT_COLUMNS: tuple[str, ...] = (
    "date",
    "shift",
    "shift_start",
    "machine_id",
    "produced",
    "good",
    "reject",
    *(f"defect_{kind}" for kind in DEFECT_TYPES),
    "runtime_min",
    "downtime_min",
    "design_speed_cpm",
    "actual_speed_cpm",
    "stops",
    *(f"downtime_{c.lower()}_min" for c in COMPONENTS),
    "main_reason",
)
LOSSTIME_COLUMNS: tuple[str, ...] = (
    "event_id",
    "part",
    "date",
    "shift",
    "start",
    "component",
    "reason",
    "duration_min",
    "event_duration_min",
    "shift_produced",
    "shift_reject",
    "maintenance_hours",
)
COLUMNS = {"shifts": SHIFT_COLUMNS, "losstime": LOSSTIME_COLUMNS}
#: Columns a row cannot do without; the header must have them all.
REQUIRED = {
    "shifts": ("date", "shift", "produced", "reject"),
    "losstime": ("start", "component", "duration_min"),
}
_INTS = {
    "shifts": ("produced", "good", "reject", *(f"defect_{kind}" for kind in DEFECT_TYPES),
               "stops"),
    "losstime": ("event_id", "part", "shift_produced", "shift_reject"),
}  # fmt: skip
_FLOATS = {
    "shifts": ("runtime_min", "downtime_min", "design_speed_cpm", "actual_speed_cpm",
               *(f"downtime_{c.lower()}_min" for c in COMPONENTS)),
    "losstime": ("duration_min", "event_duration_min", "maintenance_hours"),
}  # fmt: skip
DEFAULT_FILES = {"shifts": "{prefix}_{month}", "losstime": "{prefix}_{year}_losstime"}
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")  # fmt: skip


class ReportError(ValueError):
    """A file or mapping that cannot be read at all; the message says why."""


@dataclass(frozen=True)
class BadRow:
    """A row skipped: where it is and why."""

    file: str
    line: int
    reason: str
    sheet: str = ""

    def __str__(self) -> str:
        where = f"{self.file}[{self.sheet}]" if self.sheet else self.file
        return f"{where}:{self.line}: {self.reason}"


@dataclass
class Report:
    """Rows read (typed, in file order) and the rows skipped."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def extend(self, other: Report) -> None:
        self.rows.extend(other.rows)
        self.bad.extend(other.bad)
        self.files.extend(other.files)


@dataclass
class ColumnMap:
    """Our column name -> the plant's, per kind; file name patterns."""

    columns: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in KINDS})
    files: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FILES))

    def plant(self, kind: str, name: str) -> str:
        return self.columns[kind].get(name, name)

    def ours(self, kind: str) -> dict[str, str]:
        """The plant's header (case and spaces ignored) -> our name."""
        out = {_norm(name): name for name in COLUMNS[kind]}
        for name, theirs in self.columns[kind].items():
            out.pop(_norm(name), None)
            out[_norm(theirs)] = name
        return out


def _norm(header: str) -> str:
    return " ".join(str(header).strip().lower().split())


def load_mapping(path: str | Path | None) -> ColumnMap:
    """Read a mapping file (``None``: the identity mapping).

    Raises
    ------
    ReportError
        When the file is missing, not TOML, or names unknown columns.
    """
    mapping = ColumnMap()
    if path is None:
        return mapping
    try:
        with Path(path).open("rb") as handle:
            doc = tomllib.load(handle)
    except OSError as exc:
        raise ReportError(f"cannot read the mapping {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"the mapping {path} is not TOML: {exc}") from None
    for table, values in doc.items():
        if table not in (*KINDS, "files") or not isinstance(values, dict):
            raise ReportError(f"{path}: unknown table [{table}] (shifts, losstime, files)")
        for name, theirs in values.items():
            if not isinstance(theirs, str) or not theirs.strip():
                raise ReportError(f"{path}: [{table}] {name} must be a non-empty string")
            if table == "files":
                if name not in KINDS:
                    raise ReportError(f"{path}: [files] {name}: not shifts or losstime")
                mapping.files[name] = theirs
            elif name not in COLUMNS[table]:
                raise ReportError(
                    f"{path}: [{table}] {name} is not a column of the {table} report "
                    f"({', '.join(COLUMNS[table])})"
                )
            else:
                mapping.columns[table][name] = theirs.strip()
    return mapping


# -- reading -----------------------------------------------------------------


def _cell(value: Any) -> str:
    """An Excel cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


Table = tuple[str, Iterator[tuple[int, list[str]]]]


def _tables(path: Path) -> Iterator[Table]:
    """``(sheet name, rows)`` of a file: one table for a CSV, one per sheet."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            reader = csv.reader(handle, delimiter=delimiter)
            yield "", ((i, row) for i, row in enumerate(reader, start=1))
        return
    if path.suffix.lower() != ".xlsx":
        raise ReportError(f"{path}: a report is a .csv or .xlsx file")
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is in the requirements
        raise ReportError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/XML errors of a damaged file
        raise ReportError(f"{path}: not a readable workbook: {exc}") from None
    try:
        for sheet in book.worksheets:
            yield (
                sheet.title,
                (
                    (i, [_cell(v) for v in row])
                    for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)
                ),
            )
    finally:
        book.close()


def _kind_of(header: Sequence[str], mapping: ColumnMap) -> str | None:
    for kind in ("losstime", "shifts"):
        ours = mapping.ours(kind)
        names = {ours.get(_norm(h)) for h in header}
        if all(name in names for name in REQUIRED[kind]):
            return kind
    return None


def read_file(
    path: str | Path,
    mapping: ColumnMap | None = None,
    kind: str | None = None,
    require: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Report]:
    """The shift and LOSSTIME rows of one file (every sheet of a workbook).

    Tables whose header is neither kind's (a cover sheet, notes) are left
    out; a file with no such table at all is an error.
    """
    path = Path(path)
    mapping = mapping or ColumnMap()
    out = {k: Report() for k in KINDS}
    found = False
    for sheet, rows in _tables(path):
        header: list[str] | None = None
        records: list[tuple[int, dict[str, str]]] = []
        table_kind = None
        for line, cells in rows:
            if header is None:
                if not any(c.strip() for c in cells):
                    continue  # blank lines above the header
                table_kind = kind or _kind_of(cells, mapping)
                if table_kind is None:
                    break
                header = cells
                continue
            if not any(c.strip() for c in cells):
                continue
            ours = mapping.ours(table_kind)  # type: ignore[arg-type]
            record = {}
            for name, value in zip(header, cells, strict=False):
                key = ours.get(_norm(name))
                if key:
                    record[key] = value
            records.append((line, record))
        if header is None or table_kind is None:
            continue
        missing = [
            mapping.plant(table_kind, c)
            for c in REQUIRED[table_kind]
            if c not in {mapping.ours(table_kind).get(_norm(h)) for h in header}
        ]
        if missing:
            raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
        found = True
        needed = (require or {}).get(table_kind, ())
        report = parse_records(table_kind, records, path.name, sheet, needed)
        report.files.append(str(path))
        out[table_kind].extend(report)
    if not found:
        wanted = " or ".join(kind and [kind] or KINDS)
        raise ReportError(f"{path}: no {wanted} table (check the column mapping)")
    return out


def report_files(source: str | Path) -> list[Path]:
    """A file, or the ``.csv`` and ``.xlsx`` files of a folder in name order."""
    path = Path(source)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ReportError(f"no such file or folder: {path}")
    files = sorted(
        p for p in path.iterdir() if p.suffix.lower() in (".csv", ".xlsx") and p.is_file()
    )
    if not files:
        raise ReportError(f"no .csv or .xlsx report in {path}")
    return files


def read_reports(
    source: str | Path,
    mapping: ColumnMap | str | Path | None = None,
    require: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Report]:
    """Every shift and LOSSTIME row of a file or folder (see :func:`read_file`).

    Files that hold neither kind (a label file, notes) are skipped.
    *require* names, per kind, cells a row must have besides the usual ones
    (a row without them is a bad row).
    """
    if not isinstance(mapping, ColumnMap):
        mapping = load_mapping(mapping)
    out = {k: Report() for k in KINDS}
    for path in report_files(source):
        try:
            found = read_file(path, mapping, require=require)
        except ReportError as exc:
            if "no shifts or losstime table" in str(exc) and Path(source).is_dir():
                continue
            raise
        for kind in KINDS:
            out[kind].extend(found[kind])
    # Files come in name order ("Laporan Flexo April ..." before "Januari"):
    # the rows in time order.
    out["shifts"].rows.sort(key=lambda r: (r["date"], str(r["shift"])))
    out["losstime"].rows.sort(key=lambda r: r["start"])
    return out


def parse_rows(kind: str, rows: Iterable[Mapping[str, str]], file: str, sheet: str = "") -> Report:
    """Typed rows of *kind* from text rows (the header is line 1)."""
    return parse_records(kind, ((i, dict(r)) for i, r in enumerate(rows, start=2)), file, sheet)


def parse_records(
    kind: str,
    records: Iterable[tuple[int, Mapping[str, str]]],
    file: str,
    sheet: str = "",
    require: Sequence[str] = (),
) -> Report:
    """Typed rows of *kind* from ``(line, record)`` pairs; bad ones reported."""
    report = Report()
    for line, record in records:
        try:
            for name in require:
                if not (record.get(name) or "").strip():
                    raise ValueError(f"{name} is empty")
            report.rows.append(_parse(kind, record))
        except ValueError as exc:
            report.bad.append(BadRow(file, line, str(exc), sheet))
    return report


def _whole(text: str, name: str) -> int | None:
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number >= 0, got {text!r}") from None
    if not math.isfinite(number) or number < 0 or not number.is_integer():
        raise ValueError(f"{name} must be a whole number >= 0, got {text!r}")
    return int(number)


def _real(text: str, name: str) -> float | None:
    text = (
        text.strip().replace(",", ".") if text.count(",") == 1 and "." not in text else text.strip()
    )
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number >= 0, got {text!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a number >= 0, got {text!r}")
    return number


def _date(text: str) -> str:
    text = text.strip()[:10] if "T" in text or len(text.strip()) > 10 else text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")


def _timestamp(text: str, name: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError(f"{name} is missing")
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%d/%m/%Y %H:%M")
        except ValueError:
            raise ValueError(f"{name} {text!r} is not a date and time (ISO 8601)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.isoformat(timespec="seconds") + "Z"


def _parse(kind: str, record: Mapping[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {k: (v or "").strip() for k, v in record.items()}
    for name in REQUIRED[kind]:
        if not row.get(name):
            raise ValueError(f"{name} is empty")
    for name in _INTS[kind]:
        if name in row:
            row[name] = _whole(row[name], name)
    for name in _FLOATS[kind]:
        if name in row:
            row[name] = _real(row[name], name)
    if kind == "shifts":
        row["date"] = _date(row["date"])
        if row["reject"] > row["produced"]:
            raise ValueError(f"reject ({row['reject']}) exceeds produced ({row['produced']})")
        if row.get("good") is None:
            row["good"] = row["produced"] - row["reject"]
        elif row["good"] + row["reject"] > row["produced"]:
            raise ValueError("good + reject exceed produced")
        if row.get("shift_start"):
            row["shift_start"] = _timestamp(row["shift_start"], "shift_start")
    else:
        row["start"] = _timestamp(row["start"], "start")
        if not row["duration_min"]:
            raise ValueError("duration_min must be above 0")
        component = "_".join(row["component"].upper().replace("-", " ").split())
        if component not in COMPONENTS:
            raise ValueError(f"unknown component {row['component']!r} ({', '.join(COMPONENTS)})")
        row["component"] = component
        produced, reject = row.get("shift_produced"), row.get("shift_reject")
        if produced is not None and reject is not None and reject > produced:
            raise ValueError(f"shift_reject ({reject}) exceeds shift_produced ({produced})")
        if row.get("date"):
            row["date"] = _date(row["date"])
    return row


# -- writing -----------------------------------------------------------------


def _text(value: Any) -> Any:
    return "" if value is None else value


def write_table(
    path: str | Path,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    mapping: ColumnMap | None = None,
    sheet: str | None = None,
) -> Path:
    """Write rows of *kind* with the plant's headers, as CSV or XLSX by the suffix."""
    path = Path(path)
    mapping = mapping or ColumnMap()
    columns = COLUMNS[kind]
    header = [mapping.plant(kind, c) for c in columns]
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None  # a new workbook has its one sheet
        ws.title = sheet or ("LOSSTIME" if kind == "losstime" else "Laporan")
        ws.append(header)
        for row in rows:
            ws.append([_xlsx_value(row.get(c)) for c in columns])
        book.save(path)
        return path
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_text(row.get(c)) for c in columns])
    return path


def _xlsx_value(value: Any) -> Any:
    """Numbers as numbers (a plant's sheet sums them), everything else as text."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return value
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def file_name(mapping: ColumnMap, kind: str, *, prefix: str, year: int, month: int = 1) -> str:
    """The name (without suffix) of a file written for *kind*.

    >>> file_name(ColumnMap(files={"shifts": "Laporan Flexo {month_name} {year}",
    ...                           "losstime": "x"}), "shifts", prefix="p", year=2024, month=10)
    'Laporan Flexo Oktober 2024'
    """
    return mapping.files[kind].format(
        prefix=prefix,
        year=year,
        month=f"{year:04d}-{month:02d}",
        month_name=MONTHS_ID[month - 1],
    )


def shift_start(row: Mapping[str, Any], shifts: Mapping[str, int]) -> datetime:
    """When a shift row's shift began: ``shift_start``, else its date and shift letter."""
    if row.get("shift_start"):
        return datetime.fromisoformat(str(row["shift_start"]).replace("Z", "+00:00"))
    day = datetime.fromisoformat(str(row["date"])).replace(tzinfo=UTC)
    return day + timedelta(hours=shifts.get(str(row["shift"]).upper(), 0))

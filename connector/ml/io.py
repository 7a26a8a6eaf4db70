"""Reading time series from CSV files (training input, replay input).

A table has a timestamp in its first column and one signal in every other
numeric column. The delimiter (``,`` or ``;``) is detected; the first row
is a header unless it holds a timestamp and numbers. Timestamps are ISO
8601 or epoch seconds, read by the connector's one function
(:func:`connector.util.parse_time`); a file's time without a zone is UTC
(data sets such as SKAB carry none); empty cells are missing values (NaN).

>>> parse_time("2026-11-22T08:00:00Z"), parse_time("2026-11-22 08:00:00")
(1795334400.0, 1795334400.0)
>>> parse_time("1795334400.5")
1795334400.5
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .. import util


class InputError(ValueError):
    """A file or a value the models cannot use; the message says why."""


def parse_time(text: str) -> float:
    """A file's timestamp: ISO 8601 (zone-less = UTC) or epoch seconds -> epoch seconds.

    Raises
    ------
    InputError
        When *text* is neither.
    """
    text = text.strip()
    value: float | str
    try:
        value = number = float(text)
    except ValueError:
        value = text
    else:
        if not math.isfinite(number):
            raise InputError(f"timestamp {text!r} is not finite")
    try:
        return util.parse_time(value, naive_utc=True)
    except ValueError as exc:
        raise InputError(f"timestamp {exc}") from None


def _number(text: str) -> float | None:
    """A cell as a float, NaN when empty, None when not a number."""
    text = text.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _is_data_row(cells: list[str]) -> bool:
    try:
        parse_time(cells[0])
    except InputError:
        return False
    return len(cells) > 1 and all(_number(c) is not None for c in cells[1:])


@dataclass
class Table:
    """Rows of signals read from a CSV file.

    Attributes
    ----------
    stamps : list of str
        The first column, verbatim (written back by the replay).
    times : ndarray of shape (n_rows,)
        The stamps in epoch seconds, or NaN where a stamp does not parse.
    names : list of str
        Signal names (the numeric columns after the first).
    values : ndarray of shape (n_rows, n_signals)
        The signals, NaN where a cell is empty.
    skipped : list of str
        Columns left out because they are not numeric (or were excluded).
    """

    stamps: list[str]
    times: NDArray[np.float64]
    names: list[str]
    values: NDArray[np.float64]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.stamps)


def read_table(path: str | Path, exclude: tuple[str, ...] | list[str] = ()) -> Table:
    """Read a CSV of ``timestamp, signal, signal, ...``.

    Parameters
    ----------
    path : str or Path
        The file.
    exclude : sequence of str
        Column names to leave out (labels, for instance).

    Raises
    ------
    InputError
        When the file is missing, empty, or has no numeric signal column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    lines = text.splitlines()
    if not lines:
        raise InputError(f"{path} is empty")
    head = lines[0]
    delimiter = ";" if head.count(";") > head.count(",") else ","
    rows = [row for row in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in row)]
    header, body = [c.strip() for c in rows[0]], rows[1:]
    if _is_data_row(header):  # no header row: name the columns
        header, body = ["timestamp", *(f"value{j or ''}" for j in range(len(header) - 1))], rows
    if len(header) < 2:
        raise InputError(f"{path}: need a timestamp column and at least one signal column")
    if not body:
        raise InputError(f"{path} has a header but no rows")
    stamps: list[str] = []
    columns: list[list[str]] = [[] for _ in header[1:]]
    for lineno, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InputError(f"{path}:{lineno}: {len(row)} cells, the header has {len(header)}")
        stamps.append(row[0].strip())
        for j, cell in enumerate(row[1:]):
            columns[j].append(cell)
    names, data, skipped = [], [], []
    for name, cells in zip(header[1:], columns, strict=True):
        parsed = [_number(c) for c in cells]
        if name in exclude or any(v is None for v in parsed):
            skipped.append(name)
            continue
        names.append(name)
        data.append(parsed)
    if not names:
        raise InputError(f"{path}: no numeric signal column")
    times = []
    for stamp in stamps:
        try:
            times.append(parse_time(stamp))
        except InputError:
            times.append(math.nan)
    return Table(
        stamps=stamps,
        times=np.asarray(times, dtype=float),
        names=names,
        values=np.asarray(data, dtype=float).T,
        skipped=skipped,
    )


def read_series(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Read a ``timestamp,value`` CSV: (times, values), rows with a value only.

    The value is the first numeric column after the timestamp.

    Raises
    ------
    InputError
        When a timestamp does not parse or the times do not increase.
    """
    table = read_table(path)
    if np.isnan(table.times).any():
        row = int(np.flatnonzero(np.isnan(table.times))[0])
        raise InputError(f"{path}: row {row + 1}: timestamp {table.stamps[row]!r} does not parse")
    values = table.values[:, 0]
    keep = ~np.isnan(values)
    times, values = table.times[keep], values[keep]
    if len(times) > 1 and np.any(np.diff(times) <= 0):
        raise InputError(f"{path}: timestamps must increase from row to row")
    return times, values

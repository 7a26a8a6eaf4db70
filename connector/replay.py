"""Offline replay of the anomaly detectors over a CSV file.

``python -m connector replay INPUT.csv --output OUT.csv [--train-rows N]``

The input's first column is a timestamp; every other numeric column is a
signal (one or many; non-numeric columns and ``--exclude`` names are left
out). The first ``N`` rows (400 by default) are the clean baseline the
detector learns from; the rest are replayed one row at a time, *causally*:
a row's score and flag depend on that row and the rows before it only,
exactly as they would if the readings arrived live. The output has one line
per input row, ``timestamp,score,flag``: the input's timestamp verbatim,
the score in ``[0, 1]`` (0.5 = the alarm threshold) and the alarm flag
(0/1). Baseline rows have no verdict yet: score 0, flag 0.

Methods
-------
``online`` (default)
    :class:`connector.ml.online.OnlineDetector` over all signals at once,
    the machine-level detector the daemon runs, with its one default
    configuration (:data:`connector.ml.online.DEFAULTS`): it learns on the
    baseline rows and goes on learning as the rows come (slow forgetting,
    frozen while the alarm is on). With ``univariate=True`` each signal is
    replayed on its own (the daemon's per-tag scorer) and the row's score is
    the largest of the signals'.
``deviation``
    :class:`connector.ml.deviation.DeviationDetector` over all signals at
    once: EWMA levels (or changes, for wandering signals) against
    thresholds learned from the baseline, the largest ratio as the
    evidence, with hysteresis.
``iforest``
    One :class:`connector.ml.isolation.IsolationForestDetector` per signal
    on the ten window features of the trailing ``window`` rows; the
    evidence is the largest ``score / threshold`` over the signals, with the
    same hysteresis.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = 10 + 0.1 * rng.standard_normal((600, 2))
>>> X[450:500, 0] += 2.0  # signal 0 jumps for 50 rows
>>> result = replay_array(X, train_rows=400)
>>> np.flatnonzero(np.diff(result.flags)) + 1  # raised, cleared
array([451, 526])
>>> result = replay_array(X, train_rows=400, method="deviation")
>>> np.flatnonzero(np.diff(result.flags)) + 1
array([451, 527])
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .ml.deviation import DeviationDetector, Hysteresis
from .ml.io import InputError, Table, read_table
from .ml.online import OnlineDetector

DEFAULT_TRAIN_ROWS = 400
METHODS = ("online", "deviation", "iforest")
#: Defaults of the ``iforest`` method (window in rows, clear ratio).
IFOREST_DEFAULTS: dict[str, Any] = {
    "window": 30,
    "contamination": 0.01,
    "clear_ratio": 0.95,
    "n_estimators": 100,
}


@dataclass
class ReplayResult:
    """Scores and flags of every row, and what the detector learned.

    Attributes
    ----------
    scores : ndarray of float, shape (n_rows,)
        In ``[0, 1]``; 0 on baseline rows.
    flags : ndarray of int, shape (n_rows,)
        0 or 1; 0 on baseline rows.
    train_rows : int
    method : str
    info : dict
        Method-specific description (per-signal modes and thresholds).
    """

    scores: NDArray[np.float64]
    flags: NDArray[np.int_]
    train_rows: int
    method: str
    info: dict[str, Any] = field(default_factory=dict)


def _check(X: NDArray[np.float64], train_rows: int) -> None:
    if X.ndim != 2 or X.shape[1] < 1:
        raise InputError("need rows of at least one signal")
    if train_rows < 1:
        raise InputError("--train-rows must be at least 1")
    if X.shape[0] <= train_rows:
        raise InputError(f"{X.shape[0]} rows: need more than the {train_rows} baseline rows")


def _deviation(
    X: NDArray[np.float64], train_rows: int, names: Sequence[str], params: dict[str, Any]
) -> ReplayResult:
    try:
        det = DeviationDetector(**params).fit(X[:train_rows], names=names)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    scores = np.zeros(len(X))
    flags = np.zeros(len(X), dtype=int)
    for t in range(train_rows, len(X)):
        scores[t], alarm = det.update(X[t])
        flags[t] = int(alarm)
    return ReplayResult(scores, flags, train_rows, "deviation", det.metrics())


def _online(
    X: NDArray[np.float64],
    train_rows: int,
    names: Sequence[str],
    params: dict[str, Any],
    univariate: bool = False,
) -> ReplayResult:
    opts = {**params, "warmup": train_rows}
    n, k = X.shape
    rows = [[None if v != v else v for v in row] for row in X.tolist()]
    scores = np.zeros(n)
    flags = np.zeros(n, dtype=int)
    try:
        if univariate:
            dets = [OnlineDetector(1, names=[name], **opts) for name in names]
        else:
            dets = [OnlineDetector(k, names=names, **opts)]
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    for t, row in enumerate(rows):
        if univariate:
            best, alarm = 0.0, False
            for j, det in enumerate(dets):
                s, a = det.update((row[j],))
                best, alarm = max(best, s), alarm or a
        else:
            best, alarm = dets[0].update(row)
        if t >= train_rows:
            scores[t], flags[t] = best, int(alarm)
    info = dets[0].metrics() if not univariate else {"signals": [d.metrics() for d in dets]}
    return ReplayResult(scores, flags, train_rows, "online", info)


def _iforest(
    X: NDArray[np.float64],
    train_rows: int,
    names: Sequence[str],
    params: dict[str, Any],
    times: NDArray[np.float64] | None,
) -> ReplayResult:
    from .ml.isolation import IsolationForestDetector

    opts = {**IFOREST_DEFAULTS, **params}
    clear_ratio = float(opts.pop("clear_ratio"))
    n = len(X)
    t = np.arange(n, dtype=float) if times is None or np.isnan(times).any() else times
    ratios = np.zeros((n, X.shape[1]))
    info: dict[str, Any] = {"baseline_rows": train_rows, "signals": {}}
    for j, name in enumerate(names):
        base = X[:train_rows, j]
        keep = np.isfinite(base)
        try:
            det = IsolationForestDetector(**opts).fit(np.column_stack([t[:train_rows], base])[keep])
        except (TypeError, ValueError) as exc:
            raise InputError(f"signal {name!r}: {exc}") from None
        w = det.window
        lo = max(0, train_rows - w + 1)
        series = X[lo:, j]
        scores = det.score_series(np.column_stack([t[lo:], np.nan_to_num(series)]))
        # A window with a missing reading gives no evidence.
        missing = np.convolve(np.isnan(series).astype(float), np.ones(w), "full")[: len(series)]
        scores[missing > 0] = np.nan
        ratios[lo:, j] = np.nan_to_num(scores / det.threshold_)
        info["signals"][name] = {"threshold": round(det.threshold_, 6), "window": w}
    alarm = Hysteresis(1.0, clear_ratio)
    out_scores = np.zeros(n)
    flags = np.zeros(n, dtype=int)
    for i in range(train_rows, n):
        e = float(ratios[i].max())
        out_scores[i] = e / (1.0 + e)
        flags[i] = int(alarm.update(e))
    return ReplayResult(out_scores, flags, train_rows, "iforest", info)


def replay_array(
    X: ArrayLike,
    train_rows: int = DEFAULT_TRAIN_ROWS,
    method: str = "online",
    params: dict[str, Any] | None = None,
    names: Sequence[str] | None = None,
    times: ArrayLike | None = None,
    univariate: bool = False,
) -> ReplayResult:
    """Replay *method* over the rows of *X* (see the module docstring).

    Parameters
    ----------
    X : array-like of shape (n_rows, n_signals)
        Readings, NaN where missing; a 1-D array is one signal.
    train_rows : int
        Leading rows that form the clean baseline.
    method : {"online", "deviation", "iforest"}
    params : dict, optional
        Constructor parameters of the method's detector.
    names : sequence of str, optional
        Signal names.
    times : array-like, optional
        Row times in seconds (``iforest`` uses them for rates and slopes).
    univariate : bool
        ``online`` only: each signal on its own.

    Raises
    ------
    InputError
        Too few rows, an unknown method or bad parameters.
    """
    arr = np.asarray(X, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    _check(arr, train_rows)
    names = list(names) if names is not None else [f"s{j}" for j in range(arr.shape[1])]
    params = dict(params or {})
    if method == "online":
        return _online(arr, train_rows, names, params, univariate)
    if method == "deviation":
        return _deviation(arr, train_rows, names, params)
    if method == "iforest":
        t = None if times is None else np.asarray(times, dtype=float)
        return _iforest(arr, train_rows, names, params, t)
    raise InputError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")


def replay_table(
    table: Table,
    train_rows: int = DEFAULT_TRAIN_ROWS,
    method: str = "online",
    params: dict[str, Any] | None = None,
    univariate: bool = False,
) -> ReplayResult:
    """Replay over a :class:`~connector.ml.io.Table`."""
    return replay_array(
        table.values,
        train_rows,
        method,
        params,
        names=table.names,
        times=table.times,
        univariate=univariate,
    )


def write_output(
    path: str | Path, stamps: Sequence[str], scores: ArrayLike, flags: ArrayLike
) -> None:
    """Write ``timestamp,score,flag`` lines (score with six decimals)."""
    path = Path(path)
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["timestamp", "score", "flag"])
        values = np.asarray(scores, dtype=float).reshape(-1)
        values = np.clip(np.where(np.isfinite(values), values, 0.0), 0.0, 1.0)
        alarms = np.asarray(flags).reshape(-1).astype(int)
        for stamp, score, flag in zip(stamps, values.tolist(), alarms.tolist(), strict=True):
            writer.writerow([stamp, f"{score:.6f}", flag])


def replay_file(
    input_path: str | Path,
    output_path: str | Path,
    train_rows: int = DEFAULT_TRAIN_ROWS,
    method: str = "online",
    exclude: Sequence[str] = (),
    params: dict[str, Any] | None = None,
    univariate: bool = False,
) -> dict[str, Any]:
    """Read *input_path*, replay, write *output_path*; return a summary."""
    table = read_table(input_path, exclude=tuple(exclude))
    result = replay_table(table, train_rows, method, params, univariate)
    write_output(output_path, table.stamps, result.scores, result.flags)
    replayed = len(table) - train_rows
    flagged = int(result.flags[train_rows:].sum())
    return {
        "rows": len(table),
        "baseline_rows": train_rows,
        "replayed_rows": replayed,
        "flagged_rows": flagged,
        "flagged_pct": round(100.0 * flagged / replayed, 2) if replayed else 0.0,
        "signals": table.names,
        "skipped_columns": table.skipped,
        "method": method,
        "detector": result.info,
    }

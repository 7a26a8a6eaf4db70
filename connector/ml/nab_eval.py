"""Score the replay detectors on the Numenta Anomaly Benchmark (NAB).

::

    python -m connector.ml.nab_eval --data /path/to/NAB [--method online|deviation|zscore]
        [--per-file]

NAB (github numenta/NAB) is 58 labelled series from several domains:
machine temperatures and other known-cause incidents (``realKnownCause``),
server metrics (``realAWSCloudwatch``), road traffic (``realTraffic``),
online advertising (``realAdExchange``), tweet volumes (``realTweets``) and
artificial series (``artificialWithAnomaly``, ``artificialNoAnomaly``). The
data and its labelled windows (``labels/combined_windows.json``) are read
from the folder given at run time, never copied.

The scoring is NAB's, reimplemented from its paper and ``nab/sweeper.py``:
every labelled window is worth one true positive if a detection falls in
it, weighted by a scaled sigmoid of its position (early detection earns
almost all, a detection at the window's end nothing); a window without a
detection costs ``fn_weight``; a detection outside every window costs
``fp_weight`` times a sigmoid that is largest just after a window; the first
15 % of each file (at most 750 rows) is probationary and not scored. The
sum over the corpus is normalised so that the null detector (no detection)
scores 0 and the perfect one 100, per profile (standard: TP 1, FN 1, FP
0.11; reward low FP: FP 0.22; reward low FN: FN 2).

The detector runs with its one default configuration; the probationary
rows are its ``--train-rows`` (warm-up). A detection is the rising edge of
its alarm flag (an alert is raised once, however long it stays on); NAB's
published detectors had their threshold optimised on the corpus, ours is the
fixed 0.5.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..replay import replay_array
from .io import InputError

PROFILES = {
    "standard": {"tp": 1.0, "fn": 1.0, "fp": 0.11},
    "reward_low_FP_rate": {"tp": 1.0, "fn": 1.0, "fp": 0.22},
    "reward_low_FN_rate": {"tp": 1.0, "fn": 2.0, "fp": 0.11},
}
#: NAB v1.1 scoreboard (standard, low FP, low FN), from its README.
PUBLISHED = {
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM (best seed)": (70.5, 62.6, 75.2),
    "CAD OSE": (69.9, 67.0, 73.2),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Relative Entropy": (54.6, 47.6, 58.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4),
    "Bayesian Changepoint": (17.7, 3.2, 32.2),
    "Random": (11.0, 1.2, 19.5),
    "Null": (0.0, 0.0, 0.0),
}
PROBATION = 0.15


def scaled_sigmoid(x: float) -> float:
    """NAB's weight of a detection at relative position *x* (-1 = window start)."""
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_rows(n: int) -> int:
    """NAB's probationary period of a file of *n* rows."""
    return int(min(math.floor(PROBATION * n), PROBATION * 5000))


@dataclass
class FileScore:
    """Raw NAB score parts of one file, per profile."""

    windows: int
    raw: dict[str, float]
    tp: int = 0
    fp: int = 0
    detections: list[int] = field(default_factory=list)


def score_file(
    detections: Sequence[int],
    n: int,
    windows: Sequence[tuple[int, int]],
    probation: int | None = None,
) -> FileScore:
    """Score detections (row indices) of a file of *n* rows.

    *windows* are ``(first row, last row)`` pairs, inclusive, in order.
    *probation* leading rows are not scored (default: NAB's 15 %).

    >>> f = score_file([12], 100, [(10, 19)], probation=0)
    >>> f.tp, f.fp, round(f.raw["standard"], 3)
    (1, 0, 0.977)
    """
    if probation is None:
        probation = probation_rows(n)
    # Per row: window index (or None) and the unweighted sigmoid.
    win_of: list[int | None] = [None] * n
    weight = [0.0] * n
    prev_right: int | None = None
    prev_width = 0.0
    w_iter = iter(enumerate(windows))
    current = next(w_iter, None)
    i = 0
    while i < n:
        if current is not None and i == current[1][0]:
            k, (lo, hi) = current
            width = float(hi - lo + 1)
            for r in range(lo, min(hi, n - 1) + 1):
                win_of[r] = k
                weight[r] = scaled_sigmoid(-(hi - r + 1) / width)
            prev_right, prev_width = hi, width
            current = next(w_iter, None)
            i = hi + 1
            continue
        if prev_right is None:
            weight[i] = -1.0
        else:
            weight[i] = scaled_sigmoid(abs(prev_right - i) / max(prev_width - 1.0, 1.0))
        i += 1
    max_tp = scaled_sigmoid(-1.0)
    scored_windows = {win_of[r] for r in range(probation, n) if win_of[r] is not None}
    raw: dict[str, float] = {}
    tp = fp = 0
    for name, cost in PROFILES.items():
        parts = {k: -cost["fn"] for k in scored_windows}
        fp_sum = 0.0
        tp = fp = 0
        for d in detections:
            if d < probation or d >= n:
                continue
            window = win_of[d]
            if window is None:
                fp_sum += weight[d] * cost["fp"]
                fp += 1
            elif window in parts:
                parts[window] = max(parts[window], weight[d] * cost["tp"] / max_tp)
                tp += 1
        raw[name] = sum(parts.values()) + fp_sum
    return FileScore(len(scored_windows), raw, tp, fp, list(detections))


def normalised(total_raw: float, windows: int, profile: str) -> float:
    """100 for the perfect detector, 0 for the null one."""
    cost = PROFILES[profile]
    null = -cost["fn"] * windows
    perfect = cost["tp"] * windows
    return 100.0 * (total_raw - null) / (perfect - null) if perfect != null else 0.0


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.strip().replace(" ", "T"))


def read_series(path: Path) -> tuple[list[datetime], list[float]]:
    """A NAB data file: ``timestamp,value``."""
    stamps, values = [], []
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            stamps.append(_parse(row[0]))
            values.append(float(row[1]))
    return stamps, values


def window_rows(
    stamps: Sequence[datetime], windows: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Window limits (timestamps) as row indices."""
    index = {t: i for i, t in enumerate(stamps)}
    out = []
    for lo, hi in windows:
        a, b = index.get(_parse(lo)), index.get(_parse(hi))
        if a is None or b is None:
            raise InputError(f"window {lo} .. {hi} not on the file's timestamps")
        out.append((a, b))
    return sorted(out)


def zscore_flags(values: Sequence[float], train_rows: int, window: int = 100) -> np.ndarray:
    """A plain rolling z-score (|z| > 4 over the previous *window* rows), for reference."""
    x = np.asarray(values, dtype=float)
    flags = np.zeros(len(x), dtype=int)
    for t in range(max(train_rows, window), len(x)):
        past = x[t - window : t]
        sd = past.std()
        flags[t] = int(sd > 0 and abs(x[t] - past.mean()) > 4.0 * sd)
    return flags


def detect(values: Sequence[float], method: str) -> list[int]:
    """Rising edges of the method's alarm flags (the first 15 % warm up)."""
    train = max(1, probation_rows(len(values)))
    if method == "zscore":
        flags = zscore_flags(values, train)
    else:
        flags = replay_array(np.asarray(values, dtype=float), train, method).flags
    return [i for i in range(len(flags)) if flags[i] and (i == 0 or not flags[i - 1])]


@dataclass
class Evaluation:
    """Scores per file and per category."""

    files: dict[str, FileScore]
    seconds: float
    rows: int

    def score(self, profile: str = "standard", prefix: str = "") -> float:
        picked = [f for name, f in self.files.items() if name.startswith(prefix)]
        return normalised(
            sum(f.raw[profile] for f in picked), sum(f.windows for f in picked), profile
        )


def evaluate(data: str | Path, method: str = "online") -> Evaluation:
    """Run every labelled NAB file."""
    root = Path(data)
    labels = root / "labels" / "combined_windows.json"
    if not labels.is_file():
        raise InputError(f"no labels/combined_windows.json under {root}")
    windows = json.loads(labels.read_text(encoding="utf-8"))
    started = time.perf_counter()
    files: dict[str, FileScore] = {}
    rows = 0
    for name in sorted(windows):
        path = root / "data" / name
        if not path.is_file():
            raise InputError(f"{path} is missing")
        stamps, values = read_series(path)
        rows += len(values)
        limits = window_rows(stamps, windows[name])
        files[name] = score_file(detect(values, method), len(values), limits)
    return Evaluation(files, time.perf_counter() - started, rows)


def report(ev: Evaluation, method: str, per_file: bool = False) -> str:
    """The printout: ours beside the scoreboard."""
    lines = []
    if per_file:
        for name, f in ev.files.items():
            lines.append(
                f"{name:<60} windows {f.windows:2d} TP {f.tp:2d} FP {f.fp:3d}"
                f" raw {f.raw['standard']:7.3f}"
            )
        lines.append("")
    categories = sorted({name.split("/")[0] for name in ev.files})
    lines.append(
        f"NAB, {len(ev.files)} files, {ev.rows} rows, "
        f"{sum(f.windows for f in ev.files.values())} windows "
        f"(first 15 % of each file warm-up; detections = alarm onsets)"
    )
    lines.append(f"{'detector':<32} {'standard':>9} {'low FP':>8} {'low FN':>8}")
    mine = [ev.score(p) for p in PROFILES]
    lines.append(f"{'this (' + method + ')':<32} {mine[0]:9.1f} {mine[1]:8.1f} {mine[2]:8.1f}")
    for name, (a, b, c) in PUBLISHED.items():
        lines.append(f"{name + ' (published)':<32} {a:9.1f} {b:8.1f} {c:8.1f}")
    lines.append("per category (standard profile):")
    for cat in categories:
        n = sum(1 for name in ev.files if name.startswith(cat + "/"))
        tp = sum(f.tp for name, f in ev.files.items() if name.startswith(cat + "/"))
        fp = sum(f.fp for name, f in ev.files.items() if name.startswith(cat + "/"))
        w = sum(f.windows for name, f in ev.files.items() if name.startswith(cat + "/"))
        lines.append(
            f"  {cat:<24} {n:2d} files {w:3d} windows, detected {tp:3d},"
            f" outside {fp:4d}: {ev.score('standard', cat + '/'):6.1f}"
        )
    lines.append(f"{ev.seconds:.1f} s, {1e6 * ev.seconds / max(ev.rows, 1):.1f} us per reading")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.ml.nab_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", required=True, help="NAB folder (holding data/ and labels/)")
    parser.add_argument("--method", choices=("online", "deviation", "zscore"), default="online")
    parser.add_argument("--per-file", action="store_true")
    args = parser.parse_args(argv)
    try:
        ev = evaluate(args.data, args.method)
    except (InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(ev, args.method, args.per_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__: list[Any] = ["evaluate", "main", "report", "score_file", "scaled_sigmoid"]

"""Score the online engine on the Server Machine Dataset (SMD).

::

    python -m connector.ml.smd_eval --data /path/to/ServerMachineDataset
        [--method online|zscore] [--machines machine-1-1,machine-2-3] [--max-machines N]
        [--per-machine]

SMD (github NetManAIOps/OmniAnomaly, KDD 2019) is five weeks of 38 metrics
(CPU, memory, network, disk...) of 28 servers of an internet company, one
row a minute, each machine split in halves: a train part (unlabelled) and a
test part with point labels of the anomalies the operators confirmed. The
data is read from the folder given at run time (or ``CMMS_SMD_DATA``),
never copied: ``git clone --depth 1 https://github.com/NetManAIOps/OmniAnomaly``
holds the 28 machines in ``ServerMachineDataset/`` (``--data`` takes that
folder or the clone). Two layouts are read:

* the dataset's own: ``train/NAME.txt``, ``test/NAME.txt`` and
  ``test_label/NAME.txt`` (comma-separated numbers, one row a line);
* the output of OmniAnomaly's ``data_preprocess.py``: ``NAME_train.pkl``,
  ``NAME_test.pkl``, ``NAME_test_label.pkl`` (pickled float32 arrays; read
  by an unpickler that accepts numpy arrays only).

Each machine is replayed through what the daemon runs for one equipment,
with its one default configuration: the machine-level
:class:`~connector.ml.online.OnlineDetector` over the 38 metrics (one
row a minute, every metric in every row) and a univariate
:class:`~connector.ml.online.OnlineDetector` per metric. The train part is
the warm-up (``--train-rows`` of a replay: it only learns); the test part is
scored causally, row by row, and the detectors go on learning. The machine's
alarm is on when the machine-level detector's or any metric's is (the union
of its tags' ``anomaly`` verdicts); its score is the largest.

Two metrics:

* **NAB's window scoring** (:func:`connector.ml.nab_eval.score_file`, the
  standard, low FP and low FN profiles): a window around each labelled
  segment (the segment widened on each side by half of NAB's window size,
  10 % of the test rows shared among the segments; overlapping windows
  merged); a detection (alarm onset) early in a window earns most, a late
  one less, a detection outside every window costs. No probation: the train
  part was the warm-up. Normalised over the machines so that the null
  detector scores 0 and the perfect one 100.
* **Point-adjusted precision, recall and F1**, the metric of SMD's published
  results: a labelled segment counts as detected, every one of its rows, when
  any of its rows is flagged; counts pooled over the machines. The published
  figures pick the best threshold on the test labels; ours is the fixed
  alarm (score 0.5 with its hysteresis), and the best threshold over our
  score is printed beside it for comparison only.

A plain baseline, ``--method zscore``: a metric flags when it is more than
4 standard deviations from the mean of its previous 100 rows; the machine
flags when any metric does.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .io import InputError
from .nab_eval import PROFILES, FileScore, normalised, score_file
from .online import OnlineDetector

ENV = "CMMS_SMD_DATA"
#: NAB's window size: this share of the rows, shared among the anomalies.
WINDOW_SHARE = 0.1
#: Published point-adjusted results on SMD (precision, recall, F1), best
#: threshold on the test labels.
PUBLISHED = {
    "OmniAnomaly (KDD 2019)": (0.9809, 0.9438, 0.9620),
    "Anomaly Transformer (ICLR 2022)": (0.8940, 0.9545, 0.9233),
}
METHODS = ("online", "zscore")


@dataclass
class Machine:
    """Where one machine's parts are."""

    name: str
    train: Path
    test: Path
    label: Path


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickle numpy arrays and nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array part")
        return super().find_class(module, name)


def read_matrix(path: str | Path) -> np.ndarray:
    """A 2-D float array from a ``.txt`` (comma-separated) or ``.pkl`` file.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "m.txt")
    ...     _ = open(p, "w").write("1,2\\n3,4.5\\n")
    ...     read_matrix(p).tolist()
    [[1.0, 2.0], [3.0, 4.5]]
    """
    path = Path(path)
    if path.suffix == ".pkl":
        with path.open("rb") as handle:
            try:
                arr = _ArrayUnpickler(io.BytesIO(handle.read())).load()
            except (pickle.UnpicklingError, EOFError, AttributeError) as exc:
                raise InputError(f"{path}: {exc}") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"{path}: not an array")
        arr = arr.astype(float)
    else:
        try:
            arr = np.loadtxt(path, delimiter=",", dtype=float, ndmin=2)
        except ValueError as exc:
            raise InputError(f"{path}: {exc}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or not len(arr):
        raise InputError(f"{path}: expected rows of numbers")
    return arr


def find_machines(data: str | Path) -> list[Machine]:
    """The machines under *data* (either layout), sorted by name."""
    root = Path(data)
    for sub in (root, root / "ServerMachineDataset", root / "processed"):
        if (sub / "test").is_dir() and (sub / "test_label").is_dir():
            out = []
            for test in sorted((sub / "test").glob("*.txt")):
                train, label = sub / "train" / test.name, sub / "test_label" / test.name
                if train.is_file() and label.is_file():
                    out.append(Machine(test.stem, train, test, label))
            if out:
                return sorted(out, key=lambda m: _order(m.name))
        pkl = []
        for test in sorted(sub.glob("*_test.pkl")):
            name = test.name[: -len("_test.pkl")]
            train, label = sub / f"{name}_train.pkl", sub / f"{name}_test_label.pkl"
            if name.startswith("machine-") and train.is_file() and label.is_file():
                pkl.append(Machine(name, train, test, label))
        if pkl:
            return sorted(pkl, key=lambda m: _order(m.name))
    raise InputError(
        f"no SMD machines under {root} (expected train/, test/, test_label/ or *_test.pkl)"
    )


def _order(name: str) -> tuple[Any, ...]:
    """machine-1-10 after machine-1-9."""
    return tuple(int(p) if p.isdigit() else p for p in name.split("-"))


def segments(labels: Sequence[float] | np.ndarray) -> list[tuple[int, int]]:
    """Runs of non-zero labels as ``(first, last)`` rows, inclusive.

    >>> segments([0, 1, 1, 0, 0, 1])
    [(1, 2), (5, 5)]
    """
    y = np.asarray(labels).reshape(-1) > 0
    edges = np.diff(np.concatenate([[0], y.astype(int), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def windows(segs: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """NAB windows around labelled segments of a series of *n* rows.

    Each segment is widened on both sides by half of NAB's window size
    (``WINDOW_SHARE`` of the rows over the number of segments); windows that
    overlap are merged.

    >>> windows([(40, 44), (48, 50)], 100)
    [(38, 52)]
    >>> windows([(10, 10), (80, 81)], 100)
    [(8, 12), (78, 83)]
    """
    if not segs:
        return []
    half = int(WINDOW_SHARE * n / len(segs) / 2)
    out: list[tuple[int, int]] = []
    for a, b in sorted(segs):
        lo, hi = max(0, a - half), min(n - 1, b + half)
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def point_adjust(
    flags: Sequence[int] | np.ndarray, labels: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Flags with every labelled segment that holds a flag flagged whole.

    >>> point_adjust([0, 0, 1, 0, 0, 1], [0, 1, 1, 1, 0, 0]).tolist()
    [0, 1, 1, 1, 0, 1]
    """
    out = np.asarray(flags).astype(bool).copy()
    for a, b in segments(labels):
        if out[a : b + 1].any():
            out[a : b + 1] = True
    return out.astype(int)


@dataclass
class Counts:
    """Point-wise confusion counts."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, flags: np.ndarray, labels: np.ndarray) -> None:
        f, y = np.asarray(flags).astype(bool), np.asarray(labels) > 0
        self.tp += int((f & y).sum())
        self.fp += int((f & ~y).sum())
        self.fn += int((~f & y).sum())

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def onsets(flags: Sequence[int] | np.ndarray) -> list[int]:
    """Rows where the alarm rises.

    >>> onsets([0, 1, 1, 0, 1])
    [1, 4]
    """
    f = np.asarray(flags).astype(int)
    return [int(i) for i in np.flatnonzero(np.diff(np.concatenate([[0], f])) == 1)]


def online_engine(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The test rows' scores and alarm flags from the machine-level detector
    and a univariate detector per metric (default configuration, the train
    rows as warm-up)."""
    X = np.vstack([train, test])
    n, k = X.shape
    warm = len(train)
    scores = np.zeros(n)
    flags = np.zeros(n, dtype=bool)

    def run(det: OnlineDetector, values: list[Any], width: int) -> None:
        got: list[float] = []
        pos, rows = 0, len(values) // width
        while pos < rows:
            pos = det.update_many(values, pos, got)
            if det.active_:
                flags[pos - 1] = True
        np.maximum(scores, got, out=scores)

    names = [f"m{j}" for j in range(k)]
    run(OnlineDetector(k, names=names, warmup=warm), X.reshape(-1).tolist(), k)
    for j in range(k):
        run(OnlineDetector(1, names=[names[j]], warmup=warm), X[:, j].tolist(), 1)
    return scores[warm:], flags[warm:].astype(int)


def zscore_engine(
    train: np.ndarray, test: np.ndarray, window: int = 100, z: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling z-score per metric over the previous *window* rows; the
    machine flags when any metric is beyond *z* (score: ``|z| / (|z| + z)``)."""
    X = np.vstack([train[-window:], test])
    c1 = np.cumsum(np.vstack([np.zeros(X.shape[1]), X]), axis=0)
    c2 = np.cumsum(np.vstack([np.zeros(X.shape[1]), X * X]), axis=0)
    t = np.arange(window, len(X))
    mean = (c1[t] - c1[t - window]) / window
    var = np.maximum((c2[t] - c2[t - window]) / window - mean * mean, 0.0)
    sd = np.sqrt(var)
    dev = np.abs(X[window:] - mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.where(sd > 1e-9, dev / np.where(sd > 1e-9, sd, 1.0), 0.0)
    best = zs.max(axis=1)
    return best / (best + z), (best > z).astype(int)


@dataclass
class MachineResult:
    """One machine's outcome."""

    name: str
    rows: int
    nab: FileScore
    counts: Counts
    adjusted: Counts
    seconds: float
    scores: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)


def evaluate_machine(machine: Machine, method: str = "online") -> MachineResult:
    """Replay one machine and score it."""
    train, test = read_matrix(machine.train), read_matrix(machine.test)
    labels = read_matrix(machine.label)[:, 0]
    if train.shape[1] != test.shape[1] or len(labels) != len(test):
        raise InputError(f"{machine.name}: train, test and labels do not fit together")
    started = time.process_time()
    if method == "online":
        scores, flags = online_engine(train, test)
    elif method == "zscore":
        scores, flags = zscore_engine(train, test)
    else:
        raise InputError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    spent = time.process_time() - started
    n = len(test)
    nab = score_file(onsets(flags), n, windows(segments(labels), n), probation=0)
    counts, adjusted = Counts(), Counts()
    counts.add(flags, labels)
    adjusted.add(point_adjust(flags, labels), labels)
    return MachineResult(machine.name, len(train) + n, nab, counts, adjusted, spent, scores, labels)


def best_adjusted(results: Sequence[MachineResult], steps: int = 200) -> tuple[float, Counts]:
    """The threshold on the score with the best pooled point-adjusted F1 (the
    published protocol; uses the labels, so for comparison only)."""
    best: tuple[float, Counts] = (0.5, Counts())
    pooled = np.concatenate([r.scores for r in results])
    # Quantiles of the scores, and thresholds close to 1 (scores saturate).
    grid = np.unique(
        np.concatenate(
            [np.quantile(pooled, np.linspace(0.5, 1, steps)), 1 - np.logspace(-0.3, -9, 60)]
        )
    )
    seg_max: list[tuple[Any, list[tuple[int, float]]]] = []
    for r in results:
        y = r.labels > 0
        segs = segments(r.labels)
        seg_max.append((y, [(b - a + 1, float(r.scores[a : b + 1].max())) for a, b in segs]))
    for thr in grid:
        c = Counts()
        for r, (y, tops) in zip(results, seg_max, strict=True):
            above = r.scores > thr
            hit = sum(length for length, top in tops if top > thr)
            c.tp += hit
            c.fn += int(y.sum()) - hit
            c.fp += int((above & ~y).sum())
        if c.f1 > best[1].f1:
            best = (float(thr), c)
    return best


@dataclass
class Evaluation:
    """Every machine's outcome."""

    machines: list[MachineResult]
    seconds: float

    def nab(self, profile: str = "standard") -> float:
        return normalised(
            sum(m.nab.raw[profile] for m in self.machines),
            sum(m.nab.windows for m in self.machines),
            profile,
        )

    def pooled(self, adjusted: bool = True) -> Counts:
        c = Counts()
        for m in self.machines:
            part = m.adjusted if adjusted else m.counts
            c.tp, c.fp, c.fn = c.tp + part.tp, c.fp + part.fp, c.fn + part.fn
        return c


def evaluate(
    data: str | Path,
    method: str = "online",
    only: Sequence[str] = (),
    max_machines: int | None = None,
) -> Evaluation:
    """Replay the machines found under *data* (those named in *only*, the
    first *max_machines*)."""
    machines = find_machines(data)
    if only:
        wanted = set(only)
        missing = wanted - {m.name for m in machines}
        if missing:
            raise InputError(f"no such machine(s): {', '.join(sorted(missing))}")
        machines = [m for m in machines if m.name in wanted]
    if max_machines is not None:
        machines = machines[:max_machines]
    started = time.perf_counter()
    results = [evaluate_machine(m, method) for m in machines]
    return Evaluation(results, time.perf_counter() - started)


def report(ev: Evaluation, method: str, per_machine: bool = False) -> str:
    """The printout, ours beside the published figures."""
    lines = []
    if per_machine:
        for m in ev.machines:
            lines.append(
                f"{m.name:<14} rows {m.rows:6d} windows {m.nab.windows:2d} onsets in {m.nab.tp:3d}"
                f" outside {m.nab.fp:4d} PA-F1 {m.adjusted.f1:.3f} ({m.seconds:.1f} s CPU)"
            )
        lines.append("")
    rows = sum(m.rows for m in ev.machines)
    lines.append(
        f"SMD, {len(ev.machines)} machines, {rows} rows (train part = warm-up), "
        f"{sum(m.nab.windows for m in ev.machines)} windows; method {method}"
    )
    lines.append(
        "NAB window scoring: "
        + ", ".join(f"{p} {ev.nab(p):.1f}" for p in PROFILES)
        + f"; onsets in windows {sum(m.nab.tp for m in ev.machines)},"
        f" outside {sum(m.nab.fp for m in ev.machines)}"
    )
    raw = ev.pooled(adjusted=False)
    pa = ev.pooled()
    for title, c in (("point-wise", raw), ("point-adjusted", pa)):
        lines.append(
            f"{title + ' (fixed alarm):':<34} P {c.precision:.4f} R {c.recall:.4f} F1 {c.f1:.4f}"
        )
    thr, best = best_adjusted(ev.machines)
    lines.append(
        f"point-adjusted, best threshold {thr:.3f} on the labels (published protocol): "
        f"P {best.precision:.4f} R {best.recall:.4f} F1 {best.f1:.4f}"
    )
    for name, (p, r, f) in PUBLISHED.items():
        lines.append(f"  published {name}: P {p:.4f} R {r:.4f} F1 {f:.4f} (best threshold)")
    cpu = sum(m.seconds for m in ev.machines)
    lines.append(
        f"{ev.seconds:.1f} s wall clock ({cpu:.1f} s CPU in the detectors, "
        f"{1e6 * cpu / max(rows, 1):.1f} us per row)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m connector.ml.smd_eval", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data",
        default=os.environ.get(ENV),
        help=f"SMD folder (ServerMachineDataset, or OmniAnomaly's processed/); default ${ENV}",
    )
    parser.add_argument("--method", choices=METHODS, default="online")
    parser.add_argument("--machines", default="", help="comma-separated machine names")
    parser.add_argument("--max-machines", type=int, default=None, help="the first N machines")
    parser.add_argument("--per-machine", action="store_true")
    args = parser.parse_args(argv)
    if not args.data:
        print(f"error: give --data or set {ENV}", file=sys.stderr)
        return 2
    only = [m.strip() for m in args.machines.split(",") if m.strip()]
    try:
        ev = evaluate(args.data, args.method, only, args.max_machines)
    except (InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(ev, args.method, args.per_machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())

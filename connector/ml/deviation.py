"""Multi-signal deviation detector: cheap, streaming, and it lets go.

:class:`DeviationDetector` watches several signals of one machine at once
(pressures, flows, vibrations, temperatures ...). It learns from a clean
baseline, then takes one row of readings at a time and returns a score in
``[0, 1]`` and an alarm flag; every step costs a few vector operations.

How it works, per signal:

1. An exponentially weighted moving average (EWMA, weight ``alpha``)
   smooths the readings.
2. The baseline decides what to watch. A signal whose baseline wanders
   slowly (a temperature drifting with the weather: block means of
   ``block_n`` readings vary ``persistence_limit`` times more than white
   noise would) is watched by its *change* over ``change_lag`` readings,
   since its level is not expected to come back; any other signal by its
   *level*.
3. The watched quantity's deviation from its baseline median is divided by
   a threshold: ``margin`` times the largest deviation seen in the
   baseline, but never less than ``rel_floor`` times the baseline mean
   (a 2.5 % change of a 30 m3/h flow matters, a 0.01 g change of a 0.2 g
   vibration RMS whose baseline happened to be very quiet does not).

The evidence of a row is the largest of those ratios (1 = at a threshold);
the score is ``evidence / (1 + evidence)``, so 0.5 is the threshold. The
alarm rises when the evidence exceeds 1 for ``on_count`` rows and clears
when it stays below ``clear_ratio`` for ``off_count`` rows: a hysteresis
that holds a real excursion yet recognises the return to normal, instead
of latching.

Every number the detector uses is learned from the baseline rows it is
fitted on; a row's output depends on that row and earlier rows only.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> clean = np.column_stack([30 + rng.standard_normal(400), 5 + 0.1 * rng.standard_normal(400)])
>>> det = DeviationDetector().fit(clean)
>>> det.modes_
['level', 'level']
>>> rows = [[30.0, 5.0]] * 20 + [[24.0, 5.0]] * 40 + [[30.0, 5.0]] * 40
>>> flags = [det.update(row)[1] for row in rows]
>>> rise = flags.index(True)
>>> rise, flags.index(False, rise)  # the flow drops at row 20 and is back at 60
(23, 78)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

KIND = "deviation"

LEVEL = "level"
CHANGE = "change"


class Hysteresis:
    """Two-level alarm with on and off counts.

    The alarm rises after ``on_count`` consecutive values above
    ``on_level`` and clears after ``off_count`` consecutive values below
    ``off_level``.

    >>> h = Hysteresis(on_level=1.0, off_level=0.5, on_count=2)
    >>> [h.update(v) for v in [1.2, 0.9, 1.2, 1.3, 0.8, 0.4]]
    [False, False, False, True, True, False]
    """

    def __init__(
        self, on_level: float = 1.0, off_level: float = 0.5, on_count: int = 1, off_count: int = 1
    ) -> None:
        self.on_level = on_level
        self.off_level = off_level
        self.on_count = on_count
        self.off_count = off_count

    def update(self, value: float) -> bool:
        """Take one value; return whether the alarm is on."""
        if not hasattr(self, "active_"):
            self.active_, self.run_ = False, 0
        if not self.active_:
            self.run_ = self.run_ + 1 if value > self.on_level else 0
            if self.run_ >= self.on_count:
                self.active_, self.run_ = True, 0
        else:
            self.run_ = self.run_ + 1 if value < self.off_level else 0
            if self.run_ >= self.off_count:
                self.active_, self.run_ = False, 0
        return self.active_


class DeviationDetector:
    """Streaming multi-signal deviation detector (see the module docstring).

    Parameters
    ----------
    alpha : float
        EWMA weight of the newest reading (0 < alpha <= 1).
    change_lag : int
        Readings over which a wandering signal's change is taken.
    persistence_limit : float
        Block-mean spread, in units of the white-noise spread, from which a
        signal counts as wandering.
    block_n : int
        Readings per block for that test.
    rel_floor : float
        Smallest threshold, as a fraction of the signal's baseline mean.
    margin : float
        Threshold as a multiple of the largest baseline deviation.
    clear_ratio : float
        Evidence below which the alarm may clear.
    on_count, off_count : int
        Consecutive rows needed to raise and to clear the alarm.

    Attributes
    ----------
    names_ : list of str
        Signal names (``s0``, ``s1`` ... unless given to :meth:`fit`).
    modes_ : list of str
        ``level`` or ``change`` per signal.
    persistence_ : ndarray
        The wandering statistic per signal.
    center_, threshold_ : ndarray
        Baseline median of the watched quantity and its threshold.
    ratios_ : ndarray
        Deviation / threshold per signal at the last row.
    """

    def __init__(
        self,
        alpha: float = 0.1,
        change_lag: int = 30,
        persistence_limit: float = 5.0,
        block_n: int = 50,
        rel_floor: float = 0.025,
        margin: float = 2.5,
        clear_ratio: float = 0.5,
        on_count: int = 1,
        off_count: int = 1,
    ) -> None:
        self.alpha = alpha
        self.change_lag = change_lag
        self.persistence_limit = persistence_limit
        self.block_n = block_n
        self.rel_floor = rel_floor
        self.margin = margin
        self.clear_ratio = clear_ratio
        self.on_count = on_count
        self.off_count = off_count

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters."""
        names = (
            "alpha",
            "change_lag",
            "persistence_limit",
            "block_n",
            "rel_floor",
            "margin",
            "clear_ratio",
            "on_count",
            "off_count",
        )
        return {name: getattr(self, name) for name in names}

    @property
    def warmup_n(self) -> int:
        """Baseline rows skipped before thresholds are learned (EWMA and lag settle)."""
        return self.change_lag + math.ceil(3.0 / self.alpha)

    def _check_params(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError("alpha must lie in (0, 1]")
        for name in ("change_lag", "block_n", "on_count", "off_count"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1")
        if self.margin <= 0 or self.rel_floor < 0 or self.clear_ratio <= 0:
            raise ValueError("margin and clear_ratio must be > 0, rel_floor >= 0")

    def fit(self, rows: ArrayLike, names: Sequence[str] | None = None) -> DeviationDetector:
        """Learn from clean baseline rows (oldest first); return ``self``.

        Parameters
        ----------
        rows : array-like of shape (n_rows, n_signals)
            Baseline readings, NaN where a reading is missing. A 1-D array is
            one signal.
        names : sequence of str, optional
            Signal names, for :meth:`explain`.

        Raises
        ------
        ValueError
            Bad parameters, or fewer than ``warmup_n + 10`` rows.
        """
        self._check_params()
        X = np.asarray(rows, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        n, k = X.shape
        if n < self.warmup_n + 10:
            raise ValueError(f"need at least {self.warmup_n + 10} baseline rows, got {n}")
        self.names_ = list(names) if names is not None else [f"s{j}" for j in range(k)]
        if len(self.names_) != k:
            raise ValueError(f"{k} signals but {len(self.names_)} names")
        finite = np.isfinite(X)
        usable = finite.sum(axis=0) >= 2
        with np.errstate(invalid="ignore", divide="ignore"):
            safe = np.where(finite, X, 0.0)
            count = np.maximum(finite.sum(axis=0), 1)
            self.mean_ = safe.sum(axis=0) / count
            self.std_ = np.sqrt((np.where(finite, X - self.mean_, 0.0) ** 2).sum(axis=0) / count)
            self.persistence_ = self._persistence(X)
        self.modes_ = [
            CHANGE if usable[j] and self.persistence_[j] >= self.persistence_limit else LEVEL
            for j in range(k)
        ]
        self._change = np.array([m == CHANGE for m in self.modes_])
        # Run the baseline through the stream state, keeping its features.
        self._reset_state(k)
        features = np.array([self._step(row) for row in X])
        ref = features[self.warmup_n :]
        self.center_ = np.nanmedian(np.where(np.isfinite(ref), ref, np.nan), axis=0)
        spread = np.nanmax(np.abs(ref - self.center_), axis=0)
        floor = self.rel_floor * np.abs(self.mean_)
        threshold = np.fmax(self.margin * spread, floor)
        threshold = np.where(usable & np.isfinite(threshold), np.maximum(threshold, 1e-12), np.inf)
        self.threshold_ = threshold
        self.alarm_ = Hysteresis(1.0, self.clear_ratio, self.on_count, self.off_count)
        self.ratios_ = np.zeros(k)
        self.n_baseline_ = n
        return self

    def _persistence(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """Spread of block means over the white-noise spread, per signal."""
        n, k = X.shape
        blocks = n // self.block_n
        if blocks < 2:
            return np.zeros(k)
        B = X[: blocks * self.block_n].reshape(blocks, self.block_n, k)
        means = np.nanmean(B, axis=1)
        noise = self.std_ / math.sqrt(self.block_n)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.nanstd(means, axis=0) / noise
        return np.where(np.isfinite(ratio), ratio, 0.0)

    def _reset_state(self, k: int) -> None:
        self.ewma_ = np.full(k, np.nan)
        self.history_ = np.full((self.change_lag, k), np.nan)
        self.seen_ = 0

    def _step(self, row: NDArray[np.float64]) -> NDArray[np.float64]:
        """Advance the EWMA with one row; return the watched quantities."""
        ok = np.isfinite(row)
        fresh = ok & np.isnan(self.ewma_)
        self.ewma_ = np.where(fresh, row, self.ewma_)
        upd = ok & ~fresh
        self.ewma_[upd] = self.alpha * row[upd] + (1.0 - self.alpha) * self.ewma_[upd]
        slot = self.seen_ % self.change_lag
        past = self.history_[slot].copy()
        self.history_[slot] = self.ewma_
        self.seen_ += 1
        if self.seen_ <= self.change_lag:
            past = np.where(self._change, self.ewma_, past)  # no lag yet: no change
        return np.where(self._change, self.ewma_ - past, self.ewma_)

    def evidence(self, row: ArrayLike) -> float:
        """Advance with one row; return the largest deviation / threshold."""
        if not hasattr(self, "threshold_"):
            raise RuntimeError("the detector is not fitted: call fit() first")
        x = np.asarray(row, dtype=float).reshape(-1)
        if x.shape[0] != len(self.threshold_):
            raise ValueError(f"a row holds {len(self.threshold_)} signals, got {x.shape[0]}")
        f = self._step(x)
        with np.errstate(invalid="ignore"):
            ratios = np.abs(f - self.center_) / self.threshold_
        self.ratios_ = np.where(np.isfinite(ratios), ratios, 0.0)
        return float(self.ratios_.max()) if len(self.ratios_) else 0.0

    def update(self, row: ArrayLike) -> tuple[float, bool]:
        """Take one row of readings; return ``(score in [0, 1], alarm)``."""
        e = self.evidence(row)
        return e / (1.0 + e), self.alarm_.update(e)

    def explain(self, top: int = 3) -> list[tuple[str, float]]:
        """Signals with the largest deviation / threshold at the last row."""
        order = np.argsort(-self.ratios_)[:top]
        return [(self.names_[j], round(float(self.ratios_[j]), 3)) for j in order]

    def metrics(self) -> dict[str, Any]:
        """What was learned, as plain JSON."""
        return {
            "baseline_rows": int(self.n_baseline_),
            "signals": {
                name: {
                    "mode": mode,
                    "persistence": round(float(p), 3),
                    "threshold": float(t) if math.isfinite(t) else None,
                }
                for name, mode, p, t in zip(
                    self.names_, self.modes_, self.persistence_, self.threshold_, strict=True
                )
            },
        }

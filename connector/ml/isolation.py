"""Isolation Forest over sliding windows of one tag's readings.

:class:`IsolationForestDetector` learns what the ten window features
(:mod:`connector.ml.features`) look like on a *clean baseline*: readings an
engineer marked as normal operation, not a rolling window of whatever
happened lately (a slowly failing instrument would otherwise teach the
model that failing is normal). Its :meth:`~IsolationForestDetector.score`
is the anomaly score of the Isolation Forest paper (Liu, Ting and Zhou,
2008), ``s = 2 ** (-E[h(x)] / c(n))`` in ``(0, 1]``: around 0.5 and below
for ordinary windows, towards 1 for windows that are isolated quickly. The
alarm threshold is the score exceeded by a fraction ``contamination`` of
the baseline windows, scored out of fold (or 0.5 with
``contamination="auto"``).

:class:`AnomalyWatch` runs a fitted model per reading, as the other
detectors of :mod:`connector.detect` do, and reports the ``anomaly``
alert type.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> clean = 10.0 + 0.1 * rng.standard_normal(600)
>>> det = IsolationForestDetector(window=30, contamination=0.01).fit(clean)
>>> det.windows_used_
571
>>> bool(det.score(clean[:30]) < det.threshold_ < det.score(clean[:30] + 1.0))
True
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import IsolationForest

from ..detect.base import ANOMALY, CRITICAL, OK, WARNING, Detector, Verdict
from .features import FEATURE_NAMES, FEATURE_SET_VERSION, features_2d, sliding

KIND = "isolation_forest"


def as_series(
    readings: Sequence[float] | Sequence[tuple[float, float]] | ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split readings into (times, values).

    *readings* is a sequence of values (taken one second apart) or of
    ``(ts, value)`` pairs.

    >>> as_series([(100.0, 1.5), (101.0, 1.7)])
    (array([100., 101.]), array([1.5, 1.7]))
    >>> as_series([1.5, 1.7])[0]
    array([0., 1.])
    """
    arr = np.asarray(readings, dtype=float)
    if arr.ndim == 1:
        return np.arange(len(arr), dtype=float), arr
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0].copy(), arr[:, 1].copy()
    raise ValueError("readings must be values or (ts, value) pairs")


class IsolationForestDetector:
    """Isolation Forest on the ten features of sliding windows.

    Parameters
    ----------
    window : int
        Readings per window.
    step : int
        Readings between the starts of two training windows.
    contamination : float or "auto"
        Fraction of baseline windows allowed above the threshold
        (``0 < c <= 0.5``); ``"auto"`` puts the threshold at 0.5.
    n_estimators : int
        Trees in the forest.
    max_samples : int, float or "auto"
        Windows drawn to grow each tree (scikit-learn's meaning).
    max_windows : int
        At most this many training windows (evenly spread) are used.
    calibration_folds : int
        The threshold is a quantile of out-of-fold scores of the baseline
        (each part scored by a forest grown on the others), which is what
        new normal data scores like; 0 or 1 uses in-sample scores.
    nominal : float or None
        Expected operating point; the baseline mean when ``None``.
    signal_low, signal_high : float or None
        Signal range for ``range_utilisation``; the baseline's min and max
        when ``None``.
    random_state : int
        Seed of the forest (a given baseline gives the same model).

    Attributes
    ----------
    model_ : sklearn.ensemble.IsolationForest
    threshold_ : float
        Scores at or above it are anomalous.
    calibration_scores_ : ndarray
        Out-of-fold scores of the baseline windows the threshold comes from.
    windows_used_ : int
    train_scores_ : ndarray
        Scores of the training windows.
    nominal_, low_, high_ : float
        Values used for the features.
    """

    def __init__(
        self,
        window: int = 60,
        step: int = 1,
        contamination: float | str = 0.01,
        n_estimators: int = 100,
        max_samples: int | float | str = "auto",
        max_windows: int = 20_000,
        calibration_folds: int = 4,
        nominal: float | None = None,
        signal_low: float | None = None,
        signal_high: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.step = step
        self.contamination = contamination
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_windows = max_windows
        self.calibration_folds = calibration_folds
        self.nominal = nominal
        self.signal_low = signal_low
        self.signal_high = signal_high
        self.random_state = random_state

    feature_set_version = FEATURE_SET_VERSION
    feature_names = FEATURE_NAMES

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters."""
        names = (
            "window",
            "step",
            "contamination",
            "n_estimators",
            "max_samples",
            "max_windows",
            "calibration_folds",
            "nominal",
            "signal_low",
            "signal_high",
            "random_state",
        )
        return {name: getattr(self, name) for name in names}

    def _check_params(self) -> None:
        if not isinstance(self.window, int) or self.window < 2:
            raise ValueError("window must be an integer >= 2")
        if not isinstance(self.step, int) or self.step < 1:
            raise ValueError("step must be an integer >= 1")
        c = self.contamination
        if c != "auto" and (
            isinstance(c, bool) or not isinstance(c, int | float) or not 0 < c <= 0.5
        ):
            raise ValueError('contamination must lie in (0, 0.5] or be "auto"')

    def _windows(
        self, times: NDArray[np.float64], values: NDArray[np.float64], step: int
    ) -> NDArray[np.float64]:
        return features_2d(
            sliding(values, self.window, step),
            sliding(times, self.window, step),
            nominal=self.nominal_,
            low=self.low_,
            high=self.high_,
        )

    def _forest(self) -> IsolationForest:
        return IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            random_state=self.random_state,
        )

    def _features(
        self, times: NDArray[np.float64], values: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Training windows, at most ``max_windows`` of them."""
        n_windows = (len(values) - self.window) // self.step + 1
        step = self.step * max(1, -(-n_windows // self.max_windows))
        return self._windows(times, values, step)

    def _out_of_fold(
        self, times: NDArray[np.float64], values: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Scores of baseline windows by forests that did not see them.

        The baseline is cut into ``calibration_folds`` runs of readings; each
        run's windows are scored by a forest grown on the windows of the other
        runs (windows across a cut are left out). Overlapping windows of one
        run resemble each other more than they resemble new data, so in-sample
        scores would put the threshold too low; these do not. Falls back to
        the in-sample scores when the runs are too short for ten windows.
        """
        folds = self.calibration_folds
        n = len(values)
        size = n // folds if folds > 1 else 0
        if folds < 2 or size < self.window + 9:
            self.calibration_ = "in-sample"
            return self.train_scores_
        scores = []
        for k in range(folds):
            lo, hi = k * size, (n if k == folds - 1 else (k + 1) * size)
            held = self._features(times[lo:hi], values[lo:hi])
            parts = [
                self._features(times[a:b], values[a:b])
                for a, b in ((0, lo), (hi, n))
                if b - a >= self.window
            ]
            forest = self._forest().fit(np.vstack(parts))
            scores.append(np.clip(-forest.score_samples(held), 0.0, 1.0))
        self.calibration_ = f"{folds}-fold"
        return np.concatenate(scores)

    def fit(
        self, readings: Sequence[float] | Sequence[tuple[float, float]] | ArrayLike
    ) -> IsolationForestDetector:
        """Learn the baseline from clean readings; return ``self``.

        Parameters
        ----------
        readings : sequence
            Values, or ``(ts, value)`` pairs, in time order, all normal.

        Raises
        ------
        ValueError
            Bad parameters, non-finite readings, or fewer than
            ``window + 9`` readings (ten windows).
        """
        self._check_params()
        times, values = as_series(readings)
        if not (np.isfinite(values).all() and np.isfinite(times).all()):
            raise ValueError("the baseline holds missing or non-finite readings")
        if len(values) < self.window + 9:
            raise ValueError(
                f"need at least {self.window + 9} baseline readings for windows of "
                f"{self.window}, got {len(values)}"
            )
        self.nominal_ = float(values.mean()) if self.nominal is None else float(self.nominal)
        self.low_ = float(values.min()) if self.signal_low is None else float(self.signal_low)
        self.high_ = float(values.max()) if self.signal_high is None else float(self.signal_high)
        features = self._features(times, values)
        self.model_ = self._forest().fit(features)
        self.train_scores_ = self.score_features(features)
        self.calibration_scores_ = self._out_of_fold(times, values)
        if self.contamination == "auto":
            self.threshold_ = 0.5
        else:
            quantile = 1.0 - float(self.contamination)
            self.threshold_ = float(np.quantile(self.calibration_scores_, quantile))
        self.windows_used_ = len(features)
        self.n_readings_ = len(values)
        self.sklearn_version_ = sklearn.__version__
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("the detector is not fitted: call fit() first")

    def score_features(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Anomaly scores in ``[0, 1]`` of feature rows."""
        self._check_fitted()
        return np.clip(-self.model_.score_samples(np.atleast_2d(features)), 0.0, 1.0)

    def score(self, window: Sequence[float] | Sequence[tuple[float, float]] | ArrayLike) -> float:
        """Anomaly score in ``[0, 1]`` of one window of ``window`` readings.

        Raises
        ------
        ValueError
            When the window has another length or non-finite values.
        """
        self._check_fitted()
        times, values = as_series(window)
        if len(values) != self.window:
            raise ValueError(f"a window holds {self.window} readings, got {len(values)}")
        if not np.isfinite(values).all():
            raise ValueError("the window holds missing or non-finite readings")
        features = features_2d(
            values[None, :], times[None, :], nominal=self.nominal_, low=self.low_, high=self.high_
        )
        return float(self.score_features(features)[0])

    def score_series(
        self, readings: Sequence[float] | Sequence[tuple[float, float]] | ArrayLike
    ) -> NDArray[np.float64]:
        """Scores of every window ending at each reading (NaN before the first).

        Entry ``i`` depends on readings ``i - window + 1 .. i`` only.
        """
        self._check_fitted()
        times, values = as_series(readings)
        out = np.full(len(values), np.nan)
        if len(values) >= self.window:
            out[self.window - 1 :] = self.score_features(self._windows(times, values, 1))
        return out

    def is_anomaly(
        self, window: Sequence[float] | Sequence[tuple[float, float]] | ArrayLike
    ) -> bool:
        """Whether the window's score reaches the threshold."""
        return self.score(window) >= self.threshold_

    def metrics(self) -> dict[str, float | int | str]:
        """Training figures for the model's metadata (plain finite numbers)."""
        self._check_fitted()
        s = self.calibration_scores_
        return {
            "threshold": round(self.threshold_, 6),
            "calibration": self.calibration_,
            "score_mean": round(float(s.mean()), 6),
            "score_p50": round(float(np.percentile(s, 50)), 6),
            "score_p95": round(float(np.percentile(s, 95)), 6),
            "score_p99": round(float(np.percentile(s, 99)), 6),
            "score_max": round(float(s.max()), 6),
            "train_alarm_rate": round(float((s >= self.threshold_).mean()), 6),
            "readings": int(self.n_readings_),
            "window": int(self.window),
        }


class AnomalyWatch(Detector):
    """Run a fitted :class:`IsolationForestDetector` on each reading.

    Keeps the last ``window`` readings; once it has them, it scores the
    window every ``every`` readings. The ``anomaly`` condition holds while
    the score is at or above the model's threshold: ``critical`` from
    ``critical_score`` up (when that is above the threshold), ``warning``
    below it.

    Parameters
    ----------
    model : IsolationForestDetector
        A fitted model.
    critical_score : float
        Score from which the condition is critical.
    every : int
        Score every this many readings (1 = each reading).
    version : str
        Model version, quoted in messages.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> model = IsolationForestDetector(window=20).fit(5.0 + 0.1 * rng.standard_normal(400))
    >>> watch = AnomalyWatch(model, every=5)
    >>> values = list(5.0 + 0.1 * rng.standard_normal(40)) + [8.0] * 20
    >>> verdicts = [watch.update(t, v) for t, v in enumerate(values)]
    >>> verdicts[-1].active, verdicts[-1].severity
    (True, 'warning')
    """

    alert_type = ANOMALY
    _param_names = ("model", "critical_score", "every", "version")

    def __init__(
        self,
        model: IsolationForestDetector,
        critical_score: float = 0.7,
        every: int = 1,
        version: str = "",
    ) -> None:
        self.model = model
        self.critical_score = critical_score
        self.every = every
        self.version = version

    def seed(self, readings: Iterable[tuple[float, float]]) -> None:
        """Start from earlier ``(ts, value)`` readings, not yet scored.

        Used when this watch replaces another one of the same tag (a new or
        rolled-back model version), so it does not wait for a whole window
        of new readings; the next reading is scored.
        """
        self.buffer_: deque[tuple[float, float]] = deque(readings, maxlen=self.model.window)
        self.count_ = len(self.buffer_)
        self.verdict_ = OK
        self.score_: float | None = None
        self.active_ = False

    def update(self, ts: float, value: float) -> Verdict:
        """Add a reading; rescore when due."""
        if not hasattr(self, "buffer_"):
            self.buffer_ = deque(maxlen=self.model.window)
            self.count_ = 0
            self.verdict_ = OK
            self.score_ = None
        self.buffer_.append((ts, value))
        self.count_ += 1
        if len(self.buffer_) < self.model.window or (self.count_ % max(1, self.every)):
            return self.verdict_
        score = self.model.score(list(self.buffer_))
        self.score_ = score
        threshold = self.model.threshold_
        self.active_ = score >= threshold
        if not self.active_:
            self.verdict_ = OK
            return OK
        severity = CRITICAL if score >= max(self.critical_score, threshold) else WARNING
        model = f" (model v{self.version})" if self.version else ""
        self.verdict_ = Verdict(
            True, severity, f"anomaly score {score:.3f} >= threshold {threshold:.3f}{model}"
        )
        return self.verdict_


def load_watch(
    models: str | Path,
    tag: str,
    version: str | None = None,
    critical_score: float = 0.7,
    every: int = 1,
) -> AnomalyWatch | None:
    """An :class:`AnomalyWatch` on a registered model of *tag*, or None.

    *version* is the one Odoo's configuration names for the sensor
    (``sensors[].model_version.version``); without it the registry's active
    version is used. Returns None when the tag has no model (or not that
    version) in *models*.
    """
    from .registry import ModelRegistry, RegistryError

    registry = ModelRegistry(models)
    try:
        meta = registry.get(tag, version)
        model = registry.load(tag, meta.version)
    except RegistryError:
        return None
    if not isinstance(model, IsolationForestDetector):
        return None
    return AnomalyWatch(model, critical_score=critical_score, every=every, version=meta.version)

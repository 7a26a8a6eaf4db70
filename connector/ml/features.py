"""The ten features of a window of readings (feature set ``f10``).

A window is a run of consecutive readings of one tag. Its features, in the
order of :data:`FEATURE_NAMES`:

=========================== =================================================
``mean``                    window average
``std``                     standard deviation (population, ``ddof=0``)
``min``, ``max``            extreme values
``rate_of_change``          ``(last - first) / (t_last - t_first)``, units/s
``deviation_from_nominal``  ``mean - nominal``
``trend_slope``             least-squares slope of value on time, units/s
``autocorrelation_lag1``    lag-1 autocorrelation (oscillation, hunting)
``coeff_of_variation``      ``std / |mean|`` (0 when the mean is 0)
``range_utilisation``       ``(mean - low) / (high - low)``: where the window
                            sits in the signal range (0 at ``low``, 1 at
                            ``high``; 0.5 when the range is empty)
=========================== =================================================

Without timestamps the readings are taken one second apart. A constant
window has ``std``, slope and autocorrelation 0.

>>> f = window_features([1.0, 2.0, 3.0, 4.0], nominal=2.0, low=0.0, high=10.0)
>>> dict(zip(FEATURE_NAMES, (round(float(v), 4) for v in f)))  # doctest: +NORMALIZE_WHITESPACE
{'mean': 2.5, 'std': 1.118, 'min': 1.0, 'max': 4.0, 'rate_of_change': 1.0,
 'deviation_from_nominal': 0.5, 'trend_slope': 1.0, 'autocorrelation_lag1': 0.25,
 'coeff_of_variation': 0.4472, 'range_utilisation': 0.25}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Version of the feature set, stored with every model (``model_version``).
FEATURE_SET_VERSION = "f10"

FEATURE_NAMES: tuple[str, ...] = (
    "mean",
    "std",
    "min",
    "max",
    "rate_of_change",
    "deviation_from_nominal",
    "trend_slope",
    "autocorrelation_lag1",
    "coeff_of_variation",
    "range_utilisation",
)

_TINY = 1e-12


def features_2d(
    values: NDArray[np.float64],
    times: NDArray[np.float64],
    *,
    nominal: float,
    low: float,
    high: float,
) -> NDArray[np.float64]:
    """Features of many windows at once.

    Parameters
    ----------
    values, times : ndarray of shape (n_windows, window)
        One window per row; times in seconds, increasing along a row.
    nominal, low, high : float
        Expected operating point and signal range.

    Returns
    -------
    ndarray of shape (n_windows, 10)
    """
    values = np.asarray(values, dtype=float)
    times = np.asarray(times, dtype=float)
    if values.ndim != 2 or values.shape != times.shape or values.shape[1] < 1:
        raise ValueError("values and times must be 2-D arrays of the same shape")
    mean = values.mean(axis=1)
    centred = values - mean[:, None]
    var = (centred**2).mean(axis=1)
    std = np.sqrt(var)
    dt = times[:, -1] - times[:, 0]
    roc = np.divide(
        values[:, -1] - values[:, 0], dt, out=np.zeros_like(mean), where=np.abs(dt) > _TINY
    )
    tc = times - times.mean(axis=1)[:, None]
    sxx = (tc**2).sum(axis=1)
    slope = np.divide((tc * centred).sum(axis=1), sxx, out=np.zeros_like(mean), where=sxx > _TINY)
    ss = (centred**2).sum(axis=1)
    lag = (centred[:, :-1] * centred[:, 1:]).sum(axis=1)
    # A window constant up to rounding has no autocorrelation to speak of.
    flat = ss <= _TINY * values.shape[1] * np.maximum(1.0, mean**2)
    acf = np.divide(lag, ss, out=np.zeros_like(mean), where=~flat)
    cov = np.divide(std, np.abs(mean), out=np.zeros_like(mean), where=np.abs(mean) > _TINY)
    span = high - low
    util = (mean - low) / span if span > _TINY else np.full_like(mean, 0.5)
    return np.column_stack(
        [
            mean,
            std,
            values.min(axis=1),
            values.max(axis=1),
            roc,
            mean - nominal,
            slope,
            acf,
            cov,
            util,
        ]
    )


def window_features(
    values: Sequence[float] | ArrayLike,
    times: Sequence[float] | ArrayLike | None = None,
    *,
    nominal: float = 0.0,
    low: float = 0.0,
    high: float = 0.0,
) -> NDArray[np.float64]:
    """The ten features of one window (see the module docstring).

    Parameters
    ----------
    values : sequence of float
        The readings of the window, oldest first.
    times : sequence of float, optional
        Their times in seconds; one second apart when omitted.
    nominal, low, high : float
        Expected operating point and signal range.
    """
    v = np.asarray(values, dtype=float).reshape(1, -1)
    t = np.arange(v.shape[1], dtype=float) if times is None else np.asarray(times, dtype=float)
    return features_2d(v, t.reshape(1, -1), nominal=nominal, low=low, high=high)[0]


def sliding(array: NDArray[np.float64], window: int, step: int = 1) -> NDArray[np.float64]:
    """Windows of ``window`` consecutive items, one every ``step`` items.

    The last window ends at the last item (so the newest readings are always
    covered); the first may start after index 0.

    >>> sliding(np.arange(6.0), 3, 2).tolist()
    [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]
    """
    array = np.asarray(array, dtype=float)
    if window < 1 or step < 1:
        raise ValueError("window and step must be >= 1")
    if len(array) < window:
        return np.empty((0, window))
    views = np.lib.stride_tricks.sliding_window_view(array, window)
    starts = np.arange(len(views) - 1, -1, -step)[::-1]
    return views[starts]

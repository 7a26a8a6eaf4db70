"""The ten window features, on known lists of numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from connector.ml.features import (
    FEATURE_NAMES,
    FEATURE_SET_VERSION,
    features_2d,
    sliding,
    window_features,
)


def feats(values, times=None, **kw) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, map(float, window_features(values, times, **kw)), strict=True))


def test_ten_named_features_and_a_version() -> None:
    assert len(FEATURE_NAMES) == 10 and len(set(FEATURE_NAMES)) == 10
    assert FEATURE_SET_VERSION == "f10"


def test_ramp() -> None:
    f = feats([1.0, 2.0, 3.0, 4.0], nominal=2.0, low=0.0, high=10.0)
    assert f["mean"] == 2.5
    assert f["std"] == pytest.approx(math.sqrt(1.25))
    assert (f["min"], f["max"]) == (1.0, 4.0)
    assert f["rate_of_change"] == pytest.approx(1.0)  # (4 - 1) / 3 s
    assert f["deviation_from_nominal"] == 0.5
    assert f["trend_slope"] == pytest.approx(1.0)
    assert f["autocorrelation_lag1"] == pytest.approx(0.25)  # 1.25 / 5
    assert f["coeff_of_variation"] == pytest.approx(math.sqrt(1.25) / 2.5)
    assert f["range_utilisation"] == 0.25


def test_time_stamps_set_rates_and_slopes_per_second() -> None:
    f = feats([10.0, 12.0, 14.0], [0.0, 10.0, 20.0])
    assert f["rate_of_change"] == pytest.approx(0.2)
    assert f["trend_slope"] == pytest.approx(0.2)


def test_rate_of_change_is_first_to_last_but_slope_uses_all_points() -> None:
    f = feats([0.0, 5.0, -5.0, 0.0])
    assert f["rate_of_change"] == 0.0
    assert f["trend_slope"] == pytest.approx(-1.0)  # least squares: -10 / 10


def test_alternating_signal_has_negative_autocorrelation() -> None:
    f = feats([1.0, -1.0] * 10)
    assert f["autocorrelation_lag1"] == pytest.approx(-0.95)
    assert f["coeff_of_variation"] == 0.0  # mean 0: defined as 0


def test_constant_window_is_quiet() -> None:
    f = feats([3.0] * 8, nominal=3.0, low=3.0, high=3.0)
    assert f["std"] == f["trend_slope"] == f["autocorrelation_lag1"] == 0.0
    assert f["coeff_of_variation"] == 0.0 and f["deviation_from_nominal"] == 0.0
    assert f["range_utilisation"] == 0.5  # empty range


def test_range_utilisation_can_leave_the_range() -> None:
    assert feats([12.0, 12.0], low=0.0, high=10.0)["range_utilisation"] == pytest.approx(1.2)


def test_batch_equals_single_windows() -> None:
    rng = np.random.default_rng(3)
    values = rng.standard_normal(50)
    times = np.cumsum(rng.uniform(0.5, 1.5, 50))
    V, T = sliding(values, 10, 3), sliding(times, 10, 3)
    batch = features_2d(V, T, nominal=0.1, low=-3.0, high=3.0)
    for row, v, t in zip(batch, V, T, strict=True):
        np.testing.assert_allclose(row, window_features(v, t, nominal=0.1, low=-3.0, high=3.0))


def test_sliding_windows_end_at_the_last_item() -> None:
    assert sliding(np.arange(5.0), 2, 2).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert sliding(np.arange(3.0), 4).shape == (0, 4)
    with pytest.raises(ValueError):
        sliding(np.arange(3.0), 0)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError):
        features_2d(np.zeros((2, 3)), np.zeros((2, 4)), nominal=0.0, low=0.0, high=1.0)

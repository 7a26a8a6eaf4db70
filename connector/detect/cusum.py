"""Two-sided CUSUM drift detector (:class:`Cusum`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from operator import add

from .base import _NOTHING, DRIFT, OK, WARNING, Detector, QuietPlan, Verdict, _fmt

#: Points (window means) learned by :class:`Cusum` before it starts watching.
DEFAULT_CUSUM_BASELINE_N = 30


class Cusum(Detector):
    """Two-sided CUSUM drift detector in units of a learned baseline sigma.

    Readings are averaged over non-overlapping windows of ``window_n``
    readings (1 = every reading is a point). The first ``baseline_n`` points
    (with a non-zero spread) set the baseline mean and standard deviation;
    after that each point adds its standardised deviation minus the slack
    ``k`` to an upper and a lower cumulative sum, floored at zero and capped
    at ``2 h``. ``drift`` (``warning``) holds while a sum exceeds ``h``. The
    cap bounds how long the alarm outlives the drift: once the signal is
    back at the baseline the sum falls by about ``k`` per point, so the
    condition ends after about ``h / k`` points instead of never (a long
    drift would otherwise pile up a sum that takes days to drain).
    :meth:`reset` forgets everything, e.g. after a calibration; the baseline
    is then learned again.

    With the textbook ``k=0.5, h=5`` the in-control average run length is
    about 465 points and a one-sigma shift is found after about 10 points.
    Windowing sets what a "point" is: on a 1 Hz signal, per-reading CUSUM
    would give a false drift alarm every few minutes, one-minute means give
    one every several hours (and average away sensor noise and
    autocorrelation that the method does not model).

    Parameters
    ----------
    k : float
        Slack in sigma (0.5 detects a one-sigma shift quickly).
    h : float or None
        Decision threshold in sigma; ``None`` or <= 0 disables the detector.
    baseline_n : int
        Points used to learn the baseline.
    window_n : int
        Readings averaged into one point.

    Examples
    --------
    >>> cusum = Cusum(k=0.5, h=5.0, baseline_n=4)
    >>> for t, v in enumerate([10.0, 10.2, 9.8, 10.0]):
    ...     _ = cusum.update(t, v)
    >>> [cusum.update(t, 10.3).active for t in range(4, 10)]
    [False, False, False, True, True, True]
    """

    alert_type = DRIFT
    kind = "cusum"
    _param_names = ("k", "h", "baseline_n", "window_n", "unit")
    _state_names = (
        "win_sum_",
        "win_n_",
        "n_",
        "mean_",
        "m2_",
        "mu_",
        "sigma_",
        "s_hi_",
        "s_lo_",
        "active_",
        "message_",
    )
    message_: str
    mu_: float
    sigma_: float
    s_hi_: float
    s_lo_: float

    def __init__(
        self,
        k: float | None = 0.5,
        h: float | None = 5.0,
        baseline_n: int = DEFAULT_CUSUM_BASELINE_N,
        window_n: int = 1,
        unit: str = "",
    ) -> None:
        self.k = k
        self.h = h
        self.baseline_n = baseline_n
        self.window_n = window_n
        self.unit = unit

    @property
    def enabled(self) -> bool:
        """False when ``h`` disables the detector."""
        return self.h is not None and self.h > 0 and self.k is not None

    @property
    def drift_detected(self) -> bool:
        """Whether a cumulative sum is above ``h`` (read-only)."""
        return self.active_

    @property
    def baseline_ready(self) -> bool:
        """Whether the baseline has been learned."""
        return getattr(self, "sigma_", None) is not None

    def reset(self) -> None:
        """Forget the baseline and the sums (after a calibration)."""
        self._forget()
        self.active_ = False

    def update(self, ts: float, value: float) -> Verdict:
        """Add a reading; evaluate when it completes a window (:meth:`_points`)."""
        if not self.enabled:
            return OK
        if self.window_n > 1:
            self.win_sum_ = getattr(self, "win_sum_", 0.0) + value
            self.win_n_ = getattr(self, "win_n_", 0) + 1
            if self.win_n_ < self.window_n:
                return Verdict(True, WARNING, self.message_) if self.active_ else OK
            value = self.win_sum_ / self.win_n_
            self.win_sum_, self.win_n_ = 0.0, 0
        plan, active = self._points((value,))
        for name, learned in plan.items():
            setattr(self, name, learned)  # not vars(self): it slows attributes down
        if active is None:
            return OK
        direction = "upward" if self.s_hi_ >= self.s_lo_ else "downward"
        self.message_ = (
            f"{direction} drift from baseline {_fmt(self.mu_)} "
            f"{self.unit} (sigma {_fmt(self.sigma_)}), now "
            f"{_fmt(active)} {self.unit}"
        )
        return Verdict(True, WARNING, self.message_)

    def _windows(self, values: Sequence[float]) -> tuple[list[float], QuietPlan]:
        """The points that readings complete, and the open window after them.

        The sums add one value at a time from the open window's sum, as
        :meth:`update` does, so the points are bit for bit the same. A
        fractional ``window_n`` closes at the next whole count, as there.
        """
        window = math.ceil(self.window_n)
        win_sum = getattr(self, "win_sum_", 0.0)
        win_n = getattr(self, "win_n_", 0)
        n = len(values)
        need = max(1, window - win_n)  # readings that complete the open window
        if n < need:
            return [], {"win_sum_": reduce(add, values, win_sum), "win_n_": win_n + n}
        points = [reduce(add, values[:need], win_sum) / (win_n + need)]
        i = need
        while n - i >= window:
            points.append(reduce(add, values[i : i + window], 0.0) / window)
            i += window
        return points, {"win_sum_": reduce(add, values[i:], 0.0), "win_n_": n - i}

    def _points(self, points: Sequence[float]) -> tuple[QuietPlan, float | None]:
        """Learn the baseline from the points, then run the sums, on local
        variables, up to the first point at which a sum exceeds ``h``.

        Returns the attributes to set (``vars(self).update(plan)``) to leave
        the state those points leave, and the point that turned the
        condition on (``None`` when none did; ``active_`` is then in the
        plan, False, when a point was watched). :meth:`update` gives it one
        point, :meth:`quiet_plan` those of a batch.
        """
        plan: QuietPlan = {}
        it = iter(points)
        sigma = getattr(self, "sigma_", None)
        if sigma is None:
            n = getattr(self, "n_", 0)
            mean = getattr(self, "mean_", 0.0)
            m2 = getattr(self, "m2_", 0.0)
            enough = max(self.baseline_n, 2)
            for value in it:
                n += 1
                delta = value - mean
                mean += delta / n
                m2 = m2 + delta * (value - mean)
                if n >= enough:
                    std = math.sqrt(m2 / (n - 1))
                    if std > 0:
                        sigma = std
                        break
            plan["m2_"], plan["n_"], plan["mean_"] = m2, n, mean
            if sigma is None:
                return plan, None
            plan["mu_"], plan["sigma_"] = mean, sigma
            plan["s_hi_"] = plan["s_lo_"] = 0.0
        mu = plan.get("mu_", getattr(self, "mu_", 0.0))
        s_hi = plan.get("s_hi_", getattr(self, "s_hi_", 0.0))
        s_lo = plan.get("s_lo_", getattr(self, "s_lo_", 0.0))
        k = float(self.k or 0.0)
        h = float(self.h or 0.0)
        cap = 2.0 * h
        watched = False
        for value in it:
            z = (value - mu) / sigma
            s_hi = min(cap, max(0.0, s_hi + z - k))
            s_lo = min(cap, max(0.0, s_lo - z - k))
            if s_hi > h or s_lo > h:
                plan["s_hi_"], plan["s_lo_"], plan["active_"] = s_hi, s_lo, True
                return plan, value
            watched = True
        if watched:
            plan["s_hi_"], plan["s_lo_"] = s_hi, s_lo
            plan["active_"] = False
        return plan, None

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when no point of the batch turns active: the batch's
        windows (:meth:`_windows`) through :meth:`_points`."""
        if not self.enabled:
            return _NOTHING
        if self.active_:
            return None
        points: Sequence[float]
        if self.window_n > 1:
            points, plan = self._windows(values)
            if not points:
                return plan
        else:
            points, plan = values, {}
        more, active = self._points(points)
        if active is not None:
            return None
        plan.update(more)
        return plan

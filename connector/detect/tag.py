"""Per-tag streaming detectors.

Each detector is a small class: parameters are set in ``__init__`` and
nothing else happens there; learned state lives in attributes ending in
``_``; ``update(ts, value)`` takes one reading (``ts`` in epoch seconds) and
returns a :class:`Verdict` saying whether the detector's condition holds
now. None of them knows about MQTT, SQLite or Odoo, so each can be run on a
plain list of numbers:

>>> rule = LimitRule(high_warning=9.0, high_critical=10.0, deadband=0.2)
>>> [rule.update(t, v).severity for t, v in enumerate([8.0, 9.5, 10.5, 9.9, 9.7])]
[None, 'warning', 'critical', 'critical', 'warning']

A verdict is a *condition*, not an event: turning conditions into
``alert_raised`` / ``alert_active`` / ``alert_cleared`` is the job of
:class:`connector.detect.alerts.AlertAggregator`.

A message often carries many readings of one tag. :meth:`TagDetectors.update_quiet`
takes them at once when it can prove that every one of them would give an
inactive verdict: each detector's ``quiet_plan`` checks the batch as a whole
(minimum, maximum, smallest time step ...) and returns the state that
feeding the readings one by one would have left, or ``None`` when it cannot
tell; the caller then falls back to :meth:`TagDetectors.update`. Each
detector's algorithm is written once, for both paths: ``update`` applies to
one reading the test or step the batch path applies to many
(:meth:`SignalRange._outside`, :meth:`LimitRule._calm`,
:meth:`RateOfChange._too_fast`, :meth:`StuckSensor._extend`,
:meth:`Cusum._points`).

The learned state is saved explicitly: :meth:`Detector.state_dict` and
:meth:`TagDetectors.state_dict` return plain JSON with a ``kind``, a format
``version`` and the parameters it was learned with; ``load_state`` takes
it back only when all three still fit, so a moved module or class does not
lose it and a changed configuration does not inherit it.

:func:`build_detectors` assembles the set for one tag from a sensor dict of
Odoo's ``get_connector_config`` (see ``docs/contracts.md``); a ``None``
limit disables that side of that check.
"""

from __future__ import annotations

import contextlib
import io
import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add, sub
from typing import Any, ClassVar

ADVISORY = "advisory"
WARNING = "warning"
CRITICAL = "critical"
SEVERITIES = (ADVISORY, WARNING, CRITICAL)

RULE_VIOLATION = "rule_violation"
INSTRUMENT_FAULT = "instrument_fault"
DRIFT = "drift"
DATA_GAP = "data_gap"
#: Reported by :class:`connector.ml.isolation.AnomalyWatch` (scikit-learn is
#: not imported here).
ANOMALY = "anomaly"

#: Format of :meth:`Detector.state_dict` and :meth:`TagDetectors.state_dict`
#: (bumped when it changes: a saved state of another format is not loaded).
STATE_VERSION = 1
#: ``kind`` of :meth:`TagDetectors.state_dict`.
TAG_KIND = "tag_detectors"

#: Points (window means) learned by :class:`Cusum` before it starts watching.
DEFAULT_CUSUM_BASELINE_N = 30
#: :func:`build_detectors` runs CUSUM on means over about this many seconds.
DEFAULT_CUSUM_WINDOW_S = 60.0


def severity_rank(severity: str | None) -> int:
    """Order severities: ``None`` < advisory < warning < critical."""
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a condition holds after a reading.

    Attributes
    ----------
    active : bool
        The condition holds.
    severity : str or None
        ``advisory``, ``warning`` or ``critical`` when active.
    message : str
        Short human explanation when active.
    """

    active: bool
    severity: str | None = None
    message: str = ""


OK = Verdict(False)

_UNSET = object()

#: The state a detector's ``quiet_plan`` asks to set (attribute name -> value).
QuietPlan = dict[str, Any]
#: The plan of a detector that is only told it was inactive (never mutated).
_INACTIVE: QuietPlan = {"active_": False}
#: The plan of a disabled detector: nothing to set (never mutated).
_NOTHING: QuietPlan = {}
#: :class:`LimitRule`: no level pending.
_NOT_PENDING: tuple[None, None] = (None, None)
#: The plan of a calm :class:`LimitRule` (never mutated).
_CALM: QuietPlan = {"since_": _NOT_PENDING, "active_": False}


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class Detector:
    """Base class: ``alert_type``, the ``get_params`` convention and the
    explicit state (:meth:`state_dict`, :meth:`load_state`)."""

    alert_type: ClassVar[str] = ""
    #: Names the saved state; stable when classes or modules move.
    kind: ClassVar[str] = ""
    _param_names: ClassVar[tuple[str, ...]] = ()
    #: The learned attributes :meth:`state_dict` saves (those set so far).
    _state_names: ClassVar[tuple[str, ...]] = ("active_",)
    active_: bool = False

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters (to compare configurations)."""
        return {name: getattr(self, name) for name in self._param_names}

    @property
    def active(self) -> bool:
        """Whether the condition held at the last update."""
        return self.active_

    def state_dict(self) -> dict[str, Any]:
        """The learned state as plain JSON, with its kind, format and parameters.

        Examples
        --------
        >>> roc = RateOfChange(roc_limit=1.0)
        >>> _ = roc.update(0.0, 5.0)
        >>> roc.state_dict()["state"]
        {'prev_': [0.0, 5.0], 'active_': False}
        >>> again = RateOfChange(roc_limit=1.0)
        >>> again.load_state(roc.state_dict()), again.prev_
        (True, (0.0, 5.0))
        >>> RateOfChange(roc_limit=2.0).load_state(roc.state_dict())  # other parameters
        False
        """
        state = {}
        for name in self._state_names:
            value = getattr(self, name, _UNSET)  # not vars(self): it slows attributes down
            if value is not _UNSET:
                state[name] = list(value) if type(value) is tuple else value
        return {
            "kind": self.kind,
            "version": STATE_VERSION,
            "params": self.get_params(),
            "state": state,
        }

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output; return False (and change
        nothing) when it is of another kind, format or configuration."""
        if (
            not isinstance(saved, Mapping)
            or saved.get("kind") != self.kind
            or saved.get("version") != STATE_VERSION
            or saved.get("params") != self.get_params()
        ):
            return False
        state = saved.get("state")
        if not isinstance(state, Mapping) or not set(state) <= set(self._state_names):
            return False
        self._forget()
        for name, value in state.items():
            setattr(self, name, tuple(value) if type(value) is list else value)
        return True

    def _forget(self) -> None:
        """Drop every learned attribute."""
        for name in self._state_names:
            with contextlib.suppress(AttributeError):
                delattr(self, name)

    def update(self, ts: float, value: float) -> Verdict:  # pragma: no cover
        """Take one reading and return the current verdict."""
        raise NotImplementedError

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Check a batch of readings without changing any state.

        Parameters
        ----------
        ts, values : sequence of float
            The readings, timestamps strictly increasing and finite, the
            first newer than every reading this detector has seen; values
            finite.
        vmin, vmax : float
            ``min(values)`` and ``max(values)``.
        step : float
            The smallest difference of consecutive ``ts`` (``inf`` for one
            reading).

        Returns
        -------
        dict or None
            ``None`` unless it is proven that :meth:`update` on each reading
            in turn would return an inactive verdict every time; then the
            attributes to set (``vars(self).update(plan)``) to leave the state
            those calls would have left. This default proves nothing.
        """
        return None


class SignalRange(Detector):
    """Reading outside the instrument's physical signal range.

    A 4-20 mA transmitter that reports below 4 mA (or above 20 mA) has a
    broken loop or a failed sensor: a hardware problem, not a process one,
    so this raises ``instrument_fault`` at ``critical``.

    Parameters
    ----------
    signal_low, signal_high : float or None
        Physical range in engineering units; ``None`` disables that side.
    unit : str
        Only used in messages.

    Examples
    --------
    >>> sr = SignalRange(signal_low=0.0, signal_high=16.0, unit="bar")
    >>> [sr.update(t, v).active for t, v in enumerate([5.0, -0.5, 17.0, 8.0])]
    [False, True, True, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "signal_range"
    _param_names = ("signal_low", "signal_high", "unit")

    def __init__(
        self, signal_low: float | None = None, signal_high: float | None = None, unit: str = ""
    ) -> None:
        self.signal_low = signal_low
        self.signal_high = signal_high
        self.unit = unit

    def _outside(self, vmin: float, vmax: float) -> int:
        """-1 when *vmin* is below the range, 1 when *vmax* is above it, else 0."""
        low, high = self.signal_low, self.signal_high
        if low is not None and vmin < low:
            return -1
        if high is not None and vmax > high:
            return 1
        return 0

    def update(self, ts: float, value: float) -> Verdict:
        """Check one reading against the signal range (:meth:`quiet_plan` of one)."""
        side = self._outside(value, value)
        self.active_ = side != 0
        if not side:
            return OK
        word, name, limit = (
            ("below", "low", self.signal_low) if side < 0 else ("above", "high", self.signal_high)
        )
        unit = self.unit
        return Verdict(
            True,
            CRITICAL,
            f"{_fmt(value)} {unit} {word} signal range {name} {_fmt(limit or 0.0)} {unit}",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when every value is inside the signal range (see :meth:`Detector.quiet_plan`)."""
        return None if self._outside(vmin, vmax) else _INACTIVE


class LimitRule(Detector):
    """Process limits with deadband (hysteresis) and on-delay.

    A side enters a level when the value goes beyond its limit (strictly)
    and that has held for ``on_delay_s`` seconds (measured on the readings'
    timestamps). It leaves the level only when the value comes back inside
    the limit by more than ``deadband``. Escalation to critical waits for its
    own on-delay; de-escalation from critical to warning is immediate.

    Parameters
    ----------
    low_critical, low_warning, high_warning, high_critical : float or None
        Limits in engineering units; ``None`` disables that limit.
    deadband : float
        Hysteresis for leaving a level, in engineering units.
    on_delay_s : float
        How long a limit must be exceeded before the level is entered.
    unit : str
        Only used in messages.

    Examples
    --------
    Five seconds of on-delay filter a one-second spike:

    >>> rule = LimitRule(high_warning=9.0, on_delay_s=5.0)
    >>> [rule.update(t, v).active for t, v in enumerate([9.5, 8.0, 9.5, 9.5,
    ...                                                  9.5, 9.5, 9.5, 9.5])]
    [False, False, False, False, False, False, False, True]
    """

    alert_type = RULE_VIOLATION
    kind = "limit_rule"
    _state_names = ("level_", "since_", "active_")
    _param_names = (
        "low_critical",
        "low_warning",
        "high_warning",
        "high_critical",
        "deadband",
        "on_delay_s",
        "unit",
    )

    def __init__(
        self,
        low_critical: float | None = None,
        low_warning: float | None = None,
        high_warning: float | None = None,
        high_critical: float | None = None,
        deadband: float = 0.0,
        on_delay_s: float = 0.0,
        unit: str = "",
    ) -> None:
        self.low_critical = low_critical
        self.low_warning = low_warning
        self.high_warning = high_warning
        self.high_critical = high_critical
        self.deadband = deadband
        self.on_delay_s = on_delay_s
        self.unit = unit

    def _level(self, value: float, margin: float) -> int:
        """Highest level whose limit *value* exceeds, moved in by *margin*."""
        for level, low, high in (
            (2, self.low_critical, self.high_critical),
            (1, self.low_warning, self.high_warning),
        ):
            if high is not None and value > high - margin:
                return level
            if low is not None and value < low + margin:
                return level
        return 0

    def _inside(self) -> tuple[float, float]:
        """The band inside every limit (a value on a limit is inside)."""
        highs = [x for x in (self.high_warning, self.high_critical) if x is not None]
        lows = [x for x in (self.low_warning, self.low_critical) if x is not None]
        return max(lows, default=-math.inf), min(highs, default=math.inf)

    def load_state(self, saved: Mapping[str, Any]) -> bool:
        """Restore :meth:`state_dict` output (see :meth:`Detector.load_state`)."""
        if not super().load_state(saved):
            return False
        self.inside_ = self._inside()
        return True

    def _calm(self, vmin: float, vmax: float) -> bool:
        """No level held and every value from *vmin* to *vmax* inside every
        limit: then nothing is pending after them (one reading or many)."""
        if self.level_:
            return False
        low, high = self.inside_
        return low <= vmin and vmax <= high

    def update(self, ts: float, value: float) -> Verdict:
        """Take one reading and return the rule's level as a verdict."""
        if not hasattr(self, "level_"):
            self.level_ = 0
            self.since_: tuple[float | None, float | None] = (None, None)
            self.inside_ = self._inside()
        if self._calm(value, value):  # what :meth:`quiet_plan` takes at once
            self.since_ = _NOT_PENDING
            self.active_ = False
            return OK
        entry = self._level(value, 0.0)
        hold = self._level(value, max(self.deadband, 0.0))
        warning, critical = self.since_  # when each level's limit was first exceeded
        warning = (ts if warning is None else warning) if entry >= 1 else None
        critical = (ts if critical is None else critical) if entry >= 2 else None
        self.since_ = (warning, critical)
        new = 0
        for level, since in ((2, critical), (1, warning)):
            held = self.level_ >= level and hold >= level
            delayed = since is not None and ts - since >= self.on_delay_s
            if held or delayed:
                new = level
                break
        self.level_ = new
        self.active_ = new > 0
        if not new:
            return OK
        low, high = (
            (self.low_critical, self.high_critical)
            if new == 2
            else (self.low_warning, self.high_warning)
        )
        if high is not None and (low is None or abs(value - high) <= abs(value - low)):
            side, limit = "high", high
        else:
            side, limit = "low", low if low is not None else math.nan
        name = "critical" if new == 2 else "warning"
        word = "above" if side == "high" else "below"
        return Verdict(
            True,
            CRITICAL if new == 2 else WARNING,
            f"{_fmt(value)} {self.unit} {word} {side} {name} limit {_fmt(limit)} {self.unit}",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when no level is held and every value is inside every limit
        (the test :meth:`update` makes first). A rule that has never seen a
        reading is left to it."""
        if not hasattr(self, "level_") or not self._calm(vmin, vmax):
            return None
        return _CALM


class RateOfChange(Detector):
    """Change between consecutive readings faster than physically plausible.

    Raises ``instrument_fault`` (``warning``) while ``|dv/dt| > roc_limit``
    (engineering units per second). ``roc_limit`` of 0 or ``None`` disables
    it; readings whose timestamp does not advance are ignored.

    Examples
    --------
    >>> roc = RateOfChange(roc_limit=1.0)
    >>> [roc.update(t, v).active for t, v in enumerate([5.0, 5.5, 9.0, 9.2])]
    [False, False, True, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "rate_of_change"
    _param_names = ("roc_limit", "unit")
    _state_names = ("prev_", "active_", "message_")
    message_: str

    def __init__(self, roc_limit: float | None = 0.0, unit: str = "") -> None:
        self.roc_limit = roc_limit
        self.unit = unit

    def _too_fast(self, span: float, dt: float) -> bool:
        """Whether a change of *span* over *dt* seconds is faster than ``roc_limit``.

        For one reading *span* is ``|value - previous|``; for many, the
        widest range of the batch's values and the previous one, over the
        shortest time step: every consecutive change is at most that range
        and every step at least that long; IEEE rounding is monotonic, so
        each computed ``|rate|`` is at most the computed bound.
        """
        return span / dt > (self.roc_limit or 0.0)

    def update(self, ts: float, value: float) -> Verdict:
        """Compare with the previous reading (:meth:`quiet_plan` of one)."""
        if not self.roc_limit or self.roc_limit <= 0:
            return OK
        prev = getattr(self, "prev_", None)
        if prev is not None and ts <= prev[0]:
            return Verdict(True, WARNING, self.message_) if self.active_ else OK
        self.prev_ = (ts, value)
        if prev is None:
            return OK
        t0, v0 = prev
        self.active_ = self._too_fast(abs(value - v0), ts - t0)
        if not self.active_:
            return OK
        rate = (value - v0) / (ts - t0)
        self.message_ = (
            f"rate of change {rate:+.4g} {self.unit}/s exceeds {_fmt(self.roc_limit)} {self.unit}/s"
        )
        return Verdict(True, WARNING, self.message_)

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when the widest value range over the shortest time step
        (the first from the previous reading) is within ``roc_limit``."""
        limit = self.roc_limit
        if not limit or limit <= 0:
            return _NOTHING
        prev = getattr(self, "prev_", None)
        if prev is None:
            return None
        t0, v0 = prev
        first = ts[0] - t0
        if not first > 0 or self._too_fast(max(vmax, v0) - min(vmin, v0), min(first, step)):
            return None
        return {"prev_": (ts[-1], values[-1]), "active_": False}


class StuckSensor(Detector):
    """A signal that has not moved beyond a deadband for a time window.

    Catches thermocouple burnout, plugged impulse lines and frozen
    transmitters: ``instrument_fault`` (``warning``) once all readings of the
    last ``stuck_window_s`` seconds fit in a band of ``stuck_deadband``.
    A window of 0 or ``None`` disables it.

    Examples
    --------
    >>> stuck = StuckSensor(stuck_deadband=0.05, stuck_window_s=3.0)
    >>> [stuck.update(t, v).active for t, v in enumerate([5.0, 5.01, 5.02, 5.0,
    ...                                                   5.3, 5.3])]
    [False, False, False, True, False, False]
    """

    alert_type = INSTRUMENT_FAULT
    kind = "stuck_sensor"
    _param_names = ("stuck_deadband", "stuck_window_s", "unit")
    _state_names = ("since_", "low_", "high_", "active_")

    def __init__(
        self, stuck_deadband: float = 0.0, stuck_window_s: float | None = 0.0, unit: str = ""
    ) -> None:
        self.stuck_deadband = stuck_deadband
        self.stuck_window_s = stuck_window_s
        self.unit = unit

    def _extend(
        self, since: float, low: float, high: float, ts: float, value: float
    ) -> tuple[float, float, float]:
        """The band of unchanged values (from *since*, between *low* and
        *high*) after a reading: extended, or restarted at it."""
        lo, hi = min(low, value), max(high, value)
        if hi - lo > max(self.stuck_deadband or 0.0, 0.0):
            return ts, value, value
        return since, lo, hi

    def update(self, ts: float, value: float) -> Verdict:
        """Extend or restart the band of unchanged values (:meth:`_extend`)."""
        window = self.stuck_window_s
        if not window or window <= 0:
            return OK
        if getattr(self, "since_", None) is None:
            self.since_, self.low_, self.high_ = ts, value, value
        since, self.low_, self.high_ = self._extend(self.since_, self.low_, self.high_, ts, value)
        self.since_ = since
        self.active_ = ts - since >= window
        if not self.active_:
            return OK
        return Verdict(
            True,
            WARNING,
            f"stuck at {_fmt(value)} {self.unit}: no change beyond "
            f"{_fmt(self.stuck_deadband or 0.0)} {self.unit} for "
            f"{ts - since:.0f} s",
        )

    def quiet_plan(
        self,
        ts: Sequence[float],
        values: Sequence[float],
        vmin: float,
        vmax: float,
        step: float,
    ) -> QuietPlan | None:
        """Quiet when no reading's band has lasted the window.

        When the last reading is less than the window after the current
        band's start, no reading can reach it (every band within the batch
        starts there or later) and the band left at the end is found without
        a loop in the common cases: the last two values differ by more than
        the deadband (a new band at the last reading), or the whole batch
        fits in the current band. Otherwise the band is followed reading by
        reading (:meth:`_extend`, the step of :meth:`update`).
        """
        window = self.stuck_window_s
        if not window or window <= 0:
            return _NOTHING
        since = getattr(self, "since_", None)
        if since is None or since > ts[0]:
            return None
        band = max(self.stuck_deadband or 0.0, 0.0)
        if ts[-1] - since < window:
            last = values[-1]
            if len(values) > 1 and abs(last - values[-2]) > band:
                return {"since_": ts[-1], "low_": last, "high_": last, "active_": False}
            low, high = min(self.low_, vmin), max(self.high_, vmax)
            if high - low <= band:
                return {"since_": since, "low_": low, "high_": high, "active_": False}
        low, high = self.low_, self.high_
        extend = self._extend
        for t, value in zip(ts, values, strict=True):
            since, low, high = extend(since, low, high, t, value)
            if t - since >= window:
                return None
        return {"since_": since, "low_": low, "high_": high, "active_": False}


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


class DataGap(Detector):
    """No reading for more than ``factor`` x ``interval_s`` seconds.

    Timer-driven: :meth:`update` notes an arrival, :meth:`check` is called
    periodically with the current time. The timer arms at the first
    :meth:`check` or arrival. ``interval_s`` of 0 or ``None`` disables it.

    Given the readings' own time too (``event_ts`` of :meth:`update`,
    ``event_now`` of :meth:`check`, from :class:`~connector.detect.event_clock.EventClock`),
    a gap must hold on both clocks: readings replayed faster than real time
    or received late after a backlog are no gap, a tag that stops while its
    site goes on is one (the site's clock runs on without it).

    Examples
    --------
    >>> gap = DataGap(interval_s=1.0)
    >>> _ = gap.update(100.0)
    >>> [gap.check(now).active for now in (101.0, 102.0, 102.5)]
    [False, False, True]
    >>> _ = gap.update(103.0, event_ts=5000.0)  # the readings' time is ahead
    >>> gap.check(105.5, event_now=5001.0).active  # 2.5 s late, 1 s of readings
    False
    >>> gap.check(105.5, event_now=5010.0).active  # the site went on without it
    True
    """

    alert_type = DATA_GAP
    kind = "data_gap"
    _param_names = ("interval_s", "factor")
    _state_names = ("last_seen_", "last_event_", "active_")

    def __init__(self, interval_s: float | None = 0.0, factor: float = 2.0) -> None:
        self.interval_s = interval_s
        self.factor = factor

    @property
    def enabled(self) -> bool:
        """False when ``interval_s`` disables the detector."""
        return bool(self.interval_s) and (self.interval_s or 0.0) > 0

    def update(
        self, ts: float, value: float | None = None, event_ts: float | None = None
    ) -> Verdict:
        """Note that a reading arrived at *ts* (arrival time), stamped *event_ts*."""
        last = getattr(self, "last_seen_", None)
        self.last_seen_ = ts if last is None else max(last, ts)
        if event_ts is not None:
            self.note_event(event_ts)
        self.active_ = False
        return OK

    def note_event(self, event_ts: float) -> None:
        """Note a reading stamped *event_ts* (also when replaying stored ones)."""
        newest = getattr(self, "last_event_", None)
        self.last_event_ = event_ts if newest is None else max(newest, event_ts)

    def rearm(self, now: float) -> None:
        """Restart the timer at *now* unless a gap is already active.

        Called when the connector (re)connects to the broker, so that its own
        outage does not count as a gap of every instrument.
        """
        if not self.active_:
            self.last_seen_ = now

    def check(self, now: float, event_now: float | None = None) -> Verdict:
        """Return whether nothing has arrived for too long at time *now*
        (and, when given, at the readings' time *event_now*)."""
        if not self.enabled:
            return OK
        last = getattr(self, "last_seen_", None)
        if last is None:
            self.last_seen_ = now
        if getattr(self, "last_event_", None) is None and event_now is not None:
            self.last_event_ = event_now  # armed on the site's clock
        if last is None:
            return OK
        gap = now - last
        last_event = getattr(self, "last_event_", None)
        if event_now is not None and last_event is not None:
            gap = min(gap, event_now - last_event)
        limit = self.factor * float(self.interval_s or 0.0)
        self.active_ = gap > limit
        if not self.active_:
            return OK
        return Verdict(
            True,
            WARNING,
            f"no reading for {gap:.0f} s (expected every {_fmt(float(self.interval_s or 0.0))} s)",
        )


def combine(verdicts: list[Verdict]) -> Verdict:
    """Merge verdicts of one alert type: active if any, highest severity.

    Examples
    --------
    >>> combine([OK, Verdict(True, "warning", "a"), Verdict(True, "critical", "b")])
    Verdict(active=True, severity='critical', message='b; a')
    """
    active = sorted((v for v in verdicts if v.active), key=lambda v: -severity_rank(v.severity))
    if not active:
        return OK
    return Verdict(
        True, active[0].severity or WARNING, "; ".join(v.message for v in active if v.message)
    )


def _opt_float(sensor: Mapping[str, Any], name: str) -> float | None:
    value = sensor.get(name)
    if value is None or value is False:  # Odoo may send False for an empty field
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"sensor {sensor.get('tag')!r}: {name} is not a number: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"sensor {sensor.get('tag')!r}: {name} is not finite")
    return float(value)


class TagDetectors:
    """The detector set of one tag, built from its sensor configuration.

    Process checks (:class:`LimitRule`, :class:`Cusum`) are not fed while
    :class:`SignalRange` reports an instrument fault: a broken transmitter's
    value says nothing about the process, and a CUSUM baseline must not
    learn it.

    An ``anomaly`` detector (:class:`connector.ml.isolation.AnomalyWatch`),
    when the pipeline sets one, is a process check too.

    Parameters
    ----------
    signal_range, roc, stuck, limits, cusum, gap
        The detectors (see :func:`build_detectors`).
    anomaly : Detector, optional
        The tag's anomaly model watch (``alert_type`` ``anomaly``).
    """

    last_ts_: float

    def __init__(
        self,
        signal_range: SignalRange,
        roc: RateOfChange,
        stuck: StuckSensor,
        limits: LimitRule,
        cusum: Cusum,
        gap: DataGap,
        anomaly: Detector | None = None,
    ) -> None:
        self.signal_range = signal_range
        self.roc = roc
        self.stuck = stuck
        self.limits = limits
        self.cusum = cusum
        self.gap = gap
        self.anomaly = anomaly

    def detectors(self) -> dict[str, Detector]:
        """Return the detectors by attribute name."""
        return {
            "signal_range": self.signal_range,
            "roc": self.roc,
            "stuck": self.stuck,
            "limits": self.limits,
            "cusum": self.cusum,
            "gap": self.gap,
        }

    def adopt(self, old: TagDetectors) -> None:
        """Keep the old instances (and their learned state) whose parameters
        did not change, so a configuration reload does not forget a CUSUM
        baseline or an on-delay in progress."""
        for name, det in self.detectors().items():
            prev = old.detectors()[name]
            if type(prev) is type(det) and prev.get_params() == det.get_params():
                setattr(self, name, prev)
        if self.anomaly is None:
            self.anomaly = old.anomaly  # the pipeline replaces it if its version changed
        if hasattr(old, "last_ts_"):
            self.last_ts_ = old.last_ts_
        self._carry_gap(old.gap)

    def _carry_gap(self, old: DataGap) -> None:
        """The data-gap timer runs on whatever the gap's parameters."""
        if self.gap is not old and hasattr(old, "last_seen_"):
            self.gap.last_seen_ = old.last_seen_
        if self.gap is not old and hasattr(old, "last_event_"):
            self.gap.last_event_ = old.last_event_

    def state_dict(self) -> dict[str, Any]:
        """The learned state of every detector as plain JSON (not the anomaly
        watch: models live in their own files).

        Examples
        --------
        >>> import json
        >>> tag = build_detectors({"tag": "PT-1", "high_warning": 9.0, "cusum_h": 5.0})
        >>> for t in range(40):
        ...     _ = tag.update(float(t), 6.0 + 0.1 * (t % 3))
        >>> again = build_detectors({"tag": "PT-1", "high_warning": 9.0, "cusum_h": 5.0})
        >>> again.load_state(json.loads(json.dumps(tag.state_dict())))
        []
        >>> again.cusum.baseline_ready, again.last_ts_
        (True, 39.0)
        """
        return {
            "kind": TAG_KIND,
            "version": STATE_VERSION,
            "last_ts": getattr(self, "last_ts_", None),
            "detectors": {name: det.state_dict() for name, det in self.detectors().items()},
        }

    def load_state(self, saved: Mapping[str, Any]) -> list[str]:
        """Restore :meth:`state_dict` output, as :meth:`adopt` keeps an old set.

        Each detector whose saved parameters are its own takes its saved
        state; the others start afresh (the data-gap timer is kept anyway).

        Returns
        -------
        list of str
            The detectors that start afresh (empty when all were restored).

        Raises
        ------
        ValueError
            *saved* is not a detector set's state of this format; nothing
            changed.
        """
        if (
            not isinstance(saved, Mapping)
            or saved.get("kind") != TAG_KIND
            or saved.get("version") != STATE_VERSION
            or not isinstance(saved.get("detectors"), Mapping)
        ):
            kind = saved.get("kind") if isinstance(saved, Mapping) else type(saved).__name__
            version = saved.get("version") if isinstance(saved, Mapping) else None
            raise ValueError(
                f"not a detector state of this format (kind {kind!r}, version {version!r})"
            )
        states = saved["detectors"]
        fresh = []
        for name, det in self.detectors().items():
            if not det.load_state(states.get(name) or {}):
                fresh.append(name)
        if "gap" in fresh and isinstance(states.get("gap"), Mapping):
            old = DataGap()
            old.__dict__.update(
                (k, v)
                for k, v in (states["gap"].get("state") or {}).items()
                if k in ("last_seen_", "last_event_") and isinstance(v, int | float)
            )
            self._carry_gap(old)
        last_ts = saved.get("last_ts")
        if isinstance(last_ts, int | float) and not isinstance(last_ts, bool):
            self.last_ts_ = last_ts
        return fresh

    def update(self, ts: float, value: float) -> dict[str, Verdict]:
        """Run the reading-driven detectors; return one verdict per alert type.

        Readings whose timestamp does not advance past the last one are
        skipped (empty dict): the detectors assume time order.
        """
        last = getattr(self, "last_ts_", None)
        if last is not None and ts <= last:
            return {}
        self.last_ts_ = ts
        signal = self.signal_range.update(ts, value)
        roc = self.roc.update(ts, value)
        stuck = self.stuck.update(ts, value)
        fault = combine([signal, roc, stuck]) if signal.active or roc.active or stuck.active else OK
        out = {INSTRUMENT_FAULT: fault}
        if not signal.active:
            out[RULE_VIOLATION] = self.limits.update(ts, value)
            out[DRIFT] = self.cusum.update(ts, value)
            if self.anomaly is not None:
                out[ANOMALY] = self.anomaly.update(ts, value)
        return out

    def update_quiet(self, ts: Sequence[float], values: Sequence[float]) -> bool:
        """Take a batch of readings at once if it is provably quiet.

        Returns True only when calling :meth:`update` on each reading in
        turn would evaluate every one (timestamps strictly increasing, the
        first newer than the last reading) and return only inactive
        verdicts; the detectors are then left in exactly the state those
        calls would have left. Otherwise returns False and changes nothing:
        the caller feeds the readings to :meth:`update` one by one. It also
        declines batches of fewer than two readings, a tag with an anomaly
        watch and detectors that have not seen a reading yet.

        Parameters
        ----------
        ts, values : sequence of float
            Timestamps (epoch seconds) and values of the readings, in order.

        Examples
        --------
        >>> tag = build_detectors({"tag": "PT-1", "high_warning": 9.0, "roc_limit": 1.0})
        >>> tag.update(0.0, 5.0)[RULE_VIOLATION].active
        False
        >>> tag.update_quiet([1.0, 2.0, 3.0], [5.1, 5.3, 5.2])
        True
        >>> tag.update_quiet([4.0, 5.0], [5.4, 9.5])  # 9.5 may break a rule
        False
        >>> tag.last_ts_
        3.0
        """
        n = len(ts)
        if n < 2 or len(values) != n or self.anomaly is not None:
            return False
        last = getattr(self, "last_ts_", None)
        if last is None or not ts[0] > last:
            return False
        step = min(map(sub, ts[1:], ts[:-1]))
        # Finite sums: no NaN (which min/max could hide) nor infinity anywhere.
        if not (step > 0 and math.isfinite(sum(values) + sum(ts))):
            return False
        vmin, vmax = min(values), max(values)
        detectors = (self.signal_range, self.roc, self.stuck, self.limits, self.cusum)
        det: Detector
        plans = []
        for det in detectors:
            plan = det.quiet_plan(ts, values, vmin, vmax, step)
            if plan is None:
                return False
            plans.append(plan)
        for det, plan in zip(detectors, plans, strict=True):
            if plan:
                vars(det).update(plan)
        self.last_ts_ = ts[-1]
        return True


def build_detectors(
    sensor: Mapping[str, Any],
    cusum_baseline_n: int = DEFAULT_CUSUM_BASELINE_N,
    cusum_window_s: float = DEFAULT_CUSUM_WINDOW_S,
) -> TagDetectors:
    """Build the detector set of one sensor from ``get_connector_config``.

    Parameters
    ----------
    sensor : mapping
        One entry of the config's ``sensors`` list (``signal_low``,
        ``low_warning``, ``deadband``, ``on_delay_s``, ``interval_s``,
        ``roc_limit``, ``stuck_deadband``, ``stuck_window_s``, ``cusum_k``,
        ``cusum_h`` ...). ``None`` (or Odoo's ``False``) disables a limit.
    cusum_baseline_n : int
        Points (window means) the CUSUM learns its baseline from.
    cusum_window_s : float
        The CUSUM averages ``cusum_window_s / interval_s`` readings into one
        point (one reading per point when ``interval_s`` is not set).

    Raises
    ------
    ValueError
        When a parameter is not a number.
    """
    unit = sensor.get("unit") or ""
    if not isinstance(unit, str):
        unit = str(unit)
    cusum_k = _opt_float(sensor, "cusum_k")
    interval = _opt_float(sensor, "interval_s")
    window_n = 1
    if interval and interval > 0 and cusum_window_s > 0:
        window_n = max(1, round(cusum_window_s / interval))
    return TagDetectors(
        signal_range=SignalRange(
            _opt_float(sensor, "signal_low"), _opt_float(sensor, "signal_high"), unit=unit
        ),
        roc=RateOfChange(_opt_float(sensor, "roc_limit"), unit=unit),
        stuck=StuckSensor(
            _opt_float(sensor, "stuck_deadband") or 0.0,
            _opt_float(sensor, "stuck_window_s"),
            unit=unit,
        ),
        limits=LimitRule(
            low_critical=_opt_float(sensor, "low_critical"),
            low_warning=_opt_float(sensor, "low_warning"),
            high_warning=_opt_float(sensor, "high_warning"),
            high_critical=_opt_float(sensor, "high_critical"),
            deadband=_opt_float(sensor, "deadband") or 0.0,
            on_delay_s=_opt_float(sensor, "on_delay_s") or 0.0,
            unit=unit,
        ),
        cusum=Cusum(
            k=0.5 if cusum_k is None else cusum_k,
            h=_opt_float(sensor, "cusum_h"),
            baseline_n=cusum_baseline_n,
            window_n=window_n,
            unit=unit,
        ),
        gap=DataGap(interval),
    )


class _PickledState(pickle.Unpickler):
    """Unpickles the detector sets of earlier versions, and nothing else:
    classes are found by name, wherever their module is now."""

    classes: ClassVar[dict[str, type]] = {
        cls.__name__: cls
        for cls in (TagDetectors, SignalRange, RateOfChange, StuckSensor, LimitRule, Cusum, DataGap)
    }

    def find_class(self, module: str, name: str) -> Any:
        cls = self.classes.get(name)
        if cls is None or module.split(".")[0] != "connector":
            raise pickle.UnpicklingError(f"{module}.{name} is not a detector class")
        return cls


def states_from_pickle(blob: bytes) -> dict[str, dict[str, Any]]:
    """Read detector state saved by earlier versions (a pickled dict of
    :class:`TagDetectors` by tag) as :meth:`TagDetectors.state_dict` output.

    Only the detector classes are accepted (by class name, so a module that
    moved since is still found).

    Raises
    ------
    Exception
        Whatever unpickling raises on a blob it cannot read
        (:class:`pickle.UnpicklingError`, :class:`AttributeError` ...).
    """
    monitors = _PickledState(io.BytesIO(blob)).load()
    if not isinstance(monitors, dict):
        raise pickle.UnpicklingError(f"not a dict of detector sets: {type(monitors).__name__}")
    out = {}
    for tag, monitor in monitors.items():
        if not isinstance(tag, str) or not isinstance(monitor, TagDetectors):
            continue
        since = getattr(monitor.limits, "since_", None)
        if isinstance(since, dict):  # {level: since} before
            monitor.limits.since_ = (since.get(1), since.get(2))
        out[tag] = monitor.state_dict()
    return out

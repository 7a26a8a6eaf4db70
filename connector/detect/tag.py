"""The detector set of one tag (:class:`TagDetectors`): which detector is
fed when, one verdict per alert type, quiet batches taken at once, and the
set's saved state.

:func:`build_detectors` assembles the set for one tag from a sensor dict of
Odoo's ``get_connector_config`` (see ``docs/contracts.md``); a ``None``
limit disables that side of that check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import sub
from typing import Any

from .base import (
    ANOMALY,
    DRIFT,
    INSTRUMENT_FAULT,
    OK,
    RULE_VIOLATION,
    STATE_VERSION,
    Detector,
    Verdict,
    combine,
)
from .cusum import DEFAULT_CUSUM_BASELINE_N, Cusum
from .data_gap import DataGap
from .limit_rule import LimitRule
from .rate_of_change import RateOfChange
from .signal_range import SignalRange
from .stuck import StuckSensor

#: ``kind`` of :meth:`TagDetectors.state_dict`.
TAG_KIND = "tag_detectors"
#: :func:`build_detectors` runs CUSUM on means over about this many seconds.
DEFAULT_CUSUM_WINDOW_S = 60.0


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

"""What every detector shares: verdicts, severities and alert types, and the
:class:`Detector` base class.

Each detector is a small class, in a module of its own
(:mod:`~connector.detect.signal_range`, :mod:`~connector.detect.limit_rule`,
:mod:`~connector.detect.rate_of_change`, :mod:`~connector.detect.stuck`,
:mod:`~connector.detect.cusum`, :mod:`~connector.detect.data_gap`):
parameters are set in ``__init__`` and nothing else happens there; learned
state lives in attributes ending in ``_``; ``update(ts, value)`` takes one
reading (``ts`` in epoch seconds) and returns a :class:`Verdict` saying
whether the detector's condition holds now. None of them knows about MQTT,
SQLite or Odoo, so each can be run on a plain list of numbers:

>>> from connector.detect.limit_rule import LimitRule
>>> rule = LimitRule(high_warning=9.0, high_critical=10.0, deadband=0.2)
>>> [rule.update(t, v).severity for t, v in enumerate([8.0, 9.5, 10.5, 9.9, 9.7])]
[None, 'warning', 'critical', 'critical', 'warning']

A verdict is a *condition*, not an event: turning conditions into
``alert_raised`` / ``alert_active`` / ``alert_cleared`` is the job of
:class:`connector.detect.alerts.AlertAggregator`.

A message often carries many readings of one tag.
:meth:`connector.detect.tag.TagDetectors.update_quiet` takes them at once
when it can prove that every one of them would give an inactive verdict:
each detector's ``quiet_plan`` checks the batch as a whole (minimum,
maximum, smallest time step ...) and returns the state that feeding the
readings one by one would have left, or ``None`` when it cannot tell; the
caller then falls back to :meth:`~connector.detect.tag.TagDetectors.update`.
Each detector's algorithm is written once, for both paths: ``update``
applies to one reading the test or step the batch path applies to many
(:meth:`SignalRange._outside <connector.detect.signal_range.SignalRange._outside>`,
:meth:`LimitRule._calm <connector.detect.limit_rule.LimitRule._calm>`,
:meth:`RateOfChange._too_fast <connector.detect.rate_of_change.RateOfChange._too_fast>`,
:meth:`StuckSensor._extend <connector.detect.stuck.StuckSensor._extend>`,
:meth:`Cusum._points <connector.detect.cusum.Cusum._points>`).

The learned state is saved explicitly: :meth:`Detector.state_dict` and
:meth:`~connector.detect.tag.TagDetectors.state_dict` return plain JSON with
a ``kind``, a format ``version`` and the parameters it was learned with;
``load_state`` takes it back only when all three still fit, so a moved
module or class does not lose it and a changed configuration does not
inherit it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

#: Format of :meth:`Detector.state_dict` and
#: :meth:`~connector.detect.tag.TagDetectors.state_dict`
#: (bumped when it changes: a saved state of another format is not loaded).
STATE_VERSION = 1


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
        >>> from connector.detect.rate_of_change import RateOfChange
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

"""Detector state saved by earlier versions, as pickled detector sets.

Read once (:func:`states_from_pickle`) and saved anew as plain JSON
(:meth:`connector.detect.tag.TagDetectors.state_dict`). Classes are found by
name, wherever their module was (``connector.detectors``,
``connector.detect.detectors``) or is now.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, ClassVar

from .cusum import Cusum
from .data_gap import DataGap
from .limit_rule import LimitRule
from .rate_of_change import RateOfChange
from .signal_range import SignalRange
from .stuck import StuckSensor
from .tag import TagDetectors


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

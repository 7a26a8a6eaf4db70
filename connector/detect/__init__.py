"""Detection: the per-tag rule detectors (:mod:`.tag`), the event
clock the data-gap timers follow (:mod:`.event_clock`), the online anomaly
engine (:mod:`.anomaly`) and alert aggregation (:mod:`.alerts`)."""

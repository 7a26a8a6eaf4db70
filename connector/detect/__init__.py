"""Detection: the per-tag rule detectors, one per module on a shared base
(:mod:`.base`; :mod:`.signal_range`, :mod:`.limit_rule`,
:mod:`.rate_of_change`, :mod:`.stuck`, :mod:`.cusum`, :mod:`.data_gap`), the
detector set of one tag (:mod:`.tag`) and the reading of state pickled by
earlier versions (:mod:`.legacy_state`), the event clock the data-gap timers
follow (:mod:`.event_clock`), the online anomaly engine (:mod:`.anomaly`) and
alert aggregation (:mod:`.alerts`)."""

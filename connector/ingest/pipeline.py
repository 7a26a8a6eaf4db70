"""From MQTT payloads to durable rows: decode, store, detect, aggregate.

:class:`Pipeline` is the connector's core and does no network I/O. The
service hands it batches of ``(topic, payload)`` pairs; for each batch it
opens one store transaction in which it

1. decodes each message (a bad one becomes a dead letter with its reason);
2. inserts the readings (a redelivered message is recognised here and goes
   no further);
3. runs the tag's detectors on the new readings and feeds their verdicts to
   the alert aggregators (an ``anomaly`` model watch runs with them when
   Odoo's configuration names a model version the model folder holds; a
   message of several readings that are provably quiet, with no alert of the
   tag open, goes through the detectors at once);
   a new FLEXO tick goes through the
   :class:`~connector.flexo.engine.FlexoEngine` instead (health snapshots, OEE
   records of closed shifts, downtime events);
4. queues the resulting outbox items and saves the changed alert states and
   the engine's state of the machine.

When :meth:`Pipeline.process` returns, everything is committed and the
messages may be acknowledged to the broker. A storage failure raises
:class:`~connector.store.StorageError` and nothing may be acknowledged.

One pipeline is used by one thread.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..detect.alerts import AlertAggregator
from ..detect.anomaly import AnomalyEngine
from ..detect.base import (
    ANOMALY,
    DATA_GAP,
    DRIFT,
    INSTRUMENT_FAULT,
    OK,
    RULE_VIOLATION,
    Verdict,
    combine,
)
from ..detect.cusum import DEFAULT_CUSUM_BASELINE_N
from ..detect.event_clock import EventClock
from ..detect.legacy_state import states_from_pickle
from ..detect.tag import DEFAULT_CUSUM_WINDOW_S, TagDetectors, build_detectors
from ..energy import EnergyEngine
from ..flexo.engine import FlexoEngine
from ..push.items import OutboxItem
from ..store import AlertStateRow, Store
from ..util import LogOnce
from .schema import (
    DecodeError,
    Reading,
    ReadingBatch,
    Tick,
    decode_energy,
    decode_readings,
    decode_tick,
)

if TYPE_CHECKING:
    from ..ml.isolation import AnomalyWatch

log = logging.getLogger(__name__)

#: kv key of the last configuration pulled from Odoo.
CONFIG_KEY = "connector_config"
#: kv key of the detectors' learned state and the last reading it includes.
DETECTOR_STATE_KEY = "detector_state"
#: Seconds between two saves of the detectors' learned state, at least.
DETECTOR_STATE_EVERY_S = 5.0
#: Share of the worker's time the saves may take: a state that is slow to
#: save (thousands of tags: a second or more) is saved less often. Nothing
#: is lost by it: at a restart the readings stored since the last save are
#: replayed through the restored detectors.
DETECTOR_STATE_SHARE = 0.02
#: kv key prefix of the FLEXO engine's state of one machine.
FLEXO_KEY = "flexo:"
#: kv key prefix of the energy engine's state of one machine.
ENERGY_KEY = "energy:"
#: Topics whose route the pipeline remembers (one per tag and machine).
ROUTES_KEPT = 100_000
#: Seconds after its first data-gap check before a connector that has seen no
#: reading at all calls its sensors silent (their publisher may start later).
UNSEEN_GRACE_S = 30.0
#: Last levels of the per-machine topics (``<prefix>/<site>/machine/<id>/<level>``).
MACHINE_TOPICS = ("tick", "energy")
#: A message for :meth:`Pipeline.process`: ``(topic, payload)`` or
#: ``(topic, payload, readings decoded beforehand or None)``.
Message = tuple[str, bytes] | tuple[str, bytes, "Sequence[Reading] | None"]
#: Alert types whose verdicts :meth:`TagDetectors.update` returns.
READING_ALERT_TYPES = (INSTRUMENT_FAULT, RULE_VIOLATION, DRIFT, ANOMALY)


@dataclass(frozen=True, slots=True)
class Route:
    """What a topic addresses: ``kind`` is ``reading``, ``tick`` or ``energy``."""

    kind: str
    site: str
    name: str


def parse_topic(prefix: str, topic: str) -> Route | None:
    """Split a topic into site and tag / machine id, or return ``None``.

    Examples
    --------
    >>> parse_topic("cmms", "cmms/plant1/PT-101/reading")
    Route(kind='reading', site='plant1', name='PT-101')
    >>> parse_topic("cmms", "cmms/plant1/machine/FLEXO_104/tick")
    Route(kind='tick', site='plant1', name='FLEXO_104')
    >>> parse_topic("cmms", "cmms/plant1/machine/MX-01/energy")
    Route(kind='energy', site='plant1', name='MX-01')
    >>> parse_topic("cmms", "other/plant1/PT-101/reading") is None
    True
    """
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) == 3 and parts[2] == "reading" and parts[0] and parts[1]:
        return Route("reading", parts[0], parts[1])
    if len(parts) == 4 and parts[1] == "machine" and parts[3] in MACHINE_TOPICS and parts[2]:
        return Route(parts[3], parts[0], parts[2]) if parts[0] else None
    return None


def sensor_model_version(sensor: Mapping[str, Any]) -> str | None:
    """The anomaly model version a sensor's configuration names, or ``None``.

    >>> sensor_model_version({"model_version": {"version": "3", "contamination": 0.05}})
    '3'
    >>> sensor_model_version({"model_version": None}) is None
    True
    >>> sensor_model_version({"model_version": False}) is None  # Odoo 18.0.2: false, not null
    True
    """
    model = sensor.get("model_version")
    if isinstance(model, Mapping):
        model = model.get("version")
    if isinstance(model, bool) or not isinstance(model, str | int):
        return None
    return str(model).strip() or None


def calibration_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether *new* carries a calibration time that *old* did not.

    >>> calibration_changed({"last_calibration_at": None},
    ...                     {"last_calibration_at": "2026-11-22T08:00:00Z"})
    True
    >>> calibration_changed({"last_calibration_at": False},
    ...                     {"last_calibration_at": "2026-11-22T08:00:00Z"})
    True
    >>> calibration_changed({"last_calibration_at": None}, {"last_calibration_at": False})
    False
    >>> calibration_changed({"last_calibration_at": "2026-11-22T08:00:00Z"},
    ...                     {"last_calibration_at": "2026-11-22T08:00:00Z"})
    False
    """
    after = new.get("last_calibration_at")
    return bool(after) and after != old.get("last_calibration_at")


@dataclass(slots=True)
class BatchResult:
    """Counts of one :meth:`Pipeline.process` call."""

    messages: int = 0
    readings: int = 0
    duplicates: int = 0
    ticks: int = 0
    meter_readings: int = 0
    dead_letters: int = 0
    items: int = 0


class Pipeline:
    """Decode, store, detect and aggregate, one transaction per batch.

    Parameters
    ----------
    store : Store
        The local store (used from the calling thread only).
    topic_prefix : str
        MQTT topic prefix (``cmms``).
    active_interval_s, clear_delay_s : float
        Passed to every :class:`~connector.detect.alerts.AlertAggregator`
        (``data_gap`` alerts clear at the first reading, without delay).
    cusum_baseline_n : int
        Points (window means) each CUSUM learns its baseline from.
    cusum_window_s : float
        Seconds of readings each CUSUM averages into one point.
    clock : callable
        Returns the current epoch time (tests pass a fake).
    flexo : FlexoEngine, optional
        The FLEXO health and OEE engine (default: one with its defaults).
    models_path : str or Path, optional
        The model registry folder (:mod:`connector.ml.registry`). A sensor
        whose configuration names a ``model_version`` held there gets an
        :class:`~connector.ml.isolation.AnomalyWatch` (alert type
        ``anomaly``); ``None`` turns anomaly models off.
    anomaly_every : int
        The anomaly watch scores its window every this many readings.
    energy : EnergyEngine, optional
        Energy per machine and period from meter counters, with the units
        of the FLEXO ticks (default: hourly, with its defaults).
    engine : AnomalyEngine, optional
        The online anomaly engine (:mod:`connector.detect.anomaly`): a univariate
        scorer per tag and a machine-level detector per group of tags, the
        classes and defaults ``replay`` runs; their alarms are ``anomaly``
        verdicts of the tags (default: one with the defaults).
    """

    def __init__(
        self,
        store: Store,
        topic_prefix: str = "cmms",
        active_interval_s: float = 60.0,
        clear_delay_s: float = 5.0,
        cusum_baseline_n: int = DEFAULT_CUSUM_BASELINE_N,
        cusum_window_s: float = DEFAULT_CUSUM_WINDOW_S,
        clock: Callable[[], float] = time.time,
        flexo: FlexoEngine | None = None,
        models_path: str | Path | None = None,
        anomaly_every: int = 1,
        energy: EnergyEngine | None = None,
        engine: AnomalyEngine | None = None,
    ) -> None:
        self.store = store
        self.engine = engine if engine is not None else AnomalyEngine()
        self.models_path = None if models_path is None else Path(models_path)
        self.anomaly_every = max(1, int(anomaly_every))
        self.topic_prefix = topic_prefix
        self._routes: dict[str, Route] = {}
        self.active_interval_s = active_interval_s
        self.clear_delay_s = clear_delay_s
        self.cusum_baseline_n = cusum_baseline_n
        self.cusum_window_s = cusum_window_s
        self.clock = clock
        self.log_once = LogOnce(log)
        self.monitors_: dict[str, TagDetectors] = {}
        # The readings' clock of each site, and the site of each tag, for
        # the data-gap timers (event time, not the wall clock).
        self.event_clocks_: dict[str, EventClock] = {}
        self.tag_sites_: dict[str, str] = {}
        self.gaps_since_: float | None = None  # first data-gap check
        self.state_saved_at_ = 0.0
        #: Seconds between two saves of the detectors' state (see
        #: :data:`DETECTOR_STATE_SHARE`).
        self.state_every_s_ = DETECTOR_STATE_EVERY_S
        self.state_restored_ = False
        self.sensors_: dict[str, dict[str, Any]] = {}
        self.aggregators_: dict[tuple[str, str], AlertAggregator] = {}
        self.config_version_: str | None = None
        self.health_thresholds_: dict[str, Any] = {}
        self.readings_total_ = 0
        self.duplicates_total_ = 0
        self.dead_letters_total_ = 0
        self.ticks_total_ = 0
        self.dead_letters_by_kind_: dict[str, int] = {}
        self.flexo = flexo or FlexoEngine()
        self.energy = energy or EnergyEngine(machine_tags=self.flexo.machine_tags)
        self.meter_readings_total_ = 0
        self.meter_resets_total_ = 0
        # Engine state per machine: committed, this transaction's, this message's.
        self.flexo_states_: dict[str, dict[str, Any]] = {}
        self._flexo_tx: dict[str, dict[str, Any]] = {}
        self._flexo_msg: dict[str, dict[str, Any]] = {}
        self.flexo_latest_: dict[str, Any] = {}
        # Tags whose anomaly watch was dropped while their alert was open.
        self.stale_anomaly_: set[str] = set()
        for state in store.load_alert_states():
            agg = self._new_aggregator(state.tag, state.alert_type)
            agg.state = state
            self.aggregators_[(state.tag, state.alert_type)] = agg

    # -- configuration -------------------------------------------------------

    @property
    def config_version(self) -> str | None:
        """Version stamp of the configuration in use (``None`` before any)."""
        return self.config_version_

    def apply_config(self, config: Mapping[str, Any], persist: bool = True) -> bool:
        """Use a ``get_connector_config`` result; return True if it changed.

        Detectors whose parameters did not change keep their learned state.
        A sensor whose ``model_version`` changed gets a watch on that version
        (a rollback is just an older version); a sensor whose
        ``last_calibration_at`` changed has its CUSUM reset, so the drift
        baseline is learned again from the calibrated instrument. A sensor
        entry that cannot be used is logged and skipped (its readings are
        still stored). With *persist*, the config is saved in
        the store so that the connector can start while Odoo is down.
        """
        version = config.get("version")
        sensors = config.get("sensors") or []
        if not isinstance(sensors, list):
            raise ValueError("config 'sensors' is not a list")
        if version is not None and version == self.config_version_ and self.monitors_:
            return False
        monitors: dict[str, TagDetectors] = {}
        by_tag: dict[str, dict[str, Any]] = {}
        saved, saved_upto, saved_engine = (
            ({}, None, None) if self.state_restored_ else self._saved_state()
        )
        for sensor in sensors:
            tag = sensor.get("tag") if isinstance(sensor, Mapping) else None
            if not isinstance(tag, str) or not tag:
                self.log_once("config:no-tag", "config: sensor without a tag: %r", sensor)
                continue
            try:
                monitor = build_detectors(sensor, self.cusum_baseline_n, self.cusum_window_s)
            except ValueError as exc:
                self.log_once(f"config:bad:{tag}", "config: sensor %s skipped: %s", tag, exc)
                continue
            old = self.monitors_.get(tag)
            if old is not None:
                monitor.adopt(old)
            self._set_anomaly(tag, monitor, sensor)
            previous = self.sensors_.get(tag)
            if old is not None and previous is not None and calibration_changed(previous, sensor):
                monitor.cusum.reset()
                log.info(
                    "%s: calibrated at %s, drift baseline learned again",
                    tag,
                    sensor.get("last_calibration_at"),
                )
            monitors[tag] = monitor
            by_tag[tag] = dict(sensor)
        removed = sorted(set(self.monitors_) - set(monitors))
        self.monitors_, self.sensors_ = monitors, by_tag
        self.engine.configure(by_tag.values())
        if not self.state_restored_:
            self.state_restored_ = True
            self._restore(saved)
            if saved_engine:
                self.engine.load_state(saved_engine)
            self._replay_since(saved_upto)
        self.health_thresholds_ = dict(config.get("health_thresholds") or {})
        for problem in self.flexo.set_thresholds(self.health_thresholds_):
            self.log_once(
                f"config:threshold:{problem}", "config: health threshold %s (default kept)", problem
            )
        for problem in self.flexo.set_rules(config.get("flexo_rules")):
            self.log_once(
                f"config:rules:{problem}", "config: flexo_rules %s (default kept)", problem
            )
        self.config_version_ = version if isinstance(version, str) else None
        log.info(
            "config %s applied: %d sensors%s",
            version,
            len(monitors),
            f", removed {', '.join(removed)}" if removed else "",
        )
        if persist:
            self.store.set_json(CONFIG_KEY, dict(config))
        return True

    def _set_anomaly(self, tag: str, monitor: TagDetectors, sensor: Mapping[str, Any]) -> None:
        """Give *monitor* the anomaly watch of the sensor's model version.

        The watch kept from the previous configuration stays when the
        version is the same; otherwise that version is loaded from the model
        folder (its last readings carried over). A version the folder does
        not hold is logged once and the tag runs without one.
        """
        current = monitor.anomaly
        wanted = sensor_model_version(sensor)
        if wanted is None or self.models_path is None:
            monitor.anomaly = None
            if wanted is not None:
                self.log_once(
                    f"model:off:{tag}",
                    "%s: model version %s configured, but no model folder: no anomaly watch",
                    tag,
                    wanted,
                    level=logging.INFO,
                )
        elif current is None or getattr(current, "version", None) != wanted:
            watch = self._load_watch(tag, wanted)
            if watch is not None and current is not None:
                watch.seed(getattr(current, "buffer_", ()))
            monitor.anomaly = watch
        agg = self.aggregators_.get((tag, ANOMALY))
        if monitor.anomaly is None and agg is not None and agg.is_open:
            self.stale_anomaly_.add(tag)  # cleared by the next readings
        else:
            self.stale_anomaly_.discard(tag)

    def _load_watch(self, tag: str, version: str) -> AnomalyWatch | None:
        try:
            from ..ml.isolation import load_watch

            watch = load_watch(self.models_path or ".", tag, version, every=self.anomaly_every)
        except Exception as exc:  # unreadable file, ML extras missing ...
            self.log_once(
                f"model:error:{tag}:{version}",
                "%s: model version %s cannot be loaded from %s: %s",
                tag,
                version,
                self.models_path,
                exc,
                level=logging.ERROR,
            )
            return None
        if watch is None:
            self.log_once(
                f"model:missing:{tag}:{version}",
                "%s: model version %s is not in %s: no anomaly watch",
                tag,
                version,
                self.models_path,
            )
            return None
        log.info("%s: anomaly model version %s in use", tag, version)
        return watch

    def load_cached_config(self) -> bool:
        """Apply the configuration saved by the last run, if any."""
        cached = self.store.get_json(CONFIG_KEY)
        if not isinstance(cached, dict):
            return False
        self.apply_config(cached, persist=False)
        return True

    # -- messages ------------------------------------------------------------

    def process(self, messages: Sequence[Message], received_at: float | None = None) -> BatchResult:
        """Handle a batch of MQTT messages in one committed transaction.

        A message is ``(topic, payload)``, or ``(topic, payload, readings)``
        where *readings* is what :func:`~connector.ingest.schema.decode_readings`
        gave for the payload of a reading topic, decoded beforehand (by the
        MQTT receiver process), or ``None`` (decoded here).

        Raises
        ------
        StorageError
            The store failed; the batch is rolled back and must not be
            acknowledged.
        """
        now = self.clock() if received_at is None else received_at
        result = BatchResult(messages=len(messages))
        self._flexo_tx.clear()
        try:
            with self.store.transaction():
                self._process(messages, now, result)
        except BaseException:
            self._flexo_tx.clear()
            self.flexo_states_.clear()  # reloaded from the store when needed
            raise
        self.flexo_states_.update(self._flexo_tx)
        self._flexo_tx.clear()
        if now - self.state_saved_at_ >= self.state_every_s_:
            try:
                self.save_state(now)
            except (TypeError, ValueError) as exc:
                self.state_saved_at_ = now
                self.log_once("state:save", "detector state not saved: %s", exc)
        self.readings_total_ += result.readings
        self.duplicates_total_ += result.duplicates
        self.dead_letters_total_ += result.dead_letters
        self.ticks_total_ += result.ticks
        self.meter_readings_total_ += result.meter_readings
        return result

    def _process(self, messages: Sequence[Message], now: float, result: BatchResult) -> None:
        for message in messages:
            topic, payload = message[0], message[1]
            decoded = message[2] if len(message) > 2 else None
            one = BatchResult()  # counted only if the message is kept
            self._flexo_msg.clear()
            try:
                with self.store.savepoint():
                    self._handle(topic, bytes(payload), now, one, decoded)
                self._flexo_tx.update(self._flexo_msg)
                result.readings += one.readings
                result.duplicates += one.duplicates
                result.ticks += one.ticks
                result.meter_readings += one.meter_readings
                result.items += one.items
            except DecodeError as exc:
                self._dead_letter(topic, payload, exc.reason, exc.kind, now, result)
            except self.store.errors:  # a storage failure, never a dead letter
                raise
            except Exception as exc:  # a bug must not stop ingestion
                if self.log_once(
                    f"internal:{type(exc).__name__}",
                    "internal error on %s",
                    topic,
                    level=logging.ERROR,
                ):
                    log.exception("traceback of the internal error above")
                self._dead_letter(
                    topic,
                    payload,
                    f"internal error: {type(exc).__name__}: {exc}",
                    "internal error",
                    now,
                    result,
                )

    def save_state(self, now: float | None = None) -> None:
        """Save the detectors' learned state (CUSUM baseline, on-delays,
        stuck windows, last values: :meth:`TagDetectors.state_dict`, plain
        JSON) with the id of the last reading it includes, so a restart, even
        after SIGKILL, continues where the detectors were: the readings stored
        since are replayed through them. :meth:`process` saves it every
        :data:`DETECTOR_STATE_EVERY_S` seconds, or less often when a save
        takes more than :data:`DETECTOR_STATE_SHARE` of that.
        """
        now = self.clock() if now is None else now
        started = time.perf_counter()
        detectors = {tag: monitor.state_dict() for tag, monitor in self.monitors_.items()}
        with self.store.transaction():
            upto = self.store.reading_cursor()
            self.store.set_json(
                DETECTOR_STATE_KEY,
                {
                    "reading_id": upto,
                    "detectors": detectors,
                    "online": self.engine.state_dict(),
                },
            )
        self.state_saved_at_ = now
        spent = time.perf_counter() - started
        self.state_every_s_ = max(DETECTOR_STATE_EVERY_S, spent / DETECTOR_STATE_SHARE)

    def _saved_state(
        self,
    ) -> tuple[dict[str, Any], int | None, dict[str, Any] | None]:
        saved = self.store.get_json(DETECTOR_STATE_KEY)
        if not isinstance(saved, dict):
            return {}, None, None
        states = saved.get("detectors")
        if states is None and "state" in saved:  # pickled by an earlier version
            try:
                states = states_from_pickle(base64.b64decode(saved["state"]))  # our own store
            except Exception as exc:  # any unreadable blob: start afresh, say so once
                self.log_once(
                    "state:unreadable",
                    "saved detector state (old pickled format) unreadable (%s): "
                    "the detectors learn again",
                    exc,
                )
                states = {}
            else:
                log.info(
                    "saved detector state read from the old pickled format (%d sensors); "
                    "saved as JSON from now on",
                    len(states),
                )
        if not isinstance(states, dict):
            states = {}
        return states, int(saved.get("reading_id") or 0), saved.get("online")

    def _restore(self, saved: Mapping[str, Any]) -> None:
        """Give the new detector sets their saved state (first configuration only)."""
        other_params: list[str] = []
        other_format: list[str] = []
        for tag, state in saved.items():
            monitor = self.monitors_.get(tag)
            if monitor is None:
                continue
            try:
                fresh = monitor.load_state(state)
            except ValueError as exc:
                other_format.append(f"{tag} ({exc})")
                continue
            other_params.extend(f"{tag}.{name}" for name in fresh)
        if other_format:
            self.log_once(
                "state:format",
                "saved detector state ignored for %d sensors, e.g. %s: they learn again",
                len(other_format),
                other_format[0],
            )
        if other_params:
            log.info(
                "saved detector state of %d detectors not restored (parameters changed): %s",
                len(other_params),
                ", ".join(other_params[:10]) + (" ..." if len(other_params) > 10 else ""),
            )

    def _replay_since(self, reading_id: int | None) -> None:
        """Bring restored detectors up to the last stored reading."""
        if reading_id is None:
            return
        replayed = 0
        for reading in self.store.iter_readings(reading_id):
            replayed += 1
            monitor = self.monitors_.get(reading.tag)
            if monitor is not None:
                verdicts = monitor.update(reading.ts, reading.value)
                monitor.gap.note_event(reading.ts)
                if verdicts.get(RULE_VIOLATION) is not None:
                    self.engine.update(reading.tag, reading.ts, reading.value)
        log.info(
            "detector state restored (%d sensors), %d readings replayed",
            len(self.monitors_),
            replayed,
        )

    def _dead_letter(
        self, topic: str, payload: bytes, reason: str, kind: str, now: float, result: BatchResult
    ) -> None:
        self.store.add_dead_letter(topic, bytes(payload), reason, kind, now)
        result.dead_letters += 1
        self.dead_letters_by_kind_[kind] = self.dead_letters_by_kind_.get(kind, 0) + 1
        self.log_once(f"dead:{kind}", "dead letter (%s) on %s: %s", kind, topic, reason)

    def _handle(
        self,
        topic: str,
        payload: bytes,
        now: float,
        result: BatchResult,
        decoded: Sequence[Reading] | None = None,
    ) -> None:
        route = self._routes.get(topic)
        if route is None:
            route = parse_topic(self.topic_prefix, topic)
            if route is not None:  # a known topic: the next message finds it here
                if len(self._routes) >= ROUTES_KEPT:
                    self._routes.clear()
                self._routes[topic] = route
        if route is None:
            raise DecodeError(f"unknown topic: {topic}", "unknown topic")
        if route.kind != "reading":
            self._handle_machine(route, payload, now, result)
            return
        readings = decode_readings(route.name, payload) if decoded is None else decoded
        fresh = self.store.insert_readings(readings, now, route.site)
        tag = route.name
        new = readings if all(fresh) else [r for r, f in zip(readings, fresh, strict=True) if f]
        result.duplicates += len(readings) - len(new)
        result.readings += len(new)
        if not new:
            return
        monitor = self.monitors_.get(tag)
        if monitor is None:
            self.log_once(
                f"unknown-tag:{tag}",
                "readings for %s stored, but it has no sensor configuration in Odoo",
                tag,
                level=logging.INFO,
            )
            return
        sensor_unit = self.sensors_.get(tag, {}).get("unit")
        if sensor_unit and getattr(new, "unit", None) != sensor_unit:
            odd = next((r.unit for r in new if r.unit != sensor_unit), None)
            if odd is not None:
                self.log_once(
                    f"unit:{tag}",
                    "%s: reading unit %r differs from the configured %r",
                    tag,
                    odd,
                    sensor_unit,
                )
        items: list[OutboxItem] = []
        dirty: list[AlertStateRow] = []
        # Every reading of a message arrived at *now*: one arrival for the gap.
        if (tag, DATA_GAP) in self.aggregators_:  # else an inactive verdict changes nothing
            items.extend(self._feed(DATA_GAP, tag, now, OK, new[0].value, dirty))
        newest = max(new.ts) if type(new) is ReadingBatch else max(r.ts for r in new)
        monitor.gap.update(now, event_ts=newest)
        clock = self.event_clocks_.get(route.site)
        if clock is None:
            clock = self.event_clocks_[route.site] = EventClock()
        clock.observe(newest, now)
        self.tag_sites_[tag] = route.site
        stale = tag in self.stale_anomaly_ if self.stale_anomaly_ else False
        if len(new) > 2 and not stale and getattr(monitor, "last_ts_", None) is None:
            # A tag's first readings: the first alone, so that the rest may be
            # taken at once (the detectors take a batch only after a reading).
            self._detect_each(tag, monitor, new[:1], stale, items, dirty)
            new = new[1:]
        if self._detect_quiet(tag, monitor, new, stale):
            self._online_quiet(tag, new, items, dirty)
        else:
            self._detect_each(tag, monitor, new, stale, items, dirty)
        if items or dirty:
            result.items += self._write(items, dirty, now)

    def _handle_machine(
        self, route: Route, payload: bytes, now: float, result: BatchResult
    ) -> None:
        """A FLEXO tick or an energy meter message of one machine."""
        if route.kind == "energy":
            self._energy_meter(route.name, decode_energy(payload), now, result)
            return
        tick = decode_tick(payload, route.name)
        if self.store.insert_tick(
            tick.machine_id,
            tick.timestamp,
            tick.shift,
            payload.decode("utf-8"),
            now,
            route.site,
        ):
            result.ticks += 1
            result.items += self._flexo_step(tick, now)
        else:
            result.duplicates += 1

    def _energy_meter(
        self, machine_id: str, readings: Sequence[Any], now: float, result: BatchResult
    ) -> None:
        """Run the energy engine on a machine's meter readings; queue its items."""
        step = self.energy.meter(self.store.get_json(ENERGY_KEY + machine_id), machine_id, readings)
        result.meter_readings += step.readings
        result.duplicates += step.stale
        if step.resets:
            self.meter_resets_total_ += step.resets
            log.warning(
                "%s: energy meter counter went back (%d reset(s)); counting from zero",
                machine_id,
                step.resets,
            )
        if step.readings:
            self.store.set_json(ENERGY_KEY + machine_id, step.state)
        if step.items:
            result.items += self.store.add_outbox(step.items, now)

    def _energy_units(self, tick: Tick, now: float) -> int:
        """Give the energy engine the units a new tick says were produced."""
        produced = tick.overall.get("produced_units")
        if produced is None or not produced >= 0:
            return 0
        run = tick.overall.get("runtime_minutes") or 0.0
        down = tick.overall.get("downtime_minutes") or 0.0
        key = ENERGY_KEY + tick.machine_id
        step = self.energy.units(
            self.store.get_json(key), tick.machine_id, tick.timestamp, produced, (run + down) * 60.0
        )
        self.store.set_json(key, step.state)
        return self.store.add_outbox(step.items, now) if step.items else 0

    def _detect_quiet(
        self, tag: str, monitor: TagDetectors, new: Sequence[Reading], stale: bool
    ) -> bool:
        """Run the detectors on a message's readings at once, if that is exact.

        Only for several readings of a tag with no open alert of a type the
        detectors report (nor a stale anomaly alert to clear): inactive
        verdicts then change nothing (a closed
        :class:`~connector.detect.alerts.AlertAggregator` ignores them), so when
        :meth:`TagDetectors.update_quiet` proves every verdict inactive and
        takes the readings (True) there is nothing to feed. Otherwise it
        changes nothing (False) and the caller runs the detectors reading
        by reading. The anomaly engine then takes the readings in one call
        (:meth:`_online_quiet`).
        """
        if len(new) < 2 or stale:
            return False
        aggregators = self.aggregators_
        for alert_type in READING_ALERT_TYPES:
            agg = aggregators.get((tag, alert_type))
            if agg is not None and agg.is_open:
                return False
        if self.engine.holds(tag):
            return False
        return self._quiet(monitor, new)

    def _online_quiet(
        self,
        tag: str,
        new: Sequence[Reading],
        items: list[OutboxItem],
        dirty: list[AlertStateRow],
    ) -> None:
        """The online engine on readings the other detectors took at once:
        in one call, its verdicts to the ``anomaly`` aggregator."""
        if type(new) is ReadingBatch:  # columns already
            ts, values = new.ts, new.value
        else:
            ts, values = [r.ts for r in new], [r.value for r in new]
        verdicts = self.engine.update_many(tag, ts, values)
        fed = (tag, ANOMALY) in self.aggregators_
        for i, verdict in enumerate(verdicts):
            if verdict.active or fed:
                items.extend(self._feed(ANOMALY, tag, ts[i], verdict, values[i], dirty))
                fed = (tag, ANOMALY) in self.aggregators_

    @staticmethod
    def _quiet(monitor: TagDetectors, new: Sequence[Reading]) -> bool:
        if type(new) is ReadingBatch:  # columns already
            return monitor.update_quiet(new.ts, new.value)
        return monitor.update_quiet([r.ts for r in new], [r.value for r in new])

    def _detect_each(
        self,
        tag: str,
        monitor: TagDetectors,
        new: Sequence[Reading],
        stale: bool,
        items: list[OutboxItem],
        dirty: list[AlertStateRow],
    ) -> None:
        """Run the detectors reading by reading and feed the aggregators."""
        open_types = self.aggregators_
        update = monitor.update
        for reading in new:
            verdicts = update(reading.ts, reading.value)
            if not verdicts:
                self.log_once(
                    f"order:{tag}",
                    "%s: reading not newer than the last one, stored but not evaluated",
                    tag,
                    level=logging.INFO,
                )
                continue
            if stale and RULE_VIOLATION in verdicts:  # no watch any more: the condition ended
                verdicts = {**verdicts, ANOMALY: OK}
            if RULE_VIOLATION in verdicts:  # a process reading: the online engine scores it
                online = self.engine.update(tag, reading.ts, reading.value)
                online = self.engine.leave_to_rules(tag, online, verdicts[RULE_VIOLATION])
                model = verdicts.get(ANOMALY)
                if model is None or not model.active:
                    verdicts = {**verdicts, ANOMALY: online}
                elif online.active:
                    verdicts = {**verdicts, ANOMALY: combine([model, online])}
            for alert_type, verdict in verdicts.items():
                if verdict.active or (tag, alert_type) in open_types:
                    items.extend(
                        self._feed(alert_type, tag, reading.ts, verdict, reading.value, dirty)
                    )
        if stale and not self.aggregators_[(tag, ANOMALY)].is_open:
            self.stale_anomaly_.discard(tag)

    def _flexo_state(self, machine_id: str) -> dict[str, Any] | None:
        for layer in (self._flexo_msg, self._flexo_tx, self.flexo_states_):
            if machine_id in layer:
                return layer[machine_id]
        state = self.store.get_json(FLEXO_KEY + machine_id)
        if isinstance(state, dict):
            self.flexo_states_[machine_id] = state
            return state
        return None

    def _flexo_step(self, tick: Tick, now: float) -> int:
        """Run the engine on a new tick; queue its items, keep its state."""
        step = self.flexo.step(self._flexo_state(tick.machine_id), tick)
        if step.assessment is None:
            self.log_once(
                f"flexo-order:{tick.machine_id}",
                "%s: tick not newer than the last one, stored but not evaluated",
                tick.machine_id,
                level=logging.INFO,
            )
            return 0
        self.store.set_json(FLEXO_KEY + tick.machine_id, step.state)
        self._flexo_msg[tick.machine_id] = step.state
        queued = self._energy_units(tick, now)
        self.flexo_latest_[tick.machine_id] = step.assessment
        if step.status_changed and step.assessment.status is not None:
            log.info(
                "%s: system status %s (provisional OEE of the shift %.1f %%)",
                tick.machine_id,
                step.assessment.status,
                step.assessment.oee_pct or 0.0,
            )
        return queued + (self.store.add_outbox(step.items, now) if step.items else 0)

    def _new_aggregator(self, tag: str, alert_type: str) -> AlertAggregator:
        clear_delay = 0.0 if alert_type == DATA_GAP else self.clear_delay_s
        return AlertAggregator(tag, alert_type, self.active_interval_s, clear_delay)

    def _feed(
        self,
        alert_type: str,
        tag: str,
        ts: float,
        verdict: Verdict,
        value: float | None,
        dirty: list[AlertStateRow],
    ) -> list[OutboxItem]:
        key = (tag, alert_type)
        agg = self.aggregators_.get(key)
        if agg is None:
            if not verdict.active:
                return []
            agg = self.aggregators_[key] = self._new_aggregator(tag, alert_type)
        items = agg.update(ts, verdict, value)
        if agg.dirty_:
            dirty.append(agg.state)
        return items

    def _write(self, items: list[OutboxItem], dirty: list[AlertStateRow], now: float) -> int:
        for state in dirty:
            self.store.save_alert_state(state, now)
        return self.store.add_outbox(items, now) if items else 0

    # -- timers --------------------------------------------------------------

    def check_gaps(self, now: float | None = None) -> int:
        """Run the data-gap timers; return how many items were queued."""
        t = self.clock() if now is None else now
        items: list[OutboxItem] = []
        dirty: list[AlertStateRow] = []
        if self.gaps_since_ is None:
            self.gaps_since_ = t
        # A tag that never reported is judged on the clock of the site that
        # reported last; before any reading at all (a publisher that starts
        # after the connector), only after a grace.
        newest = max(self.event_clocks_.values(), key=lambda c: c.newest_ or 0.0, default=None)
        waiting = newest is None and t - self.gaps_since_ < UNSEEN_GRACE_S
        for tag, monitor in self.monitors_.items():
            clock = self.event_clocks_.get(self.tag_sites_.get(tag, ""))
            if clock is None:
                if waiting:
                    continue
                clock = newest
            verdict = monitor.gap.check(t, clock.now(t) if clock is not None else None)
            items.extend(self._feed(DATA_GAP, tag, t, verdict, None, dirty))
        if not items and not dirty:
            return 0
        with self.store.transaction():
            return self._write(items, dirty, t)

    def rearm_gaps(self, now: float | None = None) -> None:
        """Restart the gap timers (the connector itself was disconnected)."""
        t = self.clock() if now is None else now
        for monitor in self.monitors_.values():
            monitor.gap.rearm(t)

    def enqueue(self, items: Iterable[OutboxItem]) -> int:
        """Queue items that do not come from readings (e.g. heartbeats)."""
        return self.store.add_outbox(items, self.clock())

    def silent_tags(self) -> list[str]:
        """Return the configured tags whose data-gap condition holds."""
        snapshot = list(self.monitors_.items())  # safe from other threads
        return sorted(tag for tag, monitor in snapshot if monitor.gap.active_)

    def open_alerts(self) -> list[tuple[str, str]]:
        """Return ``(tag, alert_type)`` of every open alert."""
        snapshot = list(self.aggregators_.items())  # safe from other threads
        return sorted(k for k, a in snapshot if a.is_open)

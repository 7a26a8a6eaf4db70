"""The daemon: wires MQTT, the pipeline, the outbox pusher and Odoo together.

Threads
-------
* the **MQTT receiver** puts received messages on a queue. By default
  (``mqtt_receiver = "process"``) paho runs in a child process
  (:mod:`connector.ingest.mqtt_proc`), so that parsing MQTT packets and the
  ingest worker run on two cores; with ``"thread"`` paho's network thread
  runs here (:mod:`connector.ingest.mqtt`). Either way a message is
  acknowledged only after the worker's transaction committed;
* the **ingest worker** takes up to ``ingest_batch_max`` queued messages,
  runs them through :class:`~connector.ingest.pipeline.Pipeline` in one store
  transaction, then acknowledges them to the broker (durable before ack). It
  also runs the data-gap timer, queues heartbeats and applies a new
  configuration, so the pipeline is only ever touched by this thread;
* the **pusher** drains the outbox into Odoo;
* the **config poller** pulls ``get_connector_config`` every
  ``config_poll_s`` and hands a new version to the worker;
* the **job runner** claims the predictions and trainings requested in
  Odoo every ``jobs_poll_s`` and runs them (:mod:`connector.jobs`);
* the **checkpoint** thread copies SQLite's write-ahead log into the
  database every second on its own connection, so that the ingest
  transaction's commit is a single append and ``fsync`` of the log;
* the **history** thread compacts the local history every
  ``history_compact_s`` (:mod:`connector.store.history`) and queues closed
  minutes for Odoo, on its own store connection;
* optionally a small HTTP server answers ``GET /health`` (JSON) and
  ``GET /metrics`` (Prometheus text, :mod:`connector.metrics`).

Start-up: open the store, load the last configuration pulled from Odoo (if
any), then ask Odoo for the current one. Without a cached configuration the
service waits (retrying with backoff) until Odoo answers; with one, it
starts at once and refreshes in the background. Only then does MQTT start,
so no reading is evaluated without its limits.

Shutdown (SIGTERM/SIGINT or :meth:`Service.stop`): publish ``offline``,
disconnect from the broker (the session and its queued messages stay on the
broker), store what was already received, push the outbox for up to
``shutdown_flush_s`` seconds, close the store. Whatever was not pushed is
still in the outbox at the next start.

Programmatic use::

    from connector.config import Settings
    from connector.service import Service

    service = Service(Settings.load("connector.toml"))
    service.run()          # blocks until service.stop() or a signal
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, cast

from . import native
from .config import Settings
from .energy import EnergyEngine
from .flexo.engine import FlexoEngine, Predictor, parse_tag_map
from .ingest.mqtt import Message, MqttIngest, Receiver
from .ingest.mqtt_proc import MqttProcess
from .ingest.pipeline import Pipeline
from .jobs import JobRunner
from .metrics import ConnectorMetrics, Snapshot, TimedOdoo, machines_of
from .push.items import heartbeat_item
from .push.odoo_client import OdooClient, OdooError, OdooUnreachableError
from .push.pusher import Pusher, backoff_delay
from .store import StorageError, Store, open_store
from .store.history import History
from .util import LogOnce

log = logging.getLogger(__name__)

GAP_CHECK_S = 1.0
#: Runs of messages from the receiver process the worker's queue holds (a
#: run is what arrived in one transfer, at most ``FORWARD_PENDING_MAX``);
#: when it is full the receiver waits, and the broker keeps the backlog.
QUEUED_RUNS_MAX = 16
#: The same bound for the in-process receiver, which queues each message.
QUEUED_MESSAGES_MAX = 8192
CHECKPOINT_S = 1.0
#: Silent tags listed by name in ``/health`` (the count is always there).
HEALTH_MAX_TAGS = 50


def repair_predictor() -> Predictor:
    """Predict repair hours with the active repair-duration model, if any.

    The model (:mod:`connector.ml.duration`, trained with ``python -m
    connector train-duration``) is looked up at each call, so a model
    trained or activated while the daemon runs is used from then on; without
    one (or without scikit-learn) the answer is ``None`` and no
    ``prediction`` item is made.
    """
    missing = LogOnce(log)

    def predict(component: str, produced: float, reject: float) -> tuple[float, str] | None:
        try:
            from .ml.duration import load_model

            model, version = load_model()
        except Exception as exc:  # no model trained, or the ML extras missing
            missing(
                "no-model", "no repair-duration model, no predictions: %s", exc, level=logging.INFO
            )
            return None
        return float(model.predict_one(component, produced, reject)), version

    return predict


class Service:
    """The connector daemon.

    Parameters
    ----------
    settings : Settings
        Configuration.
    odoo : OdooClient, optional
        Client to use (default: built from the settings).
    clock : callable
        Current epoch time.
    """

    def __init__(
        self,
        settings: Settings,
        odoo: OdooClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.odoo = odoo or OdooClient(
            settings.odoo_url,
            settings.odoo_db,
            settings.odoo_login,
            settings.odoo_api_key,
            settings.odoo_timeout_s,
        )
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.exit_code = 0
        self.log_once = LogOnce(log)
        # Runs of received messages (the receiver process hands them over in
        # runs; the in-process one, each message as a run of one).
        bound = QUEUED_RUNS_MAX if settings.mqtt_receiver == "process" else QUEUED_MESSAGES_MAX
        self._queue: queue.Queue[Sequence[Message]] = queue.Queue(bound)
        self._new_config: dict[str, Any] | None = None
        self._config_lock = threading.Lock()
        self._connection_changed: bool | None = None
        self._threads: list[threading.Thread] = []
        self._http: ThreadingHTTPServer | None = None
        self.store: Store | None = None
        self.pipeline: Pipeline | None = None
        self.pusher: Pusher | None = None
        self.mqtt: Receiver | None = None
        self.history: History | None = None
        self.status_store: Store | None = None
        self.jobs: JobRunner | None = None
        self.stats: dict[str, Any] = {"readings_per_s": 0.0, "backlog": 0, "dead_letters": 0}
        self.metrics = ConnectorMetrics(self.metrics_snapshot)

    # -- public --------------------------------------------------------------

    def run(self, install_signals: bool = True) -> int:
        """Run until stopped; return the process exit code.

        Parameters
        ----------
        install_signals : bool
            Handle SIGTERM and SIGINT (only possible in the main thread).
        """
        if install_signals and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._start()
            if not self.stop_event.is_set():
                self.ready.set()
                self.stop_event.wait()
        except StorageError as exc:
            log.critical("store failure, stopping: %s", exc)
            self.exit_code = 1
        finally:
            self._shutdown()
        return self.exit_code

    def stop(self, exit_code: int | None = None) -> None:
        """Ask the service to stop (thread-safe)."""
        if exit_code is not None:
            self.exit_code = exit_code
        self.stop_event.set()

    # -- start ---------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %s received, stopping", signal.Signals(signum).name)
        self.stop()

    def _start(self) -> None:
        s = self.settings
        self.store = open_store(s.store_path, autocheckpoint=False)
        self.status_store = open_store(s.store_path)
        self.pipeline = Pipeline(
            self.store,
            s.mqtt_topic_prefix,
            s.alert_active_interval_s,
            s.alert_clear_delay_s,
            s.cusum_baseline_n,
            s.cusum_window_s,
            clock=self.clock,
            flexo=FlexoEngine(
                s.flexo_snapshot_interval_s,
                parse_tag_map(s.flexo_machine_tags),
                parse_tag_map(s.flexo_component_tags),
                predictor=repair_predictor(),
                meter_interval_s=s.flexo_meter_interval_s,
            ),
            models_path=s.models_folder,
            anomaly_every=s.anomaly_every,
            energy=EnergyEngine(
                s.energy_period_s,
                s.energy_close_delay_s,
                parse_tag_map(s.flexo_machine_tags),
            ),
        )
        log.info("anomaly engine: %s", native.describe())
        cached = self.pipeline.load_cached_config()
        if cached:
            log.info(
                "using the cached configuration %s until Odoo answers", self.pipeline.config_version
            )
        self._initial_config(wait=not cached)
        if self.stop_event.is_set():
            return
        self.pusher = Pusher(
            open_store(s.store_path),
            cast(OdooClient, TimedOdoo(self.odoo, self.metrics)),
            s.push_batch_size,
            s.push_batch_age_s,
            s.push_retry_base_s,
            s.push_retry_max_s,
            s.push_max_item_attempts,
            clock=self.clock,
        )
        if s.mqtt_receiver == "process":
            self.mqtt = MqttProcess(
                s, self._put_one, self._on_connection_change, on_batch=self._put_run
            )
        else:
            self.mqtt = MqttIngest(s, self._put_one, self._on_connection_change)
        self._spawn("ingest", self._ingest_loop)
        self._spawn("checkpoint", self._checkpoint_loop, open_store(s.store_path))
        self._spawn("pusher", self.pusher.run, self.stop_event)
        self._spawn("config", self._config_loop)
        if s.jobs_poll_s:
            self.jobs = JobRunner(
                open_store(s.store_path),
                self.odoo,
                s.connector_id,
                s.models_folder,
                s.jobs_poll_s,
                wake=self._wake_pusher,
                clock=self.clock,
            )
            self._spawn("jobs", self.jobs.run, self.stop_event)
        if s.history_compact_s:
            pipeline = self.pipeline
            self.history = History(
                open_store(s.store_path),
                close_delay_s=s.history_close_delay_s,
                raw_days=s.history_raw_days,
                minute_days=s.history_minute_days,
                hour_days=s.history_hour_days,
                keep_sent_s=s.outbox_keep_sent_days * 86400.0,
                push=s.history_push_minutes,
                push_tags=lambda: frozenset(pipeline.sensors_),
            )
            self._spawn("history", self._history_loop)
        if s.health_port:
            self._start_health()
        self.mqtt.start()

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(
            target=self._guard, args=(target, *args), name=f"connector-{name}", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def _guard(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except StorageError as exc:
            log.critical("store failure, stopping: %s", exc)
            self.stop(1)
        except Exception:
            log.exception("thread %s died, stopping", threading.current_thread().name)
            self.stop(1)

    def _fetch_config(self) -> dict[str, Any] | None:
        try:
            return self.odoo.get_connector_config()
        except OdooUnreachableError as exc:
            self.log_once("config:unreachable", "cannot pull the configuration from Odoo: %s", exc)
        except OdooError as exc:
            self.log_once(
                f"config:error:{exc.name}",
                "Odoo refused the configuration call: %s",
                exc,
                level=logging.ERROR,
            )
        return None

    def _initial_config(self, wait: bool) -> None:
        assert self.pipeline is not None
        failures = 0
        while not self.stop_event.is_set():
            config = self._fetch_config()
            if config is not None and self._apply(config):
                return
            if not wait:
                return
            failures += 1
            delay = backoff_delay(
                failures, self.settings.push_retry_base_s, self.settings.push_retry_max_s
            )
            if failures == 1:
                log.warning("no cached configuration: waiting for Odoo")
            self.stop_event.wait(delay)

    def _apply(self, config: dict[str, Any]) -> bool:
        """Apply a configuration from Odoo; a malformed one is logged, not fatal."""
        assert self.pipeline is not None
        try:
            self.pipeline.apply_config(config)
        except (ValueError, TypeError, AttributeError) as exc:
            self.log_once(
                f"config:malformed:{exc}",
                "configuration %r from Odoo not usable: %s",
                config.get("version") if isinstance(config, dict) else None,
                exc,
                level=logging.ERROR,
            )
            return False
        return True

    def _config_loop(self) -> None:
        interval = self.settings.config_poll_s or 30.0
        while not self.stop_event.wait(interval):
            config = self._fetch_config()
            if config is None:
                continue
            assert self.pipeline is not None
            if config.get("version") != self.pipeline.config_version:
                with self._config_lock:
                    self._new_config = config

    def _checkpoint_loop(self, store: Store) -> None:
        try:
            while not self.stop_event.wait(CHECKPOINT_S):
                store.checkpoint()
        finally:
            store.close()

    def _history_loop(self) -> None:
        assert self.history is not None
        while not self.stop_event.wait(self.settings.history_compact_s):
            stats = self.history.compact(self.clock())
            if stats.items:
                self._wake_pusher()

    def _on_connection_change(self, connected: bool) -> None:
        self._connection_changed = connected

    # -- ingest worker -------------------------------------------------------

    def _ingest_loop(self) -> None:
        assert self.pipeline is not None and self.mqtt is not None
        s = self.settings
        next_gap = self.clock() + GAP_CHECK_S
        next_beat = self.clock() + (s.heartbeat_s or 60.0)
        last_beat = self.clock()
        readings_at_beat = 0
        while not self.stop_event.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                first = None
            if first is not None:
                self._process([*first, *self._drain(s.ingest_batch_max - len(first))])
            now = self.clock()
            with self._config_lock:
                config, self._new_config = self._new_config, None
            if config is not None:
                self._apply(config)
            changed, self._connection_changed = self._connection_changed, None
            if changed:
                self.pipeline.rearm_gaps(now)
            if now >= next_gap:
                next_gap = now + GAP_CHECK_S
                # Behind on a backlog, silence cannot be judged: readings wait.
                backlog = not self._queue.empty()
                if self.mqtt.connected.is_set() and not backlog and self.pipeline.check_gaps(now):
                    self._wake_pusher()
            if s.heartbeat_s and now >= next_beat:
                total = self.pipeline.readings_total_
                rate = (total - readings_at_beat) / max(now - last_beat, 1e-9)
                readings_at_beat, last_beat = total, now
                next_beat = now + s.heartbeat_s
                self._heartbeat(now, rate)

    def _put_one(self, message: Message) -> None:
        self._put_run((message,))

    def _put_run(self, run: Sequence[Message]) -> None:
        """Queue received messages for the worker; wait while the queue is
        full, so that a backlog stays in the broker, not in memory. When
        stopping, a run that finds no room is dropped: it was not
        acknowledged, the broker delivers it again."""
        while True:
            try:
                self._queue.put(run, timeout=0.2)
                return
            except queue.Full:
                if self.stop_event.is_set():
                    return

    def _drain(self, limit: int) -> list[Message]:
        """Take queued runs of messages until about *limit* messages (a run is not split)."""
        out: list[Message] = []
        while len(out) < limit:
            try:
                out.extend(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def _process(self, messages: list[Message]) -> None:
        assert self.pipeline is not None and self.mqtt is not None
        result = self.pipeline.process([(m.topic, m.payload, m.readings) for m in messages])
        self.mqtt.ack_many(messages)  # committed: now the broker may forget them
        if result.items:
            self._wake_pusher()

    def _wake_pusher(self) -> None:
        if self.pusher is not None:
            self.pusher.wake()

    def _heartbeat(self, now: float, rate: float) -> None:
        assert self.store is not None and self.pipeline is not None
        assert self.mqtt is not None
        backlog, _ = self.store.pending_stats()
        dead = self.store.dead_letter_total()
        self.stats.update(readings_per_s=rate, backlog=backlog, dead_letters=dead)
        self.pipeline.enqueue(
            [
                heartbeat_item(
                    self.settings.connector_id,
                    now,
                    mqtt_connected=self.mqtt.connected.is_set(),
                    backlog=backlog,
                    readings_per_s=rate,
                    dead_letters=dead,
                    heartbeat_interval_s=self.settings.heartbeat_s,
                )
            ]
        )
        self._wake_pusher()

    # -- health endpoint -----------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Return the health document served on ``GET /health``.

        ``mqtt_connected``, ``odoo_reachable`` (``None`` before the first
        push), ``backlog`` (pending outbox items) with the age of the oldest,
        ``rejected`` items, ``silent_tags`` (configured sensors whose data
        gap is open; at most :data:`HEALTH_MAX_TAGS` names, the count in
        ``silent_tag_count``), open alerts, the FLEXO machines' provisional
        status and the last history compaction.
        """
        pusher, mqtt, pipeline = self.pusher, self.mqtt, self.pipeline
        backlog, oldest_age, rejected = self.stats["backlog"], None, None
        if self.status_store is not None:
            try:  # the health endpoint must always answer
                backlog, oldest = self.status_store.pending_stats()
                rejected = self.status_store.outbox_counts()["rejected"]
                if oldest is not None:
                    oldest_age = round(max(0.0, self.clock() - oldest), 3)
            except Exception:
                pass
        silent = pipeline.silent_tags() if pipeline else []
        history = self.history.last_stats_ if self.history is not None else None
        return {
            "connector_id": self.settings.connector_id,
            "mqtt_connected": bool(mqtt and mqtt.connected.is_set()),
            "odoo_reachable": None if pusher is None else pusher.odoo_ok_,
            "odoo_last_ok_at": None if pusher is None else pusher.last_ok_at_,
            "config_version": (None if pipeline is None else pipeline.config_version),
            "backlog": backlog,
            "backlog_oldest_age_s": oldest_age,
            "rejected": rejected,
            "readings_per_s": round(self.stats["readings_per_s"], 3),
            "dead_letters": self.stats["dead_letters"],
            "open_alerts": len(pipeline.open_alerts()) if pipeline else 0,
            "silent_tag_count": len(silent),
            "silent_tags": silent[:HEALTH_MAX_TAGS],
            "machines": {
                machine: {"status": m.status, "oee_provisional": m.oee_pct, "health": m.scores}
                for machine, m in machines_of(pipeline.flexo_latest_ if pipeline else {}).items()
            },
            "history": None
            if history is None
            else {
                "last_run_at": self.history.last_run_at_ if self.history else None,
                "minutes": history.minutes,
                "seconds": round(history.seconds, 3),
            },
        }

    def metrics_snapshot(self) -> Snapshot:
        """Collect the values ``GET /metrics`` exposes."""
        pipeline, pusher, mqtt, store = self.pipeline, self.pusher, self.mqtt, self.status_store
        snap = Snapshot(
            connector_id=self.settings.connector_id,
            mqtt_connected=bool(mqtt and mqtt.connected.is_set()),
            readings_per_s=float(self.stats["readings_per_s"]),
        )
        if pipeline is not None:
            snap.config_version = pipeline.config_version
            snap.readings = pipeline.readings_total_
            snap.duplicates = pipeline.duplicates_total_
            snap.ticks = pipeline.ticks_total_
            snap.meter_readings = pipeline.meter_readings_total_
            snap.meter_resets = pipeline.meter_resets_total_
            snap.sensors = len(pipeline.monitors_)
            snap.silent_tags = len(pipeline.silent_tags())
            snap.open_alerts = len(pipeline.open_alerts())
            snap.machines = machines_of(pipeline.flexo_latest_)
        if pusher is not None:
            snap.sent_total = pusher.sent_total_
            snap.rejected_total = pusher.rejected_total_
            snap.odoo_reachable = pusher.odoo_ok_
        if self.history is not None:
            snap.history_minutes = self.history.minutes_total_
            if self.history.last_stats_ is not None:
                snap.history_seconds = self.history.last_stats_.seconds
        if store is not None:
            try:
                counts = store.outbox_counts()
                snap.outbox_pending, snap.outbox_rejected = counts["pending"], counts["rejected"]
                _, oldest = store.pending_stats()
                if oldest is not None:
                    snap.outbox_oldest_age_s = max(0.0, self.clock() - oldest)
                snap.dead_letters = store.dead_letters_by_kind()
            except Exception:  # a scrape must always answer
                pass
        return snap

    def _start_health(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0].rstrip("/")
                if path == "/metrics":
                    body, content_type = service.metrics.render()
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if path not in ("/health", ""):
                    self.send_error(404)
                    return
                doc = service.health()
                body = json.dumps(doc).encode("utf-8")
                self.send_response(200 if doc["mqtt_connected"] else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        s = self.settings
        self._http = ThreadingHTTPServer((s.health_host, s.health_port), Handler)
        self._spawn("health", self._http.serve_forever)
        log.info(
            "health endpoint on http://%s:%d/health (and /metrics)",
            s.health_host,
            self._http.server_address[1],
        )

    # -- shutdown ------------------------------------------------------------

    def _shutdown(self) -> None:
        self.stop_event.set()
        if self.mqtt is not None:
            self.mqtt.stop()
        for thread in self._threads:
            if thread.name == "connector-ingest":
                thread.join(10)
        ok = self.exit_code == 0
        if self.pipeline is not None and not self._queue.empty() and ok:
            try:  # already received: keep it (the broker redelivers, deduped)
                self.pipeline.process([(m.topic, m.payload) for m in self._drain(sys.maxsize)])
            except StorageError as exc:
                log.critical("store failure at shutdown: %s", exc)
                self.exit_code = 1
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for thread in self._threads:
            thread.join(5)
        if self.pusher is not None and self.exit_code == 0:
            left = self.pusher.flush(self.settings.shutdown_flush_s)
            if left:
                log.info("%d items stay in the outbox for the next start", left)
        if self.pusher is not None:
            self.pusher.store.close()
        if self.history is not None:
            self.history.store.close()
        if self.status_store is not None:
            self.status_store.close()
        if self.store is not None:
            self.store.close()
        log.info("stopped")

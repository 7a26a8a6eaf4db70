"""Jobs Odoo asks the connector to run: repair-duration predictions and
anomaly-model trainings.

A supervisor or a manager records the request in Odoo
(``cmms.connector.job``); Odoo never runs a model. :class:`JobRunner`
(a thread of the daemon) asks Odoo every ``jobs_poll_s`` for work with
``cmms.telemetry.api.claim_jobs(connector_id)``, runs what it gets one job
at a time, and reports through the outbox, like everything else it sends:

* ``job_update`` items with ``state = "running"`` and a ``progress``
  percentage while the job runs (key ``job:<id>:<attempt>:<step>``); each
  renews the job's lease in Odoo;
* one outcome item, ``state = "done"`` with the prediction or the new model
  version, or ``state = "failed"`` with the reason (key
  ``job:<id>:result``, whatever the attempt).

Done once
---------
Each claim lists the jobs whose outcome still waits in the outbox (the
connector holds them until Odoo has the outcome). Odoo hands a claimed job
out again when its connector no longer lists it (a restart in the middle
of the job) or when its lease ran out (a connector that died). Running it
twice must not make two results:

* the outcome item's key is the job's, so a second outcome is a duplicate
  in Odoo, and Odoo ignores anything that arrives after a job ended;
* the outcome is queued in the same store transaction as a local note
  (``job:<id>`` in the store's key-value table); a job claimed again whose
  outcome is already queued is not run again, the pusher delivers it;
* a training registers its model version with the job's key in the
  metrics; run again, it finds that version in the registry and reports it
  instead of registering another.

A job's bad input (no trained duration model, an unknown component, no
readings of the tag in the period) ends it as ``failed`` with a message the
requester reads in Odoo; the daemon goes on.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .push.items import JOB_UPDATE, OutboxItem, make_key
from .push.odoo_client import OdooClient, OdooError, OdooUnreachableError
from .store import StorageError, Store
from .util import LogOnce, iso_utc

log = logging.getLogger(__name__)

PREDICT_DURATION = "predict_duration"
TRAIN_ISOLATION = "train_isolation"
JOB_TYPES = (PREDICT_DURATION, TRAIN_ISOLATION)


class JobError(ValueError):
    """A job that cannot be done as asked; the message is for the requester."""


def job_update_item(
    spec: Mapping[str, Any],
    state: str,
    now: float,
    *,
    progress: float = 0.0,
    message: str = "",
    step: str = "",
    result: Mapping[str, Any] | None = None,
    error: str = "",
    extra: Mapping[str, Any] | None = None,
) -> OutboxItem:
    """A ``job_update`` item of the job *spec* (as ``claim_jobs`` returned it).

    >>> spec = {"job_id": 7, "key": "job:7", "type": "predict_duration", "attempt": 2}
    >>> job_update_item(spec, "running", 0.0, progress=40, step="model").key
    'job:7:2:model'
    >>> job_update_item(spec, "failed", 0.0, error="no model").key
    'job:7:result'
    """
    data: dict[str, Any] = {
        "job_id": int(spec["job_id"]),
        "attempt": int(spec["attempt"]),
        "state": state,
        "progress": round(float(progress), 1),
    }
    if message:
        data["message"] = message[:255]
    if result:
        data["result"] = dict(result)
    if error:
        data["error"] = error[:2000]
    if extra:
        data.update(extra)
    key = (
        make_key(spec["key"], spec["attempt"], step or f"{progress:g}")
        if state == "running"
        else make_key(spec["key"], "result")
    )
    return OutboxItem(key=key, type=JOB_UPDATE, ts=iso_utc(now), data=data)


def _outcome_note(job_id: Any) -> str:
    return f"job:{int(job_id)}"


class JobRunner:
    """Claim jobs from Odoo and run them (see the module docstring).

    Parameters
    ----------
    store : Store
        The connector's store (its own connection): readings to train on,
        the outbox, the local note of queued outcomes.
    odoo : OdooClient
        Client for ``claim_jobs``.
    connector_id : str
        This connector's id (the one of its heartbeats).
    models_dir : str
        The model registry folder.
    poll_s : float
        Seconds between two claims when there was nothing to do.
    wake : callable
        Tells the pusher that items were queued.
    clock : callable
        Current epoch time.
    """

    def __init__(
        self,
        store: Store,
        odoo: OdooClient,
        connector_id: str,
        models_dir: str,
        poll_s: float = 10.0,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.odoo = odoo
        self.connector_id = connector_id
        self.models_dir = models_dir
        self.poll_s = poll_s
        self.wake = wake
        self.clock = clock
        self.log_once = LogOnce(log)
        self.done_total = 0
        self.failed_total = 0

    # -- loop ------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Claim and run jobs until *stop* is set (run it in its own thread)."""
        try:
            while not stop.is_set():
                ran = self.poll_once()
                if not ran:
                    stop.wait(self.poll_s)
        finally:
            self.store.close()

    def poll_once(self) -> int:
        """Claim jobs once and run them; return how many were claimed."""
        try:
            specs = self.odoo.claim_jobs(self.connector_id, self.held())
        except OdooUnreachableError as exc:
            self.log_once("jobs:unreachable", "cannot ask Odoo for jobs: %s", exc)
            return 0
        except OdooError as exc:
            self.log_once(
                f"jobs:error:{exc.name}", "Odoo refused claim_jobs: %s", exc, level=logging.ERROR
            )
            return 0
        if not isinstance(specs, list):
            return 0
        for spec in specs:
            if isinstance(spec, dict):
                self.run_job(spec)
        return len(specs)

    def held(self) -> list[int]:
        """Jobs this connector still holds: their outcome waits in the outbox.

        Odoo renews their leases and does not hand them out again; read from
        the store, so a restarted connector holds them too.
        """
        rows = self.store.execute(
            "SELECT key FROM outbox WHERE type = ? AND status = ?", (JOB_UPDATE, "pending")
        )
        held = []
        for (key,) in rows:
            parts = str(key).split(":")
            if len(parts) == 3 and parts[0] == "job" and parts[2] == "result":
                with contextlib.suppress(ValueError):
                    held.append(int(parts[1]))
        return sorted(held)

    # -- one job -----------------------------------------------------------------

    def run_job(self, spec: Mapping[str, Any]) -> str:
        """Run one claimed job; return ``done``, ``failed`` or ``queued`` (its
        outcome was queued by an earlier attempt)."""
        note = _outcome_note(spec["job_id"])
        earlier = self.store.get_json(note)
        if earlier:
            log.info(
                "job %s: its outcome (%s) is already queued, not run again",
                spec["job_id"],
                earlier.get("state"),
            )
            self.wake()
            return "queued"
        log.info(
            "job %s (%s, attempt %s) started", spec["job_id"], spec.get("type"), spec.get("attempt")
        )
        try:
            if spec.get("type") == PREDICT_DURATION:
                item = self._predict(spec)
            elif spec.get("type") == TRAIN_ISOLATION:
                item = self._train(spec)
            else:
                raise JobError(f"unknown job type {spec.get('type')!r}")
        except JobError as exc:
            item = job_update_item(spec, "failed", self.clock(), error=str(exc))
        except StorageError:
            raise  # the store failed, not the job: the daemon stops, the job is run again
        except Exception as exc:  # a bug or a broken model file: the job fails, not the daemon
            log.exception("job %s failed", spec["job_id"])
            item = job_update_item(
                spec, "failed", self.clock(), error=f"{type(exc).__name__}: {exc}"
            )
        state = item.data["state"]
        with self.store.transaction():
            self.store.add_outbox([item], self.clock())
            self.store.set_json(note, {"state": state, "attempt": spec["attempt"]})
        self.wake()
        if state == "done":
            self.done_total += 1
        else:
            self.failed_total += 1
        log.info("job %s %s", spec["job_id"], state)
        return state

    def progress(self, spec: Mapping[str, Any], percent: float, step: str, message: str) -> None:
        """Queue a progress report of *spec* (it also renews the job's lease)."""
        item = job_update_item(
            spec, "running", self.clock(), progress=percent, step=step, message=message
        )
        self.store.add_outbox([item], self.clock())
        self.wake()
        self.after_step(spec, step)

    def after_step(self, spec: Mapping[str, Any], step: str) -> None:
        """Called after each progress report (a hook for tests; nothing here)."""

    # -- predictions -----------------------------------------------------------

    def _predict(self, spec: Mapping[str, Any]) -> OutboxItem:
        from .ml.duration import load_model, prediction_item
        from .ml.io import InputError

        self.progress(spec, 10, "model", "loading the repair-duration model")
        try:
            model, version = load_model(None, self.models_dir)
            row = model.check_inputs(
                spec.get("component"), spec.get("produced"), spec.get("reject")
            )
        except InputError as exc:
            raise JobError(str(exc)) from None
        self.progress(spec, 50, "predict", "predicting")
        hours = round(max(0.0, float(model.predict([row])[0])), 3)
        notes = model.out_of_range(row)
        item = prediction_item(
            row["component"],
            row["shift_produced"],
            row["shift_reject"],
            hours,
            version,
            tag=spec.get("tag") or None,
            ref=spec["key"],
        )
        result: dict[str, Any] = {"predicted_hours": hours, "model_version": version}
        if notes:
            result["notes"] = "; ".join(notes)
        return job_update_item(
            spec,
            "done",
            self.clock(),
            progress=100,
            message=f"{hours:.2f} h",
            result=result,
            extra={"prediction": item.data},
        )

    # -- trainings -------------------------------------------------------------

    def _train(self, spec: Mapping[str, Any]) -> OutboxItem:
        from .ml.io import InputError, parse_time
        from .ml.isolation import KIND, IsolationForestDetector
        from .ml.registry import ModelRegistry, model_version_item

        tag = spec.get("tag")
        if not isinstance(tag, str) or not tag:
            raise JobError("the job names no sensor tag")
        registry = ModelRegistry(self.models_dir)
        # Run again after a restart: the version it registered is reported.
        meta = next(
            (m for m in registry.versions(tag) if m.metrics.get("job") == spec["key"]), None
        )
        if meta is None:
            try:
                since = parse_time(str(spec.get("period_start")))
                until = parse_time(str(spec.get("period_end")))
            except InputError as exc:
                raise JobError(str(exc)) from None
            self.progress(spec, 10, "readings", "reading the clean period from the store")
            readings = self._readings(tag, since, until)
            self.progress(spec, 30, "fit", f"training on {len(readings)} readings")
            contamination = spec.get("contamination") or 0.01
            det = IsolationForestDetector(
                window=int(spec.get("window") or 60), contamination=float(contamination)
            )
            try:
                det.fit(readings)
            except ValueError as exc:
                raise JobError(str(exc)) from None
            self.progress(spec, 80, "register", "registering the model version")
            source = f"store {tag} {spec.get('period_start')} .. {spec.get('period_end')}"
            meta = registry.register(
                tag,
                det,
                trained_by=str(spec.get("trained_by") or ""),
                trained_at=self.clock(),
                windows_used=det.windows_used_,
                contamination=float(det.contamination),
                feature_set_version=det.feature_set_version,
                metrics={**det.metrics(), "source": source[:200], "job": spec["key"]},
                kind=KIND,
                params=det.get_params(),
                activate=bool(spec.get("activate", True)),
            )
        else:
            log.info(
                "job %s: version %s of %s was registered before", spec["job_id"], meta.version, tag
            )
        version = model_version_item(
            meta, now=self.clock(), active=bool(spec.get("activate", True))
        )
        return job_update_item(
            spec,
            "done",
            self.clock(),
            progress=100,
            message=f"{tag} version {meta.version}",
            result={
                "version": meta.version,
                "windows_used": meta.windows_used,
                "threshold": meta.metrics.get("threshold"),
            },
            extra={"model_version": version.data},
        )

    def _readings(self, tag: str, since: float, until: float) -> list[tuple[float, float]]:
        if until <= since:
            raise JobError("the clean period ends before it starts")
        stored = self.store.tag_readings(tag, since, math.nextafter(until, math.inf))
        out: list[tuple[float, float]] = []
        for r in stored:
            if (r.quality or "good").lower() != "good":
                continue
            if not out or r.ts > out[-1][0]:
                out.append((float(r.ts), float(r.value)))
        if not out:
            raise JobError(
                f"no good readings of {tag} in the connector's store between "
                f"{iso_utc(since)} and {iso_utc(until)} (raw readings are kept "
                "history_raw_days days)"
            )
        return out

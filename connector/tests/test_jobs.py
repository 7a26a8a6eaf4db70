"""The job runner: predictions and trainings Odoo asks for, done once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connector.ingest.schema import Reading
from connector.jobs import JobRunner, job_update_item
from connector.ml.duration import train_duration
from connector.ml.registry import ModelRegistry
from connector.push.odoo_client import OdooClient, OdooUnreachableError
from connector.store import Store, open_store
from simulator.history import generate_history, write_history

T0 = 1_795_334_400.0  # 2026-11-22T08:00:00Z


class FakeOdoo(OdooClient):
    """Hands out the queued specs once per claim, like claim_jobs (the one
    call the runner makes; the client's own set-up is not run)."""

    def __init__(self, *specs: dict[str, Any]) -> None:
        self.queue = list(specs)
        self.calls: list[str] = []
        self.running: list[list[int]] = []
        self.down = False

    def claim_jobs(self, connector_id: str, running=(), limit: int = 1) -> list[dict[str, Any]]:
        self.calls.append(connector_id)
        self.running.append(list(running))
        if self.down:
            raise OdooUnreachableError("down")
        out, self.queue = self.queue[:limit], self.queue[limit:]
        return out


class Crash(BaseException):
    """The connector dies in the middle of a job."""


def outbox(store: Store) -> list[dict[str, Any]]:
    rows = store.execute("SELECT key, type, data FROM outbox ORDER BY id")
    return [{"key": k, "type": t, "data": json.loads(d)} for k, t, d in rows]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    history = tmp_path_factory.mktemp("history")
    write_history(generate_history(2026, seed=3, tick_interval_s=3600.0), history)
    root = tmp_path_factory.mktemp("models")
    train_duration(history, root, trained_by="tester", now=T0, n_estimators=30)
    return root


def predict_spec(**kw: Any) -> dict[str, Any]:
    return {"job_id": 5, "key": "job:5", "type": "predict_duration", "attempt": 1,
            "tag": "FLX-104-PR", "component": "PRINTING", "produced": 70000, "reject": 2000,
            **kw}  # fmt: skip


def train_spec(**kw: Any) -> dict[str, Any]:
    return {"job_id": 9, "key": "job:9", "type": "train_isolation", "attempt": 1,
            "tag": "PT-101", "period_start": "2026-11-22T08:00:00Z",
            "period_end": "2026-11-22T08:20:00Z", "window": 30, "contamination": 0.01,
            "activate": True, "trained_by": "admin", **kw}  # fmt: skip


def with_readings(path: Path) -> Store:
    store = open_store(path)
    rng = np.random.default_rng(0)
    values = 6.0 + 0.05 * rng.standard_normal(1200)
    readings = [Reading("PT-101", T0 + i, float(v), "bar", "good", i + 1) for i, v in
                enumerate(values)]  # fmt: skip
    with store.transaction():
        store.insert_readings(readings, T0 + 1200)
    return store


def test_item_keys() -> None:
    spec = predict_spec(attempt=2)
    running = job_update_item(spec, "running", T0, progress=10, step="model", message="x")
    assert (running.key, running.type) == ("job:5:2:model", "job_update")
    assert running.data == {"job_id": 5, "attempt": 2, "state": "running", "progress": 10.0,
                            "message": "x"}  # fmt: skip
    assert job_update_item(spec, "done", T0).key == "job:5:result"
    assert job_update_item(predict_spec(), "failed", T0, error="e").key == "job:5:result"


def test_prediction(tmp_path: Path, models: Path) -> None:
    store = open_store(tmp_path / "s.sqlite3")
    odoo = FakeOdoo(predict_spec())
    runner = JobRunner(store, odoo, "c1", str(models), clock=lambda: T0)
    assert runner.poll_once() == 1
    items = outbox(store)
    assert [i["data"]["state"] for i in items] == ["running", "running", "done"]
    done = items[-1]
    assert done["key"] == "job:5:result"
    prediction = done["data"]["prediction"]
    assert prediction["tag"] == "FLX-104-PR"
    assert prediction["model_version"] == "repair_duration/1"
    assert prediction["inputs"] == {"component": "PRINTING", "shift_produced": 70000.0,
                                    "shift_reject": 2000.0}  # fmt: skip
    assert done["data"]["result"]["predicted_hours"] == prediction["predicted_hours"] > 0
    # Until the outcome is delivered, the job is held: Odoo is told so.
    assert runner.poll_once() == 0
    assert odoo.running == [[], [5]]
    # Handed out again all the same (a restart): not run again, nothing new queued.
    odoo.queue.append(predict_spec(attempt=2))
    assert runner.poll_once() == 1
    assert len(outbox(store)) == 3
    store.mark_sent([row[0] for row in store.execute("SELECT id FROM outbox")])
    runner.poll_once()
    assert odoo.running[-1] == []


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (predict_spec(component="ANILOX"), "unknown component 'ANILOX'"),
        (predict_spec(reject=80000), "cannot exceed produced"),
        (predict_spec(produced=-1), "produced cannot be negative"),
        (train_spec(period_start="2026-11-21T08:00:00Z", period_end="2026-11-21T09:00:00Z"),
         "no good readings of PT-101"),
        (train_spec(window=5000), "need at least 5009 baseline readings"),
        ({**predict_spec(), "type": "dance"}, "unknown job type"),
    ],
)  # fmt: skip
def test_failures_are_reported_not_fatal(
    tmp_path: Path, models: Path, spec: dict[str, Any], error: str
) -> None:
    store = with_readings(tmp_path / "s.sqlite3")
    runner = JobRunner(store, FakeOdoo(spec), "c1", str(models), clock=lambda: T0)
    assert runner.poll_once() == 1
    last = outbox(store)[-1]
    assert (last["key"], last["data"]["state"]) == (f"{spec['key']}:result", "failed")
    assert error in last["data"]["error"]


def test_no_model_is_a_clear_failure(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.sqlite3")
    runner = JobRunner(store, FakeOdoo(predict_spec()), "c1", str(tmp_path / "none"))
    assert runner.poll_once() == 1
    assert "no trained repair-duration model" in outbox(store)[-1]["data"]["error"]


def test_odoo_down_is_not_fatal(tmp_path: Path) -> None:
    odoo = FakeOdoo(predict_spec())
    odoo.down = True
    runner = JobRunner(open_store(tmp_path / "s.sqlite3"), odoo, "c1", str(tmp_path))
    assert runner.poll_once() == 0


def test_training_done_once_across_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = with_readings(path)
    models = tmp_path / "models"

    # First attempt: the connector dies after registering the version,
    # while it writes the outcome.
    registry = ModelRegistry(models)
    crashing2 = JobRunner(store, FakeOdoo(train_spec()), "c1", str(models), clock=lambda: T0)
    original = crashing2.store.add_outbox
    calls = {"n": 0}

    def dying_add_outbox(items, now=None):  # the outcome's write dies
        if any(i.key == "job:9:result" for i in items) and not calls["n"]:
            calls["n"] += 1
            raise Crash
        return original(items, now)

    crashing2.store.add_outbox = dying_add_outbox  # type: ignore[method-assign]
    with pytest.raises(Crash):
        crashing2.poll_once()
    assert [v.version for v in registry.versions("PT-101")] == ["1"]
    assert not [i for i in outbox(store) if i["key"] == "job:9:result"]
    # The restarted connector gets the job again (attempt 2): it reports the
    # version registered by attempt 1 instead of training another.
    store.close()
    store = open_store(path)
    runner = JobRunner(store, FakeOdoo(train_spec(attempt=2)), "c1", str(models),
                       clock=lambda: T0 + 60)  # fmt: skip
    assert runner.poll_once() == 1
    assert [v.version for v in registry.versions("PT-101")] == ["1"]
    [done] = [i for i in outbox(store) if i["key"] == "job:9:result"]
    assert done["data"]["state"] == "done"
    version = done["data"]["model_version"]
    assert (version["tag"], version["version"], version["active"]) == ("PT-101", "1", True)
    assert version["trained_by"] == "admin"
    assert version["metrics"]["job"] == "job:9"
    assert version["windows_used"] > 0
    # A third hand-out runs nothing.
    runner.odoo = FakeOdoo(train_spec(attempt=3))
    assert runner.poll_once() == 1
    assert [v.version for v in registry.versions("PT-101")] == ["1"]
    assert len([i for i in outbox(store) if i["key"] == "job:9:result"]) == 1

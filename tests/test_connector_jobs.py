"""Predictions and trainings asked for in Odoo, run by a real connector, done
once although the connector is killed in the middle of the training.

A manager asks for the training of PT-101's anomaly model on a clean
period the connector has stored; a supervisor asks for a repair-duration
prediction of the FLEXO 104 printing unit. The first connector (its job
steps slowed down) is killed (SIGKILL) while the training runs; a second
one, on the same store, gets the job again and finishes both. Odoo ends
with one model version and one prediction, the jobs done; every item sent
again is a duplicate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from connector.ml.duration import train_duration
from connector.ml.registry import ModelRegistry
from devkit.util import wait_until
from simulator.history import generate_history, write_history
from tests.test_first_slice import outbox

ROOT = Path(__file__).resolve().parent.parent


def start_connector(env: dict, log: Path, slow: bool) -> subprocess.Popen:
    command = (
        [sys.executable, "-m", "tests.slow_jobs_connector"]
        if slow
        else [sys.executable, "-m", "connector", "run"]
    )
    handle = open(log, "a")  # noqa: SIM115
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    finally:
        handle.close()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_jobs_from_odoo_are_done_once_across_a_connector_crash(odoo_server, broker, tmp_path):
    server = odoo_server
    # Only the data this test makes: no gaps or drift alerts on the side.
    sensor_ids = server.admin("cmms.sensor", "search", [])
    server.admin("cmms.sensor", "write", sensor_ids, {"interval_s": 3600.0, "cusum_h": 0.0})
    [pt101] = server.admin("cmms.sensor", "search_read", [("tag", "=", "PT-101")], ["id"])
    [printing] = server.admin(
        "maintenance.equipment", "search_read", [("cmms_tag", "=", "FLX-104-PR")],
        ["id", "parent_id"],
    )  # fmt: skip

    # The repair-duration model, trained on a simulated year of reports.
    history = tmp_path / "history"
    write_history(generate_history(2026, seed=1, tick_interval_s=3600.0), history)
    models = tmp_path / "models"
    train_duration(history, models, trained_by="e2e", n_estimators=30)

    store = tmp_path / "connector.sqlite3"
    env = {
        **os.environ,
        "CMMS_MQTT_HOST": "127.0.0.1",
        "CMMS_MQTT_PORT": str(broker.port),
        "CMMS_MQTT_CLIENT_ID": "e2e-jobs",
        "CMMS_ODOO_URL": server.url,
        "CMMS_ODOO_DB": server.db,
        "CMMS_ODOO_LOGIN": "cmms_connector",
        "CMMS_ODOO_API_KEY": server.api_key,
        "CMMS_STORE": str(store),
        "CMMS_MODELS": str(models),
        "CMMS_CONNECTOR_ID": "e2e-jobs",
        "CMMS_PUSH_BATCH_AGE_S": "0.2",
        "CMMS_HEARTBEAT_S": "2",
        "CMMS_JOBS_POLL_S": "1",
        "CMMS_TEST_JOB_STEP_S": "4",
    }
    log = tmp_path / "connector.log"
    first = start_connector(env, log, slow=True)
    second = None
    try:
        wait_until(
            lambda: server.admin("cmms.connector", "search", [("name", "=", "e2e-jobs")]),
            90, "the connector's first heartbeat",
        )  # fmt: skip
        # Four clean minutes of PT-101 (the fault of the scenario comes later).
        sim = subprocess.run(
            [sys.executable, "-m", "simulator", "run", "--scenario", "pt101_out_of_range",
             "--start", "2026-11-22T08:00:00Z", "--duration", "240", "--rate", "max",
             "--host", "127.0.0.1",
             "--port", str(broker.port), "--no-flexo", "--no-energy"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert sim.returncode == 0, sim.stdout + sim.stderr

        def stored() -> int:
            out = subprocess.run(
                [sys.executable, "-m", "connector", "status", "--json"],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )  # fmt: skip
            return out.returncode == 0 and json.loads(out.stdout)["readings"] >= 4 * 240

        wait_until(stored, 60, "the readings in the connector's store")

        # The demo data has predictions of its own: only the job's is new.
        demo_predictions = {
            p["id"] for p in server.admin("cmms.prediction", "search_read", [], ["id"])
        }
        training = server.call(
            "mgr_maya", "123", "cmms.connector.job", "create",
            {"job_type": "train_isolation", "sensor_id": pt101["id"],
             "period_start": "2026-11-22 08:00:00", "period_end": "2026-11-22 08:03:59",
             "window": 30, "contamination": 0.05},
        )  # fmt: skip
        prediction = server.call(
            "sup_adi", "123", "cmms.connector.job", "create",
            {"job_type": "predict_duration", "equipment_id": printing["parent_id"][0],
             "component_id": printing["id"], "produced": 72000, "rejected": 2500},
        )  # fmt: skip

        def job(job_id: int) -> dict:
            return server.admin(
                "cmms.connector.job", "read", [job_id],
                ["state", "progress", "attempt", "claimed_by", "error", "prediction_id",
                 "model_version_id", "progress_note"],
            )[0]  # fmt: skip

        # The training is running (its first progress report reached Odoo):
        # the connector dies there, without a clean shutdown.
        running = wait_until(
            lambda: (j := job(training))["state"] == "running" and j["progress"] > 0 and j,
            90, "the training job running",
        )  # fmt: skip
        assert running["attempt"] == 1
        assert job(training)["state"] == "running"
        first.send_signal(signal.SIGKILL)
        first.wait(30)

        second = start_connector(env, log, slow=False)
        done: Any = wait_until(
            lambda: all(job(j)["state"] in ("done", "failed") for j in (training, prediction))
            and [job(training), job(prediction)],
            120, "both jobs finished",
        )  # fmt: skip
        trained, predicted = done
        assert trained["state"] == "done", trained["error"]
        assert predicted["state"] == "done", predicted["error"]
        assert trained["attempt"] == 2, "the restarted connector claimed the training again"

        versions = server.admin(
            "cmms.model.version", "search_read", [("sensor_id", "=", pt101["id"])],
            ["version", "is_active", "windows_used", "trained_by"],
        )  # fmt: skip
        assert len(versions) == 1, versions
        assert versions[0]["id"] == trained["model_version_id"][0]
        assert versions[0]["is_active"] and versions[0]["trained_by"] == "mgr_maya"
        registry = ModelRegistry(models)
        assert [v.version for v in registry.versions("PT-101")] == [versions[0]["version"]]

        predictions = server.admin(
            "cmms.prediction", "search_read", [("equipment_id", "=", printing["id"])],
            ["predicted_hours", "model_version"],
        )  # fmt: skip
        predictions = [p for p in predictions if p["id"] not in demo_predictions]
        assert [p["id"] for p in predictions] == [predicted["prediction_id"][0]]
        assert predictions[0]["predicted_hours"] > 0
        assert predictions[0]["model_version"] == "repair_duration/1"

        # The active version reaches the connector's configuration.
        config = server.call(
            "cmms_connector", server.api_key, "cmms.telemetry.api", "get_connector_config"
        )
        [conf] = [s for s in config["sensors"] if s["tag"] == "PT-101"]
        assert conf["model_version"]["version"] == versions[0]["version"]

        # Every job item, sent again: duplicates; nothing changes.
        wait_until(lambda: not outbox(store, "status = 'pending'"), 60, "an empty outbox")
        sent = outbox(store, "type = 'job_update'")
        assert {i["status"] for i in sent} == {"sent"}
        assert len([i for i in sent if i["key"].endswith(":result")]) == 2
        batch = [
            {"key": i["key"], "type": i["type"], "ts": i["ts"], "data": json.loads(i["data"])}
            for i in sent
        ]
        reply = server.jsonrpc_ingest(batch)
        assert {r["status"] for r in reply["results"]} == {"duplicate"}
        assert [job(training), job(prediction)] == done
    finally:
        if first.poll() is None:
            first.kill()
        if second is not None:
            stop(second)

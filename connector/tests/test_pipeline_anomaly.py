"""The Isolation Forest in the live pipeline: Odoo names the model version."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connector.detect.base import ANOMALY
from connector.ingest.pipeline import Pipeline, sensor_model_version
from connector.ml.isolation import AnomalyWatch, IsolationForestDetector
from connector.ml.registry import ModelRegistry
from connector.store import Store, open_store
from connector.tests.conftest import SENSOR_PT101, make_config

T0 = 1795334400.0
WINDOW = 20


def msg(i: int, value: float) -> tuple[str, bytes]:
    body = {"ts": T0 + i, "value": float(value), "unit": "bar"}
    return "cmms/plant1/PT-101/reading", json.dumps(body).encode()


def sensor(version: str | None, **extra: Any) -> dict[str, Any]:
    model = None if version is None else {"version": version, "feature_set_version": "f10"}
    # Limits and CUSUM out of the way: only the model can alarm.
    return dict(SENSOR_PT101, cusum_h=None, model_version=model, **extra)


def anomaly_items(store: Store) -> list[tuple[str, dict[str, Any]]]:
    rows = store.execute("SELECT type, data FROM outbox ORDER BY id")
    out = [(t, json.loads(d)) for t, d in rows]
    return [(t, d) for t, d in out if d.get("alert_type") == ANOMALY]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two registered versions of PT-101, both trained on clean data."""
    root = tmp_path_factory.mktemp("models")
    registry = ModelRegistry(root)
    for seed in (0, 1):
        clean = 6.0 + 0.1 * np.random.default_rng(seed).standard_normal(400)
        model = IsolationForestDetector(window=WINDOW, n_estimators=50).fit(clean)
        registry.register("PT-101", model, trained_by="test", kind="isolation_forest")
    return root


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "s.sqlite3")


@pytest.fixture
def pipe(store: Store, models: Path) -> Pipeline:
    p = Pipeline(
        store, active_interval_s=600, clear_delay_s=2, clock=lambda: T0, models_path=models
    )
    p.apply_config(make_config("v1", sensor("1")))
    return p


def clean_values(n: int, seed: int = 7) -> list[float]:
    return list(6.0 + 0.1 * np.random.default_rng(seed).standard_normal(n))


def test_sensor_model_version_reads_the_config() -> None:
    assert sensor_model_version({"model_version": {"version": 3}}) == "3"
    assert sensor_model_version({"model_version": None}) is None
    assert sensor_model_version({}) is None
    assert sensor_model_version({"model_version": {"version": False}}) is None


def test_anomalous_stretch_raises_one_anomaly_alert_then_clears(
    pipe: Pipeline, store: Store
) -> None:
    watch = pipe.monitors_["PT-101"].anomaly
    assert isinstance(watch, AnomalyWatch) and watch.version == "1"
    values = clean_values(60)
    # Inside every limit, but nothing like the baseline: a square wave.
    values += [5.0 if i % 2 else 7.0 for i in range(30)]
    values += clean_values(80, seed=8)
    for i, value in enumerate(values):
        pipe.process([msg(i, value)])
        if i == 59:  # the clean part never alarmed
            assert anomaly_items(store) == []
    items = anomaly_items(store)
    kinds = [t for t, _ in items]
    assert kinds.count("alert_raised") == 1, kinds
    assert kinds.count("alert_cleared") == 1, kinds
    assert kinds.index("alert_raised") < kinds.index("alert_cleared")
    raised = next(d for t, d in items if t == "alert_raised")
    assert raised["tag"] == "PT-101" and raised["severity"] in ("warning", "critical")
    assert "model v1" in raised["message"]
    assert pipe.open_alerts() == []


def test_a_batched_message_is_watched_too(pipe: Pipeline, store: Store) -> None:
    values = clean_values(40) + [5.0 if i % 2 else 7.0 for i in range(30)]
    body = [{"ts": T0 + i, "value": v, "unit": "bar"} for i, v in enumerate(values)]
    pipe.process([("cmms/plant1/PT-101/reading", json.dumps(body).encode())])
    assert [t for t, _ in anomaly_items(store)] == ["alert_raised"]
    assert pipe.open_alerts() == [("PT-101", ANOMALY)]


def test_a_new_config_version_reloads_the_watch(pipe: Pipeline) -> None:
    for i, value in enumerate(clean_values(30)):
        pipe.process([msg(i, value)])
    before = pipe.monitors_["PT-101"].anomaly
    assert isinstance(before, AnomalyWatch)
    # Same model version, other settings: the watch and its window stay.
    assert pipe.apply_config(make_config("v2", sensor("1", deadband=0.3)))
    assert pipe.monitors_["PT-101"].anomaly is before
    # Odoo activates version 2: reloaded, with the last readings carried over.
    assert pipe.apply_config(make_config("v3", sensor("2")))
    after = pipe.monitors_["PT-101"].anomaly
    assert isinstance(after, AnomalyWatch) and after is not before
    assert after.version == "2"
    assert list(after.buffer_) == list(before.buffer_)
    assert after.model is not before.model
    pipe.process([msg(30, 6.0)])
    assert after.score_ is not None  # scored at once, no new window to wait for
    # Rollback: version 1 again.
    assert pipe.apply_config(make_config("v4", sensor("1")))
    rolled = pipe.monitors_["PT-101"].anomaly
    assert isinstance(rolled, AnomalyWatch) and rolled.version == "1"
    # No model any more.
    assert pipe.apply_config(make_config("v5", sensor(None)))
    assert pipe.monitors_["PT-101"].anomaly is None


def test_a_missing_model_version_is_logged_once_and_ignored(
    pipe: Pipeline, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="connector.ingest.pipeline"):
        assert pipe.apply_config(make_config("v2", sensor("9")))
        assert pipe.apply_config(make_config("v3", sensor("9", deadband=0.3)))
    missing = [r for r in caplog.records if "model version 9" in r.getMessage()]
    assert len(missing) == 1
    assert pipe.monitors_["PT-101"].anomaly is None
    result = pipe.process([msg(0, 6.0), msg(1, 10.5)])
    assert result.readings == 2 and result.dead_letters == 0
    assert pipe.open_alerts() == [("PT-101", "rule_violation")]


def test_without_a_model_folder_no_watch(store: Store) -> None:
    p = Pipeline(store, clock=lambda: T0)
    p.apply_config(make_config("v1", sensor("1")))
    assert p.monitors_["PT-101"].anomaly is None


def test_an_open_anomaly_clears_when_the_model_is_withdrawn(pipe: Pipeline, store: Store) -> None:
    values = clean_values(40) + [5.0 if i % 2 else 7.0 for i in range(30)]
    for i, value in enumerate(values):
        pipe.process([msg(i, value)])
    assert pipe.open_alerts() == [("PT-101", ANOMALY)]
    pipe.apply_config(make_config("v2", sensor(None)))
    for i, value in enumerate(clean_values(10), start=len(values)):
        pipe.process([msg(i, value)])
    assert pipe.open_alerts() == []
    assert [t for t, _ in anomaly_items(store)] == ["alert_raised", "alert_cleared"]
    assert not pipe.stale_anomaly_

"""Isolation Forest detector, model registry (versions, rollback), ``train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connector.__main__ import main
from connector.detect.base import WARNING
from connector.ingest.schema import Reading
from connector.ml.features import FEATURE_SET_VERSION
from connector.ml.isolation import AnomalyWatch, IsolationForestDetector, as_series, load_watch
from connector.ml.registry import ModelRegistry, RegistryError, model_version_item
from connector.store import open_store

T0 = 1_795_334_400.0


def clean(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 6.0 + 0.1 * rng.standard_normal(n)


@pytest.fixture(scope="module")
def fitted() -> IsolationForestDetector:
    return IsolationForestDetector(window=30, contamination=0.01).fit(clean(1200))


# -- detector -----------------------------------------------------------------


def test_clean_and_shifted_windows_score_apart(fitted: IsolationForestDetector) -> None:
    fresh = clean(3000, seed=1).reshape(-1, 30)
    normal = np.array([fitted.score(w) for w in fresh])
    shifted = np.array([fitted.score(w + 0.5) for w in fresh[:20]])
    noisy = np.array([fitted.score(6.0 + 5 * (w - 6.0)) for w in fresh[:20]])
    assert ((normal >= 0) & (normal <= 1)).all() and ((shifted >= 0) & (shifted <= 1)).all()
    assert shifted.min() > np.percentile(normal, 99)
    assert np.median(noisy) > np.percentile(normal, 99)
    assert (shifted >= fitted.threshold_).all() and np.mean(noisy >= fitted.threshold_) >= 0.9
    assert np.mean(normal >= fitted.threshold_) < 0.1
    assert fitted.is_anomaly(fresh[0] + 0.5)


def test_threshold_comes_from_the_baseline(fitted: IsolationForestDetector) -> None:
    assert fitted.windows_used_ == 1200 - 30 + 1
    assert fitted.calibration_ == "4-fold"
    assert fitted.threshold_ == pytest.approx(np.quantile(fitted.calibration_scores_, 0.99))
    auto = IsolationForestDetector(window=30, contamination="auto").fit(clean(300))
    assert auto.threshold_ == 0.5
    m = fitted.metrics()
    assert m["threshold"] == round(fitted.threshold_, 6) and m["readings"] == 1200
    assert all(np.isfinite(v) for v in m.values() if isinstance(v, float))


def test_fit_is_deterministic_and_takes_ts_value_pairs() -> None:
    values = clean(400)
    pairs = [(T0 + i, v) for i, v in enumerate(values)]
    a = IsolationForestDetector(window=20).fit(pairs)
    b = IsolationForestDetector(window=20).fit(pairs)
    assert a.threshold_ == b.threshold_
    assert a.score(pairs[:20]) == b.score(pairs[:20])
    times, vals = as_series(pairs)
    assert times[0] == T0 and vals[-1] == values[-1]


def test_max_windows_thins_the_training_windows() -> None:
    det = IsolationForestDetector(window=10, max_windows=100).fit(clean(1000))
    assert det.windows_used_ <= 100


def test_score_series_is_causal(fitted: IsolationForestDetector) -> None:
    values = clean(200, seed=2)
    s = fitted.score_series(values)
    assert np.isnan(s[:29]).all() and np.isfinite(s[29:]).all()
    changed = values.copy()
    changed[150] += 3.0
    s2 = fitted.score_series(changed)
    np.testing.assert_array_equal(s[:150], s2[:150])
    assert s[-1] == pytest.approx(fitted.score(values[-30:]))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"window": 1}, "window"),
        ({"contamination": 0.7}, "contamination"),
        ({"contamination": 0}, "contamination"),
        ({"step": 0}, "step"),
    ],
)
def test_bad_parameters(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IsolationForestDetector(**params).fit(clean(500))


def test_bad_inputs(fitted: IsolationForestDetector) -> None:
    with pytest.raises(ValueError, match="at least"):
        IsolationForestDetector(window=30).fit(clean(20))
    with pytest.raises(ValueError, match="non-finite"):
        IsolationForestDetector(window=30).fit([*clean(100), float("nan")])
    with pytest.raises(ValueError, match="30 readings"):
        fitted.score(clean(10))
    with pytest.raises(RuntimeError, match="not fitted"):
        IsolationForestDetector().score(clean(60))


def test_anomaly_watch_is_a_detector(fitted: IsolationForestDetector) -> None:
    watch = AnomalyWatch(fitted, every=1, version="3")
    assert watch.alert_type == "anomaly"
    values = list(clean(60, seed=5)) + [7.0] * 30
    verdicts = [watch.update(T0 + i, v) for i, v in enumerate(values)]
    assert not any(v.active for v in verdicts[:29])  # no full window yet
    last = verdicts[-1]
    assert last.active and last.severity in (WARNING, "critical")
    assert "model v3" in last.message and watch.active


# -- registry -----------------------------------------------------------------


def test_versions_and_rollback(tmp_path: Path, fitted: IsolationForestDetector) -> None:
    reg = ModelRegistry(tmp_path / "models")
    assert reg.tags() == [] and reg.active_version("PT-101") is None
    kw: dict[str, Any] = {
        "trained_by": "alice",
        "windows_used": fitted.windows_used_,
        "contamination": 0.01,
        "feature_set_version": FEATURE_SET_VERSION,
        "metrics": fitted.metrics(),
        "kind": "isolation_forest",
        "params": fitted.get_params(),
    }
    v1 = reg.register("PT-101", fitted, trained_at=T0, **kw)
    other = IsolationForestDetector(window=20).fit(clean(300, seed=9))
    v2 = reg.register("PT-101", other, trained_at=T0 + 60, **kw)
    v3 = reg.register("PT-101", other, trained_at=T0 + 120, activate=False, **kw)
    assert (v1.version, v2.version, v3.version) == ("1", "2", "3")
    assert reg.active_version("PT-101") == "2" and not v3.active
    assert [m.active for m in reg.versions("PT-101")] == [False, True, False]
    assert reg.load("PT-101").window == 20

    rolled = reg.activate("PT-101", "1")  # rollback
    assert rolled.active and reg.active_version("PT-101") == "1"
    back = reg.load("PT-101")
    assert back.window == 30 and back.threshold_ == fitted.threshold_
    assert back.score(clean(30)) == fitted.score(clean(30))
    assert reg.tags() == ["PT-101"]

    meta = json.loads((tmp_path / "models" / "PT-101" / "1.json").read_text())
    assert meta["trained_at"] == "2026-11-22T08:00:00Z"
    assert meta["trained_by"] == "alice" and meta["windows_used"] == fitted.windows_used_
    assert meta["feature_set_version"] == "f10" and meta["contamination"] == 0.01
    assert meta["libraries"]["scikit-learn"] == "1.5.2"
    assert "active" not in meta  # activation lives in ACTIVE only

    with pytest.raises(RegistryError, match="no model version '9'"):
        reg.activate("PT-101", "9")
    with pytest.raises(RegistryError):
        reg.load("FT-301")


def test_model_version_item_matches_the_contract(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    meta = reg.register(
        "PT-101",
        {"m": 1},
        trained_by="alice",
        trained_at=T0,
        windows_used=600,
        contamination=0.05,
        feature_set_version="f10",
        metrics={"score_p95": 0.41, "bad": float("nan")},
    )
    item = model_version_item(meta, now=T0 + 5)
    assert item.type == "model_version" and item.ts == "2026-11-22T08:00:05Z"
    assert item.data == {
        "tag": "PT-101",
        "version": "1",
        "trained_at": "2026-11-22T08:00:00Z",
        "trained_by": "alice",
        "windows_used": 600,
        "contamination": 0.05,
        "feature_set_version": "f10",
        "metrics": {"score_p95": 0.41, "bad": None},
        "active": True,
    }
    json.dumps(item.to_rpc(), allow_nan=False)
    # Announcing the same version again later (a rollback) is a new key.
    assert model_version_item(meta, now=T0 + 60).key != item.key
    assert model_version_item(meta, now=T0 + 5, active=False).data["active"] is False


def test_odd_tags_are_safe_folder_names(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register("../PT 101/x", {"m": 1})
    assert reg.tags() == ["../PT 101/x"]
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())
    with pytest.raises(RegistryError):
        reg.register("", {"m": 1})


# -- python -m connector train -------------------------------------------------


def write_series(path: Path, values: np.ndarray) -> Path:
    lines = ["timestamp,value"] + [f"{T0 + i:.0f},{v:.5f}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_command_from_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_series(tmp_path / "pt.csv", np.concatenate([clean(500), clean(100) + 3]))
    models = tmp_path / "models"
    argv = ["train", "--tag", "PT-101", "--input", str(data), "--models", str(models)]
    rc = main([*argv, "--baseline-rows", "500", "--window", "30", "--trained-by", "bob", "--json"])
    out = capsys.readouterr().out
    assert rc == 0 and "version 1 (active)" in out
    item = json.loads(out[out.index("{") :])
    assert item["type"] == "model_version" and item["data"]["windows_used"] == 471
    assert item["data"]["trained_by"] == "bob" and item["data"]["contamination"] == 0.01
    assert "first 500 rows" in item["data"]["metrics"]["source"]
    assert main([*argv, "--window", "30", "--contamination", "auto", "--no-activate"]) == 0
    reg = ModelRegistry(models)
    assert reg.active_version("PT-101") == "1" and len(reg.versions("PT-101")) == 2
    assert "contamination" not in reg.get("PT-101", "2").item_data()


def test_train_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = ["--models", str(tmp_path / "m")]
    assert main(["train", "--tag", "X", "--input", str(tmp_path / "none.csv"), *models]) == 2
    assert "no such file" in capsys.readouterr().err
    short = write_series(tmp_path / "s.csv", clean(20))
    assert main(["train", "--tag", "X", "--input", str(short), *models]) == 2
    assert "need at least" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--tag", "X", "--input", str(short), "--contamination", "0.9"])


def test_train_command_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / "store.sqlite3"
    values = clean(700, seed=4)
    with open_store(store_path) as store:
        readings = [Reading("PT-101", T0 + i, float(v), "bar") for i, v in enumerate(values)]
        readings.append(Reading("PT-101", T0 + 10.5, 99.0, "bar", quality="bad"))
        readings.append(Reading("FT-301", T0 + 1, 99.0, "m3/h"))
        store.insert_readings(readings, received_at=T0 + 800)
    argv = ["train", "--tag", "PT-101", "--store", str(store_path), "--models", str(tmp_path / "m")]
    rc = main(
        [
            *argv,
            "--from",
            "2026-11-22T08:00:00Z",
            "--to",
            "2026-11-22T08:09:59Z",
            "--window",
            "30",
            "--queue",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0 and "from 600 readings" in captured.out, captured.err
    with open_store(store_path) as store:
        rows = store.execute("SELECT type, data FROM outbox")
    assert [r[0] for r in rows] == ["model_version"]
    assert json.loads(rows[0][1])["metrics"]["readings"] == 600
    assert main([*argv, "--from", "2026-11-22T09:00:00Z", "--to", "2026-11-22T10:00:00Z"]) == 2
    assert "no good readings" in capsys.readouterr().err
    assert main([*argv, "--from", "2026-11-22T09:00:00Z"]) == 2


def test_models_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register("PT-101", {"m": 1}, trained_at=T0)
    reg.register("PT-101", {"m": 2}, trained_at=T0 + 1)
    assert (
        main(
            [
                "models",
                "activate",
                "--tag",
                "PT-101",
                "--version",
                "1",
                "--models",
                str(tmp_path),
                "--json",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["data"]["active"] is True
    assert main(["models", "list", "--models", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("*") and "v1" in lines[0] and not lines[1].startswith("*")
    assert (
        main(["models", "activate", "--tag", "PT-101", "--version", "5", "--models", str(tmp_path)])
        == 2
    )


def test_load_watch_follows_the_configured_version(
    tmp_path: Path, fitted: IsolationForestDetector
) -> None:
    reg = ModelRegistry(tmp_path)
    reg.register("PT-101", fitted)
    reg.register("PT-101", IsolationForestDetector(window=20).fit(clean(300)))
    latest = load_watch(tmp_path, "PT-101")
    assert latest is not None and latest.version == "2"
    watch = load_watch(tmp_path, "PT-101", version="1")
    assert watch is not None and watch.model.window == 30
    assert load_watch(tmp_path, "PT-101", version="7") is None
    assert load_watch(tmp_path, "FT-301") is None

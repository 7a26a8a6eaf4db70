"""Repair-duration model on a generated year of FLEXO history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from connector.__main__ import main
from connector.ml.duration import (
    DURATION_TAG,
    DurationModel,
    evaluate_holdout,
    load_losstime,
    load_model,
    predict_hours,
    prediction_item,
    train_duration,
)
from connector.ml.io import InputError
from connector.ml.registry import ModelRegistry
from simulator.history import expected_maintenance_hours, generate_history, write_history

T0 = 1_795_334_400.0


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of reports (about 2 s), hourly model steps to keep it quick."""
    out = tmp_path_factory.mktemp("history")
    write_history(generate_history(2026, seed=3, tick_interval_s=3600.0), out)
    return out


@pytest.fixture(scope="module")
def rows(history: Path) -> list[dict]:
    return load_losstime(history)


@pytest.fixture(scope="module")
def models(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    train_duration(history, root, trained_by="tester", now=T0, n_estimators=60)
    return root


def test_part_two_rows_are_dropped_and_rows_are_in_time_order(history: Path, rows) -> None:
    raw = (history / "flexo104_2026_losstime.csv").read_text().splitlines()
    assert len(rows) < len(raw) - 1
    assert all(r["maintenance_hours"] > 0 for r in rows)
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
    assert {r["component"] for r in rows} <= {
        "PRE_FEEDER",
        "FEEDER",
        "PRINTING",
        "SLOTTER",
        "DOWN_STACKER",
    }


def test_beats_the_mean_on_a_later_hold_out(rows) -> None:
    m = evaluate_holdout(rows, 0.2, n_estimators=60)
    assert m["r2"] > 0.3
    assert m["mae_h"] < 0.85 * m["mean_baseline_mae_h"]
    assert m["test_rows"] + m["train_rows"] == len(rows)


def test_predictions_follow_the_generating_formula(rows) -> None:
    model = DurationModel(n_estimators=60).fit(rows)
    produced = float(np.median([r["shift_produced"] for r in rows]))
    reject = float(np.median([r["shift_reject"] for r in rows]))
    for component in model.components_:
        truth = expected_maintenance_hours(component, produced, reject)
        assert model.predict_one(component, produced, reject) == pytest.approx(truth, rel=0.2)
    assert model.feature_names_[:2] == ["shift_produced", "shift_reject"]


def test_input_validation(rows) -> None:
    model = DurationModel(n_estimators=10).fit(rows[:300])
    with pytest.raises(InputError, match="cannot be negative"):
        model.predict_one("PRINTING", -1, 0)
    with pytest.raises(InputError, match="cannot exceed produced"):
        model.predict_one("PRINTING", 100, 200)
    with pytest.raises(InputError, match="unknown component 'ANILOX'"):
        model.predict_one("anilox", 70_000, 900)
    with pytest.raises(InputError, match="must be a number"):
        model.predict_one("PRINTING", "lots", 900)
    with pytest.raises(InputError, match="finite"):
        model.predict_one("PRINTING", float("inf"), 900)
    assert model.predict_one(" printing ", 70_000, 900) > 0  # case and spaces do not matter
    assert model.out_of_range(model.check_inputs("PRINTING", 10, 0))


def test_versioned_file_with_metrics(models: Path) -> None:
    reg = ModelRegistry(models)
    meta = reg.get(DURATION_TAG)
    assert meta.version == "1" and meta.active and meta.kind == "duration_rf"
    assert meta.trained_by == "tester" and meta.trained_at == "2026-11-22T08:00:00Z"
    assert {"r2", "mae_h", "mean_baseline_mae_h", "test_rows"} <= set(meta.metrics)
    assert Path(meta.path).is_file()


def test_predict_hours_for_the_flexo_engine(models: Path) -> None:
    hours = predict_hours("PRINTING", 90_000, 3_000, models=models)
    assert 2.0 < hours < 8.0
    model, label = load_model(models=models)
    assert label == "repair_duration/1"
    assert predict_hours("PRINTING", 90_000, 3_000, model=model) == hours
    file_model, file_label = load_model(ModelRegistry(models).get(DURATION_TAG).path)
    assert file_label == "repair_duration/1"
    with pytest.raises(InputError, match="no trained repair-duration model"):
        predict_hours("PRINTING", 1, 0, models=models / "nowhere")
    with pytest.raises(InputError, match="no model file"):
        predict_hours("PRINTING", 1, 0, model=models / "missing.joblib")


def test_prediction_item() -> None:
    item = prediction_item(
        "printing", 70_000, 900, 2.3456, "repair_duration/1", tag="FLX-104-PR", ts=T0, ref="stop-17"
    )
    assert item.type == "prediction" and item.ts == "2026-11-22T08:00:00Z"
    assert item.key == "prediction:FLX-104-PR:repair_duration/1:stop-17"
    assert item.data == {
        "tag": "FLX-104-PR",
        "component": "PRINTING",
        "inputs": {"component": "PRINTING", "shift_produced": 70000.0, "shift_reject": 900.0},
        "predicted_hours": 2.346,
        "model_version": "repair_duration/1",
    }
    with pytest.raises(InputError):
        prediction_item("PRINTING", 1, 0, -1.0, "v")


def test_commands(history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = str(tmp_path / "models")
    assert main(["train-duration", "--history", str(history), "--models", models]) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "R2" in out and "MAE" in out
    argv = ["predict", "--component", "PRINTING", "--produced", "90000", "--reject", "3000"]
    assert main([*argv, "--models", models]) == 0
    assert capsys.readouterr().out.strip().endswith("model repair_duration/1)")
    assert main([*argv, "--models", models, "--json", "--tag", "FLX-104-PR"]) == 0
    item = json.loads(capsys.readouterr().out)
    assert item["type"] == "prediction" and item["data"]["tag"] == "FLX-104-PR"
    for bad, message in (
        (["--component", "PRINTING", "--produced", "-1", "--reject", "0"], "negative"),
        (["--component", "X", "--produced", "10", "--reject", "0"], "unknown component"),
        (["--component", "PRINTING", "--produced", "10", "--reject", "20"], "exceed"),
    ):
        assert main(["predict", *bad, "--models", models]) == 2
        assert message in capsys.readouterr().err
    assert main([*argv, "--model", str(tmp_path / "none.joblib")]) == 2
    assert "no model file" in capsys.readouterr().err
    assert main(["train-duration", "--history", str(tmp_path / "empty"), "--models", models]) == 2

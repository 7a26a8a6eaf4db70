"""Repair-duration prediction for the FLEXO components (random forest).

The training data is the LOSSTIME sheet of a year of production reports,
as ``python -m simulator history --year 2026 --out DIR`` writes it
(``flexo104_2026_losstime.csv``): one row per stop, with the component
stopped, the produced and rejected units of the shift the stop began in
(``shift_produced``, ``shift_reject``) and the hours of maintenance the
stop took (``maintenance_hours``, the target; empty on the second part of a
stop that spans a shift change, and such rows are dropped).

:class:`DurationModel` is a scikit-learn ``RandomForestRegressor`` on
``shift_produced``, ``shift_reject`` and the component one-hot encoded;
more numeric columns can be added with ``numeric=``. :func:`train_duration`
measures it on a time-ordered hold-out (the last 20 % of the stops: the
model is judged on a later period than it learned from), then refits on
all stops and registers the result in a :class:`~connector.ml.registry.ModelRegistry`
under the name ``repair_duration``. :func:`predict_hours` is what the FLEXO
engine calls; :func:`prediction_item` builds the ``prediction`` outbox item
of ``docs/contracts.md``.

>>> rows = [{"component": c, "shift_produced": p, "shift_reject": r,
...          "maintenance_hours": base + 1e-4 * r}
...         for c, base in (("FEEDER", 0.6), ("PRINTING", 1.2))
...         for p in (60_000, 80_000) for r in range(0, 4_000, 100)]
>>> model = DurationModel(n_estimators=20, min_samples_leaf=1).fit(rows)
>>> round(model.predict_one("PRINTING", 70_000, 2_000), 1)
1.4
>>> model.predict_one("ANILOX", 70_000, 2_000)
Traceback (most recent call last):
...
connector.ml.io.InputError: unknown component 'ANILOX' (known: FEEDER, PRINTING)
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score

from ..push.items import OutboxItem, make_key
from ..util import iso_utc
from .io import InputError
from .registry import ModelRegistry, ModelVersion, RegistryError, models_dir

KIND = "duration_rf"
#: Registry name of the repair-duration model.
DURATION_TAG = "repair_duration"
PREDICTION = "prediction"
NUMERIC: tuple[str, ...] = ("shift_produced", "shift_reject")
CATEGORICAL = "component"
TARGET = "maintenance_hours"
FEATURE_SET_VERSION = "d1"


def _count(value: Any, name: str) -> float:
    """A finite, non-negative number (bools and strings that are not numbers refused)."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite, got {value!r}")
    if number < 0:
        raise InputError(f"{name} cannot be negative, got {value!r}")
    return number


def normalize_component(component: Any) -> str:
    """``" printing "`` -> ``"PRINTING"``; ``"down stacker"`` -> ``"DOWN_STACKER"``."""
    if not isinstance(component, str) or not component.strip():
        raise InputError(f"component must be a non-empty string, got {component!r}")
    return "_".join(component.strip().upper().replace("-", " ").split())


class DurationModel:
    """Random-forest regression of repair hours.

    Parameters
    ----------
    n_estimators, min_samples_leaf, max_features, random_state
        Passed to ``RandomForestRegressor``. Leaves of at least 10 stops
        average the ~18 % noise of single repairs instead of memorising it.
    numeric : tuple of str
        Numeric input columns, in order.
    categorical : str
        The column one-hot encoded (the component code).

    Attributes
    ----------
    model_ : RandomForestRegressor
    components_ : list of str
        Component codes seen in training (others are refused).
    feature_names_ : list of str
    ranges_ : dict
        Training min and max of each numeric column (a forest does not
        extrapolate beyond them).
    """

    def __init__(
        self,
        n_estimators: int = 200,
        min_samples_leaf: int = 10,
        max_features: float | str | None = 1.0,
        random_state: int = 0,
        numeric: tuple[str, ...] = NUMERIC,
        categorical: str = CATEGORICAL,
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.numeric = numeric
        self.categorical = categorical

    def get_params(self) -> dict[str, Any]:
        """Return the constructor parameters."""
        return {
            "n_estimators": self.n_estimators,
            "min_samples_leaf": self.min_samples_leaf,
            "max_features": self.max_features,
            "random_state": self.random_state,
            "numeric": list(self.numeric),
            "categorical": self.categorical,
        }

    def _matrix(self, rows: Sequence[Mapping[str, Any]]) -> NDArray[np.float64]:
        X = np.zeros((len(rows), len(self.feature_names_)))
        index = {c: len(self.numeric) + i for i, c in enumerate(self.components_)}
        for i, row in enumerate(rows):
            for j, name in enumerate(self.numeric):
                X[i, j] = _count(row.get(name), name)
            component = normalize_component(row.get(self.categorical))
            if component not in index:
                raise InputError(
                    f"unknown {self.categorical} {component!r} "
                    f"(known: {', '.join(self.components_)})"
                )
            X[i, index[component]] = 1.0
        return X

    def fit(
        self, rows: Sequence[Mapping[str, Any]], y: Sequence[float] | None = None
    ) -> DurationModel:
        """Learn from *rows* (mappings of the input columns); return ``self``.

        The target is ``y`` or, when omitted, each row's ``maintenance_hours``.
        """
        if not rows:
            raise InputError("no training rows")
        self.components_ = sorted({normalize_component(r.get(self.categorical)) for r in rows})
        self.feature_names_ = [
            *self.numeric,
            *(f"{self.categorical}={c}" for c in self.components_),
        ]
        X = self._matrix(rows)
        target = np.asarray(
            [_count(r.get(TARGET), TARGET) for r in rows] if y is None else y, dtype=float
        )
        self.model_ = RandomForestRegressor(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            random_state=self.random_state,
            n_jobs=1,
        ).fit(X, target)
        self.ranges_ = {
            name: (float(X[:, j].min()), float(X[:, j].max()))
            for j, name in enumerate(self.numeric)
        }
        self.n_rows_ = len(rows)
        self.sklearn_version_ = sklearn.__version__
        return self

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> NDArray[np.float64]:
        """Predicted hours of each row."""
        if not hasattr(self, "model_"):
            raise RuntimeError("the model is not fitted: call fit() first")
        return self.model_.predict(self._matrix(rows))

    def check_inputs(
        self, component: Any, produced: Any, reject: Any, **extra: Any
    ) -> dict[str, Any]:
        """Validate one prediction's inputs; return them as a row.

        Raises
        ------
        InputError
            Unknown component, a count that is negative or not a number,
            rejects above production.
        """
        code = normalize_component(component)
        if hasattr(self, "components_") and code not in self.components_:
            raise InputError(f"unknown component {code!r} (known: {', '.join(self.components_)})")
        p = _count(produced, "produced")
        r = _count(reject, "reject")
        if r > p:
            raise InputError(f"reject ({reject}) cannot exceed produced ({produced})")
        row: dict[str, Any] = {self.categorical: code, "shift_produced": p, "shift_reject": r}
        for name in self.numeric:
            if name not in row:
                if name not in extra:
                    raise InputError(f"missing input {name!r}")
                row[name] = _count(extra[name], name)
        return row

    def predict_one(self, component: Any, produced: Any, reject: Any, **extra: Any) -> float:
        """Predicted hours for one stop of *component* in a shift that
        produced *produced* units and rejected *reject* of them."""
        return float(self.predict([self.check_inputs(component, produced, reject, **extra)])[0])

    def out_of_range(self, row: Mapping[str, Any]) -> list[str]:
        """Inputs of *row* outside the training range (the forest flattens there)."""
        notes = []
        for name, (low, high) in getattr(self, "ranges_", {}).items():
            value = float(row[name])
            if not low <= value <= high:
                notes.append(f"{name}={value:g} outside the training range [{low:g}, {high:g}]")
        return notes


def load_losstime(
    history: str | Path,
    mapping: str | Path | None = None,
    bad: list[Any] | None = None,
) -> list[dict[str, Any]]:
    """The stops with a known repair duration, from a plant's reports.

    *history* is a LOSSTIME file (CSV or XLSX) or a folder of reports, as
    :mod:`connector.reports` reads them (*mapping*: the plant's column
    names). Rows are returned in time order (by ``start``) with
    ``shift_produced``, ``shift_reject`` and ``maintenance_hours`` as
    floats; rows whose ``maintenance_hours`` is empty (second parts of
    stops) are dropped. A row that cannot be used is skipped and appended
    to *bad* (a :class:`~connector.reports.BadRow`: file, line, reason).

    Raises
    ------
    InputError
        When there is no LOSSTIME table, a column is missing, or no row is usable.
    """
    from ..reports import ReportError, read_reports

    try:
        report = read_reports(history, mapping, {"losstime": NUMERIC})["losstime"]
    except ReportError as exc:
        raise InputError(str(exc)) from None
    if not report.files:
        raise InputError(
            f"no LOSSTIME table in {history} (write one with `python -m simulator history`, "
            "or give the column --mapping of the plant's reports)"
        )
    rows: list[dict[str, Any]] = []
    for row in report.rows:
        if row.get(TARGET) is None:
            continue
        rows.append({**row, **{name: float(row[name]) for name in (*NUMERIC, TARGET)}})
    if bad is not None:
        bad.extend(report.bad)
    if not rows:
        raise InputError(f"no stops with {TARGET} in {history}")
    rows.sort(key=lambda r: r["start"])
    return rows


def evaluate_holdout(
    rows: Sequence[Mapping[str, Any]], holdout: float = 0.2, **params: Any
) -> dict[str, Any]:
    """Fit on the earlier stops, score on the last *holdout* fraction.

    Returns R², MAE and RMSE (hours), the MAE of always predicting the
    training mean, and the row counts.
    """
    if not 0 < holdout < 1:
        raise InputError("holdout must lie in (0, 1)")
    cut = int(round(len(rows) * (1 - holdout)))
    train, test = rows[:cut], rows[cut:]
    if len(train) < 10 or len(test) < 5:
        raise InputError(f"{len(rows)} stops are too few for a hold-out of {holdout:.0%}")
    model = DurationModel(**params).fit(train)
    y = np.array([r[TARGET] for r in test])
    known = np.array([r[CATEGORICAL] in model.components_ for r in test])
    test = [r for r, k in zip(test, known, strict=True) if k]
    y = y[known]
    pred = model.predict(test)
    mean = float(np.mean([r[TARGET] for r in train]))
    return {
        "r2": round(float(r2_score(y, pred)), 4),
        "mae_h": round(float(mean_absolute_error(y, pred)), 4),
        "rmse_h": round(float(np.sqrt(np.mean((y - pred) ** 2))), 4),
        "mean_baseline_mae_h": round(float(np.mean(np.abs(y - mean))), 4),
        "train_rows": len(train),
        "test_rows": len(test),
        "split": f"time-ordered, last {holdout:.0%} of stops held out",
    }


def train_duration(
    history: str | Path,
    models: str | Path | None = None,
    *,
    mapping: str | Path | None = None,
    bad: list[Any] | None = None,
    holdout: float = 0.2,
    trained_by: str = "",
    activate: bool = True,
    now: float | None = None,
    **params: Any,
) -> ModelVersion:
    """Measure on a hold-out, refit on all stops, register; return the version."""
    skipped: list[Any] = [] if bad is None else bad
    rows = load_losstime(history, mapping, skipped)
    metrics = evaluate_holdout(rows, holdout, **params)
    metrics["skipped_rows"] = len(skipped)
    model = DurationModel(**params).fit(rows)
    metrics["refit_rows"] = len(rows)
    metrics["components"] = ", ".join(model.components_)
    return ModelRegistry(models_dir(models)).register(
        DURATION_TAG,
        model,
        trained_by=trained_by,
        trained_at=time.time() if now is None else now,
        windows_used=len(rows),
        feature_set_version=FEATURE_SET_VERSION,
        metrics=metrics,
        kind=KIND,
        params=model.get_params(),
        activate=activate,
    )


def version_label(meta: ModelVersion) -> str:
    """The ``model_version`` text of a prediction: ``repair_duration/3``."""
    return f"{meta.tag}/{meta.version}"


@functools.lru_cache(maxsize=8)
def _load_file(path: str, mtime: float) -> DurationModel:
    model = joblib.load(path)
    if not isinstance(model, DurationModel):
        raise InputError(f"{path} does not hold a repair-duration model")
    return model


def load_model(
    model_file: str | Path | None = None, models: str | Path | None = None
) -> tuple[DurationModel, str]:
    """The model and its version label, from a file or the registry's active version.

    Raises
    ------
    InputError
        When the file (or an active registered model) does not exist.
    """
    if model_file is not None:
        path = Path(model_file)
        if not path.is_file():
            raise InputError(f"no model file {path}")
        label = path.stem
        try:  # the registry's metadata beside the file names the version
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            label = f"{meta['tag']}/{meta['version']}"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return _load_file(str(path.resolve()), path.stat().st_mtime), label
    registry = ModelRegistry(models_dir(models))
    try:
        meta = registry.get(DURATION_TAG)
    except RegistryError:
        raise InputError(
            f"no trained repair-duration model in {registry.root} "
            "(run `python -m connector train-duration --history DIR` first, or pass --model FILE)"
        ) from None
    path = Path(meta.path)
    if not path.is_file():
        raise InputError(f"model file {path} is missing")
    return _load_file(str(path.resolve()), path.stat().st_mtime), version_label(meta)


def predict_hours(
    component: str,
    produced: float,
    reject: float,
    model: DurationModel | str | Path | None = None,
    models: str | Path | None = None,
) -> float:
    """Predicted repair hours of a stop of *component*.

    Parameters
    ----------
    component : str
        Component code (``PRINTING`` ...; case and spaces do not matter).
    produced, reject : float
        Units produced and rejected in the shift the stop began in.
    model : DurationModel, path or None
        A fitted model, a model file, or None for the registry's active
        model (in *models*, ``$CMMS_MODELS_DIR`` or ``./models``).

    Raises
    ------
    InputError
        Bad inputs or no model.
    """
    if isinstance(model, DurationModel):
        fitted = model
    else:
        fitted, _ = load_model(model, models)
    return round(max(0.0, fitted.predict_one(component, produced, reject)), 3)


def prediction_item(
    component: str,
    produced: float,
    reject: float,
    predicted_hours: float,
    model_version: str,
    *,
    tag: str | None = None,
    ts: float | None = None,
    ref: str | None = None,
    recommendation: str | None = None,
) -> OutboxItem:
    """The ``prediction`` outbox item (``docs/contracts.md``).

    Parameters
    ----------
    tag : str, optional
        Equipment tag of the component in Odoo (e.g. ``FLX-104-PR``); the
        component code when omitted, which Odoo accepts only if an equipment
        carries that tag.
    ref : str, optional
        What the prediction is about (a stop's id): it makes the key, so
        the same prediction sent twice is a duplicate. The time otherwise.
    """
    now = time.time() if ts is None else ts
    code = normalize_component(component)
    hours = float(predicted_hours)
    if not math.isfinite(hours) or hours < 0:
        raise InputError(f"predicted_hours must be a finite number >= 0, got {predicted_hours!r}")
    data: dict[str, Any] = {
        "tag": tag or code,
        "component": code,
        "inputs": {
            "component": code,
            "shift_produced": _count(produced, "produced"),
            "shift_reject": _count(reject, "reject"),
        },
        "predicted_hours": round(hours, 3),
        "model_version": model_version[:64],
    }
    if recommendation:
        data["recommendation"] = recommendation[:2000]
    stamp = iso_utc(now)
    return OutboxItem(
        key=make_key(PREDICTION, data["tag"], model_version, ref or stamp),
        type=PREDICTION,
        ts=stamp,
        data=data,
    )

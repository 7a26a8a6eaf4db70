"""The model subcommands of ``python -m connector``.

``train``
    Train an Isolation Forest for one tag on a clean baseline and register
    it as a new (active) version: from a ``timestamp,value`` CSV
    (``--input``, optionally only its first ``--baseline-rows``), or from
    the local store's readings of the tag between ``--from`` and ``--to``
    (``--store``, or the store of ``--config``).
``models``
    ``models list [--tag TAG]``; ``models activate --tag TAG --version V``
    (a rollback when V is older).
``replay``
    Offline causal replay of the detectors over a CSV (:mod:`connector.replay`).
``train-duration``
    Train and register the repair-duration model on a LOSSTIME history.
``predict``
    Predicted repair hours of one stop.

``train`` and ``models activate`` print the ``model_version`` outbox item
with ``--json``; ``--queue`` also puts it in the store's outbox so the
pusher announces the version to Odoo. ``predict --json`` prints the
``prediction`` item.

Exit status: 0 done, 1 store failure, 2 bad input (the message says which).
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("train", "models", "replay", "train-duration", "predict")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return ""


def _contamination(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number in (0, 0.5] or 'auto'") from None
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError("a number in (0, 0.5] or 'auto'")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError("a whole number >= 1")
    return value


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the model subcommands to the main parser's subparsers."""
    models_help = "model registry folder (default $CMMS_MODELS_DIR or ./models)"

    train = sub.add_parser("train", help="train and register an anomaly model for a tag")
    train.add_argument("--tag", required=True)
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="CSV", help="timestamp,value file of clean readings")
    source.add_argument("--from", dest="since", metavar="ISO", help="store readings from (clean)")
    train.add_argument("--to", dest="until", metavar="ISO", help="store readings up to")
    train.add_argument("--store", metavar="FILE", help="the connector's store (file or URL)")
    train.add_argument("--config", "-c", metavar="FILE", help="TOML settings (for the store)")
    train.add_argument(
        "--baseline-rows",
        type=_positive_int,
        metavar="N",
        help="only the first N rows of --input are the clean baseline",
    )
    train.add_argument(
        "--contamination",
        type=_contamination,
        default=0.01,
        help="share of baseline windows above the threshold (default 0.01)",
    )
    train.add_argument("--window", type=_positive_int, default=60, help="readings per window")
    train.add_argument("--models", metavar="DIR", help=models_help)
    train.add_argument("--trained-by", default=None, help="who marked the baseline clean")
    train.add_argument("--no-activate", action="store_true", help="register without activating")
    train.add_argument("--json", action="store_true", help="print the model_version item")
    train.add_argument("--queue", action="store_true", help="queue the item in the store outbox")

    models = sub.add_parser("models", help="list model versions or activate one (rollback)")
    models.add_argument("action", choices=("list", "activate"))
    models.add_argument("--tag")
    models.add_argument("--version")
    models.add_argument("--models", metavar="DIR", help=models_help)
    models.add_argument("--store", metavar="FILE")
    models.add_argument("--config", "-c", metavar="FILE")
    models.add_argument("--json", action="store_true")
    models.add_argument("--queue", action="store_true", help="queue the item in the store outbox")

    replay = sub.add_parser("replay", help="replay the detectors over a CSV, causally")
    replay.add_argument("input", metavar="INPUT.csv")
    replay.add_argument("--output", "-o", required=True, metavar="OUT.csv")
    replay.add_argument(
        "--train-rows",
        type=_positive_int,
        default=400,
        metavar="N",
        help="leading rows that are the clean baseline (default 400)",
    )
    replay.add_argument("--method", choices=("online", "deviation", "iforest"), default="online")
    replay.add_argument(
        "--univariate",
        action="store_true",
        help="online: replay each signal on its own (the per-tag scorer)",
    )
    replay.add_argument(
        "--exclude",
        nargs="*",
        default=[],
        metavar="COLUMN",
        help="columns that are not signals (labels ...)",
    )
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")

    dur = sub.add_parser("train-duration", help="train and register the repair-duration model")
    dur.add_argument(
        "--history",
        required=True,
        metavar="DIR",
        help="the plant's reports: a folder of CSV/XLSX files or one LOSSTIME file "
        "(`python -m simulator history` writes them)",
    )
    dur.add_argument(
        "--mapping",
        metavar="TOML",
        help="the plant's column names (e.g. simulator/config/laporan_flexo.toml)",
    )
    dur.add_argument("--models", metavar="DIR", help=models_help)
    dur.add_argument("--holdout", type=float, default=0.2, help="share held out (default 0.2)")
    dur.add_argument("--trained-by", default=None)
    dur.add_argument("--json", action="store_true")

    pred = sub.add_parser("predict", help="predicted repair hours of a stop")
    pred.add_argument("--component", required=True, help="PRE_FEEDER, FEEDER, PRINTING ...")
    pred.add_argument("--produced", required=True, type=float, help="units produced in the shift")
    pred.add_argument("--reject", required=True, type=float, help="units rejected in the shift")
    pred.add_argument("--model", metavar="FILE", help="model file (default: the active one)")
    pred.add_argument("--models", metavar="DIR", help=models_help)
    pred.add_argument("--tag", help="equipment tag for the prediction item")
    pred.add_argument("--json", action="store_true", help="print the prediction item")


def _store_path(args: argparse.Namespace) -> str:
    if args.store:
        return str(args.store)
    from ..config import Settings

    return Settings.load(args.config).store_path


def _queue(args: argparse.Namespace, item: Any) -> None:
    from ..store import open_store

    path = _store_path(args)
    with open_store(path) as store:
        store.add_outbox([item])
        where = store.path  # a PostgreSQL URL's password is hidden
    print(f"queued {item.type} item {item.key} in {where}", file=sys.stderr)


def _store_readings(args: argparse.Namespace) -> list[tuple[float, float]]:
    from ..store import open_store
    from ..util import is_postgres_url
    from .io import InputError, parse_time

    if not args.until:
        raise InputError("--from needs --to")
    since, until = parse_time(args.since), parse_time(args.until)
    if until <= since:
        raise InputError("--to must come after --from")
    path = _store_path(args)
    if not is_postgres_url(path) and not Path(path).exists():
        raise InputError(f"no store at {path}")
    with open_store(path) as store:
        readings = store.tag_readings(args.tag, since, math.nextafter(until, math.inf))
    rows = [(r.ts, r.value) for r in readings if (r.quality or "good").lower() == "good"]
    out: list[tuple[float, float]] = []
    for ts, value in rows:
        if not out or ts > out[-1][0]:
            out.append((float(ts), float(value)))
    if not out:
        raise InputError(
            f"no good readings of {args.tag!r} in the store between {args.since} "
            f"and {args.until}"
        )
    return out


def _train(args: argparse.Namespace) -> int:
    from .io import InputError, read_series
    from .isolation import KIND, IsolationForestDetector
    from .registry import ModelRegistry, model_version_item, models_dir

    if args.input:
        if args.since or args.until:
            raise InputError("give either --input or --from/--to, not both")
        times, values = read_series(args.input)
        if args.baseline_rows:
            times, values = times[: args.baseline_rows], values[: args.baseline_rows]
        readings = list(zip(times.tolist(), values.tolist(), strict=True))
        source = f"{args.input}" + (
            f" (first {args.baseline_rows} rows)" if args.baseline_rows else ""
        )
    else:
        readings = _store_readings(args)
        source = f"store {args.tag} {args.since} .. {args.until}"
    det = IsolationForestDetector(window=args.window, contamination=args.contamination)
    try:
        det.fit(readings)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    metrics: dict[str, Any] = {**det.metrics(), "source": source[:200]}
    meta = ModelRegistry(models_dir(args.models)).register(
        args.tag,
        det,
        trained_by=args.trained_by if args.trained_by is not None else _user(),
        windows_used=det.windows_used_,
        contamination=None if det.contamination == "auto" else float(det.contamination),
        feature_set_version=det.feature_set_version,
        metrics=metrics,
        kind=KIND,
        params=det.get_params(),
        activate=not args.no_activate,
    )
    item = model_version_item(meta)
    print(
        f"{meta.tag}: version {meta.version}{' (active)' if meta.active else ''} from "
        f"{len(readings)} readings, {meta.windows_used} windows, threshold "
        f"{det.threshold_:.4f} -> {meta.path}"
    )
    if args.json:
        print(json.dumps(item.to_rpc(), indent=2))
    if args.queue:
        _queue(args, item)
    return 0


def _models(args: argparse.Namespace) -> int:
    from .io import InputError
    from .registry import ModelRegistry, RegistryError, model_version_item, models_dir

    registry = ModelRegistry(models_dir(args.models))
    try:
        if args.action == "activate":
            if not args.tag or not args.version:
                raise InputError("models activate needs --tag and --version")
            meta = registry.activate(args.tag, args.version)
            item = model_version_item(meta)
            print(f"{meta.tag}: version {meta.version} is active")
            if args.json:
                print(json.dumps(item.to_rpc(), indent=2))
            if args.queue:
                _queue(args, item)
            return 0
        tags = [args.tag] if args.tag else registry.tags()
        listing = [m for tag in tags for m in registry.versions(tag)]
    except RegistryError as exc:
        raise InputError(str(exc)) from None
    if args.json:
        print(json.dumps([{**m.to_json(), "active": m.active} for m in listing], indent=2))
        return 0
    if not listing:
        print(f"no models in {registry.root}")
    for m in listing:
        flag = "*" if m.active else " "
        print(
            f"{flag} {m.tag:<20} v{m.version:<5} {m.trained_at}  {m.kind:<17} "
            f"{m.windows_used:>7} rows/windows  by {m.trained_by or '-'}"
        )
    return 0


def _replay(args: argparse.Namespace) -> int:
    from ..replay import replay_file

    summary = replay_file(
        args.input,
        args.output,
        args.train_rows,
        args.method,
        exclude=args.exclude,
        univariate=args.univariate,
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['rows']} rows, {len(summary['signals'])} signal(s) "
            f"({', '.join(summary['signals'])}); baseline {summary['baseline_rows']} rows; "
            f"flagged {summary['flagged_rows']} of {summary['replayed_rows']} replayed "
            f"({summary['flagged_pct']} %) -> {args.output}"
        )
        if summary["skipped_columns"]:
            print(f"left out: {', '.join(summary['skipped_columns'])}")
    return 0


def _train_duration(args: argparse.Namespace) -> int:
    from .duration import train_duration

    bad: list[Any] = []
    meta = train_duration(
        args.history,
        args.models,
        mapping=args.mapping,
        bad=bad,
        holdout=args.holdout,
        trained_by=args.trained_by if args.trained_by is not None else _user(),
    )
    m = meta.metrics
    print(
        f"{meta.tag}: version {meta.version} ({m['refit_rows']} stops) -> {meta.path}\n"
        f"hold-out ({m['split']}, {m['test_rows']} stops): R2 {m['r2']:.3f}, "
        f"MAE {m['mae_h']:.3f} h (predicting the mean: MAE {m['mean_baseline_mae_h']:.3f} h)"
    )
    for row in bad:
        print(f"skipped: {row}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} row(s) skipped", file=sys.stderr)
    if args.json:
        print(json.dumps({**meta.to_json(), "active": meta.active}, indent=2))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .duration import load_model, prediction_item

    model, label = load_model(args.model, args.models)
    row = model.check_inputs(args.component, args.produced, args.reject)
    hours = round(max(0.0, float(model.predict([row])[0])), 3)
    if args.json:
        item = prediction_item(
            args.component, args.produced, args.reject, hours, label, tag=args.tag
        )
        print(json.dumps(item.to_rpc(), indent=2))
    else:
        print(
            f"{hours:.2f} h  ({row['component']}, produced {args.produced:g}, "
            f"reject {args.reject:g}; model {label})"
        )
    for note in model.out_of_range(row):
        print(f"note: {note}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one model subcommand; return the exit status."""
    from ..config import ConfigError
    from ..store import StorageError
    from .io import InputError
    from .registry import RegistryError

    handlers = {
        "train": _train,
        "models": _models,
        "replay": _replay,
        "train-duration": _train_duration,
        "predict": _predict,
    }
    try:
        return handlers[args.command](args)
    except (InputError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 1

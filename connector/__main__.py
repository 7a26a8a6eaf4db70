"""Command line: ``python -m connector COMMAND``.

Commands: ``run``, ``status``, ``requeue-rejected``; ``train``, ``models``,
``replay``, ``train-duration``, ``predict``.

``run``
    Start the daemon (see :mod:`connector.service`); exits 0 on SIGTERM or
    SIGINT after a clean shutdown, 1 on a store failure, 2 on a bad
    configuration.
``status``
    Print the store's counts: readings, ticks, outbox pending / sent /
    rejected, dead letters, open alerts (``--json`` for a machine-readable
    form).
``requeue-rejected``
    Put items Odoo rejected back into the outbox queue (after the cause was
    fixed in Odoo).

The daemon commands take ``--config FILE`` (TOML); ``CMMS_*`` environment
variables override it (see :mod:`connector.config`).

The model commands (``train``, ``models``, ``replay``, ``train-duration``,
``predict``) are described in :mod:`connector.ml.cli`; they need
scikit-learn, numpy and joblib, which only they import.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import ConfigError, Settings
from .store import StorageError, open_store
from .util import is_postgres_url

ML_COMMANDS = ("train", "models", "replay", "train-duration", "predict")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connector", description="CMMS telemetry connector"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "run the daemon"),
        ("status", "print store counts"),
        ("requeue-rejected", "retry items Odoo rejected"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--config", "-c", metavar="FILE", help="TOML settings file")
        if name == "status":
            cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "run":
            cmd.add_argument("--log-level", help="override log_level")
    from .ml import cli as ml_cli

    ml_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; return the exit code."""
    args = _parser().parse_args(argv)
    if args.command in ML_COMMANDS:
        from .ml import cli as ml_cli

        return ml_cli.run(args)
    try:
        settings = Settings.load(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        level = (args.log_level or settings.log_level).upper()
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from .service import Service

        return Service(settings).run()
    if not is_postgres_url(settings.store_path) and not Path(settings.store_path).exists():
        print(f"no store at {settings.store_path}", file=sys.stderr)
        return 1
    try:
        with open_store(settings.store_path) as store:
            if args.command == "requeue-rejected":
                print(f"{store.requeue_rejected()} items put back in the queue")
                return 0
            counts = store.counts()
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(counts, indent=2))
    else:
        width = max(len(k) for k in counts)
        for key, value in counts.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m simulator {run,dump,list,history,reports,demo-xml}``.

``run``
    Publish a scenario to an MQTT broker at QoS 1 and print what was
    published and acknowledged::

        python -m simulator run --scenario pt101_out_of_range --rate 10 \\
            --labels labels.jsonl --host 127.0.0.1 --port 1883

``dump``
    Write the readings of a scenario to a JSON-lines file, no broker::

        python -m simulator dump --scenario mixed --duration 600 --out r.jsonl

``list``
    Print the built-in scenarios.

``history``
    Write a year of FLEXO 104 monthly production reports (one CSV per
    month), the LOSSTIME events with maintenance hours and the degradation
    labels, from the tick model::

        python -m simulator history --year 2026 --out DIR [--seed N]

``demo-xml``
    Write the Odoo demo instruments (cmms_parfum's equipment, cmms_telemetry's
    sensors) from ``config/instruments.toml``, the simulated plant's one
    definition, and the FLEXO 104 line's component equipment and codes from
    the connector's component list and ``config/flexo_line.toml``;
    ``--check`` only compares and exits 1 when they differ::

        python -m simulator demo-xml [--check]

Exit status of ``run``: 0 when every published message was acknowledged,
1 when some were not, 2 when the broker could not be reached or the
arguments are wrong.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TextIO

from . import demo_xml
from .demo_xml import ADDONS_DIR, LINE_FILE
from .faults import write_labels
from .history import DEFAULT_DEGRADATIONS, generate_history, write_history
from .instruments import PLANT_FILE, load_instruments
from .publisher import PublishConfig, run
from .scenarios import SCENARIOS, get_scenario
from .simulation import Simulation


def _rate(text: str) -> float | None:
    if text.lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("rate is a positive number or 'max'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("rate must be positive")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_simulation_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        required=True,
        help="built-in scenario name or a .toml/.json scenario file",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        help="simulated seconds (default: the scenario's)",
    )
    parser.add_argument(
        "--interval",
        type=_positive_float,
        default=None,
        help="simulated seconds between readings of every instrument",
    )
    parser.add_argument(
        "--start",
        default=None,
        help="simulated start, ISO 8601 or 'now' (default: 'now' for run, so that "
        "readings are stamped with the current time; 2026-11-22T08:00:00Z for dump)",
    )
    parser.add_argument(
        "--instruments",
        type=Path,
        default=None,
        help="instrument list (.toml/.json) replacing the scenario's",
    )
    parser.add_argument(
        "--instruments-from-odoo",
        action="store_true",
        help="read the instruments from Odoo's sensor register "
        "(CMMS_ODOO_URL, CMMS_ODOO_DB, CMMS_ODOO_LOGIN, CMMS_ODOO_API_KEY)",
    )
    parser.add_argument(
        "--tick-interval",
        type=_positive_float,
        default=60.0,
        help="simulated seconds per FLEXO tick (default 60)",
    )
    flexo = parser.add_mutually_exclusive_group()
    flexo.add_argument(
        "--flexo",
        dest="flexo",
        action="store_true",
        default=None,
        help="publish FLEXO 104 ticks even if the scenario does not",
    )
    flexo.add_argument(
        "--no-flexo",
        dest="flexo",
        action="store_false",
        help="publish no FLEXO 104 ticks",
    )
    energy = parser.add_mutually_exclusive_group()
    energy.add_argument(
        "--energy",
        dest="energy",
        action="store_true",
        default=None,
        help="publish the energy meters even if the scenario does not",
    )
    energy.add_argument(
        "--no-energy",
        dest="energy",
        action="store_false",
        help="publish no energy meter readings",
    )
    parser.add_argument(
        "--energy-interval",
        type=_positive_float,
        default=60.0,
        help="simulated seconds between two readings of a perfume machine's meter "
        "(default 60; the FLEXO line's meter reads with each tick)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="write the ground-truth fault labels (JSON lines) here",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m simulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Publish simulated plant data with labelled faults over MQTT.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    run_p = sub.add_parser("run", help="publish a scenario to an MQTT broker")
    _add_simulation_args(run_p)
    run_p.add_argument(
        "--rate",
        type=_rate,
        default=1.0,
        help="simulated seconds per wall second, or 'max' (default 1)",
    )
    run_p.add_argument("--host", default="127.0.0.1", help="broker host")
    run_p.add_argument("--port", type=int, default=1883, help="broker port")
    run_p.add_argument("--site", default="plant1", help="site topic level")
    run_p.add_argument("--prefix", default="cmms", help="topic prefix")
    run_p.add_argument(
        "--batch",
        type=_positive_int,
        default=1,
        help="readings per message; >1 sends JSON arrays (default 1)",
    )
    run_p.add_argument(
        "--max-outstanding",
        type=_positive_int,
        default=1000,
        help="bound on unacknowledged QoS 1 messages (default 1000)",
    )
    run_p.add_argument("--client-id", default="", help="MQTT client id")
    run_p.add_argument("--username", default=None, help="broker user name")
    run_p.add_argument("--password", default=None, help="broker password")

    dump_p = sub.add_parser("dump", help="write a scenario's readings without a broker")
    _add_simulation_args(dump_p)
    dump_p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="readings as JSON lines (contract payload plus 'tag')",
    )
    dump_p.add_argument(
        "--ticks",
        type=Path,
        default=None,
        help="also write the FLEXO ticks as JSON lines here",
    )
    dump_p.add_argument(
        "--energy-out",
        type=Path,
        default=None,
        help="also write the energy meter readings as JSON lines here",
    )

    sub.add_parser("list", help="list the built-in scenarios")

    hist_p = sub.add_parser(
        "history", help="write a year of FLEXO 104 production reports (CSV), no broker"
    )
    hist_p.add_argument("--year", type=int, required=True, help="calendar year of the reports")
    hist_p.add_argument("--out", type=Path, required=True, help="output directory")
    hist_p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    hist_p.add_argument(
        "--degradations",
        type=int,
        default=DEFAULT_DEGRADATIONS,
        help=f"random degradation faults in the year (default {DEFAULT_DEGRADATIONS})",
    )
    hist_p.add_argument(
        "--tick-interval",
        type=_positive_float,
        default=300.0,
        help="simulated seconds per model step, a divisor of 8 h (default 300)",
    )
    hist_p.add_argument(
        "--format", choices=("csv", "xlsx"), default="csv", help="file format (default csv)"
    )
    hist_p.add_argument(
        "--mapping",
        type=Path,
        default=None,
        help="the plant's column and file names (e.g. simulator/config/laporan_flexo.toml)",
    )

    rep_p = sub.add_parser(
        "reports",
        help="read a plant's production reports and LOSSTIME sheet (CSV/XLSX): "
        "statistics, bad rows, FLEXO ticks",
    )
    rep_p.add_argument("source", type=Path, help="a report file or a folder of them")
    rep_p.add_argument("--mapping", type=Path, default=None, help="the plant's column names")
    rep_p.add_argument(
        "--ticks", type=Path, default=None, help="write one FLEXO tick per shift (JSON lines)"
    )
    rep_p.add_argument("--machine-id", default="FLEXO_104", help="machine id of the ticks")

    xml_p = sub.add_parser(
        "demo-xml",
        help="write the Odoo demo instruments (equipment and sensors) and the FLEXO line's "
        "components from the plant's definition, config/instruments.toml and "
        "config/flexo_line.toml",
    )
    xml_p.add_argument(
        "--instruments", type=Path, default=PLANT_FILE, help="the plant's instruments (TOML)"
    )
    xml_p.add_argument(
        "--line", type=Path, default=LINE_FILE, help="the FLEXO line's register tables (TOML)"
    )
    xml_p.add_argument(
        "--addons", type=Path, default=ADDONS_DIR, help="the addons folder (default: the repo's)"
    )
    xml_p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the committed files differ from the definition",
    )
    return parser


def _simulation(args: argparse.Namespace) -> Simulation:
    scenario = get_scenario(args.scenario)
    start = args.start
    if start is None and args.command == "run":
        start = "now"  # live: readings stamped with the current time
    instruments = load_instruments(args.instruments) if args.instruments else None
    if getattr(args, "instruments_from_odoo", False):
        from .odoo_register import fetch_instruments

        instruments = fetch_instruments()
    return Simulation(
        scenario,
        seed=args.seed,
        start=start,
        duration_s=args.duration,
        interval_s=args.interval,
        flexo=args.flexo,
        tick_interval_s=args.tick_interval,
        instruments=instruments,
        energy=args.energy,
        energy_interval_s=args.energy_interval,
    )


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    sim = _simulation(args)
    config = PublishConfig(
        host=args.host,
        port=args.port,
        site=args.site,
        prefix=args.prefix,
        batch=args.batch,
        rate=args.rate,
        max_outstanding=args.max_outstanding,
        client_id=args.client_id,
        username=args.username,
        password=args.password,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second signal: give up at once
            raise KeyboardInterrupt
        print(f"signal {signum}: stopping after the in-flight messages", file=sys.stderr)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stats = run(sim, config, labels_path=args.labels, stop=stop, out=out)
    except ConnectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stats.complete else 1


def _cmd_dump(args: argparse.Namespace, out: TextIO) -> int:
    sim = _simulation(args)
    with ExitStack() as stack:
        readings_out = stack.enter_context(args.out.open("w", encoding="utf-8"))
        ticks_out = energy_out = None
        if args.ticks is not None:
            ticks_out = stack.enter_context(args.ticks.open("w", encoding="utf-8"))
        if args.energy_out is not None:
            energy_out = stack.enter_context(args.energy_out.open("w", encoding="utf-8"))
        n_readings, n_ticks = sim.dump(readings_out, ticks_out, energy_out)
    print(f"readings: {n_readings} -> {args.out}", file=out)
    if args.ticks is not None:
        print(f"ticks: {n_ticks} -> {args.ticks}", file=out)
    if args.labels is not None:
        count = write_labels(args.labels, sim.labels())
        print(f"labels: {count} -> {args.labels}", file=out)
    return 0


def _cmd_history(args: argparse.Namespace, out: TextIO) -> int:
    if not 1 <= args.year <= 9998:
        raise ValueError("year must be within 1..9998")
    if args.degradations < 0:
        raise ValueError("--degradations must be >= 0")
    history = generate_history(
        args.year,
        args.seed,
        degradations=args.degradations,
        tick_interval_s=args.tick_interval,
    )
    written = write_history(history, args.out, fmt=args.format, mapping=args.mapping)
    months = written["months"]
    print(f"shifts: {len(history.shifts)} -> {months[0]} .. {months[-1]}", file=out)
    print(f"losstime: {len(history.losstime)} -> {written['losstime']}", file=out)
    print(f"labels: {len(history.faults)} -> {written['labels']}", file=out)
    return 0


def _cmd_reports(args: argparse.Namespace, out: TextIO) -> int:
    from connector.reports import read_reports

    from .reports import replay_ticks, summarize

    found = read_reports(args.source, args.mapping)
    for kind in ("shifts", "losstime"):
        for bad in found[kind].bad:
            print(f"skipped: {bad}", file=sys.stderr)
    for line in summarize(found["shifts"].rows, found["losstime"].rows):
        print(line, file=out)
    skipped = len(found["shifts"].bad) + len(found["losstime"].bad)
    print(f"rows skipped: {skipped}", file=out)
    if args.ticks:
        count = replay_ticks(found["shifts"].rows, found["losstime"].rows, args.ticks,
                             machine_id=args.machine_id)  # fmt: skip
        print(f"ticks: {count} -> {args.ticks}", file=out)
    return 0


def _cmd_demo_xml(args: argparse.Namespace, out: TextIO) -> int:
    if args.check:
        stale = demo_xml.check(args.addons, args.instruments, args.line)
        sources = f"{args.instruments.name}, {args.line.name}"
        for name in stale:
            print(f"differs from what {sources} generate: {name}", file=out)
        return 1 if stale else 0
    for path in demo_xml.write(args.addons, args.instruments, args.line):
        print(f"wrote {path}", file=out)
    return 0


def _cmd_list(out: TextIO) -> int:
    for scenario in SCENARIOS.values():
        print(
            f"{scenario.name:28} {scenario.duration_s:7.0f} s  {scenario.description}",
            file=out,
        )
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "run":
            return _cmd_run(args, out)
        if args.command == "dump":
            return _cmd_dump(args, out)
        if args.command == "history":
            return _cmd_history(args, out)
        if args.command == "reports":
            return _cmd_reports(args, out)
        if args.command == "demo-xml":
            return _cmd_demo_xml(args, out)
        return _cmd_list(out)
    except (KeyError, ValueError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

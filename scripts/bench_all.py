"""Run every benchmark of the project; write a markdown report with PNG plots.

usage: ./scripts/bench [--out bench-report] [--only NAME ...] [--quick]
       [--skab-data PATH]

Each benchmark is the project's own command, run as a child process in turn
(never two at once: they would measure each other); its output is kept in
``<out>/<name>.log`` and its figures parsed into ``<out>/results.json``,
``<out>/report.md`` and ``<out>/*.png``. A benchmark that fails or whose
prerequisite is missing (no Odoo, no SKAB data) is reported as such; the
others still run. The machine's load average is printed before and after
each benchmark: on a shared machine it says how much the figures are worth.

===========  =============================================================
name         command
===========  =============================================================
connector    ``python -m devkit.bench_connector``: connector vs a bare MQTT
             subscriber, 100 / 1,000 / 10,000 tags, 1 and 20 readings per
             message; also the memory figures (peak RSS with 10,000 tags)
simulator    ``python -m simulator.bench --batch 1 100``: publisher rate
store        ``python -m scripts.bench_store``: the store, SQLite vs PostgreSQL
ingest       ``python -m scripts.bench_ingest``: Odoo ingestion, batched vs per item
latency      ``python -m scripts.bench_latency``: reading published -> alert in
             Odoo, p50 / p95 at 1,000 readings/s
kpi          ``python -m scripts.bench_kpi``: KPIs of 100,000 work orders
skab         ``python -m connector.ml.skab_eval``: F1 / FAR / MAR on SKAB
===========  =============================================================
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def load() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


# -- parsers: the benchmark's printout -> figures -------------------------------


def parse_connector(text: str) -> dict[str, Any]:
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 9 and all(re.fullmatch(r"[0-9.]+", p) for p in parts):
            tags, batch, readings, publish, bare, conn, ratio, conn_rss, bare_rss = parts
            rows.append({
                "tags": int(tags), "batch": int(batch), "readings": int(readings),
                "publish_per_s": float(publish), "bare_per_s": float(bare),
                "connector_per_s": float(conn), "ratio": float(ratio),
                "connector_peak_mib": float(conn_rss), "bare_peak_mib": float(bare_rss),
            })  # fmt: skip
    return {"rows": rows}


def parse_simulator(text: str) -> dict[str, Any]:
    rows = []
    for m in re.finditer(
        r"batch\s+(\d+): (\d+) readings in (\d+) messages.*?-> ([\d,]+) readings/s", text
    ):
        rows.append({
            "batch": int(m[1]), "readings": int(m[2]), "messages": int(m[3]),
            "readings_per_s": float(m[4].replace(",", "")),
        })  # fmt: skip
    return {"rows": rows}


def parse_store(text: str) -> dict[str, Any]:
    rows = []
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$", line)
        if m and not line.startswith("store"):
            a, b, c = (float(x.replace(",", "")) for x in m.groups()[1:])
            rows.append({"store": m[1], "savepoint_per_s": a, "insert_per_s": b,
                         "pipeline_per_s": c})  # fmt: skip
    return {"rows": rows}


def parse_ingest(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = {
        "ingest, batches of": "batched_per_s",
        "ingest, a replayed batch": "replayed_per_s",
        "XML-RPC, one reading_agg item per call": "per_item_ingest_per_s",
        "XML-RPC create, one cmms.reading per call": "per_item_create_per_s",
    }
    for line in text.splitlines():
        for prefix, key in names.items():
            if line.startswith(prefix):
                out[key] = float(line.split()[-1])
    m = re.search(r"ratio batched / per-item create: ([\d.]+)x", text)
    if m:
        out["ratio_create"] = float(m[1])
    m = re.search(r"ratio batched / per-item ingest: ([\d.]+)x", text)
    if m:
        out["ratio_ingest"] = float(m[1])
    return out


def parse_kpi(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"kpi: (\d+) work orders, (\d+) machines, ([\d.]+) s", text)
    if m:
        out.update(work_orders=int(m[1]), machines=int(m[2]), best_s=float(m[3]))
    m = re.search(r"runs \(plant \+ per machine\): (.*) s", text)
    if m:
        out["runs_s"] = [float(x) for x in m[1].split(",")]
    return out


def parse_skab(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"leaderboard": {}}
    for line in text.splitlines():
        m = re.match(r"^(.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", line)
        if not m:
            continue
        name, f1, far, mar = m[1].strip(), float(m[2]), float(m[3]), float(m[4])
        if name.startswith("this ("):
            out.update(detector=name, f1=f1, far_pct=far, mar_pct=mar)
        elif name.endswith("(published)"):
            out["leaderboard"][name.removesuffix(" (published)")] = [f1, far, mar]
    m = re.search(r"([\d.]+) s, (\d+) us per row", text)
    if m:
        out.update(seconds=float(m[1]), us_per_row=int(m[2]))
    return out


# -- the benchmarks -------------------------------------------------------------


@dataclass
class Bench:
    name: str
    title: str
    command: Callable[[argparse.Namespace, Path], list[str] | None]
    parse: Callable[[str], dict[str, Any]]
    result: dict[str, Any] = field(default_factory=dict)


def skab_folder(args: argparse.Namespace) -> Path | None:
    for candidate in (args.skab_data, os.environ.get("CMMS_SKAB_DATA"), ROOT.parent / "shared"
                      / "data" / "skab"):  # fmt: skip
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate)
    return None


BENCHES = [
    Bench(
        "connector", "Connector against a bare MQTT subscriber (and memory)",
        lambda a, out: [PY, "-m", "devkit.bench_connector",
                        *(["--readings", "20000", "--tags", "100", "1000"] if a.quick else [])],
        parse_connector,
    ),
    Bench(
        "simulator", "Simulator publishing rate",
        lambda a, out: [PY, "-m", "simulator.bench", "--batch", "1", "100",
                        *(["--readings", "20000"] if a.quick else [])],
        parse_simulator,
    ),
    Bench(
        "store", "Connector store: SQLite vs PostgreSQL",
        lambda a, out: [PY, "-m", "scripts.bench_store"],
        parse_store,
    ),
    Bench(
        "ingest", "Odoo ingestion: batched vs per item",
        lambda a, out: [PY, "-m", "scripts.bench_ingest",
                        *(["--items", "2000", "--single", "200"] if a.quick else [])],
        parse_ingest,
    ),
    Bench(
        "latency", "Reading published -> alert visible in Odoo",
        lambda a, out: [PY, "-m", "scripts.bench_latency",
                        "--json", str(out / "latency.json"),
                        "--push-batch-age", "2.0", "--push-batch-age", "0.5",
                        *(["--faults", "15", "--sensors", "20"] if a.quick else [])],
        lambda text: {},  # read from latency.json
    ),
    Bench(
        "kpi", "Maintenance KPIs of a year",
        lambda a, out: [PY, "-m", "scripts.bench_kpi",
                        *(["--machines", "100", "--work-orders", "10000"] if a.quick else [])],
        parse_kpi,
    ),
    Bench(
        "skab", "Detectors on SKAB",
        lambda a, out: (
            [PY, "-m", "connector.ml.skab_eval", "--data", str(folder)]
            if (folder := skab_folder(a)) else None
        ),
        parse_skab,
    ),
]  # fmt: skip


def figures(bench: Bench, text: str, out: Path) -> dict[str, Any]:
    """The figures of a benchmark's printout (empty when it printed none)."""
    try:
        if bench.name == "latency":
            path = out / "latency.json"
            return {"runs": json.loads(path.read_text())} if path.exists() else {}
        return bench.parse(text)
    except Exception as exc:  # a parser bug must not lose the other figures
        return {"parse_error": repr(exc)}


def describe(name: str, returncode: int, found: dict[str, Any]) -> str:
    """``ok``, ``target not met`` or ``exit N``, and whether figures were found."""
    if returncode == 0:
        status = "ok"
    elif name == "simulator" and returncode == 1 and found:
        status = "ok, target not met (exit 1)"  # its exit status is the verdict
    else:
        status = f"exit {returncode}"
    if not found or not any(found.values()):
        status += " (no figures parsed)"
    return status


def run_bench(bench: Bench, args: argparse.Namespace, out: Path) -> None:
    cmd = bench.command(args, out)
    res = bench.result
    res["load_before"] = list(load())
    if cmd is None:
        res["status"] = "skipped: prerequisite missing (SKAB data: --skab-data or CMMS_SKAB_DATA)"
        print(f"[bench] {bench.name}: {res['status']}", file=sys.stderr, flush=True)
        return
    res["command"] = " ".join(
        Path(c).relative_to(ROOT).as_posix() if c.startswith(str(ROOT)) else c
        for c in [("python" if c == PY else c) for c in cmd]
    )
    print(f"[bench] {bench.name}: {res['command']} (load {load()[0]:.2f})",
          file=sys.stderr, flush=True)  # fmt: skip
    started = time.monotonic()
    log = out / f"{bench.name}.log"
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    res["seconds"] = round(time.monotonic() - started, 1)
    res["load_after"] = list(load())
    res["figures"] = figures(bench, log.read_text(errors="replace"), out)
    res["status"] = describe(bench.name, proc.returncode, res["figures"])
    print(f"[bench] {bench.name}: {res['status']} in {res['seconds']} s", file=sys.stderr,
          flush=True)  # fmt: skip


# -- plots ------------------------------------------------------------------------


def grouped_bars(
    ax: Any,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    ylabel: str | None = None,
    title: str,
    log: bool = False,
    fontsize: int = 8,
    width: float = 0.38,
) -> list[float]:
    """Bars of several series side by side over ``labels``, with a legend.

    Returns each series' offset from its label's position (for annotations).
    """
    offsets = [(k - (len(series) - 1) / 2) * width for k in range(len(series))]
    for offset, (label, values) in zip(offsets, series, strict=True):
        ax.bar([i + offset for i in range(len(labels))], values, width, label=label)
    ax.set_xticks(range(len(labels)), labels, fontsize=fontsize)
    if log:
        ax.set_yscale("log")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=fontsize)
    return offsets


def plots(results: dict[str, dict[str, Any]], out: Path) -> dict[str, str]:
    """PNG files by benchmark name (only for benchmarks with figures)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: dict[str, str] = {}

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)
        made[name] = f"{name}.png"

    rows = results.get("connector", {}).get("figures", {}).get("rows", [])
    if rows:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        labels = [f"{r['tags']} tags\nbatch {r['batch']}" for r in rows]
        _, right = grouped_bars(ax1, labels, [("bare subscriber", [r["bare_per_s"] for r in rows]),
                                              ("connector", [r["connector_per_s"] for r in rows])],
                                ylabel="readings / s", title="Throughput (ratio above the bars)",
                                log=True)  # fmt: skip
        for i, r in enumerate(rows):
            ax1.annotate(f"{r['ratio']:.2f}", (i + right, r["connector_per_s"]), ha="center",
                         va="bottom", fontsize=8)  # fmt: skip
        grouped_bars(ax2, labels, [("bare", [r["bare_peak_mib"] for r in rows]),
                                   ("connector (+ receiver)",
                                    [r["connector_peak_mib"] for r in rows])],
                     ylabel="peak RSS (MiB)", title="Memory")  # fmt: skip
        save(fig, "connector")

    runs = results.get("latency", {}).get("figures", {}).get("runs", [])
    if runs:
        fig, ax = plt.subplots(figsize=(7, 4))
        data = [r["latencies_s"] or [0.0] for r in runs]
        ax.boxplot(data, whis=(5, 95))
        ax.set_xticks(
            range(1, len(runs) + 1),
            [
                f"push batch age {r['push_batch_age_s']} s\n"
                f"p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s"
                for r in runs
            ],
        )
        ax.axhline(2.0, color="red", linestyle="--", linewidth=1, label="target p95 2 s")
        ax.set_ylabel("published -> visible in Odoo (s)")
        ax.set_title(f"Alert latency at {runs[0]['rate_target']:.0f} readings/s")
        ax.legend(fontsize=8)
        save(fig, "latency")

    ingest = results.get("ingest", {}).get("figures", {})
    if ingest:
        names = {
            "batched_per_s": "ingest,\nbatches of 1,000",
            "replayed_per_s": "ingest,\nreplayed batch",
            "per_item_ingest_per_s": "ingest,\none item a call",
            "per_item_create_per_s": "create,\none record a call",
        }
        keys = [k for k in names if k in ingest]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar([names[k] for k in keys], [ingest[k] for k in keys], color="tab:green")
        ax.set_yscale("log")
        ax.set_ylabel("items / s")
        ax.set_title("Odoo ingestion")
        save(fig, "ingest")

    skab = results.get("skab", {}).get("figures", {})
    if skab.get("f1") is not None:
        rows_s = [("this: " + skab["detector"].removeprefix("this "), skab["f1"],
                   skab["far_pct"], skab["mar_pct"])]  # fmt: skip
        rows_s += [(n, *v) for n, v in skab.get("leaderboard", {}).items()]
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
        for ax, idx, title in zip(axes, (1, 2, 3), ("F1 (higher is better)", "FAR %", "MAR %"),
                                  strict=True):  # fmt: skip
            ax.barh([r[0] for r in rows_s], [r[idx] for r in rows_s],
                    color=["tab:orange"] + ["tab:gray"] * (len(rows_s) - 1))  # fmt: skip
            ax.set_title(title)
            ax.invert_yaxis()
            if idx > 1:
                ax.set_yticks([])
        save(fig, "skab")

    sim = results.get("simulator", {}).get("figures", {}).get("rows", [])
    store = results.get("store", {}).get("figures", {}).get("rows", [])
    if sim or store:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        if sim:
            axes[0].bar([f"batch {r['batch']}" for r in sim], [r["readings_per_s"] for r in sim])
            axes[0].set_ylabel("readings / s")
            axes[0].set_title("Simulator publishing")
        if store:
            grouped_bars(axes[1], [r["store"].replace(" (", "\n(") for r in store],
                         [(label, [r[key] for r in store])
                          for key, label in (("savepoint_per_s", "msg + savepoint"),
                                             ("insert_per_s", "one insert"),
                                             ("pipeline_per_s", "Pipeline"))],
                         title="Connector store, readings / s", log=True, fontsize=7,
                         width=0.27)  # fmt: skip
        save(fig, "publish_store")
    return made


# -- the report ---------------------------------------------------------------------


def fmt(value: float) -> str:
    return f"{value:,.0f}"


def report(results: dict[str, dict[str, Any]], images: dict[str, str], meta: dict) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"- when: {meta['started']} to {meta['finished']} (UTC)",
        f"- commit: `{meta['commit']}`; Python {meta['python']}; {meta['cpus']} CPU(s)",
        f"- load average (1, 5, 15 min) at the start: {meta['load_start']}, at the end: "
        f"{meta['load_end']}. Figures measured on a machine shared with other work are "
        "lower bounds of what the code does on a quiet one.",
        f"- command: `{meta['command']}`",
        "",
    ]

    def head(name: str) -> dict[str, Any] | None:
        res = results.get(name)
        if res is None:
            return None
        bench = next(b for b in BENCHES if b.name == name)
        lines.append(f"## {bench.title}")
        lines.append("")
        if res.get("command"):
            lines.append(f"`{res['command']}`: {res['status']}, {res.get('seconds', 0)} s; "
                         f"load {res['load_before'][0]:.2f} before, "
                         f"{res.get('load_after', res['load_before'])[0]:.2f} after.")  # fmt: skip
        else:
            lines.append(res["status"])
        lines.append("")
        if name in images:
            lines.extend([f"![{name}]({images[name]})", ""])
        return res.get("figures") or None

    fig = head("connector")
    if fig and fig.get("rows"):
        lines += [
            "| tags | readings/msg | readings | bare /s | connector /s | ratio | "
            "connector peak MiB | bare peak MiB |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in fig["rows"]:
            lines.append(
                f"| {r['tags']} | {r['batch']} | {fmt(r['readings'])} | {fmt(r['bare_per_s'])} | "
                f"{fmt(r['connector_per_s'])} | {r['ratio']:.2f} | {r['connector_peak_mib']:.1f} | "
                f"{r['bare_peak_mib']:.1f} |"
            )
        big = [r for r in fig["rows"] if r["tags"] == 10_000]
        if big:
            lines += [
                "",
                "**Memory with 10,000 tags** (connector process + its MQTT receiver, peak RSS): "
                + ", ".join(
                    f"{r['connector_peak_mib']:.0f} MiB with {r['batch']} reading(s) "
                    f"per message"
                    for r in big
                )  # fmt: skip
                + ". Target ratio connector / bare: at least 0.8.",
            ]
        lines.append("")

    fig = head("latency")
    if fig and fig.get("runs"):
        lines += [
            "| push batch age (s) | readings/s achieved | faults seen | p50 (s) | p95 (s) "
            "| max (s) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in fig["runs"]:
            lines.append(
                f"| {r['push_batch_age_s']} | {fmt(r['rate_achieved'])} | "
                f"{r['seen']}/{r['faults']} | {r['p50_s']:.3f} | {r['p95_s']:.3f} | "
                f"{r['max_s'] if r['max_s'] is not None else '-'} |"
            )
        lines += [
            "",
            "Target: p95 under 2 s at 1,000 readings/s. The connector's shipped "
            "`push_batch_age_s` is the first row; the second shows the same path with "
            "`CMMS_PUSH_BATCH_AGE_S=0.5`.",
            "",
        ]

    fig = head("ingest")
    if fig:
        names = {
            "batched_per_s": "ingest, batches of 1,000 reading_agg (new keys)",
            "replayed_per_s": "ingest, a replayed batch (all duplicates)",
            "per_item_ingest_per_s": "XML-RPC, one reading_agg item per call",
            "per_item_create_per_s": "XML-RPC create, one cmms.reading per call",
        }
        lines += ["| path | items/s |", "|---|---:|"]
        lines += [f"| {label} | {fmt(fig[k])} |" for k, label in names.items() if k in fig]
        if "ratio_create" in fig:
            lines.append(f"\nbatched / per-item create: **{fig['ratio_create']:.1f}x** "
                         "(target 50x)")  # fmt: skip
        if "ratio_ingest" in fig:
            lines.append(f"batched / per-item ingest: {fig['ratio_ingest']:.1f}x")
        lines.append("")

    fig = head("kpi")
    if fig and "best_s" in fig:
        lines += [
            f"`cmms.kpi.compute_kpis` for one year, plant-wide and per machine, as a manager: "
            f"**{fig['best_s']:.3f} s** (best of {len(fig.get('runs_s', []))}: "
            f"{', '.join(f'{t:.3f}' for t in fig.get('runs_s', []))} s) on "
            f"{fmt(fig['work_orders'])} work orders and {fmt(fig['machines'])} machines.",
            "",
        ]

    fig = head("skab")
    if fig and fig.get("f1") is not None:
        lines += ["| detector | F1 | FAR % | MAR % |", "|---|---:|---:|---:|",
                  f"| **{fig['detector']}** | {fig['f1']:.3f} | {fig['far_pct']:.2f} | "
                  f"{fig['mar_pct']:.2f} |"]  # fmt: skip
        lines += [f"| {n} (published) | {v[0]:.2f} | {v[1]:.2f} | {v[2]:.2f} |"
                  for n, v in fig.get("leaderboard", {}).items()]  # fmt: skip
        if "us_per_row" in fig:
            lines.append(f"\n{fig['seconds']} s, {fig['us_per_row']} us per row.")
        lines.append("")

    fig = head("simulator")
    if fig and fig.get("rows"):
        lines += ["| readings/message | readings | readings/s |", "|---:|---:|---:|"]
        lines += [f"| {r['batch']} | {fmt(r['readings'])} | {fmt(r['readings_per_s'])} |"
                  for r in fig["rows"]]  # fmt: skip
        lines.append("")
    if "publish_store" in images and "simulator" in results:
        lines += [f"![simulator and store]({images['publish_store']})", ""]

    fig = head("store")
    if fig and fig.get("rows"):
        lines += ["| store | msg + savepoint /s | one insert /s | Pipeline /s |",
                  "|---|---:|---:|---:|"]  # fmt: skip
        lines += [f"| {r['store']} | {fmt(r['savepoint_per_s'])} | {fmt(r['insert_per_s'])} | "
                  f"{fmt(r['pipeline_per_s'])} |" for r in fig["rows"]]  # fmt: skip
        lines.append("")
    lines.append("Logs of each benchmark: `<name>.log` beside this file; figures: `results.json`.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="./scripts/bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "bench-report"), help="report folder")
    parser.add_argument("--only", action="append", choices=[b.name for b in BENCHES],
                        help="run only these (repeatable)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--skab-data", help="SKAB folder (default: $CMMS_SKAB_DATA or "
                        "../shared/data/skab)")  # fmt: skip
    parser.add_argument("--replot", action="store_true",
                        help="only rebuild report.md and the plots from results.json")  # fmt: skip
    args = parser.parse_args()
    # ./scripts/bench runs this from the repository root (python -m
    # scripts.bench_all); paths given on its command line are the caller's.
    caller = Path(os.environ.get("CMMS_CALLER_DIR", "."))
    out = (caller / args.out).resolve()
    if args.skab_data:
        args.skab_data = str((caller / args.skab_data).resolve())
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    if args.replot:
        saved = json.loads((out / "results.json").read_text())
        meta, results = saved["meta"], saved["results"]
        for bench in BENCHES:  # parse the kept logs again
            log = out / f"{bench.name}.log"
            if bench.name in results and log.exists():
                res = results[bench.name]
                m = re.match(r"(?:ok|exit (\d+))", res.get("status", ""))
                if m:
                    found = figures(bench, log.read_text(errors="replace"), out)
                    res["status"] = describe(bench.name, int(m[1] or 0), found)
                results[bench.name]["figures"] = figures(
                    bench, log.read_text(errors="replace"), out
                )
    else:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        meta = {
            "started": stamp,
            "commit": commit or "?",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_start": ", ".join(f"{x:.2f}" for x in load()),
            "command": "./scripts/bench " + " ".join(sys.argv[1:]),
        }
        results = {}
        for bench in BENCHES:
            if args.only and bench.name not in args.only:
                continue
            run_bench(bench, args, out)
            results[bench.name] = bench.result
            meta["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
            meta["load_end"] = ", ".join(f"{x:.2f}" for x in load())
            (out / "results.json").write_text(
                json.dumps({"meta": meta, "results": results}, indent=1)
            )
    try:
        images = plots(results, out)
    except ImportError:
        print("[bench] matplotlib missing (requirements-dev.txt): no plots", file=sys.stderr)
        images = {}
    (out / "report.md").write_text(report(results, images, meta))
    print(f"[bench] report: {out / 'report.md'}", file=sys.stderr)
    failed = [n for n, r in results.items() if not str(r.get("status", "")).startswith("ok")
              and not str(r.get("status", "")).startswith("skipped")]  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Publishing throughput benchmark (not a test).

Publishes the ``normal`` scenario as fast as the broker acknowledges (rate
``max``), with readings batched per message, and prints the readings per
second reached.  By default it starts its own Mosquitto (the shipped
configuration, :class:`devkit.broker.Mosquitto`) on a free loopback port and
a QoS 1 subscriber in a separate process that counts what arrives, so the
figure includes delivery to a consumer::

    python -m simulator.bench                       # 200,000 readings, batch 100
    python -m simulator.bench --batch 1 10 100      # compare batch sizes
    python -m simulator.bench --host 127.0.0.1 --port 1883 --no-subscriber

The target for a 2-core machine is at least 20,000 readings per second with
batching (runs with ``--batch 1`` are shown for reference and not held to it;
one QoS 1 message per reading tops out near 10,000 messages per second).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.synchronize import Event as EventType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .publisher import PublishConfig, PublishStats, run
from .scenarios import SCENARIOS
from .simulation import Simulation

TARGET_READINGS_PER_S = 20_000
TAGS = 4


@dataclass
class BenchResult:
    """One benchmark run."""

    batch: int
    stats: PublishStats
    received: int | None
    receive_s: float | None


def _subscriber(
    host: str,
    port: int,
    topic: str,
    ready: EventType,
    done: EventType,
    result: Any,
) -> None:
    """Child process: count readings arriving on ``topic`` until ``done``."""
    counts: dict[str, float] = {"readings": 0, "first": 0.0, "last": 0.0}

    def on_connect(client: mqtt.Client, *_: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_subscribe(*_: Any) -> None:
        ready.set()

    def on_message(_client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        if not counts["readings"]:
            counts["first"] = now
        counts["readings"] += msg.payload.count(b'"ts"')
        counts["last"] = now

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{port}")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    done.wait()
    previous = -1.0
    while counts["readings"] != previous:  # until a second passes with nothing new
        previous = counts["readings"]
        time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    result.put((int(counts["readings"]), counts["last"] - counts["first"]))


def bench_once(
    host: str,
    port: int,
    *,
    readings: int,
    batch: int,
    max_outstanding: int,
    subscribe: bool,
    seed: int = 0,
) -> BenchResult:
    """Publish about ``readings`` readings with ``batch`` per message."""
    interval = 0.01
    duration = readings / TAGS * interval
    sim = Simulation(
        SCENARIOS["normal"],
        seed=seed,
        duration_s=duration,
        interval_s=interval,
        flexo=False,
        energy=False,  # instrument readings only: the subscriber counts those
    )
    site = f"bench{batch}"
    config = PublishConfig(
        host=host,
        port=port,
        site=site,
        rate=None,
        batch=batch,
        max_outstanding=max_outstanding,
    )
    ctx = mp.get_context("spawn")
    ready, done, result = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = None
    if subscribe:
        proc = ctx.Process(
            target=_subscriber,
            args=(host, port, f"cmms/{site}/#", ready, done, result),
            daemon=True,
        )
        proc.start()
        if not ready.wait(20):
            raise RuntimeError("the benchmark subscriber did not subscribe")
    stats = run(sim, config)
    received: int | None = None
    receive_s: float | None = None
    if proc is not None:
        done.set()  # the subscriber drains, then reports
        received, receive_s = result.get(timeout=120)
        proc.join(10)
    return BenchResult(batch, stats, received, receive_s)


def _report(result: BenchResult) -> str:
    s = result.stats
    lines = [
        f"batch {result.batch:>4}: {s.readings} readings in {s.published} messages, "
        f"{s.acknowledged} acknowledged, {s.elapsed_s:.2f} s -> "
        f"{s.readings_per_s:,.0f} readings/s "
        f"({s.published / s.elapsed_s if s.elapsed_s else 0:,.0f} messages/s)",
    ]
    if result.received is not None:
        complete = "all" if result.received == s.readings else "MISSING SOME"
        rate = result.received / result.receive_s if result.receive_s else 0.0
        lines.append(
            f"            subscriber received {result.received} readings ({complete}),"
            f" {rate:,.0f} readings/s"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every run reached the target."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=None, help="broker host (default: start one)")
    parser.add_argument("--port", type=int, default=1883, help="broker port")
    parser.add_argument("--readings", type=int, default=200_000, help="readings per run")
    parser.add_argument(
        "--batch",
        type=int,
        nargs="+",
        default=[100],
        help="readings per message (several values: one run each)",
    )
    parser.add_argument(
        "--max-outstanding",
        type=int,
        default=1000,
        help="bound on unacknowledged messages",
    )
    parser.add_argument(
        "--no-subscriber",
        dest="subscribe",
        action="store_false",
        help="do not run a counting subscriber",
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        host, port = args.host, args.port
        if host is None:
            # the development harness (not in the connector/simulator image)
            from devkit.broker import Mosquitto

            broker = stack.enter_context(Mosquitto())
            host, port = broker.host, broker.port
            print(f"started mosquitto on {host}:{port}")
        ok = True
        batched = [b for b in args.batch if b > 1] or args.batch
        for batch in args.batch:
            result = bench_once(
                host,
                port,
                readings=args.readings,
                batch=batch,
                max_outstanding=args.max_outstanding,
                subscribe=args.subscribe,
            )
            print(_report(result), flush=True)
            reached = result.stats.readings_per_s >= TARGET_READINGS_PER_S
            delivered = result.received in (None, result.stats.readings)
            ok = ok and delivered and result.stats.complete
            ok = ok and (reached or batch not in batched)
    verdict = "met" if ok else "NOT met"
    print(f"target with batching: {TARGET_READINGS_PER_S:,} readings/s -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

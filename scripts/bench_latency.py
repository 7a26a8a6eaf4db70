"""Benchmark: a reading published -> its alert visible in Odoo (prints figures; not a test).

On real services started as the end-to-end tests start them (a private
PostgreSQL, Mosquitto with the shipped configuration, Odoo 18 with the three
addons and demo data, ``python -m connector run`` with an API key of the
``cmms_connector`` user): a publisher sends ``--rate`` readings per second
(default 1,000, one reading per QoS 1 message, ``--sensors`` instruments in
turn, values in the normal band) and, once a second, one reading of one
instrument far outside its signal range (its timestamp is the moment it is
published). The connector raises ``instrument_fault`` on it and pushes the
alert; the latency of that fault is the time from its publication until the
alert is committed in Odoo's database (polled every 20 ms on PostgreSQL, the
moment any Odoo user could read it). Each fault hits another instrument, so
each is a new ``cmms.alert``.

The connector runs with its shipped settings, except ``--push-batch-age``
(repeatable: one run per value, on the same Odoo, other instruments).

usage: .venv/bin/python -m scripts.bench_latency [--rate 1000] [--faults 60]
       [--push-batch-age 2.0 --push-batch-age 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from devkit import stack

ROOT = stack.ROOT
TARGET_P95_S = 2.0

SETUP = r"""
pt = env.ref("cmms_parfum.maintenance_equipment_pt101")
sensor = env.ref("cmms_telemetry.cmms_sensor_pt101")
for i in range({count}):
    eq = pt.copy({{"name": "Bench transmitter %d" % i, "cmms_tag": "BPT-%03d" % i}})
    sensor.copy({{"equipment_id": eq.id}})
# Only the fault is an alert: no data gaps (hourly interval), no drift, no
# rate of change, a stuck window of a day.
env["cmms.sensor"].search([]).write(
    {{"interval_s": 3600.0, "cusum_h": 0.0, "roc_limit": 0.0, "stuck_window_s": 86400.0}}
)
env.cr.commit()
print("BENCH_SENSORS=%d" % env["cmms.sensor"].search_count([("tag", "=like", "BPT-%")]))
"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class AlertWatch(threading.Thread):
    """Polls Odoo's database for instrument-fault alerts; notes when each tag's appears."""

    def __init__(self, pg: stack.Postgres, db: str, period: float = 0.02):
        super().__init__(daemon=True)
        import psycopg2

        self.conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, dbname=db)
        self.conn.autocommit = True
        self.period = period
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        sql = (
            "SELECT s.tag FROM cmms_alert a JOIN cmms_sensor s ON s.id = a.sensor_id "
            "WHERE a.alert_type = 'instrument_fault' AND s.tag LIKE 'BPT-%%'"
        )
        with self.conn.cursor() as cr:
            while not self.stop.is_set():
                cr.execute(sql)
                now = time.monotonic()
                for (tag,) in cr.fetchall():
                    self.seen.setdefault(tag, now)
                self.stop.wait(self.period)
        self.conn.close()


def publish(port: int, tags: list[str], fault_tags: list[str], rate: float, warmup_s: float):
    """Publish at *rate* readings/s; one fault a second after *warmup_s*.

    Returns ``{tag: monotonic time of the fault's publication}`` and the
    achieved rate.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    rng = random.Random(1)
    faults: dict[str, float] = {}
    pending = list(fault_tags)
    window: list = []
    tick = 0.01  # publish in 10 ms slices
    per_tick = rate * tick
    start = time.monotonic()
    next_fault = start + warmup_s
    sent, owed, i = 0, 0.0, 0
    while pending or time.monotonic() < next_fault:
        slice_end = start + (sent / rate) + tick
        owed += per_tick
        while owed >= 1:
            tag = tags[i % len(tags)]
            i += 1
            value = round(6.0 + rng.gauss(0.0, 0.3), 3)
            now = time.monotonic()
            if pending and now >= next_fault and tag == pending[0]:
                value = 25.0  # outside the 0-16 bar signal range: instrument fault
                faults[tag] = now
                pending.pop(0)
                next_fault += 1.0
            payload = json.dumps({"ts": round(time.time(), 3), "value": value, "unit": "bar"})
            window.append(client.publish(f"cmms/plant1/{tag}/reading", payload, qos=1))
            sent += 1
            owed -= 1
        if len(window) >= 2000:
            for info in window[:1000]:
                info.wait_for_publish(60)
            del window[:1000]
        pause = slice_end - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    for info in window:
        info.wait_for_publish(60)
    achieved = sent / (time.monotonic() - start)
    client.disconnect()
    client.loop_stop()
    return faults, achieved


def run_once(odoo, pg, db, key, broker, workdir, tags, fault_tags, args, batch_age):
    """One connector, one publishing run; the latency of each fault."""
    store = workdir / f"connector-{batch_age}.sqlite3"
    name = f"bench-latency-{batch_age}"
    env = {
        **os.environ,
        "CMMS_MQTT_HOST": "127.0.0.1",
        "CMMS_MQTT_PORT": str(broker.port),
        "CMMS_MQTT_CLIENT_ID": name,
        "CMMS_ODOO_URL": odoo.url,
        "CMMS_ODOO_DB": db,
        "CMMS_ODOO_LOGIN": "cmms_connector",
        "CMMS_ODOO_API_KEY": key,
        "CMMS_STORE": str(store),
        "CMMS_CONNECTOR_ID": name,
        "CMMS_HEALTH_PORT": str(stack.free_port()),
        "CMMS_PUSH_BATCH_AGE_S": str(batch_age),
    }
    log = open(workdir / f"{name}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", "run"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    watch = AlertWatch(pg, db)
    try:
        health = f"http://127.0.0.1:{env['CMMS_HEALTH_PORT']}/health"
        deadline = time.monotonic() + 120
        while True:  # subscribed, with Odoo's configuration
            import urllib.error
            import urllib.request

            try:
                with urllib.request.urlopen(health, timeout=2) as reply:
                    if json.loads(reply.read()).get("mqtt_connected"):
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the connector did not start: " + log.name)
            time.sleep(0.2)
        watch.start()
        faults, achieved = publish(broker.port, tags, fault_tags, args.rate, args.warmup)
        deadline = time.monotonic() + 60
        while set(faults) - set(watch.seen) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watch.stop.set()
        watch.join(5)
        stack.stop_process(proc, 60)
        log.close()
    latencies = {t: watch.seen[t] - faults[t] for t in faults if t in watch.seen}
    values = list(latencies.values())
    return {
        "push_batch_age_s": batch_age,
        "rate_target": args.rate,
        "rate_achieved": round(achieved, 1),
        "faults": len(faults),
        "seen": len(values),
        "p50_s": round(percentile(values, 50), 3),
        "p95_s": round(percentile(values, 95), 3),
        "max_s": round(max(values), 3) if values else None,
        "mean_s": round(statistics.fmean(values), 3) if values else None,
        "latencies_s": [round(v, 4) for v in values],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="readings per second")
    parser.add_argument("--sensors", type=int, default=100, help="instruments per run")
    parser.add_argument("--faults", type=int, default=60, help="faults per run, one a second")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the first fault")
    parser.add_argument(
        "--push-batch-age",
        type=float,
        action="append",
        help="the connector's CMMS_PUSH_BATCH_AGE_S (repeatable; default: as shipped)",
    )
    parser.add_argument("--json", help="write the figures here as JSON")
    args = parser.parse_args()
    if args.faults > args.sensors:
        parser.error("--faults must not exceed --sensors (one new alert per fault)")
    from connector.config import Settings

    ages = args.push_batch_age or [Settings.push_batch_age_s]
    root = stack.odoo_root()
    if root is None:
        print("no Odoo 18 importable")
        return 2
    results = []
    with stack.services(mqtt=True) as (base, pg, broker):
        odoo = stack.Odoo(pg, base / "odoo", root)
        print("installing the addons with demo data...", file=sys.stderr, flush=True)
        rc = odoo.run(
            ["-d", "bench", "-i", ",".join(stack.OUR_ADDONS), "--stop-after-init"],
            base / "install.log",
        )
        if rc:
            print((base / "install.log").read_text()[-3000:])
            return 1
        count = args.sensors * len(ages)
        out = subprocess.run(
            odoo.command("-d", "bench", "--no-http", "--log-level=warn", subcommand="shell"),
            input=SETUP.format(count=count), capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if f"BENCH_SENSORS={count}" not in out.stdout:
            print(out.stdout[-2000:], out.stderr[-3000:])
            return 1
        key = stack.make_api_key(odoo, "bench", "cmms_telemetry.res_users_cmms_connector")
        odoo.serve("bench", base / "odoo.log")
        try:
            for n, age in enumerate(ages):
                tags = [f"BPT-{i:03d}" for i in range(n * args.sensors, (n + 1) * args.sensors)]
                rng = random.Random(n)
                fault_tags = rng.sample(tags, args.faults)
                print(
                    f"publishing {args.rate:.0f} readings/s, {args.faults} faults, "
                    f"push batch age {age} s...",
                    file=sys.stderr,
                    flush=True,
                )
                results.append(
                    run_once(odoo, pg, "bench", key, broker, base, tags, fault_tags, args, age)
                )
        finally:
            odoo.stop()
    print(f"\n{'batch age s':>11} {'readings/s':>10} {'faults':>7} {'p50 s':>7} {'p95 s':>7} "
          f"{'max s':>7}")  # fmt: skip
    for r in results:
        print(
            f"{r['push_batch_age_s']:>11} {r['rate_achieved']:>10.0f} "
            f"{r['seen']:>3}/{r['faults']:<3} {r['p50_s']:>7.3f} {r['p95_s']:>7.3f} "
            f"{r['max_s'] or 0:>7.3f}"
        )
    print(f"target: p95 under {TARGET_P95_S} s at {args.rate:.0f} readings/s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

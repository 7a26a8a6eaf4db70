"""Bring the whole system up on this machine (called by ``scripts/up``).

PostgreSQL, Mosquitto, Odoo 18 with the three addons and demo data, the
telemetry connector and the simulator, all on loopback, in a temporary
folder. Ctrl-C (or SIGTERM) stops everything that was started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

ROOT = stack.ROOT
DEMO_LOGINS = [
    ("Operator", "op_lina"),
    ("Technician", "tech_budi"),
    ("Supervisor", "sup_adi"),
    ("Manager", "mgr_maya"),
]


def port_or_free(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return stack.free_port()


def wait_online(port: int, topic: str, timeout: float, stop: dict) -> bool:
    """Wait until the connector's retained status on *topic* says online
    (it publishes it right after subscribing)."""
    import paho.mqtt.client as mqtt

    online = threading.Event()

    def on_message(client, userdata, message):
        if b'"online"' in message.payload:
            online.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cmms-up-{os.getpid()}")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 1)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while not online.wait(0.2):
            if stop["now"] or time.monotonic() > deadline:
                return False
        return True
    finally:
        client.disconnect()
        client.loop_stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="cmms_demo")
    parser.add_argument("--http-port", type=int, default=8069)
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument(
        "--scenario",
        default="demo",
        help="simulator scenario (default demo: the FLEXO line's last two shifts, a PT-101 "
        "fault within a minute, then occasional faults)",
    )
    parser.add_argument("--rate", default="1", help="simulated seconds per second")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    root = stack.odoo_root()
    if root is None:
        print("No Odoo 18 is importable: install it first (see README, Prerequisites).")
        return 2

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    base = Path(tempfile.mkdtemp(prefix="cmms-up-"))
    os.chmod(base, 0o755)
    logs = base / "logs"
    logs.mkdir()
    pg = stack.Postgres(base / "pg")
    broker = stack.Mosquitto(base / "mqtt", port_or_free(args.mqtt_port))
    odoo = stack.Odoo(pg, base / "odoo", root)
    odoo.http_port = port_or_free(args.http_port)
    procs: list[subprocess.Popen] = []
    try:
        print(f"[cmms] state and logs in {base}", flush=True)
        pg.start()
        broker.start()
        print(f"[cmms] PostgreSQL on {pg.host}:{pg.port}, Mosquitto on 127.0.0.1:{broker.port}")
        print("[cmms] installing the addons with demo data (about a minute)...", flush=True)
        rc = odoo.run(
            ["-d", args.db, "-i", ",".join(stack.OUR_ADDONS), "--stop-after-init"],
            logs / "odoo-install.log",
        )
        if rc != 0 or stop["now"]:
            print(f"[cmms] install failed, see {logs / 'odoo-install.log'}")
            return 1
        key = stack.make_api_key(odoo, args.db, "cmms_telemetry.res_users_cmms_connector")
        odoo.serve(args.db, logs / "odoo.log", "--max-cron-threads", "1")
        env = {
            **os.environ,
            "CMMS_MQTT_HOST": "127.0.0.1",
            "CMMS_MQTT_PORT": str(broker.port),
            "CMMS_ODOO_URL": odoo.url,
            "CMMS_ODOO_DB": args.db,
            "CMMS_ODOO_LOGIN": "cmms_connector",
            "CMMS_ODOO_API_KEY": key,
            "CMMS_STORE": str(base / "connector.sqlite3"),
            "CMMS_CONNECTOR_ID": "local",
            # The simulator's FLEXO ticks name the machine FLEXO_104; the
            # demo plant tags it FLX-104 (components FLX-104-PF ... -DS).
            "CMMS_FLEXO_MACHINE_TAGS": "FLEXO_104=FLX-104",
        }
        with open(logs / "connector.log", "w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "connector", "run"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            )
        # The demo backfills the FLEXO line's history at once: the connector
        # must be subscribed before the simulator starts publishing.
        if not wait_online(broker.port, "cmms/all/connector/local/status", 90, stop):
            print(f"[cmms] the connector did not come online; see {logs / 'connector.log'}")
        with open(logs / "simulator.log", "w") as out:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "simulator",
                        "run",
                        "--scenario",
                        args.scenario,
                        "--rate",
                        args.rate,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(broker.port),
                        "--labels",
                        str(base / "labels.jsonl"),
                        # Wall-clock timestamps: the energy meters' hours then
                        # follow the demo's year of energy readings instead of
                        # overlapping one of its days.
                        "--start",
                        "now",
                    ],
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            )
        print(
            "\n  CMMS is up.\n"
            f"  URL:       {odoo.url}/odoo\n"
            f"  Database:  {args.db}\n"
            "  Logins (password 123, demo data only):\n"
            + "".join(f"    {role:<11} {login}\n" for role, login in DEMO_LOGINS)
            + "    Admin       admin / admin\n"
            f"  MQTT:      127.0.0.1:{broker.port} (topics cmms/<site>/<tag>/reading)\n"
            f"  Logs:      {logs}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stop["now"]:
            for proc, name in zip(procs, ("connector", "simulator"), strict=True):
                if proc.poll() is not None and proc.returncode not in (0, None):
                    print(f"[cmms] the {name} exited with {proc.returncode}; see {logs}/{name}.log")
                    procs.remove(proc)
                    break
            if odoo.proc is not None and odoo.proc.poll() is not None:
                print(f"[cmms] Odoo exited; see {logs / 'odoo.log'}")
                break
            time.sleep(0.5)
        return 0
    finally:
        print("\n[cmms] stopping...", flush=True)
        for proc in reversed(procs):
            stack.stop_process(proc)
        odoo.stop()
        broker.stop()
        pg.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        print("[cmms] stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())

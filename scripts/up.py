"""Bring the whole system up on this machine (``scripts/up``: ``python -m scripts.up``).

PostgreSQL, Mosquitto, Odoo 18 with the three addons and demo data, the
telemetry connector and the simulator, all on loopback, in a temporary
folder. Ctrl-C (or SIGTERM) stops everything that was started, also when
the output is piped (``./scripts/up | tee up.log``: Ctrl-C ends ``tee`` too,
and writes to the closed pipe must not cut the clean-up short).
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

from devkit import stack

ROOT = stack.ROOT
DEMO_LOGINS = [
    ("Operator", "op_lina"),
    ("Technician", "tech_budi"),
    ("Supervisor", "sup_adi"),
    ("Manager", "mgr_maya"),
]


class Stopping(BaseException):
    """Ctrl-C or SIGTERM: leave whatever is running and clean up."""


def say(text: str = "") -> None:
    """Print to stdout; once stdout is a closed pipe, print nowhere.

    ``./scripts/up | tee up.log`` and Ctrl-C: the terminal sends SIGINT to
    the whole pipeline, ``tee`` is gone, and every later write fails with
    EPIPE (Python ignores SIGPIPE). Output then goes to /dev/null so that
    the clean-up runs to its end.
    """
    try:
        print(text, flush=True)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def port_or_free(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return stack.free_port()


def wait_online(port: int, topic: str, timeout: float) -> bool:
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
        stack.wait_until(online.is_set, timeout, "the connector's online status", step=0.2)
        return True
    except TimeoutError:
        return False
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
    parser.add_argument(
        "--workers", type=int, default=0,
        help="Odoo worker processes (0: one threaded process); with workers, "
        "/websocket goes to Odoo's gevent port through a small proxy on the HTTP port",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must be 0 or more")

    root = stack.odoo_root()
    if root is None:
        say("No Odoo 18 is importable: run ./scripts/up, which installs it (see README).")
        return 2

    def on_signal(signum, frame):
        # Once: the clean-up ignores both signals (see finally).
        raise Stopping(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    base = Path(tempfile.mkdtemp(prefix="cmms-up-"))
    os.chmod(base, 0o755)
    logs = base / "logs"
    logs.mkdir()
    # A real run: PostgreSQL with its durable defaults (fsync, synchronous
    # commit, full page writes); only the tests' throw-away clusters skip them.
    pg = stack.Postgres(base / "pg", durable=True)
    broker = stack.Mosquitto(base / "mqtt", port_or_free(args.mqtt_port))
    odoo = stack.Odoo(pg, base / "odoo", root)
    public_port = port_or_free(args.http_port)
    router = None
    if args.workers:
        # Odoo's prefork server behind a proxy that routes /websocket to
        # its gevent port: the public port is the proxy's.
        odoo.http_port = stack.free_port()
    else:
        odoo.http_port = public_port
    procs: list[subprocess.Popen] = []
    try:
        say(f"[cmms] state and logs in {base}")
        pg.start()
        broker.start()
        say(f"[cmms] PostgreSQL on {pg.host}:{pg.port}, Mosquitto on 127.0.0.1:{broker.port}")
        say("[cmms] installing the addons with demo data (about a minute)...")
        rc = odoo.run(
            ["-d", args.db, "-i", ",".join(stack.OUR_ADDONS), "--stop-after-init"],
            logs / "odoo-install.log",
        )
        if rc != 0:
            say(f"[cmms] install failed, see {logs / 'odoo-install.log'}")
            return 1
        key = stack.make_api_key(odoo, args.db, "cmms_telemetry.res_users_cmms_connector")
        workers = ["--workers", str(args.workers)] if args.workers else []
        odoo.serve(args.db, logs / "odoo.log", "--max-cron-threads", "1", *workers)
        # The connector talks to Odoo directly, not through the proxy.
        odoo_url = odoo.url
        if args.workers:
            router = stack.WebsocketRouter(public_port, odoo.http_port, odoo.gevent_port)
            router.start()
            odoo.http_port = public_port  # odoo.url: what the browser opens
        env = {
            **os.environ,
            "CMMS_MQTT_HOST": "127.0.0.1",
            "CMMS_MQTT_PORT": str(broker.port),
            "CMMS_ODOO_URL": odoo_url,
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
        if not wait_online(broker.port, "cmms/all/connector/local/status", 90):
            say(f"[cmms] the connector did not come online; see {logs / 'connector.log'}")
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
        say(
            "\n  CMMS is up.\n"
            f"  URL:       {odoo.url}/odoo\n"
            f"  Database:  {args.db}\n"
            "  Logins (password 123, demo data only):\n"
            + "".join(f"    {role:<11} {login}\n" for role, login in DEMO_LOGINS)
            + "    Admin       admin / admin\n"
            f"  MQTT:      127.0.0.1:{broker.port} (topics cmms/<site>/<tag>/reading)\n"
            f"  Logs:      {logs}\n"
            + (
                f"  Odoo:      {args.workers} workers, bus on gevent port {odoo.gevent_port}\n"
                if args.workers
                else ""
            )
            + "  Ctrl-C stops everything.\n"
        )
        while True:
            for proc, name in zip(procs, ("connector", "simulator"), strict=True):
                if proc.poll() is not None and proc.returncode not in (0, None):
                    say(f"[cmms] the {name} exited with {proc.returncode}; see {logs}/{name}.log")
                    procs.remove(proc)
                    break
            if odoo.proc is not None and odoo.proc.poll() is not None:
                say(f"[cmms] Odoo exited; see {logs / 'odoo.log'}")
                break
            time.sleep(0.5)
        return 0
    except Stopping:
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("\n[cmms] stopping...")
        for proc in reversed(procs):
            stack.stop_process(proc)
        if router is not None:
            router.stop()
        odoo.stop()
        broker.stop()
        pg.stop()
        # Whatever was started but not yet handed over (an interrupted start).
        stack.stop_children()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        say("[cmms] stopped.")


if __name__ == "__main__":
    sys.exit(main())

"""Readings/s of the connector's store: SQLite file vs PostgreSQL (prints figures).

Three ways of writing 256 readings per transaction, each on a fresh store:

* ``msg+savepoint``: one ``insert_readings`` of one reading per MQTT
  message, each in its savepoint (what the pipeline does);
* ``one insert``: one ``insert_readings`` of the 256 readings;
* ``Pipeline``: :meth:`connector.ingest.pipeline.Pipeline.process` of 256 reading
  messages (decode, store, detectors of PT-101, alert aggregation).

Stores: a SQLite file (WAL, ``synchronous=FULL``), a private PostgreSQL
cluster with the server's durable defaults (``fsync`` and
``synchronous_commit`` on) and one like the tests' (``fsync=off``), both on
loopback.

    .venv/bin/python -m scripts.bench_store
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2

from connector.ingest.pipeline import Pipeline
from connector.ingest.schema import Reading
from connector.store import open_store
from connector.tests.conftest import SENSOR_PT101, make_config
from devkit import stack

T0 = 1795334400.0
PER_TX = 256


def new_database(pg: stack.Postgres, name: str) -> str:
    admin = psycopg2.connect(host="127.0.0.1", port=pg.port, user=pg.user, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    admin.close()
    return f"postgresql://{pg.user}@127.0.0.1:{pg.port}/{name}"


def inserts(target: str, savepoints: bool, transactions: int = 40) -> float:
    store = open_store(target, autocheckpoint=False)
    i = 0
    started = time.perf_counter()
    for _ in range(transactions):
        with store.transaction():
            if savepoints:
                for _ in range(PER_TX):
                    with store.savepoint():
                        store.insert_readings([Reading("PT-101", T0 + i, 6.0, "bar", None, i)], T0)
                    i += 1
            else:
                batch = [
                    Reading("PT-101", T0 + i + k, 6.0, "bar", None, i + k) for k in range(PER_TX)
                ]
                store.insert_readings(batch, T0)
                i += PER_TX
    elapsed = time.perf_counter() - started
    store.close()
    return i / elapsed


def pipeline(target: str, transactions: int = 20) -> float:
    store = open_store(target, autocheckpoint=False)
    pipe = Pipeline(store, "cmms", 60, 2, clock=lambda: T0)
    pipe.apply_config(make_config("v1", SENSOR_PT101))
    i = 0
    started = time.perf_counter()
    for _ in range(transactions):
        messages = []
        for _ in range(PER_TX):
            body = {"ts": T0 + i * 0.1, "value": 6.0, "unit": "bar", "seq": i}
            messages.append(("cmms/p1/PT-101/reading", json.dumps(body).encode()))
            i += 1
        pipe.process(messages, received_at=T0)
    elapsed = time.perf_counter() - started
    store.close()
    return i / elapsed


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="cmms-bench-store-"))
    base.chmod(0o755)
    durable = stack.Postgres(base / "durable", durable=True).start()
    fast = stack.Postgres(base / "fast").start()
    try:
        targets: list[tuple[str, Callable[[str], str]]] = [
            ("SQLite (WAL, synchronous=FULL)", lambda k: str(base / f"{k}.sqlite3")),
            ("PostgreSQL (fsync on, synchronous_commit on)", lambda k: new_database(durable, k)),
            ("PostgreSQL (fsync=off, as in the tests)", lambda k: new_database(fast, k)),
        ]
        print(f"readings/s, {PER_TX} readings per transaction, loopback")
        print(f"{'store':46} {'msg+savepoint':>14} {'one insert':>11} {'Pipeline':>9}")
        for n, (label, target) in enumerate(targets):
            a = inserts(target(f"a{n}"), savepoints=True)
            b = inserts(target(f"b{n}"), savepoints=False)
            c = pipeline(target(f"c{n}"))
            print(f"{label:46} {a:14,.0f} {b:11,.0f} {c:9,.0f}")
    finally:
        durable.stop()
        fast.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

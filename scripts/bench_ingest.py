"""Benchmark of the ingestion method (prints figures; not a test).

Items per second through ``cmms.telemetry.api.ingest`` in batches of 1,000
``reading_agg`` items (idempotency keys and per-item replies included),
beside one XML-RPC call per item of the same kind (``ingest`` with one item:
only the connector may write ``cmms.reading``),
in the same run, on the same Odoo: a private PostgreSQL and an Odoo 18 with
the three addons and demo data, started on free loopback ports.

usage: .venv/bin/python -m scripts.bench_ingest [--items 5000] [--single 500]
"""

from __future__ import annotations

import argparse
import sys
import time
import xmlrpc.client
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit import rpc, stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000, help="items sent in batches")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--single", type=int, default=500, help="items created one by one")
    args = parser.parse_args()
    root = stack.odoo_root()
    if root is None:
        print("no Odoo 18 importable")
        return 2
    with stack.services(mqtt=False) as (base, pg, _):
        odoo = stack.Odoo(pg, base / "odoo", root)
        print("installing the addons with demo data...", flush=True)
        rc = odoo.run(
            ["-d", "bench", "-i", ",".join(stack.OUR_ADDONS), "--stop-after-init"],
            base / "install.log",
        )
        if rc:
            print((base / "install.log").read_text()[-3000:])
            return 1
        key = stack.make_api_key(odoo, "bench", "cmms_telemetry.res_users_cmms_connector")
        odoo.serve("bench", base / "odoo.log", "--workers", "0")
        try:
            common = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/common")
            models: Any = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/2/object", allow_none=True)
            connector = rpc.client(odoo.url, "bench", "cmms_connector", key, timeout=600)
            uid = connector.uid_

            def ingest(items: list[dict]) -> dict:
                return rpc.call(connector, "cmms.telemetry.api", "ingest", items)

            start = datetime(2026, 1, 1, tzinfo=UTC)
            admin = common.authenticate("bench", "admin", "admin", {})

            def item(n: int) -> dict:
                minute = start + timedelta(minutes=n)
                return {
                    "key": f"bench:agg:{n}",
                    "type": "reading_agg",
                    "ts": minute.isoformat(),
                    "data": {"tag": "PT-101", "period_start": minute.isoformat(),
                             "min": 5.9, "max": 6.3, "mean": 6.1, "last": 6.0, "count": 60},
                }  # fmt: skip

            # Warm up both paths.
            ingest([item(-n) for n in range(1, 51)])
            t0 = time.perf_counter()
            sent = 0
            while sent < args.items:
                batch = [item(n) for n in range(sent, min(sent + args.batch, args.items))]
                reply = ingest(batch)
                assert all(r["status"] == "accepted" for r in reply["results"]), reply
                sent += len(batch)
            batched = sent / (time.perf_counter() - t0)

            # Per item: one XML-RPC call per item of the same kind. Only the
            # connector writes readings (cmms.reading has no create right for
            # anyone else), so the per-item path is ingest with one item.
            t0 = time.perf_counter()
            for n in range(args.single):
                one = item(100000 + n)
                reply = models.execute_kw(
                    "bench", uid, key, "cmms.telemetry.api", "ingest", [[one]]
                )
                assert reply["results"][0]["status"] == "accepted", reply
            single = args.single / (time.perf_counter() - t0)

            # The reference: one XML-RPC create per item. Only the
            # connector may write readings, so on this throw-away database
            # the administrator is given create rights on cmms.reading first.
            create_rate = None
            try:
                sensor = models.execute_kw(
                    "bench", admin, "admin", "cmms.sensor", "search", [[("tag", "=", "PT-101")]]
                )[0]
                model_id = models.execute_kw(
                    "bench", admin, "admin", "ir.model", "search",
                    [[("model", "=", "cmms.reading")]],
                )[0]  # fmt: skip
                acl = models.execute_kw(
                    "bench", admin, "admin", "ir.model.access", "create",
                    [{"name": "bench create", "model_id": model_id,
                      "perm_read": True, "perm_create": True}],
                )  # fmt: skip
                # Odoo 18 caches the models a user may create while it creates
                # the access row, before the row exists; any write on the row
                # clears that cache again.
                models.execute_kw(
                    "bench",
                    admin,
                    "admin",
                    "ir.model.access",
                    "write",
                    [[acl], {"perm_read": True}],
                )
                t0 = time.perf_counter()
                for n in range(args.single):
                    minute = start + timedelta(days=400, minutes=n)
                    models.execute_kw(
                        "bench", admin, "admin", "cmms.reading", "create",
                        [{"sensor_id": sensor, "period_start": minute.strftime("%Y-%m-%d %H:%M:%S"),
                          "last_at": minute.strftime("%Y-%m-%d %H:%M:%S"),
                          "min_value": 5.9, "max_value": 6.3, "mean_value": 6.1,
                          "last_value": 6.0, "sample_count": 60}],
                    )  # fmt: skip
                create_rate = args.single / (time.perf_counter() - t0)
            except xmlrpc.client.Fault as exc:
                print(f"per-item create refused: {exc.faultString.splitlines()[0]}")

            replay_t0 = time.perf_counter()
            reply = ingest([item(n) for n in range(args.batch)])
            replay = args.batch / (time.perf_counter() - replay_t0)
            assert all(r["status"] == "duplicate" for r in reply["results"])
        finally:
            odoo.stop()
    print()
    print(f"{'path':<48}{'items/s':>12}")
    print(
        f"{'ingest, batches of ' + str(args.batch) + ' reading_agg (new keys)':<48}{batched:>12.0f}"
    )
    print(f"{'ingest, a replayed batch (all duplicates)':<48}{replay:>12.0f}")
    print(f"{'XML-RPC, one reading_agg item per call':<48}{single:>12.0f}")
    if create_rate:
        print(f"{'XML-RPC create, one cmms.reading per call':<48}{create_rate:>12.0f}")
        print(f"ratio batched / per-item create: {batched / create_rate:.1f}x (target 50x)")
    print(f"ratio batched / per-item ingest: {batched / single:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reference client of the AR glasses API (cmms.ar.api), standard library only.

It logs in with the technician's login and Odoo API key over XML-RPC and
walks a whole task: the task list, the task's detail, start, every step
(checks confirmed, measured steps recorded), completion.

    python3 ar_client.py --url http://localhost:8069 --db cmms \\
        --login tech1 --key "$ODOO_API_KEY" walk [--task ID] [--value STEP_ID=2.6] \\
        [--photo after.jpg]
    python3 ar_client.py ... tasks
    python3 ar_client.py ... lookup "cmms:equipment:P-101"
    python3 ar_client.py ... reschedule TASK_ID "2026-12-08 09:00:00"

The key can also come from the environment variable ODOO_API_KEY.
"""

import argparse
import base64
import json
import os
import sys
import xmlrpc.client
from pathlib import Path


class ArClient:
    """The calls of the glasses, one method each."""

    def __init__(self, url, db, login, key, transport=None):
        url = url.rstrip("/")
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common", transport=transport)
        self.uid = common.authenticate(db, login, key, {})
        if not self.uid:
            raise PermissionError(f"Login refused for {login} on {db}: check the API key.")
        self.db, self.key = db, key
        self.models = xmlrpc.client.ServerProxy(
            f"{url}/xmlrpc/2/object", transport=transport, allow_none=True
        )

    def call(self, method, *args, **kwargs):
        return self.models.execute_kw(
            self.db, self.uid, self.key, "cmms.ar.api", method, list(args), kwargs
        )

    def my_tasks(self):
        return self.call("my_tasks")

    def task_detail(self, task_id):
        return self.call("task_detail", task_id)

    def start_task(self, task_id):
        return self.call("start_task", task_id)

    def complete_step(self, task_id, step_id, **kwargs):
        return self.call("complete_step", task_id, step_id, **kwargs)

    def complete_task(self, task_id, notes, duration_hours, **kwargs):
        return self.call("complete_task", task_id, notes, duration_hours, **kwargs)

    def reschedule(self, task_id, when):
        return self.call("reschedule", task_id, when)

    def lookup(self, code):
        return self.call("lookup", code)


def walk(client, task_id=None, values=None, out=print, photos=None):
    """Carry out one task from start to completion; return its final detail.

    ``values`` maps step ids to the value to record for measured steps (the
    expected value otherwise, as if the reading were nominal)."""
    values = values or {}
    tasks = client.my_tasks()
    out(f"{len(tasks)} task(s) to do")
    if not tasks:
        return None
    task_id = task_id or tasks[0]["id"]
    detail = client.task_detail(task_id)
    out(f"Task {detail['id']}: {detail['name']} on {detail['equipment']} ({detail['state']})")
    if detail["state"] == "approved":
        client.start_task(task_id)
        out("  started")
    for step in detail["steps"]:
        if step["result"] != "todo":
            continue
        kwargs = {}
        if step["expects_value"]:
            kwargs["value"] = float(values.get(step["id"], step["expected_value"]))
        reply = client.complete_step(task_id, step["id"], **kwargs)
        flag = " FLAGGED" if reply["flagged"] else ""
        out(f"  step {step['sequence']}: {step['name']} -> {reply['step']['result']}{flag}")
    parts = [] if not detail["parts"] else None
    client.complete_task(task_id, "Done with the AR glasses.", 0.5, photos=photos, parts=parts)
    final = client.task_detail(task_id)
    out(f"  completed: {final['state']}")
    return final


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--key", default=os.environ.get("ODOO_API_KEY"))
    sub = parser.add_subparsers(dest="command", required=True)
    p_walk = sub.add_parser("walk", help="carry out a task from start to completion")
    p_walk.add_argument("--task", type=int)
    p_walk.add_argument("--value", action="append", default=[], metavar="STEP_ID=VALUE")
    p_walk.add_argument(
        "--photo", action="append", default=[], metavar="FILE",
        help="a completion photo (critical equipment needs one)",
    )  # fmt: skip
    sub.add_parser("tasks", help="the tasks to do now")
    p_lookup = sub.add_parser("lookup", help="equipment by tag or QR payload")
    p_lookup.add_argument("code")
    p_res = sub.add_parser("reschedule", help="move a task")
    p_res.add_argument("task", type=int)
    p_res.add_argument("when")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give --key or set ODOO_API_KEY")
    try:
        client = ArClient(args.url, args.db, args.login, args.key)
        if args.command == "walk":
            values = {int(k): float(v) for k, v in (item.split("=", 1) for item in args.value)}
            photos = [base64.b64encode(Path(f).read_bytes()).decode() for f in args.photo]
            walk(client, args.task, values, photos=photos or None)
        elif args.command == "tasks":
            json.dump(client.my_tasks(), sys.stdout, indent=2)
        elif args.command == "lookup":
            json.dump(client.lookup(args.code), sys.stdout, indent=2)
        else:
            json.dump(client.reschedule(args.task, args.when), sys.stdout, indent=2)
    except xmlrpc.client.Fault as fault:
        sys.stderr.write(f"Refused: {fault.faultString.strip().splitlines()[-1]}\n")
        return 1
    except OSError as exc:  # a refused login (PermissionError), a photo that cannot be read
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

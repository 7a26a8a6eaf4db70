# Copyright 2026 CMMS Parfum contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The AR reference client, run from the command line as a technician with
an API key, walks a whole task against a real Odoo."""

import base64
import subprocess
import sys
from pathlib import Path

from devkit import stack

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "addons" / "cmms_ar_bridge" / "tools" / "ar_client.py"
# A 1x1 PNG: the completion photo critical equipment asks for.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_reference_client_walks_a_task_from_the_command_line(odoo_server, tmp_path):
    server = odoo_server
    key = stack.make_api_key(server.odoo, server.db, "cmms_parfum.res_users_tech_budi", "glasses")
    pt101 = server.admin("maintenance.equipment", "search_read", [("cmms_tag", "=", "PT-101")],
                         ["id"])[0]  # fmt: skip
    budi = server.admin("res.users", "search_read", [("login", "=", "tech_budi")], ["id"])[0]
    request_id = server.admin(
        "maintenance.request", "create",
        {"name": "PT-101 reads high", "equipment_id": pt101["id"], "maintenance_type": "corrective",
         "user_id": budi["id"], "schedule_date": "2026-12-01 08:00:00", "cmms_priority": "urgent"},
    )  # fmt: skip
    server.admin("maintenance.request", "action_approve", [request_id])
    steps = server.admin("cmms.request.step", "search_read", [("request_id", "=", request_id)],
                         ["result"])  # fmt: skip
    assert steps, "the demo's step cards of field instruments are copied onto the work order"

    photo = tmp_path / "after.png"
    photo.write_bytes(PNG)
    run = subprocess.run(
        [sys.executable, str(CLIENT), "--url", server.url, "--db", server.db,
         "--login", "tech_budi", "--key", key, "walk", "--task", str(request_id),
         "--photo", str(photo)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "completed: done" in run.stdout, run.stdout

    request = server.admin("maintenance.request", "read", [request_id], ["cmms_state"])[0]
    assert request["cmms_state"] == "done"
    steps = server.admin("cmms.request.step", "search_read", [("request_id", "=", request_id)],
                         ["result"])  # fmt: skip
    assert {s["result"] for s in steps} == {"ok"}, steps

    # A wrong key is refused, and nothing is written.
    refused = subprocess.run(
        [sys.executable, str(CLIENT), "--url", server.url, "--db", server.db,
         "--login", "tech_budi", "--key", "not-a-key", "walk"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0

"""The simulator reads its instruments from Odoo's sensor register."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_simulator_publishes_the_tags_registered_in_odoo(odoo_server, tmp_path):
    server = odoo_server
    sensor = server.admin("cmms.sensor", "search", [("tag", "=", "PT-101")])
    server.admin("cmms.sensor", "write", sensor, {"signal_high": 25.0})
    out = tmp_path / "readings.jsonl"
    env = {
        **os.environ,
        "CMMS_ODOO_URL": server.url,
        "CMMS_ODOO_DB": server.db,
        "CMMS_ODOO_LOGIN": "cmms_connector",
        "CMMS_ODOO_API_KEY": server.api_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "dump", "--scenario", "normal", "--duration", "30",
         "--out", str(out), "--instruments-from-odoo", "--no-flexo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    registered = {s["tag"] for s in server.admin("cmms.sensor", "search_read", [], ["tag"])}
    assert registered >= {"PT-101", "TT-201", "FT-301", "LT-401"}
    for tag in registered:
        assert f'"{tag}"' in text, f"{tag} is simulated"
    # A wrong key is refused with a clear message and exit status 2.
    env["CMMS_ODOO_API_KEY"] = "wrong"
    refused = subprocess.run(
        [sys.executable, "-m", "simulator", "dump", "--scenario", "normal", "--duration", "5",
         "--out", str(out), "--instruments-from-odoo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "refused" in refused.stderr

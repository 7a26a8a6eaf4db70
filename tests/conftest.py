"""Fixtures of the end-to-end tests: real PostgreSQL, Mosquitto and Odoo.

Under ``scripts/test`` the PostgreSQL cluster and a database with the three
addons and their demo data already exist (``CMMS_TEST_*`` variables); run
alone (``pytest tests``), the fixtures make their own.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

_counter = itertools.count()


def wait_for(predicate, timeout: float, what: str, step: float = 0.25):
    """Poll *predicate* until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def pytest_collection_modifyitems(config, items):
    if stack.odoo_root() is None:
        skip = pytest.mark.skip(reason="NO ODOO 18 IMPORTABLE: end-to-end tests not run")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e")
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="session")
def postgres(workdir):
    if os.environ.get("CMMS_TEST_PG_HOST"):
        pg = stack.Postgres(workdir / "pg-unused")
        pg.host = os.environ["CMMS_TEST_PG_HOST"]
        pg.port = int(os.environ["CMMS_TEST_PG_PORT"])
        pg.user = os.environ.get("CMMS_TEST_PG_USER", "odoo")
        pg.template_data = Path(os.environ["CMMS_TEST_DATA_DIR"])
        yield pg, os.environ["CMMS_TEST_TEMPLATE_DB"]
        return
    pg = stack.Postgres(workdir / "pg").start()
    try:
        odoo = stack.Odoo(pg, workdir / "odoo-template")
        rc = odoo.run(
            ["-d", "cmms_template", "-i", ",".join(stack.OUR_ADDONS), "--stop-after-init"],
            workdir / "install.log",
        )
        assert rc == 0, (workdir / "install.log").read_text()[-3000:]
        pg.template_data = odoo.data_dir
        yield pg, "cmms_template"
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def broker(workdir):
    mqtt = stack.Mosquitto(workdir / "mqtt").start()
    yield mqtt
    mqtt.stop()


@pytest.fixture
def own_broker(tmp_path):
    """A Mosquitto of the test's own (shipped configuration), free to restart.

    The session's ``broker`` keeps the persistent sessions of every connector
    that ever ran against it, each queueing a copy of every later message; a
    test that publishes tens of thousands of messages, or restarts the
    broker, gets its own.
    """
    mqtt = stack.Mosquitto(tmp_path / "mqtt").start()
    yield mqtt
    mqtt.stop()


class OdooServer:
    """A running Odoo on its own copy of the demo database."""

    def __init__(self, odoo: stack.Odoo, db: str, api_key: str):
        self.odoo = odoo
        self.db = db
        self.api_key = api_key
        self.url = odoo.url
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
        self.connector_uid = common.authenticate(db, "cmms_connector", api_key, {})
        assert self.connector_uid, "the connector's API key is refused"

    def call(self, login: str, password: str, model: str, method: str, *args, **kwargs):
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
        uid = common.authenticate(self.db, login, password, {})
        assert uid, f"{login} cannot log in"
        models = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        return models.execute_kw(self.db, uid, password, model, method, list(args), kwargs)

    def admin(self, model: str, method: str, *args, **kwargs):
        return self.call("admin", "admin", model, method, *args, **kwargs)

    def jsonrpc_ingest(self, items: list[dict]) -> dict:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, self.connector_uid, self.api_key,
                         "cmms.telemetry.api", "ingest", [items]],
            },
        }  # fmt: skip
        request = urllib.request.Request(
            f"{self.url}/jsonrpc",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            reply = json.loads(response.read())
        assert "error" not in reply, reply.get("error")
        return reply["result"]


@pytest.fixture
def odoo_server(postgres, workdir):
    pg, template = postgres
    # The pid keeps runs that share a PostgreSQL (CMMS_TEST_PG_*) apart.
    db = f"cmms_e2e_{os.getpid()}_{next(_counter)}"
    pg.copy_db(template, db)
    odoo = stack.Odoo(pg, workdir / f"odoo-{db}")
    filestore = pg.template_data / "filestore" / template
    if filestore.is_dir():
        shutil.copytree(filestore, odoo.data_dir / "filestore" / db)
    key = stack.make_api_key(odoo, db, "cmms_telemetry.res_users_cmms_connector")
    odoo.serve(db, workdir / f"{db}.log")
    try:
        yield OdooServer(odoo, db, key)
    finally:
        odoo.stop()
        # A shared PostgreSQL (CMMS_TEST_PG_*) should not fill up with copies.
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.psql(f'DROP DATABASE IF EXISTS "{db}"')

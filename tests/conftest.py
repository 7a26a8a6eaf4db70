"""Fixtures of the end-to-end tests: real PostgreSQL, Mosquitto and Odoo.

Under ``scripts/test`` the PostgreSQL cluster and a database with the three
addons and their demo data already exist (``CMMS_TEST_*`` variables); run
alone (``pytest tests``), the fixtures make their own.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit import ROOT, rpc, stack

__all__ = ["ROOT", "OdooServer"]

_counter = itertools.count()


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
        #: The connector's client (its API key), over JSON-RPC like the connector.
        self.connector = rpc.client(self.url, db, "cmms_connector", api_key)
        self.connector_uid = self.connector.uid_

    def call(self, login: str, password: str, model: str, method: str, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as *login* (JSON-RPC)."""
        return rpc.call(
            rpc.client(self.url, self.db, login, password), model, method, *args, **kwargs
        )

    def admin(self, model: str, method: str, *args, **kwargs):
        return self.call("admin", "admin", model, method, *args, **kwargs)

    def jsonrpc_ingest(self, items: list[dict]) -> dict:
        """``cmms.telemetry.api.ingest(items)`` as the connector: the raw reply."""
        return rpc.call(self.connector, "cmms.telemetry.api", "ingest", items)


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

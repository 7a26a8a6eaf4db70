"""The project's development harness (tests, benchmarks, ``./scripts/up``).

Not part of the runtime: the connector and simulator images do not ship it.

* :mod:`devkit.util`: free loopback ports, :func:`~devkit.util.wait_until`
  (a condition with a deadline), stopping process groups;
* :mod:`devkit.broker`: Mosquitto with the shipped configuration
  (``deploy/mosquitto/mosquitto.conf``), the one launcher;
* :mod:`devkit.stack`: a private PostgreSQL cluster, Odoo 18 with our
  addons, the Odoo log judge;
* :mod:`devkit.rpc`: the one JSON-RPC client for Odoo in development code
  (the connector's own :class:`connector.push.odoo_client.OdooClient`);
* :mod:`devkit.bench_connector`: ``python -m devkit.bench_connector``.

Run everything from the repository root (``python -m devkit.x``,
``python -m scripts.x``); pytest puts the root on the path (``pythonpath``
in ``pyproject.toml``).
"""

from pathlib import Path

#: The repository root.
ROOT = Path(__file__).resolve().parent.parent

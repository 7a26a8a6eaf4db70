"""CMMS telemetry connector.

A long-running daemon between the plant's MQTT broker and Odoo: it decodes
and validates readings, runs per-tag detectors, aggregates alerts, keeps
everything in a durable SQLite outbox and pushes batches to Odoo over
JSON-RPC with idempotency keys. See ``docs/contracts.md`` for the wire
contracts and ``python -m connector --help`` for the command line.
"""

__version__ = "0.1.0"

"""The connector's durable local store (SQLite or PostgreSQL) and its
history tiers."""

from .sqlite import (
    CHUNK_MAX_S,
    SCHEMA_VERSION,
    AlertStateRow,
    OutboxRow,
    StorageError,
    Store,
    chunk_readings,
    encode_chunk,
)

__all__ = [
    "CHUNK_MAX_S",
    "SCHEMA_VERSION",
    "AlertStateRow",
    "OutboxRow",
    "StorageError",
    "Store",
    "chunk_readings",
    "encode_chunk",
]

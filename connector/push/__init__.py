"""From the outbox to Odoo: the outbox item shapes and keys
(:mod:`.items`), the JSON-RPC client (:mod:`.odoo_client`) and the outbox
drain (:mod:`.pusher`: batching, alerts first, backoff)."""

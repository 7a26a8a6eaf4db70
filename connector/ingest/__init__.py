"""From the broker to the store: the MQTT receiver (:mod:`.mqtt`, or a
receiver process, :mod:`.mqtt_proc`), payload decoding and topics
(:mod:`.schema`) and the ingest pipeline (:mod:`.pipeline`: decode, store,
detect, aggregate in one transaction)."""

"""FLEXO 104: the engine that turns ticks into health, OEE inputs and
downtime items (:mod:`.engine`) and the specification's pure scoring
tables and functions it applies (:mod:`.scoring`)."""

"""Plant data simulator for the CMMS telemetry connector.

The simulator publishes realistic process-instrument readings (PT-101,
TT-201, FT-301, LT-401) and FLEXO 104 machine ticks over MQTT, with
faults injected on a schedule or at random and written to a ground-truth
label file.  Everything is driven by simulated time and a seed, so a run
is reproducible independent of the wall clock.

Modules
-------
clock
    Simulated-time helpers (ISO 8601 formatting, start-time parsing).
instruments
    Instrument definitions and the correlated process model; the default
    instruments are read from ``config/instruments.toml``.
demo_xml
    The Odoo demo instruments generated from ``config/instruments.toml``.
faults
    Fault definitions, injection and ground-truth labels.
flexo
    FLEXO 104 tick generator (five components, downtime events, wear).
history
    A year of FLEXO 104 production reports and LOSSTIME events (CSV).
scenarios
    Named scenarios and scenario files.
simulation
    The engine that merges instruments, faults and FLEXO ticks in time order.
publisher
    The MQTT adapter: bounded in-flight QoS 1 publishing with PUBACK counting.
"""

__version__ = "0.1.0"

"""The MQTT client in a process of its own, acknowledging on the owner's word.

paho-mqtt parses every packet in Python. In one process, its network thread
and the ingest worker (decoding, detectors, SQLite) share one interpreter
lock, so the connector could never receive faster than paho alone minus
everything the worker does. :class:`MqttProcess` runs the same
:class:`~connector.ingest.mqtt.MqttIngest` (same session, status topic, last
will, TLS, reconnect) in a child process, the **receiver**, and keeps the
interface of :class:`~connector.ingest.mqtt.MqttIngest` for the service:

* the receiver forwards what it receives over a pipe, in batches (however
  many messages arrived while the previous batch was being sent), together
  with its connection changes, in the order they happened;
* it also decodes the payloads of reading topics that hold an array of
  readings (:func:`~connector.ingest.schema.decode_readings`) and sends the
  readings with the message, so that the owner's interpreter spends that
  time on storage and detection; a single reading, or a payload it cannot
  decode, goes as it is (the owner decodes it, and dead-letters it with the
  reason);
* the service acknowledges with :meth:`MqttProcess.ack_many` after its store
  transaction committed; the receiver then sends the PUBACKs. Nothing is
  acknowledged before that, so the guarantee is the one of the single
  process: a message the broker forgot is in the store.

Failure handling:

* the receiver dies (a bug, the OOM killer): the owner sees the pipe close,
  reports a disconnection and starts a new receiver after a back-off. The
  broker redelivers what was not acknowledged, and the store recognises
  what it already holds. An acknowledgement meant for a dead receiver's
  connection is dropped (:meth:`MqttProcess.ack` returns ``False``), as
  :class:`~connector.ingest.mqtt.MqttIngest` drops one meant for an earlier
  connection;
* the owner dies, even by SIGKILL: the receiver sees the pipe close and
  exits at once without a clean disconnect, so the broker publishes the
  last will (``offline``) and keeps the session for the next start;
* SIGINT and SIGTERM are ignored by the receiver: a Ctrl-C in a terminal or
  a service manager's SIGTERM reaches both processes, and the owner stops
  the receiver itself once it has stopped taking messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from ..config import Settings
from .mqtt import Message, MqttIngest, Receiver
from .schema import ReadingBatch, decode_readings

log = logging.getLogger(__name__)

#: Format of the receiver's log lines (the one ``python -m connector run`` uses).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: A message's ``connection`` is ``generation << CONNECTION_BITS | connection``:
#: which receiver process, and which of its connections, received it.
CONNECTION_BITS = 32
#: How long the receiver lets messages gather before it forwards them
#: (seconds): at high rates the owner then takes tens of messages per
#: transfer instead of a few, at the price of this much latency.
FORWARD_LINGER_S = 0.003
#: Messages the receiver holds for the owner at most; paho's thread waits
#: beyond that.
FORWARD_PENDING_MAX = 2000
_PICKLE = pickle.HIGHEST_PROTOCOL
#: Builds a Message from a tuple already in its field order.
_as_message = tuple.__new__


# -- the receiver (child process) -------------------------------------------------

#: The last level of a reading topic (``<prefix>/<site>/<tag>/reading``).
_READING_LEVEL = "/reading"


def predecode(topic: str, payload: bytes) -> ReadingBatch | None:
    """The readings of a reading topic's payload (``.../<tag>/reading``) when
    it is an array of plain readings (a :class:`~connector.ingest.schema.ReadingBatch`,
    sent as its columns), else ``None``: another topic, a single reading
    (cheaper decoded by the owner than pickled), or a payload that is refused
    (the owner then decodes it itself and keeps the reason).

    >>> predecode("cmms/p1/PT-101/reading", b'[{"ts": 1795334400, "value": 4.2, "unit": "bar"}]')
    [Reading(tag='PT-101', ts=1795334400.0, value=4.2, unit='bar', quality=None, seq=None)]
    >>> predecode("cmms/p1/PT-101/reading", b'{"ts": 1795334400, "value": 4.2, "unit": "bar"}')
    >>> predecode("cmms/p1/PT-101/reading", b"[nonsense") is None
    True
    """
    if not topic.endswith(_READING_LEVEL) or payload[:1] != b"[":
        return None
    try:
        readings = decode_readings(topic[: -len(_READING_LEVEL)].rpartition("/")[2], payload)
    except Exception:  # refused (or a bug): the owner decodes and dead-letters it
        return None
    return readings if type(readings) is ReadingBatch else None


class _Forwarder:
    """Collects entries from paho's thread; a thread sends them in batches."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cond = threading.Condition()
        self.entries: list[tuple[Any, ...]] = []

    def put(self, entry: tuple[Any, ...]) -> None:
        with self.cond:
            # A worker that falls behind slows paho's reading (the broker keeps
            # the backlog) rather than this process's memory growing.
            while len(self.entries) >= FORWARD_PENDING_MAX:
                self.cond.wait()
            self.entries.append(entry)
            if len(self.entries) == 1:
                self.cond.notify_all()

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.entries:
                    self.cond.wait()
            time.sleep(FORWARD_LINGER_S)  # let a burst gather: fewer, larger transfers
            with self.cond:
                batch, self.entries = self.entries, []
                self.cond.notify_all()  # room again for a waiting put
            try:
                self.conn.send_bytes(pickle.dumps(batch, _PICKLE))
            except OSError:
                os._exit(3)  # the owner is gone


class _ReceiverIngest(MqttIngest):
    """:class:`MqttIngest` that hands plain tuples to the forwarder.

    A message is a tuple in :class:`~connector.ingest.mqtt.Message`'s field
    order, its ``connection`` already numbered for the owner
    (``generation << CONNECTION_BITS | connection``); a connection change is
    ``(None, connected, session_present)``.
    """

    def __init__(self, settings: Settings, forwarder: _Forwarder, generation: int) -> None:
        self.forwarder = forwarder
        self.base = generation << CONNECTION_BITS
        super().__init__(settings, self._unused, self._connection_change)

    @staticmethod
    def _unused(message: Message) -> None:  # pragma: no cover - replaced below
        raise AssertionError("not called")

    def _connection_change(self, connected: bool) -> None:
        self.forwarder.put((None, connected, self.session_present_))

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        connection = self.base | self.connects_
        topic, payload = msg.topic, bytes(msg.payload)
        self.forwarder.put(
            (
                topic,
                payload,
                msg.mid,
                msg.qos,
                bool(msg.dup),
                connection,
                predecode(topic, payload),
            )
        )


def receiver_main(conn: Connection, settings: Settings, log_level: int, generation: int) -> None:
    """Body of the receiver process (see the module's description)."""
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    forwarder = _Forwarder(conn)
    threading.Thread(target=forwarder.run, name="receiver-forward", daemon=True).start()
    ingest = _ReceiverIngest(settings, forwarder, generation)
    ingest.start()
    while True:
        try:
            command = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            os._exit(3)  # the owner died: no clean disconnect, the last will tells
        if command[0] == "ack":
            current = ingest.connects_
            # (the owner masked off the generation)
            acks = [(mid, qos) for mid, qos, connection in command[1] if connection == current]
            ingest.client.ack_many(acks)
        elif command[0] == "stop":
            ingest.stop(command[1])
            with contextlib.suppress(OSError):
                conn.send_bytes(pickle.dumps([(None,)], _PICKLE))  # "stopped"
            conn.close()
            return


# -- the owner's side -------------------------------------------------------------


class MqttProcess(Receiver):
    """:class:`~connector.ingest.mqtt.MqttIngest`'s interface, served by a receiver process.

    Parameters
    ----------
    settings : Settings
        Broker address, credentials, TLS, client id, topics.
    on_message : callable
        Called with each :class:`~connector.ingest.mqtt.Message`, in order,
        from this object's reader thread.
    on_connection_change : callable, optional
        Called with ``True`` once connected and subscribed, ``False`` on a
        disconnection (also when the receiver process died).
    on_batch : callable, optional
        Called instead of *on_message* with each run of messages that came
        in one transfer (a list, in order): cheaper than one call each.
    """

    def __init__(
        self,
        settings: Settings,
        on_message: Callable[[Message], None],
        on_connection_change: Callable[[bool], None] | None = None,
        on_batch: Callable[[list[Message]], None] | None = None,
    ) -> None:
        super().__init__(settings, on_message, on_connection_change)
        self.on_batch = on_batch
        #: Receiver processes started so far (1 after :meth:`start`).
        self.generation_ = 0
        self.restarts_ = 0
        self.process_: Any = None
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Start the receiver process (it connects in the background)."""
        self._stopping.clear()
        self._spawn()
        self._reader = threading.Thread(target=self._read_loop, name="connector-mqtt", daemon=True)
        self._reader.start()

    def _spawn(self) -> None:
        # A new interpreter (never a fork of this threaded process), which
        # imports nothing of the owner's main module.
        ours, theirs = socket.socketpair()
        level = logging.getLogger().getEffectiveLevel()
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, path))))
        generation = self.generation_ + 1
        with theirs:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno()), str(level), str(generation)],
                pass_fds=(theirs.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
            )
        conn = Connection(ours.detach())
        conn.send_bytes(pickle.dumps(self.settings, _PICKLE))
        with self._send_lock:
            self._conn, self.process_ = conn, proc
            self.generation_ = generation
        log.info("MQTT receiver process %d started", proc.pid)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the receiver: ``offline`` status, clean disconnect, exit.

        The session stays on the broker, so messages published meanwhile
        wait for the next start.
        """
        self._stopping.set()
        proc = self.process_
        self._send(("stop", timeout))
        if proc is not None:
            try:
                proc.wait(timeout + 5.0)
            except subprocess.TimeoutExpired:
                log.warning("MQTT receiver did not stop; killing it")
                proc.kill()
                proc.wait(5.0)
        if self._reader is not None:
            self._reader.join(timeout + 5.0)
        if self._conn is not None:
            self._conn.close()
        self.connected.clear()

    # -- acknowledgements ----------------------------------------------------

    def ack(self, message: Message) -> bool:
        """Acknowledge one stored message (see :meth:`ack_many`)."""
        return self.ack_many((message,)) == 1

    def ack_many(self, messages: Iterable[Message]) -> int:
        """Acknowledge stored messages; return how many were passed on.

        A message received by an earlier receiver process is not
        acknowledged (its packet id means nothing to the new connection);
        the broker delivers it again and the store recognises it. Whether
        the receiver's connection is still the one that received a message
        is checked by the receiver, as :meth:`MqttIngest.ack` does.
        """
        generation = self.generation_
        mask = (1 << CONNECTION_BITS) - 1
        acks = [
            (m.mid, m.qos, m.connection & mask)
            for m in messages
            if m.connection >> CONNECTION_BITS == generation
        ]
        if not acks:
            return 0
        return len(acks) if self._send(("ack", acks), generation) else 0

    def _send(self, command: tuple[Any, ...], generation: int | None = None) -> bool:
        data = pickle.dumps(command, _PICKLE)
        with self._send_lock:
            conn = self._conn
            if conn is None or (generation is not None and generation != self.generation_):
                return False
            try:
                conn.send_bytes(data)
            except (OSError, ValueError):  # the receiver is gone or the pipe closed
                return False
        return True

    # -- reader thread -------------------------------------------------------

    def _read_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            conn = self._conn
            assert conn is not None
            try:
                while True:
                    self._deliver(pickle.loads(conn.recv_bytes()))
                    failures = 0
            except (EOFError, OSError):
                pass
            if self._stopping.is_set():
                break
            self._lost()
            failures += 1
            delay = min(
                float(self.settings.mqtt_reconnect_max_s),
                float(self.settings.mqtt_reconnect_min_s) * 2 ** (failures - 1),
            )
            code = self.process_.wait() if self.process_ is not None else None
            log.error(
                "MQTT receiver process exited (code %s); a new one starts in %.0f s", code, delay
            )
            if self._stopping.wait(delay):
                break
            self.restarts_ += 1
            self._spawn()

    def _lost(self) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and self.on_connection_change is not None:
            self.on_connection_change(False)

    def _deliver(self, batch: list[tuple[Any, ...]]) -> None:
        run: list[Message] = []
        for entry in batch:
            if entry[0] is not None:
                run.append(_as_message(Message, entry))
            elif len(entry) == 3:  # a connection change, after the messages before it
                self._hand_over(run)
                run = []
                self._connection_event(bool(entry[1]), entry[2])
        self._hand_over(run)

    def _hand_over(self, run: list[Message]) -> None:
        if not run:
            return
        if self.on_batch is not None:
            self.on_batch(run)
        else:
            for message in run:
                self.on_message(message)

    def _connection_event(self, connected: bool, session_present: bool | None) -> None:
        if connected:
            self.connects_ += 1
            self.session_present_ = session_present
            self.connected.set()
        else:
            self.connected.clear()
        if self.on_connection_change is not None:
            self.on_connection_change(connected)


def _main(argv: list[str]) -> None:
    """``python -m connector.ingest.mqtt_proc FD LEVEL GENERATION``: a receiver (internal)."""
    conn = Connection(int(argv[0]))
    try:
        settings = pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):
        sys.exit(3)
    receiver_main(conn, settings, int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    _main(sys.argv[1:])

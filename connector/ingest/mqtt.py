"""MQTT adapter (paho-mqtt 2.x): persistent session, manual acknowledgement.

The broker keeps our subscriptions and queues QoS 1 messages while we are
away because the session is persistent: a fixed client id, and on MQTT 5
``clean_start=False`` with a ``SessionExpiryInterval`` (on 3.1.1
``clean_session=False``). With ``manual_ack=True`` paho does not
acknowledge a message on receipt: :class:`MqttIngest` hands it to a
callback and the owner calls :meth:`MqttIngest.ack` once the message is
committed to the store. A message that was received but not acknowledged
when the connector died is delivered again on the next connection, and the
store's uniqueness rule recognises it.

Subscriptions are made in ``on_connect`` so a reconnect renews them;
:attr:`MqttIngest.connected` is set only once the broker has confirmed them
(SUBACK), because before that a published message is not routed to us. The
retained status topic says ``online`` on connect, and the last will says
``offline`` when the connection drops without a clean disconnect.

paho reads a packet with three ``recv`` calls (its type, its length, its
body) and a ``select`` before each packet; on a plain TCP connection
:class:`BufferedSocket` serves them from a buffer filled
:data:`READ_CHUNK` bytes at a time, and the client (:class:`Client`) goes
on reading while the buffer holds bytes (paho already does the same for a
TLS connection's own buffer). A busy connection then costs a system call
per few dozen messages instead of four per message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..config import Settings
from ..util import iso_utc

log = logging.getLogger(__name__)


#: A PUBACK packet: its type, remaining length 2, the message id (MQTT 3.1.1
#: and 5 alike: a v5 PUBACK without reason code means success).
_PUBACK = struct.Struct("!BBH")

#: Bytes a :class:`BufferedSocket` asks the kernel for at once.
READ_CHUNK = 65536
#: Packets :class:`Client` reads from its buffer before it goes back to
#: paho's loop (which writes the acknowledgements waiting to go out).
READ_BURST = 200


class BufferedSocket:
    """A connected TCP socket whose reads come from a buffer.

    ``recv(n)`` returns at most *n* bytes: from the buffer while it holds
    any, else from one ``recv`` of the socket of at least
    :data:`READ_CHUNK` bytes (the socket's ``BlockingIOError``, or ``b""``
    at the end of the stream, pass through). :meth:`pending` tells how many
    bytes the buffer holds; every other attribute is the socket's.

    >>> a, b = socket.socketpair()
    >>> _ = a.send(b"abcdef")
    >>> buffered = BufferedSocket(b)
    >>> buffered.recv(1), buffered.pending(), buffered.recv(10), buffered.pending()
    (b'a', 5, b'bcdef', 0)
    >>> a.close(); buffered.close()
    """

    __slots__ = ("sock", "_buf", "_pos")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        """At most *size* bytes (see the class)."""
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self.sock.recv(size if size > READ_CHUNK else READ_CHUNK)
            if not buf:
                return buf
            self._buf, pos = buf, 0
        end = pos + size
        self._pos = end
        return buf[pos:end]

    def pending(self) -> int:
        """Bytes received and not yet read."""
        left = len(self._buf) - self._pos
        return left if left > 0 else 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class Client(mqtt.Client):
    """paho's client, reading a plain TCP connection through a
    :class:`BufferedSocket` (TLS and WebSocket connections as paho does)."""

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        return BufferedSocket(sock) if type(sock) is socket.socket else sock

    def ack_many(self, acks: Iterable[tuple[int, int]]) -> mqtt.MQTTErrorCode:
        """Acknowledge received messages, ``(mid, qos)`` each: the PUBACKs
        of QoS 1 messages go out in one write (paho's :meth:`ack` queues a
        packet and wakes its loop per message); QoS 2 ones as :meth:`ack`.
        Returns the first error paho reports, else success."""
        pack = _PUBACK.pack
        packets = []
        rc = mqtt.MQTT_ERR_SUCCESS
        for mid, qos in acks:
            if qos == 1:
                packets.append(pack(PUBACK, 2, mid))
            else:
                rc = rc or self.ack(mid, qos)
        if packets:
            rc = rc or self._packet_queue(PUBACK, b"".join(packets), 0, 1)
        return rc

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho's :meth:`loop_read`, repeated while the buffer holds bytes
        (at most :data:`READ_BURST` packets)."""
        rc = super().loop_read(max_packets)
        for _ in range(READ_BURST):
            sock = self._sock
            if rc != mqtt.MQTT_ERR_SUCCESS or type(sock) is not BufferedSocket:
                break
            if not sock.pending():
                break
            rc = super().loop_read(max_packets)
        return rc


class Message(NamedTuple):
    """A received MQTT message, to be acknowledged after it is stored.

    A named tuple: one is made per message, and the receiver process sends
    them as plain tuples in this field order.
    """

    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool = False
    connection: int = 0
    #: The payload's readings when the receiver process decoded them
    #: (:func:`connector.ingest.schema.decode_readings`), else ``None``.
    readings: Any = None


def status_payload(state: str, now: float | None = None) -> bytes:
    """Return the status topic payload ``{"state": ..., "ts": ...}``."""
    ts = iso_utc(time.time() if now is None else now)
    return json.dumps({"state": state, "ts": ts}).encode("utf-8")


class Receiver:
    """What the service uses of an MQTT receiver, whichever runs it.

    Attributes
    ----------
    connected : threading.Event
        Set while connected and subscribed (SUBACK received).
    session_present_ : bool or None
        Whether the broker kept our session at the last connect.
    connects_ : int
        Connections made so far.
    """

    def __init__(
        self,
        settings: Settings,
        on_message: Callable[[Message], None],
        on_connection_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_connection_change = on_connection_change
        self.connected = threading.Event()
        self.session_present_: bool | None = None
        self.connects_ = 0

    def start(self) -> None:  # pragma: no cover - abstract
        """Connect in the background, keep reconnecting."""
        raise NotImplementedError

    def stop(self, timeout: float = 5.0) -> None:  # pragma: no cover - abstract
        """Say ``offline``, disconnect cleanly (the session stays on the broker)."""
        raise NotImplementedError

    def ack(self, message: Message) -> bool:  # pragma: no cover - abstract
        """Acknowledge one stored message; return whether it was passed on."""
        raise NotImplementedError

    def ack_many(self, messages: Iterable[Message]) -> int:
        """Acknowledge stored messages; return how many were acknowledged."""
        return sum(self.ack(message) for message in messages)


class MqttIngest(Receiver):
    """Subscribe to readings, ticks and energy meters; deliver messages to *on_message*.

    Parameters
    ----------
    settings : Settings
        Broker address, credentials, TLS, client id, protocol, topics.
    on_message : callable
        Called from paho's network thread with each :class:`Message`. It must
        not block for long; the owner acknowledges with :meth:`ack`.
    on_connection_change : callable, optional
        Called with ``True`` on connect and ``False`` on disconnect.
    """

    def __init__(
        self,
        settings: Settings,
        on_message: Callable[[Message], None],
        on_connection_change: Callable[[bool], None] | None = None,
    ) -> None:
        super().__init__(settings, on_message, on_connection_change)
        self._stopping = False
        self._subscribe_mid: int | None = None
        v5 = settings.mqtt_protocol == "5"
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if v5 else False,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            manual_ack=True,
            reconnect_on_failure=True,
        )
        self.client.enable_logger(logging.getLogger("connector.paho"))
        if settings.mqtt_username:
            self.client.username_pw_set(settings.mqtt_username, settings.mqtt_password)
        if settings.mqtt_tls:
            self.client.tls_set(
                ca_certs=settings.mqtt_ca_certs,
                certfile=settings.mqtt_certfile,
                keyfile=settings.mqtt_keyfile,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            self.client.tls_insecure_set(settings.mqtt_tls_insecure)
        self.client.will_set(settings.status_topic, status_payload("offline"), qos=1, retain=True)
        self.client.reconnect_delay_set(
            settings.mqtt_reconnect_min_s, settings.mqtt_reconnect_max_s
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and keep reconnecting with backoff."""
        s = self.settings
        self._stopping = False
        if s.mqtt_protocol == "5":
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = s.mqtt_session_expiry_s
            props.ReceiveMaximum = s.mqtt_receive_maximum
            self.client.connect_async(
                s.mqtt_host, s.mqtt_port, s.mqtt_keepalive_s, clean_start=False, properties=props
            )
        else:
            self.client.connect_async(s.mqtt_host, s.mqtt_port, s.mqtt_keepalive_s)
        self.client.loop_start()
        log.info(
            "MQTT: connecting to %s:%d as %s (MQTT %s)",
            s.mqtt_host,
            s.mqtt_port,
            s.client_id,
            s.mqtt_protocol,
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Publish ``offline``, disconnect cleanly and stop the network thread.

        The session stays on the broker (it expires only after
        ``mqtt_session_expiry_s``), so messages published meanwhile wait.
        """
        self._stopping = True
        if self.connected.is_set():
            info = self.client.publish(
                self.settings.status_topic, status_payload("offline"), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def ack(self, message: Message) -> bool:
        """Acknowledge a stored message; return False when not connected.

        A message that cannot be acknowledged now is delivered again after
        the next connect, and recognised as a duplicate then. A message
        received on an earlier connection is not acknowledged on this one:
        its packet id may meanwhile name another message (if the session was
        lost); the broker resends it when the session was kept.
        """
        return self.ack_many((message,)) == 1

    def ack_many(self, messages: Iterable[Message]) -> int:
        """Acknowledge stored messages (see :meth:`ack`) in one write;
        return how many were acknowledged."""
        current = self.connects_
        acks = [(m.mid, m.qos) for m in messages if m.connection == current]
        if not acks or self.client.ack_many(acks) != mqtt.MQTT_ERR_SUCCESS:
            return 0
        return len(acks)

    # -- paho callbacks (network thread) -------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.error("MQTT: connection refused: %s", reason_code)
            return
        self.connects_ += 1
        self.session_present_ = bool(flags.session_present)
        s = self.settings
        _, self._subscribe_mid = client.subscribe(
            [(s.reading_topic, 1), (s.tick_topic, 1), (s.energy_topic, 1)]
        )
        client.publish(s.status_topic, status_payload("online"), qos=1, retain=True)
        log.info(
            "MQTT: connected (session %s), subscribing to %s, %s and %s",
            "resumed" if self.session_present_ else "new",
            s.reading_topic,
            s.tick_topic,
            s.energy_topic,
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: Any,
        properties: Any,
    ) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._stopping:
            log.warning("MQTT: disconnected (%s); reconnecting with backoff", reason_code)
        if was and self.on_connection_change is not None:
            self.on_connection_change(False)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[Any], properties: Any
    ) -> None:
        """Count as connected once the broker confirmed the subscriptions.

        Until then a message published to our topics would not be routed to
        us (on the very first start, before the session holds them).
        """
        if mid != self._subscribe_mid:
            return
        topics = (self.settings.reading_topic, self.settings.tick_topic, self.settings.energy_topic)
        for topic, rc in zip(topics, reason_codes, strict=False):
            if rc.is_failure:
                log.error("MQTT: subscription to %s refused: %s", topic, rc)
        if not reason_codes or reason_codes[0].is_failure:
            return  # without readings the connector is not working
        self.connected.set()
        if self.on_connection_change is not None:
            self.on_connection_change(True)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.on_message(
            Message(
                topic=msg.topic,
                payload=bytes(msg.payload),
                mid=msg.mid,
                qos=msg.qos,
                dup=bool(msg.dup),
                connection=self.connects_,
            )
        )

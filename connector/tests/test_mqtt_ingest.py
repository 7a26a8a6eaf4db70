"""MqttIngest without a broker: acknowledgement rules and topics."""

from __future__ import annotations

import json

import pytest

from connector.config import Settings
from connector.ingest.mqtt import Message, MqttIngest, status_payload


def test_ack_only_on_the_connection_that_received_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest = MqttIngest(Settings(mqtt_site="plant1"), lambda m: None)
    sent: list[tuple[int, int]] = []

    def fake_ack_many(acks: list[tuple[int, int]]) -> int:
        sent.extend(acks)
        return 0

    monkeypatch.setattr(ingest.client, "ack_many", fake_ack_many)
    ingest.connects_ = 2
    assert ingest.ack(Message("t", b"", mid=7, qos=1, connection=2))
    assert not ingest.ack(Message("t", b"", mid=8, qos=1, connection=1))
    assert sent == [(7, 1)]


def test_messages_carry_their_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[Message] = []
    ingest = MqttIngest(Settings(), got.append)
    ingest.connects_ = 3

    class Raw:
        topic, payload, mid, qos, dup = "cmms/p/T/reading", b"{}", 5, 1, True

    ingest._on_message(ingest.client, None, Raw())  # type: ignore[arg-type]
    assert got == [Message("cmms/p/T/reading", b"{}", 5, 1, True, 3)]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_client_is_built_for_a_persistent_session(protocol: str) -> None:
    settings = Settings(mqtt_protocol=protocol, connector_id="x1", mqtt_site="p1")
    ingest = MqttIngest(settings, lambda m: None)
    assert ingest.client._client_id == b"cmms-connector-x1"
    assert ingest.client._manual_ack is True
    if protocol == "3.1.1":
        assert ingest.client._clean_session is False
    assert ingest.client._will_topic == b"cmms/p1/connector/x1/status"
    assert json.loads(ingest.client._will_payload)["state"] == "offline"


def test_status_payload() -> None:
    assert json.loads(status_payload("online", 1795334400.0)) == {
        "state": "online",
        "ts": "2026-11-22T08:00:00Z",
    }

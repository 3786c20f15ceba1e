"""Broker sessions as a test sees them: the broker's answer to a login, and a session held open that
reports when the broker closes it (both with paho directly, no event loop needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import paho.mqtt.client as paho

from hazmon.settings import Settings


def connack(settings: Settings, username: str, password: str) -> str:
    """The broker's answer to a login: "Success", "Not authorized", ..."""
    answers: list[str] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=5)
    deadline = time.monotonic() + 5
    while not answers and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    client.disconnect()
    return answers[0] if answers else "no CONNACK"


@contextmanager
def held_session(settings: Settings, username: str, password: str, client_id: str) -> Iterator[threading.Event]:
    """A device's session kept open (paho's network thread); the event is set when the broker closes
    it. (Not aiomqtt publishing until it fails: a publish in flight when the broker closes the socket
    waits for its PUBACK until aiomqtt's own timeout, which once hid the close from a test.)"""
    connected, closed = threading.Event(), threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: None if reason.is_failure else connected.set()
    client.on_disconnect = lambda *_: closed.set()
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
    client.loop_start()
    try:
        assert connected.wait(5), "the session was not accepted"
        yield closed
    finally:
        client.disconnect()
        client.loop_stop()

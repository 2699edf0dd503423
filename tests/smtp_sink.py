"""A real SMTP server for the tests: an aiosmtpd Controller on 127.0.0.1 that keeps what it gets.

`smtp_sink` starts one per test on a free port and points the app's MAIL_SERVER/MAIL_PORT at
it (restored afterwards: the app is session-wide). `sink.refuse("DATA")` (or "RCPT") makes it
answer 451 from then on, to test delivery failures; `sink.accept()` undoes that.
Registered for the whole suite by `pytest_plugins = ["tests.smtp_sink"]` in tests/conftest.py.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

REFUSAL = "451 4.3.0 Temporary failure, try again later"


@dataclass
class Received:
    """One message as the server saw it: the envelope, and the parsed headers and body."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else part.get_content()

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return None if part is None else part.get_content()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.sink.refusing == "RCPT":
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.refusing == "DATA":
            return REFUSAL
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.sink.lock:
            self.sink.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """An SMTP server in a thread that collects messages, or refuses them with 451."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[Received] = []
        self.refusing: str | None = None
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def refuse(self, stage: str = "DATA") -> None:
        """Answer 451 to every RCPT TO or DATA command from now on."""
        if stage not in {"RCPT", "DATA"}:
            raise ValueError(stage)
        self.refusing = stage

    def accept(self) -> None:
        self.refusing = None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@pytest.fixture
def smtp_sink(app):
    """A fresh SMTP sink for this test; the app sends to it (by SMTP) until the test ends."""
    sink = SmtpSink().start()
    keys = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_TIMEOUT")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(
        MAIL_BACKEND="smtp", MAIL_SERVER=sink.host, MAIL_PORT=sink.port, MAIL_USE_TLS=False, MAIL_USE_SSL=False
    )
    app.config["MAIL_TIMEOUT"] = 5
    try:
        yield sink
    finally:
        app.config.update(saved)
        sink.stop()

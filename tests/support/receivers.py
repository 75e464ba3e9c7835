"""Real local peers for the notifications tests: a webhook receiver whose answers a test
scripts (fail, time out, recover), and an SMTP server (aiosmtpd) writing to a Maildir."""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    answered: int | str


@dataclass
class WebhookReceiver:
    """Answers each POST with the next scripted answer (an HTTP status, or "timeout" to answer
    only after `slow_seconds`), then with `default` once the script is used up."""

    script: list[int | str] = field(default_factory=list)
    default: int = 200
    slow_seconds: float = 3.0
    received: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int | str:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def delivered(self) -> list[Delivery]:
        """Requests that were answered 2xx in time: what the receiver accepted."""
        return [d for d in self.received if isinstance(d.answered, int) and d.answered < 300]


def serve(receiver: WebhookReceiver) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = receiver.answer()
            receiver.received.append(
                Delivery({k.lower(): v for k, v in self.headers.items()}, body, answer)
            )
            if answer == "timeout":
                time.sleep(receiver.slow_seconds)
                answer = 200
            self.send_response(int(answer))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hooks/tracker"


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    receiver = WebhookReceiver()
    server, url = serve(receiver)
    yield receiver, url
    server.shutdown()


class SmtpSink:
    """aiosmtpd as its own process (asyncio stays out of the eventlet-patched test process)."""

    def __init__(self, directory: Path, tls: tuple[Path, Path] | None = None):
        """`tls`: (certificate, key) to offer STARTTLS with, and require it."""
        self.port = free_port()
        self.maildir = directory / "maildir"
        starttls = ["--tlscert", str(tls[0]), "--tlskey", str(tls[1])] if tls else []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                *starttls,
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.maildir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("aiosmtpd did not start")

    def messages(self) -> list[EmailMessage]:
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        return [mailbox_message_to_email(m) for m in box]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def mailbox_message_to_email(message: Any) -> EmailMessage:
    from email import message_from_bytes

    return message_from_bytes(message.as_bytes(), policy=policy.default)  # type: ignore[return-value]


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path)
    yield sink
    sink.stop()


TLS_DIR = Path(__file__).resolve().parent / "tls"


@pytest.fixture
def smtp_tls_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """An SMTP server that requires STARTTLS, with a certificate signed by tls/ca.pem."""
    sink = SmtpSink(tmp_path, tls=(TLS_DIR / "server.pem", TLS_DIR / "server.key"))
    yield sink
    sink.stop()

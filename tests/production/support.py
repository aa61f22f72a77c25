"""Running the portal the way production does: real processes from the Procfile, a real SMTP server
and webhook receiver, and a small HTTP client that talks to gunicorn as a TLS-terminating proxy
would (``X-Forwarded-Proto: https``, the public host name).

Used by the production smoke (``tests/production/smoke.py``, run by ``scripts/production-smoke.sh``)
and by the drills in this package. Every process is started in its own session and stopped by its
pid (its process group), never by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import http.server
import json
import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import psycopg
import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_HOST = "fuldmagt.smoke.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float = 30, what: str = "condition") -> object:
    """Poll until the condition is truthy; bounded, so a lost message fails instead of hanging."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


# --- the mail server -----------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    recipients: list[str]
    message: Message

    @property
    def subject(self) -> str:
        # Long subjects in another script than ASCII are folded; unfold them.
        return " ".join(str(self.message["Subject"]).split())

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        # A slow server (the drills' choice): the sender waits here, before any message is handed over.
        if self.sink.delay:
            with self.sink.waiting():
                await asyncio.sleep(self.sink.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.sink.lock:
            self.sink.received.append(
                ReceivedMail(
                    recipients=list(envelope.rcpt_tos),
                    message=message_from_bytes(envelope.content, policy=email.policy.default),
                )
            )
        return "250 Message accepted for delivery"


class _Waits:
    """When senders started waiting on a slow server, to tell whether they are still waiting."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        token = object()
        with self.lock:
            self.started[id(token)] = time.monotonic()
        try:
            yield
        finally:
            with self.lock:
                del self.started[id(token)]

    def waiting_since_at_most(self, seconds: float) -> int:
        now = time.monotonic()
        with self.lock:
            return sum(1 for started in self.started.values() if now - started <= seconds)


class SmtpSink(_Waits):
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts.

    With ``delay`` it answers RCPT that much later, before any message is handed over."""

    def __init__(self, delay: float = 0) -> None:
        super().__init__()
        self.port = free_port()
        self.delay = delay
        self.received: list[ReceivedMail] = []
        self.controller = Controller(_SinkHandler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[ReceivedMail]:
        with self.lock:
            return [mail for mail in self.received if address in mail.recipients]

    def all(self) -> list[ReceivedMail]:
        with self.lock:
            return list(self.received)


# --- the webhook receiver ------------------------------------------------------------------------


class WebhookReceiver(_Waits):
    """An HTTP server that answers 204 to every POST and keeps its headers and body.

    With ``delay`` it takes that long before answering, and keeps an event only if its sender is
    still there to get the answer: a receiver that does its work in a transaction it commits with
    the 2xx. (One that acts on a request whose sender has died gets that event again, with the
    same ``webhook-id``; that is what the id is for.)
    """

    def __init__(self, delay: float = 0) -> None:
        super().__init__()
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.abandoned = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if delay:
                    with receiver.waiting():
                        time.sleep(delay)
                    if _peer_closed(self.connection):
                        with receiver.lock:
                            receiver.abandoned += 1
                        return
                with receiver.lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def all(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return list(self.received)


def _peer_closed(connection: socket.socket) -> bool:
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing more sent: waiting for our answer
    except OSError:
        return True


# --- a connection that can be cut -----------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; ``cut()`` drops every connection and refuses new ones
    (as a server that restarts or goes away), ``restore()`` lets them through again. The server
    itself, shared with everything else on the machine, is never touched."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = True
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> TcpProxy:
        self.thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed by stop()
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            with self.lock:
                self.sockets -= {source, sink}

    def cut(self) -> None:
        self.up = False
        with self.lock:
            open_sockets = list(self.sockets)
        for end in open_sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        self.cut()
        self.listener.close()


# --- databases -----------------------------------------------------------------------------------


def database_url(base_url: str, name: str) -> str:
    return urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    """Drop and create the database of ``url`` (through the server's ``postgres`` database)."""
    name = urlsplit(url).path.strip("/")
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def drop_database(url: str) -> None:
    name = urlsplit(url).path.strip("/")
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- processes -----------------------------------------------------------------------------------


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


@dataclass
class Portal:
    """The portal's environment and processes: ``venv`` is where ``pip install .`` went."""

    venv: Path
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def child_env(self, **extra: str) -> dict[str, str]:
        path = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        return {
            "PATH": path,
            "HOME": os.environ.get("HOME", str(self.log_dir)),
            "LANG": "C.UTF-8",
            "PORT": str(self.port),
        } | (self.env | extra)

    def manage(self, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
        """``python manage.py …`` in the portal's environment; output is returned, not printed."""
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.child_env(**extra),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start(
        self, kind: str, *, name: str | None = None, command: str | None = None, **extra: str
    ) -> subprocess.Popen:
        """Start one Procfile line (web, worker or beat), or another command, in its own process group."""
        name = name or kind
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S602 - the Procfile line is ours, run as the Procfile says
            f"exec {command or procfile()[kind]}",
            shell=True,
            cwd=ROOT,
            env=self.child_env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process group of a process we started (by its pid) and wait for it."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name)

    def browser(self) -> Browser:
        return Browser(f"http://127.0.0.1:{self.port}")

    def wait_until_serving(self, timeout: float = 60) -> None:
        def ready():
            web = self.processes.get("web")
            if web is not None and web.poll() is not None:
                raise AssertionError(f"gunicorn exited with {web.returncode}:\n{self.log('web')[-3000:]}")
            with contextlib.suppress(requests.ConnectionError):
                return self.browser().get("/readyz", follow=False).status_code == 200
            return False

        wait_for(ready, timeout, "the web process to be ready")


def shell_quote_env(env: dict[str, str]) -> str:
    return " ".join(f"{key}={shlex.quote(value)}" for key, value in sorted(env.items()))


# --- the HTTP client -----------------------------------------------------------------------------


class Browser:
    """Talks to gunicorn directly, as the TLS-terminating proxy in front of it would.

    Production cookies are ``Secure``; a client library would not send them back over the plain
    connection to 127.0.0.1, so the cookies are kept here by hand.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.origin = f"https://{PUBLIC_HOST}"

    def _local(self, url: str) -> str:
        parts = urlsplit(urljoin(self.origin + "/", url))
        if parts.netloc != PUBLIC_HOST:
            raise AssertionError(f"redirected off the portal: {url}")
        return self.base + urlunsplit(("", "", parts.path, parts.query, ""))

    def request(self, method: str, url: str, *, follow: bool = True, **kwargs) -> requests.Response:
        headers = {
            "Host": PUBLIC_HOST,
            "X-Forwarded-Proto": "https",
            "Accept-Language": "da",
            **kwargs.pop("headers", {}),
        }
        if method != "GET":
            headers.setdefault("Origin", self.origin)
            headers.setdefault("Referer", self.origin + "/")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, self._local(url), headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        for raw in response.raw.headers.getlist("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if follow and response.status_code in (301, 302, 303) and response.headers.get("Location"):
            return self.get(urljoin(self.origin + urlsplit(url).path, response.headers["Location"]))
        return response

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict | list | None = None, **kwargs) -> requests.Response:
        data = data if data is not None else {}
        if isinstance(data, dict):
            data = list(data.items())
        data = [*data, ("csrfmiddlewaretoken", self.cookies.get("csrftoken", ""))]
        return self.request("POST", url, data=data, **kwargs)


def json_lines(text: str) -> Iterator[dict]:
    """The JSON records in a process log (other lines, such as gunicorn's own start-up, are skipped)."""
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                yield record

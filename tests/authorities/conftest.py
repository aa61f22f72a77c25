import http.server
import socket
import threading

import pytest

from authorities.events import services

# Organisations as attorneys (Revisorhuset A/S, Anne its administrator, Bo an employee), for the
# API's questions on an organisation's behalf.
from ..organisations.conftest import (  # noqa: F401
    anne,
    bo,
    bo_member,
    client_mandate,
    registrar,
    revisorhuset,
)

# Names used for webhooks in these tests, resolved without a network. The public address is never
# connected to: the guard below refuses any connection that does not stay on this machine.
PUBLIC_ADDRESS = "93.184.215.14"
FAKE_DNS = {
    "hooks.skat.example": [PUBLIC_ADDRESS],
    "hooks.example": [PUBLIC_ADDRESS],
    "modtager.example": [PUBLIC_ADDRESS],
    "sagssystem.example": [PUBLIC_ADDRESS, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "metadata.example": ["169.254.169.254"],
    "half-internal.example": [PUBLIC_ADDRESS, "10.1.2.3"],
    "loopback.example": ["127.0.0.1"],
}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """Webhook host names resolve from FAKE_DNS (IP literals and localhost as usual); a test may
    change what a name resolves to, as a DNS server could between registration and delivery."""
    names = {name: list(addresses) for name, addresses in FAKE_DNS.items()}
    real = services.resolve_webhook_host

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        if host.endswith(".example") or host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port)

    monkeypatch.setattr(services, "resolve_webhook_host", resolve)
    return names


@pytest.fixture(autouse=True)
def connections_made(monkeypatch):
    """Every address a connection was opened to; anything off this machine is refused."""
    real = socket.create_connection
    made = []

    def create_connection(address, *args, **kwargs):
        made.append(address[0])
        if address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise ConnectionRefusedError(f"test guard: no connection to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return made


@pytest.fixture
def local_server():
    """Start an HTTP server on loopback with a handler class and give its port; stopped afterwards."""
    servers = []

    def start(handler) -> int:
        servers.append(http.server.HTTPServer(("127.0.0.1", 0), handler))
        threading.Thread(target=servers[-1].serve_forever, daemon=True).start()
        return servers[-1].server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()

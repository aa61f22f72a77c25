"""API clients' tokens: made once, kept only as a hash, and the active client looked up by it."""

import hashlib
import secrets

from authorities.clients.models import ApiClient
from portal import processcache

TOKEN_PREFIX = "fmt_"  # noqa: S105 - a marker that makes leaked tokens easy to find


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cached_client(token_hash: str) -> ApiClient | None:
    """The active client with this token, held in this process (``portal.processcache``).

    The caller reads the version stamp first in each request (``processcache.refresh``). Every
    change of a client bumps it (``authorities.clients.services.forget_cached_client``), so a
    revoked token stops working at its next request on every process.
    """
    clients = processcache.table("api-clients")
    client = clients.get(token_hash)
    if client is None:
        client = next(
            iter(
                ApiClient.objects.select_related("authority")
                .filter(token_hash=token_hash, revoked_at__isnull=True)
                .order_by()[:1]
            ),
            None,
        )
        if client is not None:
            clients[token_hash] = client
    return client


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)

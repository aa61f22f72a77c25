"""API clients' tokens: made once, kept only as a hash, and the active client looked up by it."""

import hashlib
import secrets

from django.core.cache import cache

from authorities.clients.models import ApiClient

TOKEN_PREFIX = "fmt_"  # noqa: S105 - a marker that makes leaked tokens easy to find


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CLIENT_CACHE_SECONDS = 30


def client_cache_key(token_hash: str) -> str:
    return f"api:client:{token_hash}"


def cached_client(token_hash: str) -> ApiClient | None:
    """The active client with this token, remembered briefly in the shared cache.

    Revoking a client deletes its entry (authorities.clients.services.revoke_api_client), so a revoked
    token still stops working at its next request.
    """
    key = client_cache_key(token_hash)
    client = cache.get(key)
    if client is None:
        client = (
            ApiClient.objects.select_related("authority")
            .filter(token_hash=token_hash, revoked_at__isnull=True)
            .first()
        )
        if client is not None:
            cache.set(key, client, CLIENT_CACHE_SECONDS)
    return client


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)

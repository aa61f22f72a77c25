"""Rows that rarely change (the rights catalogue, API clients) held in each web process's memory.

Every copy is valid only while one version stamp in the shared cache (Redis in production) is
unchanged. Whoever changes such a row calls ``bump()``: it writes a new stamp at once and again when
the transaction commits, so a process that reloaded the old row in between drops it too. Each
request reads the stamp once (``refresh()``, or in the same Redis round trip as the API throttle,
``refresh_with()``), so a revoked API client is refused at its very next request on every process,
and no copy outlives a change by more than the request that was already running.

The stamp is random rather than a counter: after the shared cache has been emptied (a Redis restart,
``cache.clear()`` in tests) a new stamp can never equal one a process still holds.
"""

import secrets
import threading

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

VERSION_KEY = "process-cache:version"

_lock = threading.Lock()
_version: int | None = None
_tables: dict[str, dict] = {}


def table(name: str) -> dict:
    """This process's copies for ``name``; emptied whenever the stamp changes."""
    with _lock:
        return _tables.setdefault(name, {})


def use_version(version: int) -> None:
    """Adopt the stamp read from the shared cache, dropping every copy if it changed."""
    global _version
    if version != _version:
        with _lock:
            for values in _tables.values():
                values.clear()
            _version = version


def new_version() -> int:
    # An int, which Django's Redis cache stores as plain digits (not pickled): the Lua script below
    # reads the very same value.
    return secrets.randbits(62)


def refresh() -> None:
    """Read the stamp (one round trip) and drop stale copies. Call before trusting ``table()``."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, new_version(), None)
        version = cache.get(VERSION_KEY)
    use_version(version)


def _write_new_version() -> None:
    cache.set(VERSION_KEY, new_version(), None)


def bump() -> None:
    """Every process drops its copies at its next request: now, and once the change is committed."""
    _write_new_version()
    transaction.on_commit(_write_new_version, robust=True)


# One round trip: the stamp (made if missing) and one more hit on a counter that lives ``window``
# seconds from its first hit; answers the stamp, the count and the seconds the counter has left.
_REFRESH_AND_COUNT = """
local version = redis.call('GET', KEYS[1])
if not version then
    redis.call('SET', KEYS[1], ARGV[2], 'NX')
    version = redis.call('GET', KEYS[1])
end
local count = redis.call('INCR', KEYS[2])
local ttl = redis.call('TTL', KEYS[2])
if ttl < 0 then
    redis.call('EXPIRE', KEYS[2], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {version, count, ttl}
"""
_script = None


def refresh_and_count(counter_key: str, window: int) -> tuple[int, int]:
    """``refresh()`` and a hit on a fixed-window counter (a rate limit) together: in one Redis round
    trip with Redis, as two cache operations otherwise. Answers (hits in the window, seconds left)."""
    global _script
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        refresh()
        if cache.add(counter_key, 1, window):
            return 1, window
        try:
            return cache.incr(counter_key), window
        except ValueError:  # expired between add and incr
            cache.set(counter_key, 1, window)
            return 1, window
    version_key = backend.make_and_validate_key(VERSION_KEY)
    key = backend.make_and_validate_key(counter_key)
    # Django's cache builds a new redis client object (~170 response callbacks) on every call; one
    # per process does, since the connection pool underneath is shared anyway.
    client = getattr(backend._cache, "processcache_client", None)
    if client is None:
        client = backend._cache.processcache_client = backend._cache.get_client(key, write=True)
    if _script is None:
        _script = client.register_script(_REFRESH_AND_COUNT)  # sent by its hash, the text once
    version, count, seconds_left = _script(
        keys=[version_key, key], args=[window, new_version()], client=client
    )
    use_version(int(version))
    return int(count), int(seconds_left)

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

import hashlib
import os
import secrets
import threading

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
_SCRIPT_SHA = hashlib.sha1(_REFRESH_AND_COUNT.encode()).hexdigest().encode()  # noqa: S324 - Redis names scripts so


def refresh_and_count(counter_key: str, window: int) -> tuple[int, int]:
    """``refresh()`` and a hit on a fixed-window counter (a rate limit) together: in one Redis round
    trip with Redis, as two cache operations otherwise. Answers (hits in the window, seconds left)."""
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
    version, count, seconds_left = _run_script(
        backend, [version_key.encode(), key.encode(), str(window).encode(), str(new_version()).encode()]
    )
    use_version(int(version))
    return int(count), int(seconds_left)


class _ScriptConnection(threading.local):
    connection = None
    pid = None


_script_connection = _ScriptConnection()


def _run_script(backend: RedisCache, keys_and_arguments: list[bytes]) -> list:
    """``EVALSHA`` of the script above with its two keys and two arguments, on a Redis connection
    this process (and thread) keeps for it.

    It is asked on every API request, and redis-py's client, pool and retry around one command cost
    several times the round trip itself. Errors are redis-py's own, so an unreachable Redis is
    refused as anywhere else; like redis-py's default, a dropped connection is tried once more on a
    new one, and a Redis that has forgotten the script (a restart) is sent it again.
    """
    own = _script_connection
    if own.connection is None or own.pid != os.getpid():
        # Built like those of Django's own Redis pool (address, database, password, timeouts, TLS).
        pool = backend._cache.get_client(write=True).connection_pool
        own.connection, own.pid = pool.connection_class(**pool.connection_kwargs), os.getpid()
    command = _packed([b"EVALSHA", _SCRIPT_SHA, b"2", *keys_and_arguments])
    try:
        return _send(own.connection, command)
    except (RedisConnectionError, RedisTimeoutError):
        return _send(own.connection, command)  # _send dropped the connection: this one is new


def _send(connection, command: bytes) -> list:
    try:
        connection.send_packed_command([command], check_health=False)
        try:
            return connection.read_response()
        except NoScriptError:
            connection.send_packed_command([_packed([b"SCRIPT", b"LOAD", _REFRESH_AND_COUNT.encode()])])
            connection.read_response()
            connection.send_packed_command([command], check_health=False)
            return connection.read_response()
    except BaseException:
        connection.disconnect()  # whatever was half sent or read must not answer the next request
        raise


def _packed(parts: list[bytes]) -> bytes:
    """A command in Redis's wire format (RESP): an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out += (b"$%d\r\n" % len(part), part, b"\r\n")
    return b"".join(out)

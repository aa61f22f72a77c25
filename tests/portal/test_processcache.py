"""portal.processcache: the version stamp and the API throttle's counter in one Redis round trip, on
a connection each process keeps for it, which survives Redis forgetting the script or dropping the
connection."""

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from portal import processcache

pytestmark = pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="the one-round-trip path is Redis's"
)


@pytest.fixture
def server():
    pool = caches["default"]._cache.get_client(write=True).connection_pool
    client = redis.Redis(connection_pool=redis.ConnectionPool(**pool.connection_kwargs))
    yield client
    client.close()


@pytest.fixture
def counter(server):
    key = "test-processcache-counter"
    caches["default"].delete(key)
    yield key
    caches["default"].delete(key)


def test_each_hit_is_counted_within_its_window(counter):
    assert processcache.refresh_and_count(counter, 60) == (1, 60)
    count, seconds_left = processcache.refresh_and_count(counter, 60)
    assert count == 2 and 0 < seconds_left <= 60


@pytest.mark.django_db
def test_a_changed_stamp_drops_the_copies_held_in_process(counter):
    processcache.refresh_and_count(counter, 60)
    processcache.table("rights")["skat.read_mail"] = object()
    processcache.bump()
    processcache.refresh_and_count(counter, 60)
    assert processcache.table("rights") == {}


def test_a_redis_that_forgot_the_script_is_sent_it_again(counter, server):
    processcache.refresh_and_count(counter, 60)
    server.script_flush()
    assert processcache.refresh_and_count(counter, 60)[0] == 2


def test_a_dropped_connection_is_replaced_at_the_next_hit(counter, server):
    processcache.refresh_and_count(counter, 60)
    assert server.client_kill_filter(_type="normal", skipme=True) >= 1  # ours among them
    assert processcache.refresh_and_count(counter, 60)[0] == 2

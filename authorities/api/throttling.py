from rest_framework.throttling import SimpleRateThrottle

from portal import processcache


class ApiClientRateThrottle(SimpleRateThrottle):
    """A request budget per API client, counted in the shared cache (Redis in production).

    A fixed window counted in one Redis round trip (together with the catalogue's version stamp,
    see ``portal.processcache``), instead of DRF's list of timestamps read and written back on every
    request. The window starts at the client's first request and lasts the rate's period.
    """

    scope = "api_client"

    @staticmethod
    def counter_key(token_hash: str) -> str:
        return f"throttle:api_client:{token_hash}"

    def get_cache_key(self, request, view):
        client = request.user
        if not getattr(client, "is_authenticated", False):
            return None
        return self.counter_key(client.token_hash)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        # The decision endpoint counts the request before DRF sees it (when it hands a question over).
        counted = getattr(request._request, "api_throttle_count", None)
        if counted is None:
            key = self.get_cache_key(request, view)
            if key is None:
                return True
            counted = processcache.refresh_and_count(key, self.duration)
        hits, self.seconds_left = counted
        return hits <= self.num_requests

    def wait(self):
        return self.seconds_left

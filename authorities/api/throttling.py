from rest_framework.throttling import SimpleRateThrottle


class ApiClientRateThrottle(SimpleRateThrottle):
    """A request budget per API client, counted in the shared cache (Redis in production)."""

    scope = "api_client"

    def get_cache_key(self, request, view):
        client = request.user
        if not getattr(client, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from authorities.clients.models import ApiClient
from authorities.clients.tokens import cached_client, hash_token
from portal import processcache


def client_for_token(token: str) -> ApiClient | None:
    """The active client with this token; the caller has read the version stamp in this request."""
    client = cached_client(hash_token(token))
    if client is not None:
        now = timezone.now()
        # Recording last use at most once a minute (per process) keeps a write off the hot path.
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
    return client


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` for an authority's API client; the client becomes request.user."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be 'Bearer <token>'."))
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        if not getattr(request._request, "processcache_fresh", False):
            processcache.refresh()
        client = client_for_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid or has been revoked."))
        return client, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}

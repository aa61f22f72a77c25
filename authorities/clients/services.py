from django.db import transaction
from django.utils import timezone

from authorities.catalogue.models import Authority
from authorities.clients.models import ApiClient
from authorities.clients.tokens import hash_token, new_token
from portal import processcache
from portal.audit import record_event
from portal.models import User


def create_api_client(*, authority: Authority, name: str) -> tuple[ApiClient, str]:
    """A new client gets a random token; only its hash is kept, so it can be shown only once."""
    token = new_token()
    with transaction.atomic(durable=True):
        client = ApiClient.objects.create(
            authority=authority,
            name=name.strip() or "API client",
            token_prefix=token[:12],
            token_hash=hash_token(token),
        )
        record_event(action="api_client.created", actor=None, authority=authority, target=client)
    return client, token


def forget_cached_client(client: ApiClient) -> None:
    """Every process drops its copy of the client (and the rest of the catalogue) at its next
    request: now, and again once the change is committed."""
    processcache.bump()


def revoke_api_client(*, client: ApiClient, acting_user: User | None) -> ApiClient:
    """A revoked token stops working at its next request."""
    with transaction.atomic(durable=True):
        updated = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        forget_cached_client(client)
        if updated:
            record_event(
                action="api_client.revoked", actor=acting_user, authority=client.authority, target=client
            )
    client.refresh_from_db()
    return client

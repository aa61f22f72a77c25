from django.core.management.base import BaseCommand, CommandError

from authorities.catalogue.models import Authority
from authorities.clients.services import create_api_client


class Command(BaseCommand):
    help = "Create an API client for an authority and print its token once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("authority_slug")
        parser.add_argument("--name", default="API client")

    def handle(self, *args, authority_slug: str, name: str, **options) -> None:
        authority = Authority.objects.filter(slug=authority_slug).first()
        if authority is None:
            raise CommandError(f"No authority with the short name '{authority_slug}'.")
        client, token = create_api_client(authority=authority, name=name)
        self.stdout.write(f"Client {client.pk} for {authority.slug} ({name}). Token, shown only now:")
        self.stdout.write(token)

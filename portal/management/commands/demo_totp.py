import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import demo


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo caseworkers (embedded demo only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Only available in the embedded demo.")
        counter = int(time.time()) // 30
        self.stdout.write(format_hotp_value(hotp_value(demo.DEMO_TOTP_SECRET, counter)))

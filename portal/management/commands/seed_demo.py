from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from portal import demo


class Command(BaseCommand):
    help = "Create the demo authorities, people and powers of attorney (safe to run again)."

    def handle(self, *args, **options) -> None:
        # The demo's own notifications are not worth printing between the logins.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            demo.seed_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data is ready. Logins (password for all: {demo.DEMO_PASSWORD}):")
        )
        for email, name, cpr in demo.CITIZENS:
            self.stdout.write(f"  citizen     {email:34} {name} (CPR {cpr[:6]}-{cpr[6:]})")
        cvr, organisation = demo.ORGANISATION
        for email, name, cpr, role in demo.ORGANISATION_MEMBERS:
            self.stdout.write(
                f"  member      {email:34} {name} (CPR {cpr[:6]}-{cpr[6:]}), "
                f"{role.value} at {organisation} (CVR {cvr})"
            )
        for email, name, slug in demo.CASEWORKERS:
            self.stdout.write(
                f"  caseworker  {email:34} {name} ({slug}); TOTP secret {demo.DEMO_TOTP_SECRET}"
            )
        self.stdout.write("  Current caseworker code: python manage.py demo_totp")
        self.stdout.write(f"  API token for Skattestyrelsen's demo system: {demo.DEMO_API_TOKEN}")
        self.stdout.write(f"  API token for Udbetaling Danmark's demo system: {demo.DEMO_UD_API_TOKEN}")

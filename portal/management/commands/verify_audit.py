from django.core.management.base import BaseCommand, CommandError

from portal.audit import verify_chain
from portal.models import AuditEvent


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and name the first event that has been tampered with."

    def handle(self, *args, **options) -> None:
        broken = verify_chain()
        if broken is not None:
            raise CommandError(
                f"The audit trail is broken at event {broken.pk} ({broken.uuid}, {broken.created_at:%Y-%m-%d %H:%M:%S}, "
                f"{broken.action}): its stored hash does not match its contents or the event before it."
            )
        self.stdout.write(
            self.style.SUCCESS(f"The audit trail is intact: {AuditEvent.objects.count()} events.")
        )

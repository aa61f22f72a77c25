from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.signednote import NoteError, Signer
from portal.tlog import verifier


class Command(BaseCommand):
    help = (
        "Print the audit log's public key (the verifier key that checks its checkpoints), or with "
        "--new a new signing key for AUDIT_LOG_SIGNING_KEY and its public key."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--new", action="store_true", help="make a new Ed25519 signing key")
        parser.add_argument(
            "--name", default=None, help="the key's name (default: AUDIT_LOG_ORIGIN, as C2SP logs do)"
        )

    def handle(self, *args, **options) -> None:
        if not options["new"]:
            self.stdout.write(str(verifier()))
            return
        try:
            signer = Signer.generate(options["name"] or settings.AUDIT_LOG_ORIGIN)
        except NoteError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"AUDIT_LOG_SIGNING_KEY={signer}\n# public key: {signer.verifier}")

from django.core.management.base import BaseCommand, CommandError

from portal.tlog import read_checkpoint, verifier, verify_log


class Command(BaseCommand):
    help = (
        "Recompute the audit log's Merkle tree from its entries, check every stored checkpoint's signature "
        "and root, and prove the log a consistent extension of checkpoints held outside."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE_OR_URL",
            help="A signed checkpoint kept outside the portal: a file, or the URL of another copy's "
            "/api/v1/log/checkpoint. May be given more than once.",
        )

    def handle(self, *args, **options) -> None:
        notes = []
        for source in options["checkpoint"]:
            try:
                notes.append(read_checkpoint(source))
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read the checkpoint {source}: {error}") from error
        report = verify_log(external_notes=notes)
        if report.problems:
            raise CommandError("The audit log does not hold up:\n- " + "\n- ".join(report.problems))
        lines = [
            f"The audit log is intact: {report.entries} entries, {report.checkpoints} signed checkpoints, "
            f"{report.waiting} events waiting to be sequenced.",
            f"Signed by {verifier()}.",
        ]
        lines += [
            f"It is a consistent extension of the checkpoint of size {checkpoint.size} held outside."
            for checkpoint in report.external
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

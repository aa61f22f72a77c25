from django.core.management.base import BaseCommand, CommandError

from representation import services


class Command(BaseCommand):
    help = "Import the register's daily extract of parental custody and guardianships (JSON lines)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the extract file (see docs/legal-representatives.md)")

    def handle(self, *args, path, **options):
        try:
            result = services.import_register_file(path=path)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from None
        for number, message in result.rejections:
            self.stderr.write(f"line {number}: {message}")
        self.stdout.write(
            "added {added}, changed {changed}, ended {ended}, unchanged {unchanged}, rejected {rejected}".format(
                **result.counts()
            )
        )

from pathlib import Path

from celery import shared_task
from django.conf import settings

from . import services


@shared_task
def import_register_extract(path: str | None = None) -> dict | None:
    """Beat, daily: import the register's extract from ``REPRESENTATION_REGISTER_EXTRACT``.

    Nothing happens while no extract is configured or the file is not there (yet).
    """
    path = path or settings.REPRESENTATION_REGISTER_EXTRACT
    if not path or not Path(path).is_file():
        return None
    return services.import_register_file(path=path).counts()

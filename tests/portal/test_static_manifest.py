"""Production's collectstatic: every file a stylesheet or script refers to must exist.

whitenoise's manifest storage (``DJANGO_ENV=production``) rewrites each ``url(…)`` and source-map
reference to its hashed name and refuses a reference to a missing file; without the manifest every
page answers 500. The plain suite runs with the development storage, so this builds the manifest.
"""

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from whitenoise.storage import MissingFileError

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def manifest_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    # Django's setting_changed handlers build staticfiles_storage again from the new settings.
    return settings.STATIC_ROOT


def test_collectstatic_builds_the_production_manifest(manifest_storage):
    call_command("collectstatic", "--noinput", verbosity=0)

    assert (manifest_storage / "staticfiles.json").exists()
    assert staticfiles_storage.url("vendor/dkfds/css/dkfds-borgerdk.min.css") != (
        "/static/vendor/dkfds/css/dkfds-borgerdk.min.css"
    ), "not a hashed name"


def test_a_reference_to_a_missing_file_fails_collectstatic(manifest_storage, settings, tmp_path):
    extra = tmp_path / "extra"
    (extra / "css").mkdir(parents=True)
    (extra / "css" / "broken.css").write_text("a{}\n/*# sourceMappingURL=broken.css.map*/\n")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, extra]

    with pytest.raises(MissingFileError):
        call_command("collectstatic", "--noinput", verbosity=0)

"""End-to-end journeys in Debian's headless Chromium against the portal on pytest-django's live server.

Playwright's sync API keeps an asyncio event loop in this thread, which makes Django's async-unsafe
check refuse the tests' own database access (the seeding and the assertions on rows). The live
server answers in its own thread; the tests never share a connection with it concurrently.
"""

import itertools
import os
import shutil
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = "browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium"


def pytest_report_header(config):
    if not shutil.which("java"):
        return "HTML check of the browser tests' pages: skipped, no java (apt-get install -y default-jre-headless)"
    return "HTML check of the browser tests' pages: Nu HTML Checker (vnu-jar from npm)"


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def recorder():
    from .support import Recorder

    recorder = Recorder()
    yield recorder
    recorder.write()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def people_at(chromium, live_server, recorder, request):
    """Open a browser for a person: ``people_at("karen")``; each has its own session."""
    from .support import HTML_OUTPUT, SCREENSHOTS, Person, slug

    shutil.rmtree(SCREENSHOTS / slug(request.node.name), ignore_errors=True)
    shutil.rmtree(HTML_OUTPUT / slug(request.node.name), ignore_errors=True)
    opened = []
    numbers = itertools.count(1)

    def _open(who: str, language: str = "da", **screen) -> Person:
        """``screen``: ``width`` (px), ``zoom`` (2 = 200 %) and ``touch`` of the person's device."""
        person = Person(
            chromium, live_server.url, recorder, request.node.name, who, language, numbers, **screen
        )
        opened.append(person)
        return person

    yield _open
    problems = []
    for person in opened:
        try:
            person.finish()
        except AssertionError as error:
            problems.append(str(error))
    # Report problems only when the test itself passed, so its own failure is not hidden.
    if problems and not getattr(request.node, "_browser_test_failed", False):
        pytest.fail("\n".join(problems))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item._browser_test_failed = True


@pytest.fixture
def world(live_server):
    """The demo catalogue (authorities, rights, data categories, application forms) and people."""
    from portal import demo

    demo.seed_catalogue()
    demo.seed_consent_catalogue()
    demo.seed_application_forms()
    return demo.seed_people()


@pytest.fixture
def catalogue(live_server):
    """Only the rights catalogue: for journeys that start with nobody signed up."""
    from portal import demo

    demo.seed_catalogue()
    demo.seed_consent_catalogue()
    demo.seed_application_forms()

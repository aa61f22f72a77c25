"""A person at a browser: Playwright pages that check every page they land on.

Every page a journey visits goes through ``Person.check``: it must have exactly one clear h1 and
no WCAG 2.1 A/AA violation found by axe-core, and it is saved as a screenshot. The same address
is then opened once more in the other language (Danish ↔ English) and checked the same way. A
journey that lands on a page without checking it fails at the end, so no page slips through.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE_DIR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE_JS = AXE_DIR / "axe.min.js"
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
# Set to 1 to refresh the screenshots committed under docs/screenshots (see the README).
UPDATE_DOCS = os.environ.get("FULDMAGT_DOCS_SCREENSHOTS") == "1"

# The Nu HTML Checker (vnu-jar from npm, run with Java): every page's HTML as the portal sent it
# must be valid. Installed by ``html_checker()`` into a git-ignored folder on first use.
VNU_VERSION = "26.9.27"
VNU_DIR = ROOT / ".vnu"
VNU_JAR = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
HTML_OUTPUT = OUTPUT / "html"

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
OTHER_LANGUAGE = {"da": "en", "en": "da"}
LANGUAGE_COOKIE = "django_language"

_RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
    }));
}"""

# Every Content-Security-Policy violation, with where it came from, as a console error.
_CSP_MARK = "CSP violation: "
_REPORT_CSP_VIOLATIONS = (
    """document.addEventListener("securitypolicyviolation", (e) => console.error("""
    f'"{_CSP_MARK}"'
    """ + JSON.stringify({directive: e.violatedDirective, sourceFile: e.sourceFile, line: e.lineNumber,
                          sample: e.sample, blocked: e.blockedURI})));"""
)

# The page's language and its visible h1 texts, in one round trip.
_PAGE_FACTS = """() => ({
    lang: document.documentElement.lang,
    h1: [...document.querySelectorAll("h1")].map(h => h.checkVisibility() ? h.innerText.trim() : ""),
})"""

# How far the page reaches to the right of the window, and the widest things that stick out.
_REFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll("body *")]
        .filter(el => el.checkVisibility() && el.getBoundingClientRect().right > width + 1)
        .map(el => el.outerHTML.slice(0, 160));
    return {width, scroll: document.documentElement.scrollWidth, out: out.slice(-5)};
}"""

# How a focused element shows its focus: its own outline or box shadow, or (for the design system's
# checkboxes and radios, whose input is transparent) the outline drawn on its label's ::before box.
_FOCUS_STYLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const shows = (style) => (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
        || (style.boxShadow && style.boxShadow !== "none");
    const hidden = getComputedStyle(el).opacity === "0";
    const visible = hidden
        ? !!(el.labels && el.labels.length) && shows(getComputedStyle(el.labels[0], "::before"))
        : shows(getComputedStyle(el));
    const label = el.labels && el.labels.length ? el.labels[0].innerText.trim() : "";
    return {visible, tag: el.tagName.toLowerCase(), id: el.id, label,
            text: (el.tagName === "INPUT" ? "" : el.innerText || "").trim().replace(/\\s+/g, " ").slice(0, 120),
            outline: getComputedStyle(el).outline};
}"""


@dataclass
class AxeResult:
    test: str
    page: str
    language: str
    url: str
    violations: list[dict]


@dataclass
class Recorder:
    """Collects every axe result of the run and writes them to test-output/axe-report.{json,md}."""

    results: list[AxeResult] = field(default_factory=list)

    def add(self, result: AxeResult) -> None:
        self.results.append(result)

    def write(self) -> None:
        if not self.results:
            return
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "axe-report.json").write_text(
            json.dumps(
                {
                    "axe_core": (AXE_DIR / "VERSION").read_text().strip(),
                    "tags": WCAG_TAGS,
                    "results": [r.__dict__ for r in self.results],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        lines = [
            f"# axe-core {(AXE_DIR / 'VERSION').read_text().strip()} – WCAG 2.1 A/AA",
            "",
            "| test | page | language | violations |",
            "|---|---|---|---|",
        ]
        for r in self.results:
            found = ", ".join(v["id"] for v in r.violations) or "0"
            lines.append(f"| {r.test} | {r.page} | {r.language} | {found} |")
        (OUTPUT / "axe-report.md").write_text("\n".join(lines) + "\n")


def html_checker() -> Path | None:
    """The vnu.jar to check pages with, installed with npm if needed; None without Java."""
    if not shutil.which("java"):
        return None
    if not VNU_JAR.exists():
        npm = shutil.which("npm")
        assert npm, "the HTML check needs npm to install vnu-jar (apt-get install -y npm)"
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(VNU_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"vnu-jar@{VNU_VERSION}",
            ],
            check=True,
            capture_output=True,
        )
    return VNU_JAR


def check_html(files: list[Path]) -> list[str]:
    """Errors the Nu HTML Checker finds in these files, one line each."""
    jar = html_checker()
    if jar is None or not files:
        return []
    java = shutil.which("java")
    done = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
    )
    errors = []
    for message in json.loads(done.stderr or done.stdout)["messages"]:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            where = Path(message.get("url", "")).name
            errors.append(f"HTML error in {where} line {message.get('lastLine')}: {message['message']}")
    return errors


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _describe(violations: list[dict]) -> str:
    out = []
    for v in violations:
        out.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            out.append(f"    {node['target']}: {node['html'][:160]}")
            out.append(f"      {node['summary'].replace(chr(10), ' / ')[:300]}")
    return "\n".join(out)


class Person:
    """One person's browser (its own context, so its own session cookie) on the live portal."""

    def __init__(
        self,
        browser: Browser,
        base_url: str,
        recorder: Recorder,
        test_name: str,
        who: str,
        language: str = "da",
        numbers: Iterator[int] | None = None,
        width: int = 1280,
        zoom: float = 1,
        touch: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.recorder = recorder
        self.test_name = test_name
        self.who = who
        self.context: BrowserContext = browser.new_context(
            base_url=self.base_url,
            locale="da-DK" if language == "da" else "en-GB",
            timezone_id="Europe/Copenhagen",
            # A screen ``width`` pixels wide at ``zoom`` (2 = 200 %) shows width/zoom CSS pixels, as
            # browser zoom does: 1280 px at 400 % lays the page out in 320 CSS px (WCAG 1.4.10).
            viewport={"width": round(width / zoom), "height": round(800 / zoom)},
            device_scale_factor=zoom,
            has_touch=touch,
        )
        # axe-core goes into every page before the page's own scripts; an init script is not
        # subject to the portal's Content-Security-Policy, which stays in force.
        self.context.add_init_script(path=str(AXE_JS))
        self.context.add_init_script(script=_REPORT_CSP_VIOLATIONS)
        self.context.set_default_timeout(10_000)
        self.set_language(language)
        self.page: Page = self.context.new_page()
        self._second: Page | None = None  # the tab that shows each page in the other language
        self.focus_steps = 0  # keyboard moves whose focus was checked
        self._numbers = numbers or itertools.count(1)  # screenshots of one test share a sequence
        self._unchecked: list[str] = []
        self._problems: list[str] = []
        self._document = None  # the last page the person's tab loaded, as the portal sent it
        self._html_files: list[Path] = []
        self.page.on("framenavigated", self._navigated)
        self.page.on("pageerror", lambda error: self._problems.append(f"JavaScript error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    # --- bookkeeping ---------------------------------------------------------------------------

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self._unchecked.append(frame.url)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if text.startswith(_CSP_MARK):
            violation = json.loads(text[len(_CSP_MARK) :])
            # axe-core itself (injected by the test, so without a source file) copies stylesheets
            # that use @import into <style> elements, which the portal's CSP rightly blocks.
            if violation["sourceFile"]:
                self._problems.append(f"CSP violation on {self.page.url}: {violation}")
            return
        if "Content Security Policy" in text:
            return  # the browser's own report of a violation, judged above
        # A page that answers 403/404 on purpose logs "Failed to load resource" for itself; a
        # missing stylesheet or script is caught by _response instead.
        if not text.startswith("Failed to load resource"):
            self._problems.append(f"console error on {self.page.url}: {text}")

    def _response(self, response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self._document = response
        if (
            response.request.resource_type != "document"
            and response.status >= 400
            and not response.url.endswith("/favicon.ico")
        ):
            self._problems.append(f"{response.status} for {response.url}")

    def finish(self) -> None:
        """Called when the test ends: every page visited was checked, and nothing broke on the way."""
        try:
            self._problems.extend(check_html(self._html_files))
            assert not self._unchecked, f"{self.who} visited pages that were not checked: {self._unchecked}"
            assert not self._problems, f"{self.who}'s browser reported problems:\n" + "\n".join(
                self._problems
            )
        finally:
            self.context.close()

    # --- language ------------------------------------------------------------------------------

    def set_language(self, language: str) -> None:
        self.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": self.base_url}])

    @property
    def language(self) -> str:
        return self.page.evaluate("document.documentElement.lang")

    # --- checks --------------------------------------------------------------------------------

    def _check_page(self, page: Page, name: str, language: str, document=None) -> None:
        shown = page.evaluate(_PAGE_FACTS)
        assert shown["lang"] == language, f"{name}: the page is in {shown['lang']!r}, not {language!r}"
        assert len(shown["h1"]) == 1, f"{name} ({language}) must have exactly one h1, has {shown['h1']}"
        assert shown["h1"][0], f"{name} ({language}): the h1 is empty or hidden"
        # WCAG 1.4.10 Reflow: nothing may need scrolling sideways, at any width the person has.
        reflow = page.evaluate(_REFLOW)
        assert reflow["scroll"] <= reflow["width"], (
            f"{name} ({language}) scrolls sideways at {reflow['width']} CSS px "
            f"({reflow['scroll']} px wide); sticking out: {reflow['out']}"
        )
        violations = page.evaluate(_RUN_AXE, WCAG_TAGS)
        self.recorder.add(AxeResult(self.test_name, name, language, page.url, violations))
        assert not violations, f"axe found WCAG 2.1 A/AA violations on {name} ({language}, {page.url}):\n" + (
            _describe(violations)
        )
        number = next(self._numbers)
        folder = SCREENSHOTS / slug(self.test_name)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(folder / f"{number:02d}-{self.who}-{slug(name)}-{language}.png"), full_page=True
        )
        # The HTML as sent (before scripts changed it), for the Nu HTML Checker at the end of the test.
        if document is not None and document.url == page.url and html_checker() is not None:
            html_folder = HTML_OUTPUT / slug(self.test_name)
            html_folder.mkdir(parents=True, exist_ok=True)
            html_file = html_folder / f"{number:02d}-{self.who}-{slug(name)}-{language}.html"
            html_file.write_bytes(document.body())
            self._html_files.append(html_file)

    def check(
        self, name: str, *, docs: str | None = None, other_language: bool = True, reload: bool = False
    ) -> None:
        """Check the page now shown, as it is (messages, errors and all), then in the other language.

        ``reload`` opens the page again afterwards, for a page whose GET starts something over
        (allauth's authenticator page makes a new secret each time it is shown).
        """
        self.page.wait_for_load_state("load")
        language = self.language
        self._check_page(self.page, name, language, self._document)
        if docs and UPDATE_DOCS:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.evaluate("window.scrollTo(0, 0)")
            self.page.screenshot(path=str(DOCS_SCREENSHOTS / f"{docs}.png"))
        self._unchecked.clear()
        if not other_language:
            return
        # The same address in the other language, in a second tab of the same session. Opening a
        # page again is harmless here: the portal's pages change nothing on GET except marking a
        # letter or notice read, which happens once.
        other = OTHER_LANGUAGE[language]
        url = self.page.url
        self.set_language(other)
        if self._second is None:
            self._second = self.context.new_page()
        try:
            document = self._second.goto(url)
            self._check_page(self._second, name, other, document)
        finally:
            self.set_language(language)
            # Give the person's own tab the focus back, or :focus styles would not apply in it.
            self.page.bring_to_front()
        if reload:
            self.page.reload()
            self._unchecked.clear()

    def check_open(self, name: str, *, docs: str | None = None) -> None:
        """Check something opened on the page shown (a drawer, a dialog) without reloading it: axe
        and reflow as in ``check``, and a screenshot of the window only (a full-page screenshot
        resizes the window, which closes the design system's drawer)."""
        language = self.language
        reflow = self.page.evaluate(_REFLOW)
        assert reflow["scroll"] <= reflow["width"], f"{name} scrolls sideways: {reflow}"
        violations = self.page.evaluate(_RUN_AXE, WCAG_TAGS)
        self.recorder.add(AxeResult(self.test_name, name, language, self.page.url, violations))
        assert not violations, f"axe found WCAG 2.1 A/AA violations on {name} ({language}):\n" + (
            _describe(violations)
        )
        folder = SCREENSHOTS / slug(self.test_name)
        folder.mkdir(parents=True, exist_ok=True)
        number = next(self._numbers)
        # animations="disabled" shows the drawer where it ends up, not halfway through sliding in.
        shot = folder / f"{number:02d}-{self.who}-{slug(name)}-{language}.png"
        self.page.screenshot(path=str(shot), animations="disabled")
        if docs and UPDATE_DOCS:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(DOCS_SCREENSHOTS / f"{docs}.png"), animations="disabled")

    # --- moving around -------------------------------------------------------------------------

    def goto(self, path: str, name: str, **kwargs) -> Page:
        self.page.goto(path)
        self.check(name, **kwargs)
        return self.page

    def click(self, locator: Locator, name: str, **kwargs) -> Page:
        """Click something that loads a new page, and check that page."""
        with self.page.expect_navigation():
            locator.click()
        self.check(name, **kwargs)
        return self.page

    def menu(self, label: str) -> Locator:
        """A link in the main menu."""
        return self.page.locator("header nav").get_by_role("link", name=label, exact=True)

    def main(self) -> Locator:
        return self.page.locator("main")

    # --- keyboard ------------------------------------------------------------------------------

    def focused(self) -> dict | None:
        return self.page.evaluate(_FOCUS_STYLE)

    def press(self, key: str) -> dict:
        """Press a key that moves focus; the element it lands on must show that it has focus."""
        self.page.keyboard.press(key)
        shown = self.focused()
        assert shown is not None, f"after {key} nothing has focus on {self.page.url}"
        assert shown["visible"], f"after {key} the focused element shows no focus: {shown}"
        self.focus_steps += 1
        return shown

    def tab_to(self, wanted: str, *, backwards: bool = False, limit: int = 120) -> dict:
        """Press Tab (or Shift+Tab) until the element whose text, label or id is ``wanted`` has focus."""
        seen = []
        for _ in range(limit):
            shown = self.press("Shift+Tab" if backwards else "Tab")
            if wanted in (shown["text"], shown["id"], shown["label"]):
                return shown
            seen.append(shown["text"] or shown["id"])
        raise AssertionError(
            f"{wanted!r} was not reached with the keyboard on {self.page.url}; went through {seen}"
        )

    def activate(self, key: str, name: str, **kwargs) -> Page:
        """Press Enter or Space on the focused link or button, and check the page it loads."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.check(name, **kwargs)
        return self.page

    def login(self, email: str, password: str, *, name: str = "login") -> None:
        self.goto("/konto/login/", name)
        self.page.get_by_label(re.compile(r"^(E-mail|Email)")).fill(email)
        self.page.get_by_label(re.compile(r"^(Adgangskode|Password)")).fill(password)
        self.click(self.main().locator("button[type=submit]"), "after login")
        expect(self.page.locator(".portal-user")).not_to_contain_text(re.compile("Log ind|Log in"))

    def reauthenticate(self, password: str, then: str, **kwargs) -> None:
        """allauth asks for the password again before a legal act (the page it shows has just been
        checked): give it, and check the page the act leads to."""
        expect(self.page).to_have_url(re.compile(r"/konto/reauthenticate/"))
        self.page.get_by_label(re.compile(r"^(Adgangskode|Password)$")).fill(password)
        self.click(self.main().get_by_role("button", name=re.compile(r"^(Bekræft|Confirm)$")), then, **kwargs)


def danish_date(day) -> str:
    """A date as the Danish pages show it (Django's da DATE_FORMAT, e.g. "1. februar 2027")."""
    from django.utils import formats, translation

    with translation.override("da"):
        return formats.date_format(day, "DATE_FORMAT")

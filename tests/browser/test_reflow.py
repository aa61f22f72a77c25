"""Karen's pages on a phone, a tablet, a laptop and zoomed in (WCAG 1.4.10 Reflow).

At every size each page is checked as in the other journeys (axe in both languages, one h1) and
must not scroll sideways (support.Person.check). Below the design system's desktop width (992 CSS
px) the main menu, "Log af" and the language choice are in the drawer behind the menu button, which
is reached by touch and by keyboard.
"""

import re

import pytest
from playwright.sync_api import expect

from attorney.models import PowerOfAttorney
from portal import demo
from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

# (screen width in px, zoom): phones, a tablet in portrait, a laptop, and the laptop at 200 % and 400 %.
SCREENS = [(320, 1), (390, 1), (768, 1), (1280, 1), (1280, 2), (1280, 4)]
DESKTOP = 992  # CSS px from which the design system shows the menu in the header


@pytest.fixture
def demo_world(live_server):
    return demo.seed_demo()


def _css_width(width: int, zoom: float) -> int:
    return round(width / zoom)


@pytest.mark.parametrize(("width", "zoom"), SCREENS, ids=[f"{w}px-{int(z * 100)}pct" for w, z in SCREENS])
def test_karens_pages_fit_the_screen_and_the_menu_is_reachable(demo_world, people_at, width, zoom):
    small = _css_width(width, zoom) < DESKTOP
    karen = people_at("karen", width=width, zoom=zoom, touch=small)
    page = karen.page
    karen.goto("/", "front page")
    karen.login("karen@example.dk", DEMO_PASSWORD)

    mandate = PowerOfAttorney.objects.filter(grantor__email="karen@example.dk").first()
    for path, name in [
        ("/fuldmagter/", "powers of attorney"),
        (f"/fuldmagter/{mandate.pk}/", "a power of attorney"),
        ("/fuldmagter/ny/", "give a power of attorney"),
        ("/post/", "digital post"),
        ("/ansoegninger/", "applications"),
        ("/samtykker/", "consents"),
        ("/gjort-i-mit-navn/", "done in my name"),
        ("/overblik/", "overview"),
        ("/konto/oversigt/", "my account"),
        ("/konto/identitet/", "identity"),
    ]:
        karen.goto(path, name)

    # The page that says no (403): Peter, acting for Karen, opens an application form his power
    # of attorney does not cover.
    peter = people_at("peter", width=width, zoom=zoom, touch=small)
    peter.login("peter@example.dk", DEMO_PASSWORD)
    peter.goto("/fuldmagter/handl-for/", "act for someone")
    peter.click(peter.page.get_by_role("button", name="Handl på vegne af Karen Jensen"), "acting for Karen")
    peter.goto("/ansoegninger/ny/kobenhavns-kommune/hjemmehjaelp/", "not covered (403)")
    expect(peter.page.locator("h1")).to_contain_text("Karen Jensen")

    menu_button = page.get_by_role("button", name="Menu", exact=True)
    drawer = page.get_by_role("dialog", name="Menu")
    if not small:
        # On a wide screen the menu and "Log af" are in the header itself.
        expect(menu_button).to_be_hidden()
        expect(karen.menu("Digital Post")).to_be_visible()
        expect(page.locator(".portal-user").get_by_role("button", name="Log af")).to_be_visible()
        return

    expect(page.locator(".navigation-menu")).to_be_hidden()
    # By touch: the drawer opens with the menu, the person's name, "Log af" and the languages.
    menu_button.tap()
    expect(drawer).to_be_visible()
    expect(drawer).to_contain_text("Karen Jensen")
    expect(drawer.get_by_role("button", name="Log af")).to_be_visible()
    expect(drawer.get_by_role("button", name="English")).to_be_visible()
    # The open drawer is checked too (axe, no sideways scrolling); on a phone it is the README's picture.
    karen.check_open("menu open", docs="phone-menu" if width == 390 else None)
    with page.expect_navigation():
        drawer.get_by_role("link", name="Digital post").tap()
    karen.check("digital post from the drawer")
    expect(page.locator("h1")).to_have_text("Digital Post")

    # By keyboard: Tab reaches the menu button, Enter opens the drawer with focus on "Luk", Tab
    # goes through the menu to "Log af", Escape closes it and gives the focus back.
    karen.tab_to("Menu")
    page.keyboard.press("Enter")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("button", name="Luk")).to_be_focused()
    karen.tab_to("Fuldmagter")
    karen.tab_to("Log af")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(menu_button).to_be_focused()

    # The language choice in the drawer, then logging out from it.
    menu_button.tap()
    with page.expect_navigation():
        drawer.get_by_role("button", name="English").tap()
    karen.check("digital post in English")
    page.get_by_role("button", name="Menu", exact=True).tap()
    drawer = page.get_by_role("dialog", name="Menu")
    karen.click(drawer.get_by_role("button", name="Log out"), "logged out")
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_visible()
    page.get_by_role("button", name="Menu", exact=True).tap()
    expect(drawer.get_by_role("link", name=re.compile("^Log in$"))).to_be_visible()

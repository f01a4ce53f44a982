"""Browser tests: the system Chromium, driven by Playwright, against pytest-django's live_server.

Fixtures:
- ``browser``: one Chromium for the session (the Debian package, never a downloaded one).
- ``new_context(**options)``: a fresh browser context (own cookies), for multi-user stories;
  every page opened in it reports console errors and CSP violations to ``console``.
- ``page``: a page in a fresh desktop context (1280 wide), one per test.
- ``console``: what the pages said on the console; ``console.assert_clean()`` fails on errors.
- ``assert_accessible(page)``: runs axe and fails listing every violation.
- ``screenshot(page, name)``: a full-page PNG in test-artifacts/ (git-ignored).
- ``log_in(page, username)``: logs in through the real login form.
"""

import os
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from tests.factories import PASSWORD

HERE = Path(__file__).resolve().parent
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
MIN_TARGET = 44  # px: the smallest tap target on a phone
TIMEOUT_MS = 5_000
SCRIPTLESS_CONTEXTS: "weakref.WeakSet[BrowserContext]" = weakref.WeakSet()
CALL_FAILED = pytest.StashKey[bool]()

# The sync API runs an asyncio event loop in the main thread, so Django would refuse
# ORM calls from test code (factories, database flushes) as "async unsafe". The test
# code never runs concurrently with that loop, so the check is a false alarm here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Reports CSP violations from inside the page as console errors, in addition to the ones
# Chromium logs itself. Init scripts are injected by the browser, so CSP does not block them.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`Content Security Policy violation: ${event.violatedDirective} blocked ${blocked}`);
});
"""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    how_to_fix = (
        "Install Chromium with `apt-get install chromium`, or point CHROMIUM at a Chromium "
        "or Chrome binary (CHROMIUM=/path/to/chromium). Do not run `playwright install`."
    )
    if not Path(executable).is_file() or not os.access(executable, os.X_OK):
        pytest.fail(f"No Chromium executable at {executable}. {how_to_fix}", pytrace=False)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as error:  # any launch failure gets the same advice
            pytest.fail(
                f"Chromium at {executable} did not start: {error}\n{how_to_fix}", pytrace=False
            )
        expect.set_options(timeout=TIMEOUT_MS)
        yield browser
        browser.close()


@dataclass
class Console:
    """Console errors, uncaught exceptions and CSP violations from every page of a test."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" or "Content Security Policy" in message.text:
                self.problems.append(f"{page.url}: console.{message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: uncaught {error}"))

    def csp_violations(self) -> list[str]:
        return [problem for problem in self.problems if "Content Security Policy" in problem]

    def assert_clean(self) -> None:
        if self.csp_violations():
            pytest.fail("CSP violations:\n" + "\n".join(self.csp_violations()), pytrace=False)
        if self.problems:
            pytest.fail("Console errors:\n" + "\n".join(self.problems), pytrace=False)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def new_context(request, browser, live_server, console) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts (separate users, phone viewport, dark mode, no JavaScript)."""
    contexts = []

    def make(**options) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(base_url=live_server.url, **options)
        if options.get("java_script_enabled") is False:
            SCRIPTLESS_CONTEXTS.add(context)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        context.on("page", console.watch)
        contexts.append(context)
        return context

    yield make
    if request.node.stash.get(CALL_FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            path = ARTIFACTS / f"{request.node.name}-failed-{number}.png"
            page.screenshot(path=path, full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()


_axe = Axe()


def _format_violation(violation: dict) -> str:
    targets = "\n".join(
        f"      {', '.join(map(str, node['target']))}" for node in violation["nodes"]
    )
    return f"  {violation['id']} ({violation['impact']}): {violation['help']}\n{targets}"


def check_accessible(page: Page) -> None:
    """Fails with every axe violation on the page as it is now: rule id, impact, targets."""
    # page.evaluate() never returns where JavaScript is off, and axe is JavaScript.
    assert page.context not in SCRIPTLESS_CONTEXTS, "axe needs JavaScript: use a JS context"
    violations = _axe.run(page).response["violations"]
    if violations:
        pytest.fail(
            f"axe found {len(violations)} violation(s) on {page.url}:\n"
            + "\n".join(_format_violation(violation) for violation in violations)
        )


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits the viewport)."""
    # Against the layout width, not window.innerWidth: a phone zooms out to fit a page that
    # overflows, and innerWidth grows with it.
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
    )


@pytest.fixture
def assert_accessible() -> Callable[[Page], None]:
    return check_accessible


@pytest.fixture
def screenshot(request) -> Callable[[Page, str], Path]:
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> Path:
        story = request.node.module.__name__.rpartition(".")[2].removeprefix("test_")
        path = ARTIFACTS / f"{story}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def log_in() -> Callable[[Page, str], None]:
    def submit_login_form(page: Page, username: str) -> None:
        """Fills and submits the login form the page is on."""
        expect(page.get_by_role("heading", name="Log in", exact=True)).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name="Log in").click()

    return submit_login_form


@pytest.fixture
def circle(essay):
    """A group led by Fatima with two members, Amara and Bruno."""
    from tests.factories import make_group, make_user

    return make_group(
        essay,
        facilitator=make_user("fatima"),
        name="Night readers",
        members=[make_user("amara"), make_user("bruno")],
    )

"""Browser fixtures: the real Flask app serving the built page on a loopback port, and Debian's headless Chromium.

Every page a test opens is watched: a request to any other host, a console error or an uncaught exception fails it.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, ViewportSize, sync_playwright
from werkzeug.serving import make_server

from stages import config

STATIC = config.ROOT / "api" / "static"
AXE = config.ROOT / "api" / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = config.ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served on a free loopback port (threaded werkzeug) until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flask-under-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _built_page() -> None:
    missing = [f for f in ("index.html", "app.js", "app.css") if not (STATIC / f).is_file()]
    if missing:
        pytest.fail(f"the staff page is not built ({', '.join(missing)} missing in {STATIC}): run `make web`")


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The real app (api.create_app()) serving the built bundle on a free loopback port, for the whole session."""
    _built_page()
    from api import create_app

    with serving(create_app()) as url:
        yield url


@pytest.fixture(scope="session")
def gmm_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app serving a Gaussian mixture (``tests.mixture.uneven_mixture``) from its own artifacts."""
    _built_page()
    from api import create_app
    from tests.mixture import mixture_artifacts

    with serving(create_app({"ARTIFACTS_ROOT": mixture_artifacts(tmp_path_factory.mktemp("gmm"))})) as url:
        yield url


@pytest.fixture(scope="session")
def unbought_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app serving the real model with personas of data where most customers buy no frozen food
    (``tests.mixture.unbought_artifacts``)."""
    _built_page()
    from api import create_app
    from tests.mixture import unbought_artifacts

    with serving(create_app({"ARTIFACTS_ROOT": unbought_artifacts(tmp_path_factory.mktemp("unbought"))})) as url:
        yield url


@pytest.fixture(scope="session")
def no_impute_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app serving the real model as ``data.impute: error`` leaves it, filling in no blank
    (``tests.mixture.impute_artifacts``)."""
    _built_page()
    from api import create_app
    from tests.mixture import impute_artifacts

    with serving(create_app({"ARTIFACTS_ROOT": impute_artifacts(tmp_path_factory.mktemp("no-impute"), "error")})) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium (no browser download): `make browser` installs it when missing."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that it should not: requests to other hosts, console errors, uncaught exceptions."""

    origin: str
    #: Where the API is on that origin: under a proxy's prefix, ``/segmentation/api/``.
    api_path: str = "/api/"
    expected_statuses: set[int] = field(default_factory=set)
    expected_errors: list[str] = field(default_factory=list)
    caught_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        """Keep any request whose origin is not the app's (blob: URLs carry their origin inside)."""
        url = request.url
        inner = url[len("blob:") :] if url.startswith("blob:") else url
        parts = urlsplit(inner)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(url)

    def expect_status(self, status: int) -> None:
        """Allow Chromium's own console line for an API answer with this status (it logs every 4xx/5xx fetch)."""
        self.expected_statuses.add(status)

    def expect_caught_error(self, words: str) -> None:
        """Allow, and keep in ``caught_errors``, a console error containing ``words``: React's log of an error that a
        part of the page caught (the test provokes it with a malformed answer)."""
        self.expected_errors.append(words)

    def on_console(self, message: ConsoleMessage) -> None:
        """Keep console errors, except Chromium's line for an API error answer the test provoked on purpose and the
        caught errors the test expects."""
        if message.type != "error":
            return
        if any(words in message.text for words in self.expected_errors):
            self.caught_errors.append(message.text)
            return
        url = message.location.get("url", "")
        provoked = any(message.text.startswith(f"Failed to load resource: the server responded with a status of {s} ") for s in self.expected_statuses)
        if not (provoked and url.startswith(f"{self.origin}{self.api_path}")):
            self.console_errors.append(f"{message.text} ({url})")


@pytest.fixture
def watch(base_url: str) -> Watch:
    """The record of the current test's page."""
    return Watch(origin=base_url)


@contextlib.contextmanager
def watched_page(browser: Browser, base_url: str, watch: Watch, path: str = "/") -> Iterator[Page]:
    """A fresh desktop-sized page on the staff page at ``base_url`` + ``path``, watched; fails if it reached another
    host or logged an error."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url, accept_downloads=True)
    page = context.new_page()
    page.on("request", watch.on_request)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.goto(path)
    yield page
    context.close()
    assert watch.foreign_requests == [], "the page made requests to other hosts"
    assert watch.console_errors == [], "the page logged console errors"
    assert watch.page_errors == [], "the page threw uncaught exceptions"


@pytest.fixture
def page(browser: Browser, base_url: str, watch: Watch) -> Iterator[Page]:
    """The staff page of the real app, watched (see :func:`watched_page`)."""
    with watched_page(browser, base_url, watch) as opened:
        yield opened


def screenshots(page: Page, name: str) -> list[Path]:
    """Full-page screenshots at desktop and at phone width into test-artifacts/; checks nothing overflows at phone width."""
    ARTIFACTS.mkdir(exist_ok=True)
    paths = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        if label == "phone":
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= PHONE["width"], f"the page is {scroll_width} px wide at phone width (375 px): it scrolls sideways"
        path = ARTIFACTS / f"{name}-{label}.png"
        page.screenshot(path=path, full_page=True)
        paths.append(path)
    page.set_viewport_size(DESKTOP)
    return paths


def accessibility_problems(page: Page) -> list[str]:
    """WCAG 2.1 A/AA violations axe-core finds on the page as it is now (labels, contrast, ARIA, names…).

    axe-core comes from api/web's npm devDependencies; it is evaluated through the DevTools protocol, which the page's
    Content-Security-Policy does not govern, and it fetches nothing.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make web` (npm ci installs axe-core for these tests)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in result["violations"]]

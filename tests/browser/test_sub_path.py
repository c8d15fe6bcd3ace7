"""The staff page served under a sub-path, as a reverse proxy serves it on an intranet
(``https://intranet.example/segmentation/``), in headless Chromium: the page loads its data, segments a customer,
scores a file and downloads the results, opens the report, and not one request leaves the prefix.

Two set-ups, each a few lines of WSGI standing in for the proxy: one strips the prefix before the app (nginx's
``location /segmentation/ { proxy_pass http://127.0.0.1:8000/; }``), one mounts the app at ``SCRIPT_NAME``
/segmentation (gunicorn's ``SCRIPT_NAME``, or a proxy whose prefix the app trusts). A request outside the prefix
reaches neither app: it is a 404, kept, and fails the test.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Request, expect
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from stages import config

from .conftest import Watch, accessibility_problems, serving, watched_page
from .test_staff_page import FEATURES, fill_customer

pytestmark = pytest.mark.browser

PREFIX = "/segmentation"
WSGI = Callable[[dict[str, Any], Any], Any]


def outside_the_prefix(seen: list[str]) -> WSGI:
    """A WSGI app for every path outside the prefix: a 404, the path kept in ``seen``."""

    def not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"outside the prefix"]

    return not_found


def stripping_proxy(app: WSGI, seen: list[str]) -> WSGI:
    """A proxy that strips the prefix (nginx's ``location /segmentation/ { proxy_pass http://127.0.0.1:8000/; }``):
    the app sees the root paths, in the path as sent too (``RAW_URI``, ``REQUEST_URI``: the request line the proxy
    sends has no prefix), and the ``Host`` the browser sent (as with ``proxy_set_header Host $host``; no
    ``Location`` is rewritten); /segmentation itself is nginx's 301 to /segmentation/."""
    elsewhere = outside_the_prefix(seen)

    def proxy(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == PREFIX:
            start_response("301 Moved Permanently", [("Location", PREFIX + "/"), ("Content-Length", "0")])
            return [b""]
        if not path.startswith(PREFIX + "/"):
            return elsewhere(environ, start_response)
        environ["PATH_INFO"] = path[len(PREFIX) :]
        for key in ("RAW_URI", "REQUEST_URI"):
            if environ.get(key, "").startswith(PREFIX + "/"):
                environ[key] = environ[key][len(PREFIX) :]
        return app(environ, start_response)

    return proxy


def mounted(app: WSGI, seen: list[str]) -> WSGI:
    """The app mounted at SCRIPT_NAME /segmentation, the prefix kept in the URL the app sees."""
    return DispatcherMiddleware(outside_the_prefix(seen), {PREFIX: app})


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered report stand-in (Quarto is not needed to follow the page's link to it), with a script by a relative
    URL, as Quarto's pages load theirs (``site_libs/``): it marks the page when it ran. Its icon is named: a page
    without one makes Chromium ask for /favicon.ico at the host's root, which is not the staff page's doing."""
    root = tmp_path_factory.mktemp("report")
    (root / "index.html").write_text(
        '<!doctype html><html lang=en><title>Report</title><link rel="icon" href="../static/favicon.svg">'
        '<script src="site_libs/ran.js"></script><h1>The segmentation report</h1></html>'
    )
    (root / "site_libs").mkdir()
    (root / "site_libs" / "ran.js").write_text('document.documentElement.dataset.script = "ran";\n')
    return root


@pytest.fixture(scope="module", params=[stripping_proxy, mounted], ids=["proxy-strips-prefix", "script-name"])
def served(request: pytest.FixtureRequest, report_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """The real app behind one of the two set-ups on a loopback port: (origin, paths asked for outside the prefix)."""
    from api import create_app

    seen: list[str] = []
    with serving(request.param(create_app({"REPORT_DIR": report_dir}), seen)) as origin:
        yield origin, seen


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """One training customer of each segment, with the segment the pipeline gave it (ml/plots/pca_map.csv)."""
    points = pd.read_csv(config.PCA_MAP)
    return points[points["clustered"].astype(bool)].groupby("segment").head(1).sort_values("segment").reset_index(drop=True)


def personas() -> list[dict[str, Any]]:
    """ml/personas.json, by segment id."""
    return sorted(json.loads(config.PERSONAS.read_text()), key=lambda p: p["id"])


def request_log(page: Page) -> list[str]:
    """Every URL the page asks for from now on (a download's blob: URL included)."""
    urls: list[str] = []

    def keep(request: Request) -> None:
        urls.append(request.url)

    page.on("request", keep)
    return urls


def test_the_page_works_under_a_prefix(browser: Browser, served: tuple[str, list[str]], customers: pd.DataFrame, tmp_path: Path) -> None:
    """Data, one customer, a file and its download, the OpenAPI and report links, all under /segmentation/."""
    origin, seen = served
    seen.clear()
    home = f"{origin}{PREFIX}/"
    watch = Watch(origin=origin)
    with watched_page(browser, origin, watch, path=home) as page:
        urls = request_log(page)
        page.reload()  # the log starts with the page's own request
        by_id = personas()
        fields = page.request.get(f"{home}api/fields").json()["features"]
        health = page.request.get(f"{home}api/health").json()

        # its data: the model version, the segments' cards, the form's fields
        expect(page.locator("footer code")).to_have_text(health["model_version"][:12])
        expect(page.locator("#personas").get_by_role("button", name=re.compile(re.escape(by_id[0]["name"])))).to_have_count(1)

        # one customer
        customer = customers.iloc[-1]
        expected = by_id[int(customer["segment"])]
        fill_customer(page, fields, {name: int(customer[name]) for name in FEATURES})
        page.get_by_role("button", name="Find the segment").click()
        expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))

        # a file, its table and its download
        upload = tmp_path / "customers.csv"
        upload.write_text(",".join(FEATURES) + "\n" + "".join(",".join(str(int(r[n])) for n in FEATURES) + "\n" for _, r in customers.iterrows()))
        page.get_by_label("CSV file").set_input_files(upload)
        page.get_by_role("button", name="Segment the file").click()
        expect(page.locator(".summary")).to_have_text(f"{len(customers)} rows: {len(customers)} segmented, 0 with a problem.")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download the results (CSV)").click()
        saved = tmp_path / "segments.csv"
        download_info.value.save_as(saved)
        with saved.open(newline="") as f:
            assert [row["segment"] for row in csv.DictReader(f)] == [str(int(s)) for s in customers["segment"]]
        assert accessibility_problems(page) == []

        # the footer's links resolve under the prefix
        openapi = page.get_by_role("link", name="API description (OpenAPI)")
        assert openapi.evaluate("a => a.href") == f"{home}api/openapi.json"
        assert page.request.get(f"{home}api/openapi.json").json()["openapi"].startswith("3.")
        page.get_by_role("link", name="Read the full report").click()
        expect(page.get_by_role("heading", name="The segmentation report")).to_be_visible()
        assert page.url == f"{home}report/"
        # the report's address without its slash is redirected under the prefix too, not to the host's root
        page.goto(f"{home}report")
        assert page.url == f"{home}report/"
        expect(page.get_by_role("heading", name="The segmentation report")).to_be_visible()

    assert seen == [], "requests reached the host outside the prefix"
    left = [u for u in urls if not (u.startswith(home) or u.startswith(f"blob:{origin}/"))]
    assert left == [], "the page asked for URLs outside the prefix"
    assert any(u.startswith(f"{home}static/app.js") for u in urls) and any(u.startswith(f"{home}api/segment/batch") for u in urls)


def test_the_page_without_its_trailing_slash_is_redirected_to_it(browser: Browser, served: tuple[str, list[str]]) -> None:
    """/segmentation (no slash): the page would look for its files one folder up; nginx redirects it in the proxy
    set-up, the app itself when mounted at its SCRIPT_NAME."""
    origin, seen = served
    seen.clear()
    watch = Watch(origin=origin)
    with watched_page(browser, origin, watch, path=f"{origin}{PREFIX}") as page:
        assert page.url == f"{origin}{PREFIX}/"
        expect(page.locator("footer code")).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    assert seen == []


@pytest.mark.parametrize(("sent", "meant"), [("report%2F", "report/"), ("report%2Findex.html", "report/index.html"), ("%2F", "")])
def test_a_url_with_an_encoded_slash_ends_at_a_working_page(browser: Browser, served: tuple[str, list[str]], sent: str, meant: str) -> None:
    """…/segmentation/report%2F was served as the report, whose relative links Chromium resolved one folder up: its
    script and icon outside the prefix. The app redirects it to …/report/, where they load (the staff page at
    …/segmentation/%2F had its links resolve in the right folder, and is redirected to its address all the same)."""
    origin, seen = served
    seen.clear()
    home = f"{origin}{PREFIX}/"
    watch = Watch(origin=origin)
    with watched_page(browser, origin, watch, path=home + sent) as page:
        if meant:
            expect(page.get_by_role("heading", name="The segmentation report")).to_be_visible()
            expect(page.locator("html")).to_have_attribute("data-script", "ran", timeout=2000)
        else:
            expect(page.locator("footer code")).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
        assert page.url == home + meant
    assert seen == [], "requests reached the host outside the prefix"

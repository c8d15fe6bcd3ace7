"""The page `dvc plots show` writes draws its plots without internet, from the project's own copy of Vega.

DVC's own page loads Vega from cdn.jsdelivr.net, so on a machine without internet it stayed blank. `.dvc/config` sets
`plots.html_template` to `.dvc/plots/offline.html`, which loads `.dvc/plots/node_modules` (installed by `make setup`).
Every request to the internet is refused here, as on such a machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

from stages import config

PLOTS = config.ROOT / ".dvc" / "plots"


def _plots_page(root: Path) -> Path:
    """Run `dvc plots show` from the project, writing the page to ``root/dvc_plots``; returns the page."""
    out = root / "dvc_plots"
    dvc = Path(sys.executable).with_name("dvc")
    env = {**os.environ, "PATH": f"{dvc.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(dvc), "plots", "show", "-o", str(out)], cwd=config.ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out / "index.html"


def _offline(page: Page) -> list[str]:
    """Refuse every request to the internet (recorded), as on a machine without it; files load."""
    asked: list[str] = []

    def refuse(route: Route) -> None:
        asked.append(route.request.url)
        route.abort("internetdisconnected")

    page.route(re.compile(r"^https?://"), refuse)
    return asked


def _open(browser: Browser, index: Path) -> tuple[Page, list[str], list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    asked = _offline(page)
    page.goto(index.as_uri())
    return page, asked, errors


def test_the_plots_page_draws_every_plot_offline_from_the_projects_copy_of_vega(browser: Browser, tmp_path: Path) -> None:
    if not (PLOTS / "node_modules" / "vega-embed").is_dir():
        pytest.fail("Vega for the dvc plots page is not installed (.dvc/plots/node_modules): run `make setup`")
    (tmp_path / ".dvc").symlink_to(config.ROOT / ".dvc")  # the page's ../.dvc/plots/… as from the project root
    index = _plots_page(tmp_path)
    html = index.read_text(encoding="utf-8")
    plots = len(re.findall(r"vegaEmbed\('#", html))
    assert plots >= 1, html[:500]
    page, asked, errors = _open(browser, index)
    try:
        # vega-embed draws each plot as an SVG or a canvas inside its div
        page.wait_for_function(f"document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length >= {plots}", timeout=30_000)
        assert page.locator("#vega-missing").is_hidden()
        assert asked == [] and errors == []
    finally:
        page.close()


def test_without_the_copy_or_internet_the_page_says_what_to_do_instead_of_staying_blank(browser: Browser, tmp_path: Path) -> None:
    index = _plots_page(tmp_path)  # no ../.dvc beside it: the project's copy is not found
    page, asked, errors = _open(browser, index)
    try:
        missing = page.locator("#vega-missing")
        missing.wait_for(state="visible", timeout=10_000)
        assert "make setup" in missing.inner_text()
        assert any("cdn.jsdelivr.net/npm/vega@" in url for url in asked), asked  # it tried the CDN DVC uses
        assert errors == []
    finally:
        page.close()

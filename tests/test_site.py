"""The Quarto report site (site/): checked without Quarto, and rendered and opened in Chromium where Quarto exists.

Without Quarto: _quarto.yml parses and every page and link target it names exists; every ``{{< embed >}}`` names an
existing notebook and cell label, every ``{{< var >}}`` an existing key, every ``{{< include >}}`` a file; the
executed notebooks hold no error and load nothing from the network (plotly.js inline); every page loads plotly.js
before its first chart. With Quarto on the PATH: the site is rendered to a temporary directory and every page is
opened in Chromium with the network blocked (no console error, no failed request, every chart drawn).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from stages import config, report
from tests.test_run_notebook import _closure

SITE = config.ROOT / "site"
SHORTCODE = re.compile(r"\{\{<\s*(embed|var|include)\s+([^\s>]+)[^>]*>\}\}")
PLOTLY_LIBRARY = re.compile(r"plotly\.js v\d+\.\d+")
PLOTLY_CHART = 'class="plotly-graph-div"'
CHROMIUM = "/usr/bin/chromium"


@functools.cache
def quarto_config() -> dict[str, Any]:
    with open(SITE / "_quarto.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def render_list() -> list[str]:
    return quarto_config()["project"]["render"]


def qmd_pages() -> list[str]:
    return [p for p in render_list() if p.endswith(".qmd")]


def executed_notebooks() -> list[Path]:
    return [SITE / p for p in render_list() if p.endswith(".ipynb")]


def require(path: Path, how: str) -> Path:
    """The path, or a failure that says which pipeline step writes it."""
    if not path.exists():
        pytest.fail(f"{path.relative_to(config.ROOT)} is missing: {how}")
    return path


@functools.cache
def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(require(path, "run `dvc repro` (the pipeline writes the executed notebooks)"), as_version=4)


def cell_options(cell: nbformat.NotebookNode) -> dict[str, Any]:
    """Quarto's ``#|`` cell options at the top of a code cell."""
    lines = []
    for line in cell.source.splitlines():
        if not line.startswith("#|"):
            break
        lines.append(line[2:].strip())
    return yaml.safe_load("\n".join(lines)) or {} if lines else {}


def find_cell(nb: nbformat.NotebookNode, ident: str) -> nbformat.NotebookNode | None:
    """The cell Quarto's embed picks for an identifier: cell id, then label option, then tag."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for match in (lambda c: c.get("id") == ident, lambda c: cell_options(c).get("label") == ident,
                  lambda c: ident in c.metadata.get("tags", [])):
        found = [c for c in code if match(c)]
        if found:
            return found[0]
    return None


def html_outputs(cells: list[nbformat.NotebookNode]) -> list[str]:
    return [o.data["text/html"] for c in cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


def shortcodes(page: str) -> list[tuple[str, str]]:
    """(name, first argument) of each embed, var and include shortcode of a page, in order."""
    return SHORTCODE.findall((SITE / page).read_text(encoding="utf-8"))


@functools.cache
def variables() -> dict[str, Any]:
    path = require(SITE / "_variables.yml", "run `dvc repro` (stage report writes it)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- the project file ------------------------------------------------------------------------------------------

def test_the_report_has_the_staff_pages_icon() -> None:
    """Without an icon the report's pages made browsers ask for /favicon.ico at the host's root (a 404, and outside a
    proxy's sub-path)."""
    icon = quarto_config()["website"]["favicon"]
    assert (SITE / icon).read_bytes() == (config.ROOT / "api" / "web" / "src" / "favicon.svg").read_bytes()


def test_quarto_yml_is_a_website_whose_pages_exist() -> None:
    cfg = quarto_config()
    assert cfg["project"]["type"] == "website"
    assert cfg["project"]["output-dir"] == "_site"
    assert cfg["execute"]["enabled"] is False, "the notebooks ran in the pipeline; Quarto must not re-run them"
    missing = [p for p in render_list() if not (SITE / p).exists() and not p.startswith("notebooks/")]
    assert not missing, f"pages listed in _quarto.yml that do not exist: {missing}"
    for nb in executed_notebooks():
        require(nb, "run `dvc repro` (the pipeline writes the executed notebooks)")


def test_navigation_targets_are_rendered_pages() -> None:
    website = quarto_config()["website"]
    targets = [item["href"] for item in website["navbar"]["left"]]
    (sidebar,) = website["sidebar"]
    # Quarto shows a single sidebar without an id on every page (Home and Personas too); with one, on its pages only
    assert sidebar.get("id"), "the Analysis sidebar needs an id, or Quarto shows it on every page"
    targets += sidebar["contents"]
    assert not set(targets) - set(render_list()), "navbar or sidebar links to a page that is not rendered"
    assert sidebar["contents"] == [p for p in render_list() if p.endswith(".ipynb")], \
        "the sidebar lists the analysis notebooks, in pipeline order"
    assert {f"notebooks/{p.name}" for p in config.NOTEBOOKS.glob("*.ipynb")} == set(sidebar["contents"]), \
        "every pipeline notebook has an analysis page"


def test_notebook_views_name_the_analysis_pages() -> None:
    """Every embedded notebook has a notebook-view whose url is its analysis page (honoured from the fix for
    quarto-cli#13694 on; older releases link to a preview page instead, see _quarto.yml)."""
    views = quarto_config()["format"]["html"]["notebook-view"]
    embedded = {arg.split("#")[0] for page in qmd_pages() for name, arg in shortcodes(page) if name == "embed"}
    assert embedded <= {v["notebook"] for v in views}, "every embedded notebook needs a notebook-view entry"
    for view in views:
        assert view["notebook"] in render_list()
        assert view["url"] == view["notebook"].removesuffix(".ipynb") + ".html"


@pytest.mark.parametrize("page", qmd_pages())
def test_every_embed_names_an_existing_notebook_cell(page: str) -> None:
    embeds = [arg for name, arg in shortcodes(page) if name == "embed"]
    for arg in embeds:
        path, _, ident = arg.partition("#")
        nb = read_notebook((SITE / page).parent / path)
        assert ident, f"{page}: embed {arg} names no cell"
        cell = find_cell(nb, ident)
        assert cell is not None, f"{page}: {path} has no cell labelled {ident}"
        assert cell.get("outputs"), f"{page}: cell {ident} of {path} has no output to embed"


@pytest.mark.parametrize("page", qmd_pages())
def test_every_var_key_exists(page: str) -> None:
    for name, key in shortcodes(page):
        if name != "var":
            continue
        node: Any = variables()
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{page}: {{{{< var {key} >}}}} is not in _variables.yml"
            node = node[part]
        assert isinstance(node, str) and node, f"{page}: {key} is not a text value"


@pytest.mark.parametrize("page", qmd_pages())
def test_every_include_exists(page: str) -> None:
    for name, path in shortcodes(page):
        if name == "include":
            require((SITE / page).parent / path, "run `dvc repro` (stage report writes site/_generated/)")


def test_pages_quote_no_hand_typed_figures() -> None:
    """Prose numbers come from _variables.yml: a decimal or a percentage typed into a page is a mistake.

    Code, shortcodes, comments and the text of links to other sites (licence names, DOIs) are not prose figures.
    """
    for page in qmd_pages():
        text = re.sub(r"\{\{<.*?>\}\}|```.*?```|`[^`]*`|<!--.*?-->|\[[^\]]*\]\(https?://[^)]*\)|<https?://[^>]*>", "",
                      (SITE / page).read_text(encoding="utf-8"), flags=re.S)
        typed = re.findall(r"\b\d+(?:\.\d+)?\s?%|\b\d+\.\d+\b", text)
        assert not typed, f"{page} types figures by hand: {typed}"


# --- the executed notebooks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.name)
def test_executed_notebook_holds_no_error(notebook: Path) -> None:
    nb = read_notebook(notebook)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{notebook.name}: {errors[0].ename}: {errors[0].evalue}"


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.name)
def test_a_cell_labelled_as_a_table_or_figure_shows_only_it(notebook: Path) -> None:
    """Quarto makes a ``tbl-``/``fig-`` cell one numbered float under its caption, all its outputs inside: a
    sentence displayed there sits in the table, and a cell with no table (a bullet list) still gets a number.
    (A chart's cell may also hold plotly.js, a script with nothing to show.)"""
    for cell in read_notebook(notebook).cells:
        label = cell_options(cell).get("label", "") if cell.cell_type == "code" else ""
        if not label.startswith(("tbl-", "fig-")):
            continue
        kind = "table" if label.startswith("tbl-") else "figure"
        assert cell_options(cell).get(f"{label[:3]}-cap"), f"{notebook.name} {label}: a {kind} label without a caption"
        text = [o for o in cell.get("outputs", []) if o.output_type == "stream" or "text/markdown" in o.get("data", {})]
        assert not text, f"{notebook.name} {label}: text printed under the {kind}'s caption; show it from a cell of its own"
        if kind == "table":
            shown = [o for o in cell.get("outputs", []) if o.output_type in ("display_data", "execute_result")]
            assert len(shown) == 1 and "<table" in shown[0].get("data", {}).get("text/html", ""), f"{notebook.name} {label}: not one table"


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.name)
def test_executed_notebook_loads_nothing_from_the_network(notebook: Path) -> None:
    outputs = html_outputs(read_notebook(notebook).cells)
    for html in outputs:
        assert not report.network_resources(html), f"{notebook.name} output loads {report.network_resources(html)}"
    charts = [i for i, html in enumerate(outputs) if PLOTLY_CHART in html]
    if charts:
        library = [i for i, html in enumerate(outputs) if PLOTLY_LIBRARY.search(html)]
        assert library and library[0] <= charts[0], f"{notebook.name}: a chart comes before plotly.js is embedded"


@pytest.mark.parametrize("page", qmd_pages())
def test_page_loads_plotly_before_its_first_chart(page: str) -> None:
    """Embedded cells and generated includes only draw if an earlier part of the page carried plotly.js."""
    loaded = False
    for name, arg in shortcodes(page):
        if name == "embed":
            path, _, ident = arg.partition("#")
            cell = find_cell(read_notebook((SITE / page).parent / path), ident)
            htmls = html_outputs([cell]) if cell is not None else []
        elif name == "include":
            htmls = [require((SITE / page).parent / arg, "run `dvc repro`").read_text(encoding="utf-8")]
        else:
            continue
        for html in htmls:
            loaded = loaded or bool(PLOTLY_LIBRARY.search(html))
            assert loaded or PLOTLY_CHART not in html, f"{page}: {arg} draws a chart before plotly.js is loaded"


# --- the DVC stages --------------------------------------------------------------------------------------------

def test_report_stage_depends_on_every_output_it_hashes() -> None:
    with open(config.ROOT / "dvc.yaml", encoding="utf-8") as fh:
        stage = yaml.safe_load(fh)["stages"]["report"]
    with open(require(config.DVC_LOCK, "run `dvc repro`"), encoding="utf-8") as fh:
        outputs = {row["path"] for row in report.lock_outputs(yaml.safe_load(fh))}
    assert not outputs - set(stage["deps"]), "stage report reads these dvc.lock hashes without depending on them"
    assert {"site/_variables.yml", "site/_generated"} == {o if isinstance(o, str) else next(iter(o)) for o in stage["outs"]}


def test_report_and_site_stages_depend_on_exactly_the_code_they_run() -> None:
    """`python -m stages.report` (stage report, and the site stage's post-render hook) runs report.py and every
    stages/ module it imports: a change to one must re-run the stage, and a module it does not import must not."""
    runs = _closure({"stages/report.py"})
    with open(config.ROOT / "dvc.yaml", encoding="utf-8") as fh:
        report_deps = yaml.safe_load(fh)["stages"]["report"]["deps"]
    with open(SITE / "dvc.yaml", encoding="utf-8") as fh:
        site_deps = [(SITE / d).resolve().relative_to(config.ROOT).as_posix() for d in yaml.safe_load(fh)["stages"]["site"]["deps"]]
    for stage, deps in (("report", report_deps), ("site", site_deps)):
        listed = {d for d in deps if d.startswith("stages/")}
        assert listed == runs, f"stage {stage}: missing {sorted(runs - listed)}, not run {sorted(listed - runs)}"


def test_site_stage_depends_on_every_source_and_renders_to_site() -> None:
    with open(SITE / "dvc.yaml", encoding="utf-8") as fh:
        stage = yaml.safe_load(fh)["stages"]["site"]
    assert stage["cmd"].endswith("quarto render")
    needed = set(render_list()) | {"_quarto.yml", "_variables.yml", "_generated", quarto_config()["format"]["html"]["css"]}
    assert not needed - set(stage["deps"])
    assert [next(iter(o)) for o in stage["outs"]] == [quarto_config()["project"]["output-dir"]]


def test_site_stage_run_without_quarto_says_what_is_missing(tmp_path: Path) -> None:
    """`dvc repro site/dvc.yaml` run directly, where Quarto is absent: a message, not the shell's "quarto: not found"."""
    with open(SITE / "dvc.yaml", encoding="utf-8") as fh:
        cmd = yaml.safe_load(fh)["stages"]["site"]["cmd"]
    done = subprocess.run(["/bin/sh", "-c", cmd], cwd=SITE, env={"PATH": str(tmp_path)}, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "Quarto is not installed" in done.stderr and "https://quarto.org/docs/get-started/" in done.stderr
    assert not (tmp_path / "_site").exists()


def test_site_stage_gives_quarto_the_project_python(tmp_path: Path) -> None:
    """Quarto's post-render hook runs `python -m stages.report`: run as `dvc repro site/dvc.yaml` outside the venv,
    the stage still gives Quarto the project's .venv first on PATH (a stand-in `quarto` reports the python it sees)."""
    with open(SITE / "dvc.yaml", encoding="utf-8") as fh:
        cmd = yaml.safe_load(fh)["stages"]["site"]["cmd"]
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\ncommand -v python\n")
    fake.chmod(0o755)
    done = subprocess.run(["/bin/sh", "-c", cmd], cwd=SITE, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(config.ROOT / ".venv" / "bin" / "python")


# --- with Quarto: render, then open every page in Chromium offline ---------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def rendered_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site rendered by Quarto into a temporary directory, served on a local port; yields the base URL."""
    if shutil.which("quarto") is None:
        pytest.skip("Quarto is not installed (https://quarto.org/docs/get-started/): the site render test needs it")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["quarto", "render", str(SITE), "--output-dir", str(out)], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"quarto render failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.quarto
@pytest.mark.browser
@pytest.mark.parametrize("page", render_list())
def test_rendered_page_works_offline(rendered_site: str, page: str) -> None:
    from playwright.sync_api import sync_playwright

    url = rendered_site + re.sub(r"\.(qmd|ipynb)$", ".html", page)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            context = browser.new_context()
            # The network is off: anything not served by the local server is aborted and counted as a failure.
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(rendered_site) else route.abort())
            pg = context.new_page()
            pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            pg.on("requestfailed", lambda r: errors.append(f"failed request: {r.url}"))
            response = pg.goto(url, wait_until="load")
            assert response is not None and response.ok, f"{url} did not load"
            charts = pg.locator(".plotly-graph-div")
            for i in range(charts.count()):
                charts.nth(i).locator("svg.main-svg").first.wait_for(state="attached", timeout=20_000)
            pg.wait_for_timeout(500)
        finally:
            browser.close()
    assert not errors, f"{page}: " + "; ".join(errors[:10])


def test_captions_of_notebook_2_hold_for_every_transform_and_outlier_method() -> None:
    """`features.transform=none` and `features.outliers.method=none`: captions said "before and after the transform",
    "the transformed categories" and, over an empty table, "flagged as outliers by Tukey's rule" with no rule applied."""
    nb = nbformat.read(config.NOTEBOOKS / "02_features.ipynb", as_version=4)
    captions = {m[1]: m[2] for c in nb.cells if c.cell_type == "code"
                for m in [re.search(r'#\| label: (\S+)\n#\| (?:fig|tbl)-cap: "([^"]*)"', c.source)] if m}
    assert "raw only when it is none" in captions["fig-distributions"]
    assert "transformed" not in captions["fig-correlations"]
    assert "none when `features.outliers.method` is none" in captions["tbl-outliers"]

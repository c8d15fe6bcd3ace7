"""The README's nginx set-ups, run as written, in front of gunicorn with `make serve`'s settings (api/gunicorn_conf.py),
each started as its comment in the README says: the staff page under /segmentation/ segments a customer and a file
over nginx's default body limit, the API's errors name the right description, and an encoded slash is redirected
where the set-up passes the path as sent. Without the body limit a set-up has, nginx refuses such a file with its own
HTML 413, and the page says the file is too large and what to do.

Needs nginx: `make browser` unpacks Debian's package into .venv/nginx (not installed: no service starts); skipped,
saying so, without it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pandas as pd
import pytest
from playwright.sync_api import Browser, expect

from stages import config
from tests.conftest import free_port, gunicorn_command

from .conftest import Watch, watched_page
from .test_staff_page import FEATURES, fill_customer

pytestmark = pytest.mark.browser

#: Debian's nginx as `make browser` unpacks it, else one installed on the machine.
NGINX = next((str(p) for p in (config.ROOT / ".venv" / "nginx" / "usr" / "sbin" / "nginx", Path("/usr/sbin/nginx")) if p.exists()),
             shutil.which("nginx"))
if NGINX is None:
    pytest.skip("nginx is missing, so the README's nginx set-ups were not run: `make browser` unpacks Debian's package "
                "into .venv/nginx (apt-get download nginx; needs Debian's package lists, which apt-get update fetches)",
                allow_module_level=True)

PREFIX = "/segmentation"
README = config.ROOT / "README.md"
#: How the README says to start the app for each set-up (the end of each block's first line), and that environment.
STARTS = {
    "a": ("(make serve, no setting)", {}),
    "b": ("(SCRIPT_NAME=/segmentation make serve)", {"SCRIPT_NAME": PREFIX}),
    "c": ("(SEGMENTATION_TRUSTED_PROXIES=1 make serve)", {"SEGMENTATION_TRUSTED_PROXIES": "1"}),
}
#: Rows of the training data repeated into a file over nginx's default client_max_body_size (1 MB).
OVER_A_MEGABYTE = 40_000


def readme_setups() -> dict[str, str]:
    """The README's nginx blocks, by the letter their first comment gives them: ``# (a) …``."""
    blocks = re.findall(r"```nginx\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = {m.group(1): block for block in blocks if (m := re.match(r"# \((\w)\) ", block))}
    return found


def test_the_readme_has_the_three_set_ups_each_saying_how_to_start_the_app() -> None:
    setups = readme_setups()
    assert sorted(setups) == sorted(STARTS)
    for letter, (start, _) in STARTS.items():
        assert setups[letter].splitlines()[0].endswith(start), setups[letter].splitlines()[0]
        assert "client_max_body_size 64m;" in setups[letter]  # the app's own limit (MAX_CONTENT_LENGTH)


def wait_for(url_host: str, port: int, path: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Until ``path`` answers 200 on ``port``; fails with the process's output if it exits or 60 s pass."""
    deadline = time.monotonic() + 60
    while True:
        conn = http.client.HTTPConnection(url_host, port, timeout=2)
        with contextlib.suppress(OSError), contextlib.closing(conn):
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()  # closes its pipe
            pytest.fail(f"{what} did not start: {err.decode(errors='replace')[-2000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def behind_nginx(block: str, env: dict[str, str]) -> Iterator[str]:
    """gunicorn (api/gunicorn_conf.py, one worker, ``env`` added) and nginx with ``block`` as its only location, its
    upstream moved to gunicorn's port; yields nginx's origin."""
    app_port, proxy_port = free_port(), free_port()
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    folder.chmod(0o755)  # nginx's workers run as another user when the test runs as root; they keep request bodies here
    gunicorn = subprocess.Popen(gunicorn_command(app_port), cwd=config.ROOT, env={**os.environ, "WORKERS": "1", **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    nginx = None
    try:
        wait_for("127.0.0.1", app_port, f"{env.get('SCRIPT_NAME', '')}/api/health", gunicorn, "gunicorn")
        assert "127.0.0.1:8000" in block
        (folder / "nginx.conf").write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{proxy_port};
        {block.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")}
    }}
}}
""")
        assert NGINX is not None  # the module is skipped without nginx
        nginx = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for("127.0.0.1", proxy_port, f"{PREFIX}/api/health", nginx, "nginx")
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        for process in (nginx, gunicorn):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
                if process.stderr is not None:
                    process.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=sorted(STARTS))
def set_up(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(letter, nginx's origin) for each of the README's set-ups, served as its comment says."""
    letter = request.param
    with behind_nginx(readme_setups()[letter], STARTS[letter][1]) as origin:
        yield letter, origin


def ask(origin: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed: status, headers, body."""
    host, port = origin.removeprefix("http://").split(":")
    with contextlib.closing(http.client.HTTPConnection(host, int(port), timeout=60)) as conn:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A CSV of training customers over 1 MB, nginx's default body limit, and its number of rows."""
    raw = pd.read_csv(config.ROOT / "data" / "raw" / "wholesale_customers.csv")
    rows = pd.concat([raw] * (OVER_A_MEGABYTE // len(raw) + 1), ignore_index=True)
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    rows.to_csv(path, index=False)
    assert path.stat().st_size > 1024 * 1024
    return path, len(rows)


def test_the_api_answers_through_each_set_up(set_up: tuple[str, str], big_file: tuple[Path, int]) -> None:
    letter, origin = set_up
    status, headers, _ = ask(origin, "GET", PREFIX)
    assert (status, headers["location"]) == (301, f"{origin}{PREFIX}/")  # nginx's own, for a location ending in /
    status, _, body = ask(origin, "GET", f"{PREFIX}/api/health")
    assert status == 200 and json.loads(body)["status"] == "ok"

    status, _, body = ask(origin, "GET", f"{PREFIX}/api/nowhere")
    where = "../api/openapi.json, relative to this address" if letter == "a" else f"{PREFIX}/api/openapi.json"
    assert status == 404 and where in json.loads(body)["error"]["message"]

    path, n_rows = big_file
    status, _, body = ask(origin, "POST", f"{PREFIX}/api/segment/batch", path.read_bytes(), {"Content-Type": "text/csv"})
    answer = json.loads(body)
    assert status == 200, answer
    assert (answer["n_rows"], answer["n_ok"]) == (n_rows, n_rows)


def test_an_encoded_slash_is_redirected_where_the_path_is_passed_as_sent(set_up: tuple[str, str]) -> None:
    """(b) and (c) pass the path as the browser sent it, and the app redirects it to real slashes; (a), whose
    proxy_pass has a path, passes it decoded, and the app serves it as the decoded path (the README says so)."""
    letter, origin = set_up
    status, headers, body = ask(origin, "GET", f"{PREFIX}/api%2Fhealth?x=1")
    if letter == "a":
        assert status == 200 and json.loads(body)["status"] == "ok"
    else:
        assert status == 308
        assert urljoin(f"{origin}{PREFIX}/api%2Fhealth?x=1", headers["location"]) == f"{origin}{PREFIX}/api/health?x=1"


def test_the_staff_page_works_through_each_set_up(browser: Browser, set_up: tuple[str, str], big_file: tuple[Path, int]) -> None:
    letter, origin = set_up
    home = f"{origin}{PREFIX}/"
    watch = Watch(origin=origin, api_path=f"{PREFIX}/api/")
    points = pd.read_csv(config.PCA_MAP)
    customer = points[points["clustered"].astype(bool)].iloc[0]
    personas = {p["id"]: p for p in json.loads(config.PERSONAS.read_text())}
    with watched_page(browser, origin, watch, path=home) as page:
        fields = page.request.get(f"{home}api/fields").json()["features"]
        fill_customer(page, fields, {name: int(customer[name]) for name in FEATURES})
        page.get_by_role("button", name="Find the segment").click()
        segment = int(customer["segment"])
        expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {segment}: {re.escape(personas[segment]['name'])}"))

        path, n_rows = big_file
        page.get_by_label("CSV file").set_input_files(path)
        page.get_by_role("button", name="Segment the file").click()
        expect(page.locator(".summary")).to_have_text(f"{n_rows:,} rows: {n_rows:,} segmented, 0 with a problem.", timeout=60_000)


def test_a_file_the_proxy_refuses_as_too_large_is_said_to_be(browser: Browser, big_file: tuple[Path, int]) -> None:
    """Set-up (b) without its client_max_body_size: nginx answers the file itself, with an HTML 413."""
    block = readme_setups()["b"]
    assert "client_max_body_size" in block
    limited = "\n".join(line for line in block.splitlines() if "client_max_body_size" not in line)
    with behind_nginx(limited, STARTS["b"][1]) as origin:
        watch = Watch(origin=origin, api_path=f"{PREFIX}/api/")
        watch.expect_status(413)
        with watched_page(browser, origin, watch, path=f"{origin}{PREFIX}/") as page:
            path, _ = big_file
            megabytes = f"{path.stat().st_size / 1e6:.1f} MB"
            page.get_by_label("CSV file").set_input_files(path)
            page.get_by_role("button", name="Segment the file").click()
            alert = page.locator("#batch [role=alert]")
            expect(alert).to_contain_text(f"The file ({megabytes}) is larger than the server in front of the service lets through: "
                                          "it answered 413 Request Entity Too Large. Split it into smaller files")
            expect(alert).not_to_contain_text("Try again in a moment")

"""The app behind a reverse proxy, at / or under a sub-path: relative redirects, SCRIPT_NAME, trusted forwarded headers."""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urljoin

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, TestResponse

from api import create_app
from api.proxy import TRUSTED_PROXIES_ENV, behind_proxies, decoded_slash_location, relative_location

HOST, PREFIX = "https://intranet.example", "/segmentation"
FORWARDED = {"X-Forwarded-Prefix": PREFIX, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "intranet.example"}
SET_UPS = ["at the root", "a proxy strips the prefix", "SCRIPT_NAME", "a trusted proxy keeps the prefix and names it"]


def served(app: Flask, set_up: str, method: str, path: str, **request: Any) -> tuple[str, TestResponse]:
    """The URL a browser asks for to reach ``path`` of ``app`` in ``set_up``, and the app's answer to it there
    (``request``: more of the request, such as ``json``)."""
    if set_up == "at the root":
        return HOST + path, app.test_client().open(path, method=method, base_url=HOST, **request)
    if set_up == "a proxy strips the prefix":  # the app sees the root path, and the proxy's own host
        return HOST + PREFIX + path, app.test_client().open(path, method=method, **request)
    if set_up == "SCRIPT_NAME":
        return HOST + PREFIX + path, Client(DispatcherMiddleware(Flask("root"), {PREFIX: app.wsgi_app})).open(PREFIX + path, method=method, **request)
    # as create_app wraps the app for TRUSTED_PROXIES=1
    return HOST + PREFIX + path, Client(behind_proxies(app.wsgi_app, 1)).open(PREFIX + path, method=method, headers=FORWARDED, **request)


@pytest.fixture(scope="module")
def mounted(app: Flask) -> Client:
    """``app`` mounted at SCRIPT_NAME /segmentation (as gunicorn's SCRIPT_NAME setting or a WSGI dispatcher mounts it)."""
    return Client(DispatcherMiddleware(Flask("root"), {"/segmentation": app.wsgi_app}))


@pytest.mark.parametrize(
    ("browser_url", "app_path"),
    [
        ("https://intranet.example/report", "/report"),  # served at /
        ("https://intranet.example/segmentation/report", "/report"),  # a proxy strips /segmentation before the app
        ("https://intranet.example/a/b/report?x=1", "/report?x=1"),
    ],
)
def test_a_redirect_is_relative_so_it_keeps_the_prefix_a_proxy_stripped(client, browser_url: str, app_path: str) -> None:
    # /report → /report/ used to be http://localhost/report/: behind a prefix-stripping proxy, the root of the host
    r = client.get(app_path)
    assert r.status_code == 308 and not r.headers["Location"].startswith(("/", "http"))
    assert urljoin(browser_url, r.headers["Location"]) == browser_url.replace("/report", "/report/")


def test_every_redirect_of_the_app_is_relative(client) -> None:
    # werkzeug merges doubled slashes with a redirect too; a browser resolves this against .../api//health by
    # WHATWG's rule (each ".." drops one segment, the empty one included): to .../api/health
    r = client.get("/api//health")
    assert r.status_code == 308 and r.headers["Location"] == "../../api/health"


def test_under_a_script_name_the_page_its_files_and_redirects_keep_the_prefix(mounted: Client) -> None:
    with mounted.get("/segmentation/") as page:
        assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert cast("dict[str, Any]", mounted.get("/segmentation/api/health").json)["status"] == "ok"
    r = mounted.get("/segmentation/report")
    assert r.status_code == 308 and urljoin("http://h/segmentation/report", r.headers["Location"]) == "http://h/segmentation/report/"


def test_the_page_without_its_trailing_slash_redirects_to_it(mounted: Client) -> None:
    # served at /segmentation, the page's relative URLs would resolve against / (its files, the API: the root)
    r = mounted.get("/segmentation")
    assert r.status_code == 308 and r.headers["Location"] == "./segmentation/"
    assert urljoin("https://intranet.example/segmentation", r.headers["Location"]) == "https://intranet.example/segmentation/"


def test_customer_answers_keep_no_store_under_a_prefix(mounted: Client) -> None:
    r = mounted.post("/segmentation/api/segment", json={"Fresh": 1, "Milk": 1, "Grocery": 1, "Frozen": 1, "Detergents_Paper": 1, "Delicassen": 1})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_forwarded_headers_are_not_trusted_by_default(client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    r = client.get("/segmentation/api/health", headers={"X-Forwarded-Prefix": "/segmentation"})
    assert r.status_code == 404
    # and the prefix a client claims does not reach a redirect
    assert client.get("/report", headers={"X-Forwarded-Prefix": "/elsewhere"}).headers["Location"] == "./report/"


@pytest.mark.parametrize("how", ["config", "environment"])
def test_a_proxy_that_keeps_the_prefix_and_names_it_is_served_when_trusted(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, "1" if how == "environment" else "0")
    client = create_app({"TRUSTED_PROXIES": 1} if how == "config" else None).test_client()
    prefix = {"X-Forwarded-Prefix": "/segmentation", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "intranet.example"}
    assert cast("dict[str, Any]", client.get("/segmentation/api/health", headers=prefix).json)["status"] == "ok"
    with client.get("/segmentation/", headers=prefix) as page:
        assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    r = client.get("/segmentation/api/segment/batch", headers=prefix)  # a GET: still the customer-data headers
    assert r.status_code == 405 and r.headers["Cache-Control"] == "no-store"
    r = client.get("/segmentation", headers=prefix)
    assert r.status_code == 308 and r.headers["Location"] == "./segmentation/"
    # a proxy that strips the prefix and names it: the paths are the root ones
    assert cast("dict[str, Any]", client.get("/api/health", headers=prefix).json)["status"] == "ok"


@pytest.mark.parametrize("value", ["yes", "-1", "1.5", "2x", True])
def test_a_wrong_number_of_proxies_stops_start_up(value: object, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(value, str):
        monkeypatch.setenv(TRUSTED_PROXIES_ENV, value)
        config = None
    else:
        config = {"TRUSTED_PROXIES": value}
    with pytest.raises(SystemExit, match="must be the number of proxies in front of it"):
        create_app(config)


@pytest.mark.parametrize(
    ("location", "script_name", "path_info", "expected"),
    [
        ("http://h/report/", "", "/report", "./report/"),
        ("http://h/s/report/", "/s", "/report", "./report/"),
        ("http://h/s/", "/s", "", "./s/"),
        ("http://h/a/b/", "", "/a/b", "../a/b/"),
        ("http://h/x/?q=1#f", "", "/x", "./x/?q=1#f"),
        ("http://other/report/", "", "/report", "http://other/report/"),  # another host: as it is
        ("http://h/elsewhere/", "/s", "/x", "http://h/elsewhere/"),  # outside the app's prefix: as it is
    ],
)
def test_relative_location(location: str, script_name: str, path_info: str, expected: str) -> None:
    environ = {"SCRIPT_NAME": script_name, "PATH_INFO": path_info, "HTTP_HOST": "h", "wsgi.url_scheme": "http"}
    assert relative_location(location, environ) == expected


@pytest.mark.parametrize(
    ("sent", "script_name", "path_info", "expected"),
    [
        ("/api%2F/health", "", "/api//health", "../api/health"),  # PATH_INFO decodes %2F: one folder fewer for the browser
        ("/api%2f/health?x=1", "", "/api//health", "../api/health"),
        ("/s/api%2F/health", "/s", "/api//health", "../api/health"),  # the prefix kept in the path (SCRIPT_NAME)
        ("/api%2F/health", "/s", "/api//health", "../api/health"),  # a proxy stripped the prefix it names
        ("/report/%2Fnotebooks/", "", "/report//notebooks/", "../../api/health"),  # PATH_INFO: three folders
        ("/api%252F/x", "", "/api%2F/x", "../api/health"),  # %25: an encoded percent sign, not a slash
        ("http://h/api%2F/health", "", "/api//health", "../../api/health"),  # no path sent to read: PATH_INFO's count
        ("/elsewhere%2F/health", "", "/api//health", "../../api/health"),  # not this request's path: likewise
    ],
)
def test_an_encoded_slash_is_no_folder_of_the_url_asked_for(sent: str, script_name: str, path_info: str, expected: str) -> None:
    environ = {"SCRIPT_NAME": script_name, "PATH_INFO": path_info, "RAW_URI": sent, "HTTP_HOST": "h", "wsgi.url_scheme": "http"}
    assert relative_location(f"http://h{script_name}/api/health", environ) == expected


@pytest.mark.parametrize("sent", ["/api%2F/health", "/api/%2Fhealth"])
def test_a_redirect_from_a_path_with_an_encoded_slash_stays_under_the_prefix(client, mounted: Client, sent: str) -> None:
    # werkzeug merges the // that PATH_INFO holds; the Location counted it as a folder, one "../" too many: from
    # https://intranet.example/segmentation/api%2F/health it led to https://intranet.example/api/health, off the prefix
    browser_url = "https://intranet.example/segmentation" + sent
    for r in (client.get(sent), mounted.get("/segmentation" + sent)):  # a proxy that strips the prefix; SCRIPT_NAME
        assert r.status_code == 308
        assert urljoin(browser_url, r.headers["Location"]) == "https://intranet.example/segmentation/api/health"


@pytest.fixture(scope="module")
def unbuilt(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app without its staff page built."""
    app = create_app()
    app.static_folder = str(tmp_path_factory.mktemp("static"))  # an empty folder: nothing built
    return app


@pytest.mark.parametrize("set_up", SET_UPS)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("GET", "/api/nowhere/deeper", 404), ("PUT", "/api/health", 405), ("GET", "/api/segment/batch", 405), ("GET", "/", 503)],
)
def test_an_error_names_the_api_description_where_the_browser_finds_it(app: Flask, unbuilt: Flask, set_up: str, method: str, path: str, status: int) -> None:
    # the texts said /api/openapi.json: under a prefix, the host's root, outside the app
    url, r = served(unbuilt if status == 503 else app, set_up, method, path)
    assert r.status_code == status
    named = re.search(r"described at (\S+openapi\.json)", cast("dict[str, Any]", r.json)["error"]["message"])
    assert named, cast("dict[str, Any]", r.json)["error"]["message"]
    here = HOST if set_up == "at the root" else HOST + PREFIX
    assert urljoin(url, named[1]) == here + "/api/openapi.json"
    if set_up in ("SCRIPT_NAME", "a trusted proxy keeps the prefix and names it"):  # the app knows its prefix: the path from the host's root
        assert named[1] == PREFIX + "/api/openapi.json"
    else:  # it may be behind a proxy that strips one: relative to the URL asked for, and said to be
        assert cast("dict[str, Any]", r.json)["error"]["message"].endswith(f"{named[1]}, relative to this address.")


@pytest.mark.parametrize("set_up", SET_UPS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("sent", "meant"),
    [
        ("/report%2F", "/report/"),
        ("/report%2Findex.html", "/report/index.html"),
        ("/report%2fnotebooks%2F", "/report/notebooks/"),  # lower case too
        ("/static%2Fapp.js", "/static/app.js"),
        ("/%2F", "/"),  # the page: doubled slashes merged, as the router would with a second redirect
        ("/report/notebooks%2Fa%20b.html", "/report/notebooks/a%20b.html"),  # other encoded characters as sent
        ("/report%2F?q=a%2Fb&x=1", "/report/?q=a%2Fb&x=1"),  # the query kept as sent
        ("/api%2Fopenapi.json", "/api/openapi.json"),  # its server, "..", is resolved against the URL as written
        ("/api%2F/health", "/api/health"),
        ("/api/%2Fhealth", "/api/health"),
    ],
)
def test_a_path_with_an_encoded_slash_is_redirected_to_its_folders(app: Flask, set_up: str, method: str, sent: str, meant: str) -> None:
    # it was served as its decoded path (/report%2F as /report/), whose relative links the browser resolved one
    # folder up (../static/… from …/segmentation/report%2F: the host's root)
    url, r = served(app, set_up, method, sent)
    assert r.status_code == 308 and not r.headers["Location"].startswith(("/", "http"))
    here = HOST if set_up == "at the root" else HOST + PREFIX
    assert urljoin(url, r.headers["Location"]) == here + meant
    assert r.headers["Content-Length"] == "0" and r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("set_up", SET_UPS)
def test_other_methods_and_ordinary_paths_are_served_as_before(app: Flask, set_up: str) -> None:
    customer = {"Fresh": 1, "Milk": 1, "Grocery": 1, "Frozen": 1, "Detergents_Paper": 1, "Delicassen": 1}
    # a POST is answered where it was sent: not every client sends a body again after a redirect
    _, r = served(app, set_up, "POST", "/api%2Fsegment", json=customer)
    assert r.status_code == 200 and cast("dict[str, Any]", r.json)["segment"] in range(10)
    _, r = served(app, set_up, "POST", "/report%2F")
    assert r.status_code == 405
    for path in ("/api/health", "/api/health?next=%2Freport%2F"):  # an encoded slash in the query only
        _, r = served(app, set_up, "GET", path)
        assert r.status_code == 200 and cast("dict[str, Any]", r.json)["status"] == "ok"
    _, r = served(app, set_up, "POST", "/api/segment?x=%2F", json=customer)
    assert r.status_code == 200


@pytest.mark.parametrize("sent", ["/report%2F..%2F..%2Fdvc.lock", "/report%2F%2e%2e%2Fdvc.lock", "/report/x%2F.%2Findex.html"])
def test_an_encoded_slash_that_would_make_a_dot_folder_is_not_redirected(client, sent: str) -> None:
    # the Location would climb out of the app (…/report/../../dvc.lock); the path it decodes to is served as before
    r = client.get(sent)
    assert r.status_code == 404 and "Location" not in r.headers


@pytest.mark.parametrize(
    ("raw_uri", "script_name", "path_info", "expected"),
    [
        ("/report%2F", "", "/report/", "./report/"),
        ("/s/report%2F", "/s", "/report/", "./report/"),  # the prefix kept in the path
        ("/report%2F", "/s", "/report/", "./report/"),  # a proxy stripped the prefix it names
        ("/report/", "", "/report/", None),
        ("/api/health?x=%2F", "", "/api/health", None),
        ("/s%2Freport/", "/s", "/report/", None),  # the slash after the prefix is the encoded one: not below the app
        ("/elsewhere%2F", "", "/report/", None),  # not this request's path
        ("http://h/report%2F", "", "/report/", None),  # no path sent to read
        ("/report%252F", "", "/report%2F", None),  # %25: an encoded percent sign, not a slash
    ],
)
def test_decoded_slash_location(raw_uri: str, script_name: str, path_info: str, expected: str | None) -> None:
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": script_name, "PATH_INFO": path_info, "RAW_URI": raw_uri, "HTTP_HOST": "h", "wsgi.url_scheme": "http"}
    assert decoded_slash_location(environ) == expected
    assert decoded_slash_location({**environ, "RAW_URI": "", "REQUEST_URI": raw_uri}) == expected  # another server's key

"""Flask API of the wholesale customer segmentation: ``create_app()`` serves /api/*, the staff page and the report.

Development: ``flask --app api run``. Production: ``gunicorn 'api:create_app()'`` (``make serve``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.proxy import decoded_slash_location
from stages import config as paths

if TYPE_CHECKING:
    from flask import Flask, Response

DEFAULTS: dict[str, Any] = {
    "ARTIFACTS_ROOT": paths.ROOT,  # where ml/… and dvc.lock are read (tests point it at a copy)
    "DVC_LOCK": None,  # default: ARTIFACTS_ROOT / dvc.lock
    "REPORT_DIR": paths.ROOT / "site" / "_site",
    "BATCH_MAX_ROWS": 100_000,
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # a 100,000-row JSON batch is about 13 MB
    "TRUSTED_PROXIES": None,  # proxies whose X-Forwarded-* headers count; default: $SEGMENTATION_TRUSTED_PROXIES or 0
}

#: The staff page is one same-origin bundle (script, stylesheet, SVG chart): nothing inline, nothing from elsewhere.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: The API's answers are data, never a document that loads anything: OWASP's policy for a REST service.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Quarto pages carry inline scripts and styles (and Plotly), all embedded in the site: still nothing from elsewhere.
REPORT_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """WSGI middleware: the headers every answer carries (no CORS headers: the page is served from the same origin),
    a redirect's ``Location`` relative to the URL asked for (``api.proxy.relative_location``: it then holds under
    whatever prefix a proxy strips), and a 308 for a GET or HEAD whose path has an encoded slash, to the path with
    that slash written as one (``api.proxy.decoded_slash_location``: the browser resolves a page's relative links
    against the URL as written).

    Appended to the raw header list, which costs a fraction of setting them on each Flask response.
    """

    COMMON = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
    PAGE = [*COMMON, ("Content-Security-Policy", PAGE_CSP)]
    REPORT = [*COMMON, ("Content-Security-Policy", REPORT_CSP)]
    API = [*COMMON, ("Content-Security-Policy", API_CSP)]
    #: Answers about customers (their segments, and errors that quote what was sent) are kept by no cache: not the
    #: browser's (a shared computer), not a proxy's.
    CUSTOMER_DATA = [*API, ("Cache-Control", "no-store")]

    def __init__(self, wsgi_app: Any):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Serve the request, adding the headers that fit its path."""
        path = environ.get("PATH_INFO", "")
        extra = (self.CUSTOMER_DATA if path.startswith("/api/segment") else self.API if path.startswith("/api/")
                 else self.REPORT if path.startswith("/report/") else self.PAGE)
        if "%2" in (environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""):  # cheap: an encoded slash is rare
            location = decoded_slash_location(environ)
            if location is not None:
                start_response("308 Permanent Redirect", [("Location", location), ("Content-Length", "0"), *extra])
                return [b""]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status[0] == "3":
                headers = _relative_redirect(headers, environ)
            return start_response(status, headers + extra, exc_info)

        return self.wsgi_app(environ, start)


def _relative_redirect(headers: list[tuple[str, str]], environ: dict[str, Any]) -> list[tuple[str, str]]:
    """``headers`` with their ``Location`` made relative to the request's URL (werkzeug writes it absolute)."""
    from api.proxy import relative_location

    return [(k, relative_location(v, environ) if k.lower() == "location" else v) for k, v in headers]


def _json_provider() -> type:
    """Flask's JSON provider with orjson as the encoder (the answers of a 100,000-row batch are large)."""
    import orjson
    from flask.json.provider import DefaultJSONProvider

    class OrjsonProvider(DefaultJSONProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return orjson.dumps(obj).decode()

        def response(self, *args: Any, **kwargs: Any) -> Response:
            obj = self._prepare_response_obj(args, kwargs)
            return self._app.response_class(orjson.dumps(obj), mimetype="application/json")  # type: ignore[return-value, arg-type]

    return OrjsonProvider


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; the artifacts are checked against dvc.lock and loaded once, here.

    Raises :class:`api.artifacts.ArtifactError` (a ``SystemExit``: start-up stops with its message) when an
    artifact is missing or differs from dvc.lock.
    """
    # The web stack is imported here so that `python -m api.score` starts without it.
    from flask import Flask

    from api import artifacts, errors, pages, proxy, routes

    app_class = type("SegmentationApp", (Flask,), {"json_provider_class": _json_provider()})
    app = app_class(__name__, static_folder="static", static_url_path="/static")
    app.config.from_mapping(DEFAULTS)
    if config:
        app.config.from_mapping(config)
    app.config["DEBUG"] = False
    app.config["REPORT_DIR"] = Path(app.config["REPORT_DIR"])
    proxies = proxy.trusted_proxies(app.config["TRUSTED_PROXIES"])
    root = Path(app.config["ARTIFACTS_ROOT"])
    lock = Path(app.config["DVC_LOCK"] or root / "dvc.lock")
    app.extensions["artifacts"] = artifacts.load(root, lock)
    errors.register(app)
    app.register_blueprint(routes.bp, url_prefix="/api")
    app.register_blueprint(pages.bp)
    app.wsgi_app = proxy.behind_proxies(SecurityHeaders(app.wsgi_app), proxies)
    return app

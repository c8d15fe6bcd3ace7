"""Serving behind a reverse proxy, at / or under a sub-path (``https://intranet.example/segmentation/``).

The staff page uses relative URLs only, so it works under any prefix a proxy strips. What the app itself must do:
write its redirects as relative references (a ``Location`` built from the path the app sees would send a browser
behind a prefix-stripping proxy to the root), and, only when the operator says how many proxies to trust, read the
``X-Forwarded-*`` headers they set (forwarded headers are never trusted by default: a client can send them too).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

#: The environment variable an operator sets to the number of proxies in front of the app (default 0: none trusted).
TRUSTED_PROXIES_ENV = "SEGMENTATION_TRUSTED_PROXIES"


def relative_location(location: str, environ: dict[str, Any]) -> str:
    """``location`` (a redirect to this app, as werkzeug writes it: absolute, with the app's prefix) as a reference
    relative to the URL the browser asked for, so it holds whatever prefix a proxy stripped on the way in.

    ``environ`` is the request's. A redirect to another host, or outside the app's prefix, is returned as it is.
    """
    from werkzeug.wsgi import get_host

    script_name = environ.get("SCRIPT_NAME", "")
    parts = urlsplit(location)
    if (parts.netloc and parts.netloc != get_host(environ)) or not parts.path.startswith(script_name + "/"):
        return location
    reference = relative_reference(parts.path[len(script_name) :], environ)
    return reference + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def relative_reference(target: str, environ: dict[str, Any]) -> str:
    """A reference to ``target``, a path of this app from its root (``/api/openapi.json``), relative to the URL the
    browser asked for (the request's ``environ``): it reaches the app under whatever prefix, kept or stripped."""
    script_name, path_info = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
    if not path_info:
        # the app's root without its slash (/segmentation): the browser resolves against the folder above it
        return "./" + script_name.rsplit("/", 1)[-1] + target
    # /a/b resolves a reference against /a/: one "../" per folder between it and the app's root
    return ("../" * _folders_below_root(environ) or "./") + target[1:]


def _folders_below_root(environ: dict[str, Any]) -> int:
    """How many folders below the app's root the URL the browser asked for is (``/report``: 0, ``/api/x``: 1).

    Counted in the path as it was sent (``RAW_URI``, ``REQUEST_URI``) where the server gives it and it is this
    request's: ``PATH_INFO`` has an encoded slash (``/api%2F/health``) decoded, a slash that separates no folder for
    the browser."""
    script_name, path_info = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
    sent = sent_path(environ)
    if sent.startswith("/"):
        decoded = unquote(sent, encoding="latin-1")  # as PATH_INFO is decoded (PEP 3333)
        if decoded == path_info:  # a proxy took the prefix off, or there is none
            return sent.count("/") - 1
        if decoded == script_name + path_info:  # the prefix is still in the path sent
            return sent.count("/") - script_name.count("/") - 1
    return path_info.count("/") - 1


def sent_path(environ: dict[str, Any]) -> str:
    """The path as the client sent it, still percent-encoded (``RAW_URI`` or ``REQUEST_URI`` without the query), or ""."""
    return (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]


def decoded_slash_location(environ: dict[str, Any]) -> str | None:
    """For a GET or HEAD whose path has an encoded slash, the relative ``Location`` of that path with real slashes."""
    # The app sees %2F decoded (PEP 3333) and serves /report%2F as /report/, but the browser resolves the page's
    # relative links against the URL as written, one folder up. Only the slash matters: WHATWG's parser reads %2e as
    # a dot itself, and other characters are kept as sent. None: another method, no encoded slash, a path the app
    # cannot match to what was sent, or one whose decoded slashes make a . or .. folder (it would leave the app).
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    script_name, path_info, sent = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), sent_path(environ)
    if unquote(sent, encoding="latin-1") == path_info:  # a proxy took the prefix off, or there is none
        below = sent
    elif sent.startswith(script_name):  # the prefix is still in the path sent
        below = sent[len(script_name) :]
    else:
        return None
    slashes = re.sub("%2f", "/", below, flags=re.IGNORECASE)
    if slashes == below or not below.startswith("/") or unquote(below, encoding="latin-1") != path_info:
        return None
    target = re.sub("/{2,}", "/", slashes)  # merged, as the router would merge them with a second redirect
    if any(unquote(segment) in (".", "..") for segment in target.split("/")):
        return None
    query = environ.get("QUERY_STRING", "")
    return relative_reference(target, environ) + (f"?{query}" if query else "")


def trusted_proxies(config_value: Any) -> int:
    """The number of proxies whose ``X-Forwarded-*`` headers are trusted: the config's ``TRUSTED_PROXIES`` when set,
    else the environment's ``SEGMENTATION_TRUSTED_PROXIES`` (empty counts as unset), else 0. Anything but a whole number ≥ 0 stops start-up."""
    source, value = ("TRUSTED_PROXIES", config_value) if config_value is not None else (TRUSTED_PROXIES_ENV, os.environ.get(TRUSTED_PROXIES_ENV) or "0")
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise SystemExit(f"error: cannot start the API: {source} must be the number of proxies in front of it (0, 1, …), not {value!r}")
    return int(text)


class KeptPrefix:
    """WSGI middleware: a proxy that keeps the prefix in the path (``/segmentation/api/health``) and names it in
    ``X-Forwarded-Prefix`` (set as ``SCRIPT_NAME`` by ProxyFix) gets the path without it, as gunicorn does for its
    ``SCRIPT_NAME`` setting. A path without the prefix (a proxy that strips it) is left as it is."""

    def __init__(self, wsgi_app: Any):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Serve the request with the prefix moved from ``PATH_INFO`` to ``SCRIPT_NAME``."""
        prefix = environ.get("SCRIPT_NAME", "").rstrip("/")
        environ["SCRIPT_NAME"] = prefix
        path = environ.get("PATH_INFO", "")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            environ["PATH_INFO"] = path[len(prefix) :]
        return self.wsgi_app(environ, start_response)


def behind_proxies(wsgi_app: Any, proxies: int) -> Any:
    """``wsgi_app`` reading the client's address, scheme, host and prefix from the ``X-Forwarded-For``, ``-Proto``,
    ``-Host`` and ``-Prefix`` headers of the last ``proxies`` proxies (werkzeug's ProxyFix); itself when 0."""
    if proxies == 0:
        return wsgi_app
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(KeptPrefix(wsgi_app), x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)

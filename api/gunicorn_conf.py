"""gunicorn's settings for serving the app, the one definition `make serve` and `make bench` (which measures under
them) share: ``gunicorn -c python:api.gunicorn_conf --bind 127.0.0.1:8000 'api:create_app()'``.

``WORKERS`` and ``TIMEOUT`` in the environment override the defaults (``make serve WORKERS=3``). The address is
given on the command line (``--bind``; the Makefile's ``HOST`` and ``PORT``); without it, loopback port 8000 (:data:`bind`),
never gunicorn's own default, which listens on every interface when a ``PORT`` variable is set.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping
from typing import Any


def default_workers() -> int:
    """2 × the cores this process may run on, plus 1 (gunicorn's advice for sync workers); the cores as ``nproc``
    counts them (``os.sched_getaffinity``), not every core of the machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores + 1


def positive_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> tuple[int, str | None]:
    """The environment's ``name`` as a whole number of at least 1 (``default`` when unset or empty), and what is
    wrong with it, naming the variable, when it is something else (the value is then ``default``)."""
    text = environ.get(name, "").strip()
    if not text:
        return default, None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        return default, f"{name}={text!r}: must be a whole number of at least 1, such as {name}={default}"
    return int(text), None


def bind_problem(host: str, port: int) -> str | None:
    """Why gunicorn could not listen on ``host``:``port``, in words that say what to do, or None when it can.

    Tried as gunicorn binds (``SO_REUSEADDR``, so a port whose last connections are still closing counts as free).
    gunicorn itself retries a port in use five times, logging two errors a second, and ends with "Can't connect".
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot serve on {host}:{port}: {host!r} is not an address or host name this machine knows ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"cannot serve on {url}: the port is in use, most likely by a `make run` or `make serve` "
                        f"already running (`ss -ltnp 'sport = :{port}'` shows which program). Stop it (Ctrl-C where it "
                        f"runs), or serve on another port: make run PORT={port + 1 if port < 65535 else 8001}")
            if exc.errno == errno.EACCES:
                return f"cannot serve on {url}: not allowed to listen on port {port} (ports below 1024 need root); use a port of 1024 or more, such as make run PORT=8000"
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"cannot serve on {url}: {host} is not an address of this machine; use one that is, such as 127.0.0.1 (the default of make run)"
            return f"cannot serve on {url}: {exc.strerror}"
    return None


def on_starting(server: Any) -> None:
    """Before gunicorn binds: stop with one clear message (``RuntimeError``, which gunicorn prints as ``Error: …``
    and exits 1) when a setting above is wrong or an address cannot be listened on, instead of a traceback, or of
    gunicorn's retries and "Can't connect". (A setting's error waits for this hook: an exception while gunicorn
    reads this module would print a traceback.)"""
    if PROBLEMS:
        raise RuntimeError("; ".join(PROBLEMS))
    for address in server.cfg.address:
        if isinstance(address, tuple):
            problem = bind_problem(str(address[0]), int(address[1]))
            if problem:
                raise RuntimeError(problem)


def when_ready(server: Any) -> None:
    """Say where the app is served, once it is."""
    for listener in server.LISTENERS:
        n = server.cfg.workers
        server.log.info("serving on %s/ with %d worker%s (Ctrl-C stops)", listener, n, "" if n == 1 else "s")


workers, _workers_problem = positive_int("WORKERS", default_workers())
# Seconds a worker may spend on one request before gunicorn kills it: gunicorn's default, 30, is shorter than the
# worst 100,000-row file (every row refused, each error worded for people).
timeout, _timeout_problem = positive_int("TIMEOUT", 120)
#: What is wrong with the environment's settings, reported by :func:`on_starting`.
PROBLEMS = [p for p in (_workers_problem, _timeout_problem) if p]
#: Loopback unless --bind says otherwise: gunicorn's default is 0.0.0.0:$PORT when the environment has a PORT.
bind = ["127.0.0.1:8000"]
preload_app = True  # the artifacts are checked and loaded once, before the workers fork
accesslog = "-"
# gunicorn 27 (pinned in constraints.txt) opens a control socket for `gunicornc` at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
# ~/.gunicorn/gunicorn.ctl): a second server (`make bench`, another project) takes the path over, and the first one
# to stop removes it from under the other. Nothing here uses it; stop the server with Ctrl-C or a signal.
control_socket_disable = True

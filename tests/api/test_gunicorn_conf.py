"""gunicorn's settings (api/gunicorn_conf.py, used by `make serve` and `make bench`): a port in use, an address
that is not this machine's and a wrong WORKERS or TIMEOUT each stop start-up with one message that says what to do,
never gunicorn's retries or a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api import gunicorn_conf
from stages import config
from tests.conftest import free_port, gunicorn_command


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.parametrize(("text", "expected"), [(None, 7), ("", 7), ("3", 3), (" 4 ", 4), ("1", 1)])
def test_positive_int_reads_a_whole_number_or_the_default(text: str | None, expected: int) -> None:
    environ = {} if text is None else {"WORKERS": text}
    assert gunicorn_conf.positive_int("WORKERS", 7, environ) == (expected, None)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.5", "٣", "2e3"])
def test_positive_int_names_the_variable_of_a_wrong_value(text: str) -> None:
    value, problem = gunicorn_conf.positive_int("WORKERS", 7, {"WORKERS": text})
    assert value == 7
    assert problem == f"WORKERS={text!r}: must be a whole number of at least 1, such as WORKERS=7"


def test_default_workers_follow_the_cores_this_process_may_use() -> None:
    assert gunicorn_conf.default_workers() == 2 * len(os.sched_getaffinity(0)) + 1


def test_a_free_port_has_no_problem() -> None:
    assert gunicorn_conf.bind_problem("127.0.0.1", free_port()) is None


def test_a_port_in_use_says_what_to_do(busy_port: int) -> None:
    problem = gunicorn_conf.bind_problem("127.0.0.1", busy_port)
    assert problem is not None
    assert problem.startswith(f"cannot serve on http://127.0.0.1:{busy_port}/: the port is in use")
    assert f"make run PORT={busy_port + 1}" in problem
    assert f"sport = :{busy_port}" in problem


def test_an_address_of_another_machine_is_named() -> None:
    problem = gunicorn_conf.bind_problem("192.0.2.1", free_port())  # TEST-NET-1: documentation only, never local
    assert problem is not None and "192.0.2.1 is not an address of this machine" in problem


def test_an_unknown_host_name_is_named() -> None:
    problem = gunicorn_conf.bind_problem("no-such-host.invalid", 8000)
    assert problem is not None and "'no-such-host.invalid' is not an address or host name" in problem


def serve(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    """Run gunicorn as `make serve` does until it exits (it should, at once)."""
    return subprocess.run(gunicorn_command(port), cwd=config.ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_served_on_a_port_in_use_stops_with_one_message(busy_port: int) -> None:
    done = serve(busy_port, WORKERS="1")
    assert done.returncode == 1
    assert f"Error: cannot serve on http://127.0.0.1:{busy_port}/: the port is in use" in done.stderr
    assert "Connection in use" not in done.stderr  # gunicorn's five retries never started
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("name", "value"), [("WORKERS", "many"), ("TIMEOUT", "0")])
def test_served_with_a_wrong_setting_stops_with_one_message(name: str, value: str) -> None:
    done = serve(free_port(), **{name: value})
    assert done.returncode == 1
    assert f"Error: {name}={value!r}: must be a whole number of at least 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_served_says_where_once_ready_and_opens_no_control_socket(tmp_path: Path) -> None:
    """The line that says where; and no control socket for gunicornc at the one path per user (a second server
    would take it over), which gunicorn would have made in $XDG_RUNTIME_DIR, else in ~/.gunicorn."""
    port = free_port()
    env = {**os.environ, "WORKERS": "1", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)}
    with subprocess.Popen(gunicorn_command(port), cwd=config.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as server:
        stop = threading.Timer(60, server.kill)  # never wait for ever on a server that neither says it nor exits
        stop.start()
        try:
            assert server.stderr is not None
            seen = [""]
            for line in server.stderr:  # gunicorn's log; the loop ends when the line comes or gunicorn exits
                seen.append(line)
                if "serving on" in line:
                    break
            assert f"serving on http://127.0.0.1:{port}/ with 1 worker (Ctrl-C stops)" in seen[-1], "".join(seen)
            time.sleep(1)  # the control socket, when there is one, is opened after the workers start
            assert list(tmp_path.iterdir()) == [], "".join(seen)
        finally:
            stop.cancel()
            server.terminate()
            server.wait(timeout=30)


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """gunicorn's settings as its command line reads them: ``gunicorn -c python:api.gunicorn_conf *args``."""
    from gunicorn.app.wsgiapp import WSGIApplication

    monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", "python:api.gunicorn_conf", *args, "api:create_app()"])
    monkeypatch.delitem(sys.modules, "api.gunicorn_conf")  # read afresh, with the environment as it is now
    return WSGIApplication().cfg  # reads the command line and the config module; loads no app


def test_without_bind_it_listens_on_loopback_even_where_the_environment_has_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's own default is 0.0.0.0:$PORT when PORT is set: every interface. Ours stays on loopback."""
    monkeypatch.setenv("PORT", "9999")
    assert gunicorn_settings(monkeypatch).address == [("127.0.0.1", 8000)]
    assert gunicorn_settings(monkeypatch, "--bind", "127.0.0.1:8123").address == [("127.0.0.1", 8123)]


def test_the_settings_make_serve_runs_with(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "3")
    cfg = gunicorn_settings(monkeypatch)
    assert (cfg.workers, cfg.timeout, cfg.preload_app, cfg.control_socket_disable) == (3, 120, True, True)
    assert cfg.accesslog == "-"

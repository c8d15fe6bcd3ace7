"""The API served by gunicorn, as ``make serve`` does: bodies that break HTTP's framing get a JSON 400, never a 500
and never a silently shortened batch (gunicorn hands over what arrived, not an error, when a body ends early)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from stages import config
from tests.api.conftest import GOOD, HEADER
from tests.conftest import free_port, gunicorn_command


@pytest.fixture(scope="module")
def served() -> Iterator[int]:
    """gunicorn serving ``api:create_app()`` on a free loopback port; yields the port."""
    port = free_port()
    env = {**os.environ, "WORKERS": "1"}  # the settings of `make serve`, with one worker
    with subprocess.Popen(gunicorn_command(port), cwd=config.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as server:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    assert server.stderr is not None
                    pytest.fail(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        try:
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def raw_request(port: int, head: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Send ``head`` (request line and headers) and ``body`` as they are, close our side, return status and JSON."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        data = response.read()
        assert response.getheader("Content-Type") == "application/json", data[:300]
        return response.status, json.loads(data)


def headers(path: str, content_type: str, **extra: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}", *[f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]]
    return "\n".join(lines) + "\n"


CSV = (HEADER + "\n" + ",".join(map(str, GOOD.values())) + ",,\n").encode()
UPLOAD = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n' + CSV + b"\r\n--b--\r\n"
)


def test_a_whole_csv_body_is_answered(served: int) -> None:
    status, answer = raw_request(served, headers("/api/segment/batch", "text/csv", Content_Length=str(len(CSV))), CSV)
    assert status == 200 and answer["n_ok"] == 1


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [("/api/segment", "application/json", json.dumps(GOOD).encode()), ("/api/segment/batch", "text/csv", CSV), ("/api/segment/batch", "multipart/form-data; boundary=b", UPLOAD)],
    ids=["customer", "CSV body", "upload"],
)
def test_a_body_that_ends_before_its_content_length_is_a_400(served: int, path: str, content_type: str, body: bytes) -> None:
    """The last number cut short (1338 → 13) would be scored as 13 if the shortened body were read as the whole."""
    cut = body[: body.rindex(b"1338") + 2] if b"1338" in body else body[:-5]
    status, answer = raw_request(served, headers(path, content_type, Content_Length=str(len(body))), cut)
    assert status == 400, answer
    assert "ended before its Content-Length" in answer["error"]["message"]


@pytest.mark.parametrize("chunk_size", ["5", "zz"])
@pytest.mark.parametrize(("path", "content_type", "body"), [("/api/segment", "application/json", json.dumps(GOOD).encode()), ("/api/segment/batch", "text/csv", CSV)], ids=["customer", "CSV body"])
def test_a_broken_chunked_body_is_a_400(served: int, path: str, content_type: str, body: bytes, chunk_size: str) -> None:
    """A chunk whose size line is wrong (5 for a longer chunk) or not a number."""
    chunked = chunk_size.encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    status, answer = raw_request(served, headers(path, content_type, Transfer_Encoding="chunked"), chunked)
    assert status == 400, answer
    assert "chunked transfer encoding is broken" in answer["error"]["message"]


@pytest.mark.parametrize(("path", "content_type", "body"), [("/api/segment", "application/json", json.dumps(GOOD).encode()), ("/api/segment/batch", "text/csv", CSV)], ids=["customer", "CSV body"])
def test_a_chunked_body_that_never_ends_is_a_400_that_says_so(served: int, path: str, content_type: str, body: bytes) -> None:
    """The client closes after a whole chunk but before the last (empty) one: no Content-Length to speak of."""
    chunked = f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n"
    status, answer = raw_request(served, headers(path, content_type, Transfer_Encoding="chunked"), chunked)
    assert status == 400, answer
    assert answer["error"]["message"] == "The request body ended before its last chunk."


def test_a_whole_chunked_body_is_answered(served: int) -> None:
    body = json.dumps(GOOD).encode()
    chunked = f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    status, answer = raw_request(served, headers("/api/segment", "application/json", Transfer_Encoding="chunked"), chunked)
    assert status == 200 and answer["segment"] in range(10)

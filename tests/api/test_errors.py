"""Every error answer is JSON in one shape, Flask's own errors and unexpected ones included."""

from __future__ import annotations

from typing import NoReturn

import pytest
from flask import Flask

from api import create_app


@pytest.fixture(scope="module")
def failing_app() -> Flask:
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom() -> NoReturn:
        raise RuntimeError("secret detail")

    return app


@pytest.mark.parametrize(("method", "path", "status"), [("get", "/nowhere", 404), ("put", "/api/health", 405), ("get", "/api/segment", 405), ("get", "/boom", 500)])
def test_errors_are_json(failing_app: Flask, method: str, path: str, status: int, caplog: pytest.LogCaptureFixture) -> None:
    r = getattr(failing_app.test_client(), method)(path)
    assert r.status_code == status and r.is_json
    error = r.get_json()["error"]
    assert error["status"] == status and error["title"] and error["message"]
    assert "secret detail" not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)

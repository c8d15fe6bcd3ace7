"""The staff page at / and the Quarto report at /report/."""

from __future__ import annotations

from pathlib import Path

from api import create_app


def test_report_not_built_is_a_json_404_with_instructions(tmp_path: Path) -> None:
    client = create_app({"REPORT_DIR": tmp_path / "none"}).test_client()
    r = client.get("/report/")
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "report not built: install Quarto and run make site"
    assert client.get("/api/fields").get_json()["report_available"] is False


def test_report_pages_are_served_when_built(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "index.html").write_text("<h1>report</h1>")
    (tmp_path / "notebooks" / "index.html").write_text("<h1>nb</h1>")
    client = create_app({"REPORT_DIR": tmp_path}).test_client()
    with client.get("/report/") as r:
        assert b"report" in r.data and "unsafe-inline" in r.headers["Content-Security-Policy"]
    with client.get("/report/notebooks/") as r:
        assert b"nb" in r.data
    assert client.get("/report/../dvc.lock").status_code == 404
    assert client.get("/report/missing.html").status_code == 404
    assert client.get("/api/fields").get_json()["report_available"] is True


def test_staff_page_served_when_built(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><html><title>built page</title></html>")
    app = create_app()
    app.static_folder = str(tmp_path)
    with app.test_client().get("/") as r:
        assert r.status_code == 200 and b"<title>built page</title>" in r.data
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_staff_page_not_built_says_run_make_web(tmp_path: Path) -> None:
    app = create_app()
    app.static_folder = str(tmp_path)  # an empty folder: nothing built
    with app.test_client().get("/") as r:
        assert r.status_code == 503 and "make web" in r.get_json()["error"]["message"]

"""Pages served beside the API: the staff page at / and the Quarto report at /report/."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from api.errors import ApiError, openapi_address

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Response:
    """The staff page (built by `make web` into api/static/)."""
    static = Path(current_app.static_folder or "")
    if not (static / "index.html").is_file():
        raise ApiError(503, f"The staff page is not built: run `make web`. The API itself works: it is described at {openapi_address()}.")
    return send_from_directory(static, "index.html")


@bp.get("/report/", defaults={"path": ""})
@bp.get("/report/<path:path>")
def report(path: str) -> Response:
    """The Quarto report site (site/_site), where it has been rendered."""
    root: Path = current_app.config["REPORT_DIR"]
    if not (root / "index.html").is_file():
        raise ApiError(404, "report not built: install Quarto and run make site")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return send_from_directory(root, path)

"""JSON error answers: one shape for every 4xx and 5xx, registered on the app so Flask's own errors are JSON too."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING

from api.fields import FieldError

if TYPE_CHECKING:  # Flask is imported where answers are made, so the command-line scorer does not load it
    from flask import Flask, Response
    from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than 2xx: status, a sentence for people, and the fields (and rows) at fault."""

    def __init__(self, status: int, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


def error_response(status: int, message: str, errors: list[FieldError] | None = None) -> Response:
    """The JSON body of an error answer (see ``ErrorOut``)."""
    from flask import jsonify

    body = {
        "error": {
            "status": status,
            "title": HTTPStatus(status).phrase,
            "message": message,
            "errors": [e.as_dict() for e in errors or []],
        }
    }
    response = jsonify(body)
    response.status_code = status
    return response


def openapi_address() -> str:
    """Where the API is described, as an answer's text names it: under the app's prefix where the app knows it
    (gunicorn's ``SCRIPT_NAME``, a trusted ``X-Forwarded-Prefix``), else relative to the URL asked for, the one way to
    name it that holds both at the root and behind a proxy that strips a prefix the app never sees."""
    from flask import request, url_for

    from api.proxy import relative_reference

    path = url_for("api.openapi")
    return path if request.script_root else f"{relative_reference(path, request.environ)}, relative to this address"


#: Sentences for Flask's own errors, where its default text is written for developers ({openapi}: openapi_address()).
MESSAGES = {
    400: "The request could not be read. If it has a JSON body, check that it is valid JSON.",
    404: "There is nothing at this address. The API is described at {openapi}.",
    405: "This address does not accept that method. The API is described at {openapi}.",
    415: "Send the body as application/json (or, for a batch, text/csv or a multipart upload with a field named file).",
}


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.message, exc.errors)


def _http_error(exc: HTTPException) -> Response:
    from werkzeug.exceptions import RequestEntityTooLarge

    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        message = "The request body is larger than this service accepts; send fewer rows per request or use `python -m api.score`."
    elif status in (404, 405):  # the texts that name where the API is described
        message = MESSAGES[status].format(openapi=openapi_address())
    else:
        message = MESSAGES.get(status, exc.description or HTTPStatus(status).phrase)
    response = error_response(status, message)
    if status == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error")
    return error_response(500, "Something went wrong on our side; the error was logged. Please try again or tell the team.")


def register(app: Flask) -> None:
    """Answer every error with the JSON error shape."""
    from werkzeug.exceptions import HTTPException

    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

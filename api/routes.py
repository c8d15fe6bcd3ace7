"""The /api blueprint: segment one customer or a batch, and serve the model's personas, map, k sweep and fields."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import ClientDisconnected

from api import csvio
from api.artifacts import Artifacts
from api.batch import NO_IMPUTE, Scored, check_one, check_records, counts, echo_columns, json_object, json_object_with_array, json_results, keys_given_once, score
from api.errors import ApiError
from api.fields import FEATURES, FieldError
from api.openapi import openapi_document
from api.schemas import CustomerIn
from stages.dataset import LABEL_CODES

bp = Blueprint("api", __name__)


def artifacts() -> Artifacts:
    """The artifacts loaded by ``create_app``."""
    return current_app.extensions["artifacts"]


def _invalid(errors: list[FieldError], what: str = "The customer's data is not valid") -> ApiError:
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    return ApiError(422, f"{what}: check {fields}.", errors)


try:  # how gunicorn reports a body it cannot de-chunk (a bad chunk size, a chunk without its terminator)
    from gunicorn.http.errors import ParseException as _ServerParseError
except ImportError:  # served by another WSGI server

    class _ServerParseError(Exception):  # type: ignore[no-redef]
        """Never raised: stands in for gunicorn's error when gunicorn is not installed."""


def _incomplete() -> ApiError:
    chunked = "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return ApiError(400, f"The request body ended before {'its last chunk' if chunked else 'its Content-Length'}.",
                    [FieldError(field="body", message="incomplete body")])


def _declared_length() -> int | None:
    """The Content-Length the client declared, when it is a plain number and the body is not chunked."""
    environ = request.environ
    declared = environ.get("CONTENT_LENGTH", "")
    plain = declared.isascii() and declared.isdigit() and "HTTP_TRANSFER_ENCODING" not in environ
    return int(declared) if plain else None


def _uncompressed() -> None:
    """415 for a body sent with a Content-Encoding (gzip, br…): it would otherwise be read as garbled text."""
    coding = request.environ.get("HTTP_CONTENT_ENCODING")
    if coding is not None and coding.strip().lower() not in ("", "identity"):
        raise ApiError(415, f"Content-Encoding {coding.strip()} is not supported: send the body uncompressed.",
                       [FieldError(field="Content-Encoding", message="not supported")])


def _whole_body() -> bytes:
    """The whole body through werkzeug (cached, so a multipart form is parsed from it): 400 when it ends before its
    Content-Length (gunicorn hands over what arrived) or its chunked framing is broken, 413 beyond the limit."""
    try:
        data = request.get_data()
    except ClientDisconnected:  # werkzeug's own stream (no ``wsgi.input_terminated``): the body ended early
        raise _incomplete() from None
    except (OSError, _ServerParseError) as exc:
        raise ApiError(400, f"The request body could not be read: its chunked transfer encoding is broken ({type(exc).__name__}).",
                       [FieldError(field="body", message="malformed chunked encoding")]) from None
    length = _declared_length()
    if length is not None and len(data) < length:
        raise _incomplete()
    return data


def _body(what: str = "the customer as a JSON object") -> bytes:
    """The request body; 415 unless it is uncompressed JSON, 400 when empty (asking for ``what``), 413 beyond
    MAX_CONTENT_LENGTH.

    The common case, a plain Content-Length within the limit, is read straight from the WSGI input: werkzeug's
    wrapped stream (``request.get_data()``) costs more than validating and scoring a customer together.
    Anything else (chunked bodies, no or bad Content-Length) goes through ``request.get_data()``, which
    follows the HTTP rules (Transfer-Encoding wins over Content-Length).
    """
    environ = request.environ
    if environ.get("CONTENT_TYPE") != "application/json" and not request.is_json:  # the common spelling needs no parsing
        raise ApiError(415, "Send the customer as JSON with the header Content-Type: application/json.")
    _uncompressed()
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    length = _declared_length()
    if length is not None and (limit is None or length <= limit):
        data = environ["wsgi.input"].read(length)
        if len(data) < length:
            raise _incomplete()
    else:
        data = _whole_body()
    if not data.strip():
        raise ApiError(400, f"The request body is empty: send {what}.", [FieldError(field="body", message="empty body")])
    return data


def _not_json(detail: str) -> ApiError:
    return ApiError(400, f"The body is not valid JSON ({detail}).", [FieldError(field="body", message="malformed JSON")])


def _json_body(what: str) -> Any:
    """The request's JSON (see :func:`_body`); 400 for malformed JSON."""
    return _parse_json(_body(what))


def _parse_json(data: bytes) -> Any:
    """JSON text → Python (UTF-8, -16 or -32, a byte-order mark allowed); 400 for malformed JSON. An object that
    gives a key twice comes back as a :class:`~api.batch.RepeatedKeys`, which validation refuses, naming the key."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        if keys_given_once(data, value):
            return value
    # NaN and Infinity are not JSON, but Python and JavaScript clients write them: read them to name the field
    try:
        return json.loads(data, object_pairs_hook=json_object)
    except (ValueError, RecursionError) as exc:
        raise _not_json(str(exc)) from None


def _customer(data: bytes) -> CustomerIn:
    """One customer from JSON text; 400 for malformed JSON, 422 naming each field that is wrong.

    A valid customer in plain UTF-8 JSON, each field given once, is parsed and validated in one pydantic call.
    Anything else (a field that is wrong, a field given twice, a byte-order mark, UTF-16, malformed JSON) is read
    the way a batch's row is, so a customer gets the same verdict and the same words sent alone or in a batch.
    """
    try:
        customer = CustomerIn.model_validate_json(data)
    except ValidationError:
        pass  # read as a batch's row is: the same words, and a field given twice is named
    else:
        if data.count(b":") == len(customer.model_fields_set):  # else a field may have been given twice
            return customer
    result = check_one(_parse_json(data))
    if isinstance(result, list):
        raise _invalid(result)
    return result


@bp.post("/segment")
def segment() -> Response:
    """Segment one customer: persona, distances, confidence, whether it is atypical, map position and model version."""
    customer = _customer(_body())
    art = artifacts()
    spending = customer.spending()
    missing = [f for f, v in zip(FEATURES, spending, strict=True) if math.isnan(v)]
    if missing and art.segmenter.impute is None:
        raise _invalid([FieldError(field=f, message=NO_IMPUTE) for f in missing])
    a = art.segmenter.assign_one(spending)
    names = art.persona_names
    x, y = a.map_xy
    return Response(orjson.dumps(
        {
            "segment": a.segment,
            "persona": art.brief_fragments[a.segment],
            "distances": [{"segment": j, "name": names[j], "distance": d} for j, d in enumerate(a.distances)],
            "confidence": a.confidence,
            "atypical": art.segmenter.atypical(min(a.distances)),
            "probabilities": a.probabilities,
            "position": {"x": x, "y": y},
            "imputed": missing,
            "input": {**dict(zip(FEATURES, a.spending, strict=True)), "Channel": customer.Channel, "Region": customer.Region},
            "model_version": art.model_version,
        }
    ), mimetype="application/json")


def _wants_csv() -> bool:
    fmt = request.args.get("format")
    if fmt is not None:
        if fmt not in ("json", "csv"):
            raise ApiError(422, "format must be json or csv.", [FieldError(field="format", message="must be json or csv")])
        return fmt == "csv"
    # media-type parameters (text/csv; charset=utf-8) do not change the format; werkzeug would match them literally
    accepted = MIMEAccept([(value.split(";")[0].strip(), quality) for value, quality in request.accept_mimetypes])
    # JSON wins a tie; a type we cannot give gets JSON, as RFC 9110 (12.5.1) lets a server disregard Accept rather
    # than answer 406
    return accepted.best_match(["application/json", *csvio.CSV_ANSWER_TYPES]) in csvio.CSV_ANSWER_TYPES


def _row_limit(n: int) -> None:
    limit = current_app.config["BATCH_MAX_ROWS"]
    if n > limit:
        raise ApiError(413, f"The batch has {n:,} rows; at most {limit:,} are accepted per request. Split it, or run `python -m api.score IN.csv -o OUT.csv`.")
    if n == 0:
        raise ApiError(422, "The batch is empty: send at least one customer.", [FieldError(field="body", message="no rows")])


def _complete_form(data: bytes) -> None:
    """400 for a multipart form that cannot be read to its end: no boundary in the Content-Type, or no closing
    boundary (``--b--``) in the body, which a form cut off in transit (or by a proxy) lacks. werkzeug drops the
    unfinished part, and the answer was "upload the file in a field named file", sending the sender looking for a
    field name that was right."""
    boundary = request.mimetype_params.get("boundary", "")
    if not boundary:
        raise ApiError(400, "The multipart/form-data body cannot be read: its Content-Type gives no boundary.",
                       [FieldError(field="Content-Type", message="no boundary")])
    if b"--" + boundary.encode("latin-1", "replace") + b"--" not in data:
        raise ApiError(400, "The multipart/form-data body ends before its closing boundary: the upload was cut off. Send the file again.",
                       [FieldError(field="body", message="incomplete form")])


def _csv_source() -> io.BytesIO | Any:
    _uncompressed()
    data = _whole_body()
    if request.mimetype == "multipart/form-data":
        _complete_form(data)  # before werkzeug parses it: it would drop the unfinished part (and leave its spool open)
        uploads = request.files.getlist("file")
        if not uploads:
            raise ApiError(422, "Upload the CSV file in a form field named file.", [FieldError(field="file", message="missing")])
        if len(uploads) > 1:  # scoring the first alone would drop the others without a word
            raise ApiError(422, f"{len(uploads)} files were uploaded: send one file per request.", [FieldError(field="file", message="more than one file")])
        return uploads[0].stream
    return io.BytesIO(data)


def _csv_response(table: pa.Table) -> Response:
    sink = pa.BufferOutputStream()
    csvio.write_table(table, sink)
    response = Response(sink.getvalue().to_pybytes(), mimetype="text/csv")
    response.headers["Content-Disposition"] = csvio.CSV_ANSWER_DISPOSITION
    return response


def _json_response(parts: list[Scored], ignored: list[str] | None = None, cells: list[list[pa.Array]] | None = None, encoding: str = "utf-8") -> Response:
    """The JSON answer to a batch; ``ignored`` names a CSV's columns that were not read (carried to a CSV answer),
    ``cells`` holds their cells for each part, and ``encoding`` is the codec the body was read in."""
    art = artifacts()
    total = np.zeros(art.segmenter.k, dtype=np.int64)
    for scored in parts:
        total += np.array(list(counts(scored, art.segmenter.k).values()), dtype=np.int64)
    n_rows = sum(len(s.checked.rows) for s in parts)
    n_errors = sum(len(s.checked.errors) for s in parts)
    head = {
        "model_version": art.model_version,
        "n_rows": n_rows,
        "n_ok": n_rows - n_errors,
        "n_errors": n_errors,
        "counts": {str(i): int(c) for i, c in enumerate(total)},
        "ignored_columns": ignored or [],
        "encoding": csvio.ENCODING_NAMES[encoding],
    }
    results = [json_results(scored, art.persona_names, cells[i] if cells else ()) for i, scored in enumerate(parts)]
    body = json_object_with_array(head, "results", results)
    return Response(body, mimetype="application/json")


@bp.post("/segment/batch")
def segment_batch() -> Response:
    """Segment many customers (JSON array, CSV body or multipart upload): one result or error per row, in order."""
    art = artifacts()
    as_csv = _wants_csv()
    if request.is_json:  # application/json or a +json type, as for one customer (werkzeug's rule)
        records = _json_body("the customers as a JSON array")
        if not isinstance(records, list):
            raise ApiError(422, "The batch must be a JSON array of customers.", [FieldError(field="body", message="must be a JSON array")])
        _row_limit(len(records))
        scored = score(art.segmenter, check_records(records))
        if as_csv:
            echo = pa.table(echo_columns(scored.checked, records))
            return _csv_response(csvio.answer_table(echo, scored, art.persona_names))
        return _json_response([scored])
    if request.mimetype in csvio.CSV_TYPES or request.mimetype == "multipart/form-data":
        source = _csv_source()
        try:
            header = csvio.read_header(source)
            chunks = list(csvio.iter_chunks(source, header))
            n = sum(len(c.rows) + len(c.malformed) for c in chunks)
            if n == 0:  # as python -m api.score says it
                raise ApiError(422, csvio.NO_ROWS, [FieldError(field="body", message="no rows")])
        except ApiError as exc:  # an uploaded file's problems belong to its form field, as the page shows them
            if request.mimetype == "multipart/form-data":
                exc.errors = [dataclasses.replace(e, field="file") if e.field == "body" else e for e in exc.errors]
            raise
        _row_limit(n)
        parts = []
        running = csvio.Running()  # a totals row is found under any number of blocks
        for chunk in chunks:
            checked, echo = csvio.check_chunk(chunk, header, running)
            parts.append((echo, score(art.segmenter, checked)))
        if as_csv:
            tables = [csvio.answer_table(echo, scored, art.persona_names, header.carried) for echo, scored in parts]
            return _csv_response(pa.concat_tables(tables))
        cells = [[echo.column(i).combine_chunks() for i in header.carried] for echo, _ in parts]
        return _json_response([s for _, s in parts], header.carried_names, cells, chunks[-1].encoding)
    raise ApiError(415, "Send the batch as a JSON array (application/json), a CSV body (text/csv) or a multipart upload with a field named file.")


@bp.get("/clusters")
def clusters() -> Response:
    """All personas of the served model."""
    return jsonify(artifacts().clusters)


@bp.get("/pca")
def pca() -> Response:
    """The PCA map: customers' positions and segments, segment centres, explained variance."""
    return jsonify(artifacts().pca)


@bp.get("/elbow")
def elbow() -> Response:
    """The k sweep: every criterion per algorithm and k, and the k chosen."""
    return jsonify(artifacts().elbow)


@bp.get("/fields")
def fields() -> Response:
    """Input fields for the form: labels, typical range, limits, how a blank is filled in, label codes, whether the
    report is built."""
    codes = {label.lower(): {str(c): n for c, n in values.items()} for label, values in LABEL_CODES.items()}
    report = current_app.config["REPORT_DIR"] / "index.html"
    art = artifacts()
    return jsonify({"features": art.features, "impute": art.impute, **codes, "report_available": report.is_file()})


@bp.get("/health")
def health() -> Response:
    """Status and model version."""
    return jsonify(artifacts().health)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API, generated from the pydantic models."""
    return jsonify(openapi_document(current_app.config["BATCH_MAX_ROWS"]))

"""The OpenAPI 3.1 document, generated from the pydantic models of :mod:`api.schemas` (schemas are not written by hand)."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, metadata
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api import SecurityHeaders
from api.csvio import CSV_ANSWER_DISPOSITION, CSV_ANSWER_TYPES, CSV_TYPES
from api.schemas import (
    ALLOWED_TEXT,
    MAX_SPEND,
    BatchOut,
    ClustersOut,
    CustomerIn,
    ElbowOut,
    ErrorOut,
    FieldsOut,
    HealthOut,
    PcaOut,
    SegmentOut,
)

REF = "#/components/schemas/{model}"
VERSION = "1.0.0"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    schema = _ref(model) if isinstance(model, type) else model
    return {"application/json": {"schema": schema}}


ERRORS = {
    "400": "The JSON body is empty or not valid JSON, or the body ended before its Content-Length or its chunked "
    "encoding is broken, or a multipart form has no boundary or ends before its closing boundary (an empty CSV is a "
    "422).",
    "413": "The body or the batch is larger than accepted.",
    "415": "The body's content type is not accepted, or the body is compressed (Content-Encoding).",
    "422": "The input is not valid: each error names the field (and, in a batch, the row).",
    "default": "Any other error, in the same JSON shape (404, 405, 500).",
}


#: The batch's format parameter.
FORMAT_TEXT = ("The answer's type, whatever Accept says: json (BatchOut) or csv (text/csv, described under the 200 "
               "answer). A CSV answer is text to read or save as it is, not JSON.")

#: Answers about customers, errors included (they quote what was sent), are kept by no cache.
NO_STORE = {
    "Cache-Control": {
        "description": "Kept by no cache, the browser's or a proxy's: the answer is about a customer.",
        "required": True,
        "schema": {"type": "string", "const": dict(SecurityHeaders.CUSTOMER_DATA)["Cache-Control"]},
    }
}
CSV_DISPOSITION = {
    "Content-Disposition": {
        "description": "CSV answers only: a file to save.",
        "schema": {"type": "string", "example": CSV_ANSWER_DISPOSITION},
    }
}


def _operation(view: str, summary: str, ok: dict[str, Any], errors: tuple[str, ...] = ("default",), headers: dict[str, Any] | None = None,
               ok_headers: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The operation served by the view function ``view`` of :mod:`api.routes` (its operationId, which client
    generators name their functions by), whose 200 answer has the content ``ok`` and whose ``errors`` (and any other
    error) are JSON; every answer carries ``headers``, the 200 answer ``ok_headers`` too."""
    responses: dict[str, Any] = {"200": {"description": "OK", "content": ok}}
    for code in (*errors, "default"):
        responses[code] = {"description": ERRORS[code], "content": _json(ErrorOut)}
    for code, response in responses.items():
        carried = {**(headers or {}), **(ok_headers or {} if code == "200" else {})}
        if carried:
            response["headers"] = carried
    return {"operationId": view, "summary": summary, "responses": responses, **extra}


def _license() -> dict[str, Any]:
    """``{"license": …}`` with pyproject.toml's licence, from the installed package's metadata; nothing (the field is
    optional) where the code runs uninstalled, as from a bare checkout, rather than a 500 for the document."""
    try:
        name = metadata("wholesale-segmentation")["License"]
    except PackageNotFoundError:
        name = None
    return {"license": {"name": name}} if name else {}


@lru_cache(maxsize=4)
def openapi_document(batch_max_rows: int) -> dict[str, Any]:
    """The whole OpenAPI document; ``batch_max_rows`` is the configured row limit of a batch."""
    models: list[tuple[type[BaseModel], Any]] = [(CustomerIn, "validation")]
    models += [(m, "serialization") for m in (SegmentOut, BatchOut, ClustersOut, PcaOut, ElbowOut, FieldsOut, HealthOut, ErrorOut)]
    _, defs = models_json_schema(models, ref_template=REF)
    customer_errors = ("400", "413", "415", "422")  # 413: a body over MAX_CONTENT_LENGTH
    csv_text = {
        "type": "string",
        "description": "CSV with a header line naming the six categories (Delicatessen accepted for Delicassen) and optionally "
        "Channel and Region; `,`, `;` or tab separated; UTF-8 with or without a byte-order mark, UTF-16 (with one, or told by its first characters), or "
        "Windows-1252 (see the answer's `encoding`). A spending not known is an empty cell "
        "or `NA` (any case, as R's write.csv writes it): imputed as `impute` of `GET /api/fields` says (refused where it is null) and "
        "listed in `imputed`; `NaN` is refused as not a finite number. "
        "Other columns (a customer number, a note, unnamed ones) are not used, and are copied to a CSV answer unchanged "
        "(`ignored_columns`), unless a category is missing, a column is a near spelling of a field (`Chanel`), or it is "
        "one the answer adds (`segment`, …: an earlier answer sent back): then the header is refused (422).",
    }
    batch_body = {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": _ref(CustomerIn), "minItems": 1, "maxItems": batch_max_rows}},
            **{media_type: {"schema": csv_text} for media_type in CSV_TYPES},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary", **{"description": csv_text["description"]}}}, "required": ["file"]}
            },
        },
    }
    paths = {
        "/api/segment": {
            "post": _operation(
                "segment",
                "Segment one customer",
                _json(SegmentOut),
                customer_errors,
                headers=NO_STORE,
                description=f"Yearly spending per category, each a finite number from 0 to {MAX_SPEND:,}; fields {ALLOWED_TEXT}. "
                "Categories left out are imputed from the training data's medians or means and listed in `imputed`; `impute` of "
                "`GET /api/fields` says which, and is null when the served model imputes none: a category left out is then refused (422).",
                requestBody={"required": True, "content": _json(CustomerIn)},
            )
        },
        "/api/segment/batch": {
            "post": _operation(
                "segment_batch",
                "Segment many customers",
                {**_json(BatchOut), "text/csv": {"schema": {"type": "string", "description": "The input columns (those not used to segment too) after `row`, then segment, persona, confidence (a Gaussian mixture adds probability_0 … probability_{k-1}), atypical (true or false), imputed and error."}}},
                customer_errors,
                headers=NO_STORE,
                ok_headers=CSV_DISPOSITION,
                description=f"One result or one error per row, in input order; at most {batch_max_rows:,} rows. "
                f"CSV out with `?format=csv`, or, without `format`, when `Accept` prefers {' or '.join(f'`{t}`' for t in CSV_ANSWER_TYPES)} "
                "(media-type parameters such as `; charset=utf-8` aside), or `text/*`, to `application/json`; "
                "JSON on a tie and for an `Accept` that admits neither.",
                # described on the parameter (documentation viewers) and its schema (openapi-python-client reads only that)
                parameters=[{"name": "format", "in": "query", "required": False, "description": FORMAT_TEXT,
                             "schema": {"type": "string", "enum": ["json", "csv"], "description": FORMAT_TEXT}}],
                requestBody=batch_body,
            )
        },
        "/api/clusters": {"get": _operation("clusters", "All personas", _json(ClustersOut))},
        "/api/pca": {"get": _operation("pca", "The PCA map of the report", _json(PcaOut))},
        "/api/elbow": {"get": _operation("elbow", "The k sweep", _json(ElbowOut))},
        "/api/fields": {"get": _operation("fields", "Input fields for the form", _json(FieldsOut))},
        "/api/health": {"get": _operation("health", "Status and model version", _json(HealthOut))},
        "/api/openapi.json": {"get": _operation("openapi", "This document", {"application/json": {"schema": {"type": "object"}}})},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wholesale customer segmentation API",
            "version": VERSION,
            "description": "Segments wholesale customers by yearly spending with the model of the versioned pipeline "
            "(model version = md5 of ml/segmenter.json in dvc.lock). Every error answer has the ErrorOut shape.",
            **_license(),
        },
        # relative to this document's URL (OpenAPI 3.1, Server Object): from …/api/openapi.json to the app's root, so
        # that a client reaches the paths under whatever prefix a proxy serves the app at (the default, "/", is the host's root)
        "servers": [{"url": "..", "description": "This service: the folder above api/openapi.json, where this document is served"}],
        # no authentication, said outright (an absent list leaves a reader to guess): the app listens on loopback, and a
        # reverse proxy in front of it serves staff (README, API)
        "security": [],
        "paths": paths,
        "components": {"schemas": defs["$defs"]},
    }

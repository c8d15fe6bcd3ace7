"""The OpenAPI document: a valid 3.1 spec generated from the models, real answers conform to it, and schemathesis finds no 5xx."""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urljoin

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from pydantic import ValidationError

from api.schemas import CustomerIn
from tests.api.conftest import GOOD, HEADER
from tests.api.test_proxy import SET_UPS, served

#: Where a client reads the document at the root; a relative server URL is resolved against it.
DOCUMENT = "http://localhost/api/openapi.json"


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def test_spec_is_valid_openapi_31(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert "CustomerIn" in spec["components"]["schemas"]


def server_url(document_url: str, spec: dict[str, Any]) -> str:
    """The URL the paths of ``spec`` are appended to, as a client finds it: ``servers[0].url`` ("/" when there is none)
    resolved against the document's URL, without a trailing slash (swagger-client drops it: no // before a path)."""
    return urljoin(document_url, spec.get("servers", [{"url": "/"}])[0]["url"]).rstrip("/")


@pytest.mark.parametrize("set_up", SET_UPS)
def test_a_client_resolving_servers_from_the_documents_url_reaches_every_operation(app: Flask, set_up: str) -> None:
    # without servers, the default "/" is the host's root: under a prefix, outside the app
    document_url, r = served(app, set_up, "GET", "/api/openapi.json")
    spec = cast("dict[str, Any]", r.json)  # the document is JSON
    base = server_url(document_url, spec)
    bodies = {"/api/segment": GOOD, "/api/segment/batch": [GOOD]}
    for path, operations in spec["paths"].items():
        method = "get" if "get" in operations else "post"
        url, answer = served(app, set_up, method.upper(), path, **({"json": bodies[path]} if method == "post" else {}))
        assert base + path == url, set_up
        assert answer.status_code == 200, (path, answer.json)
        if path != "/api/openapi.json":
            conform(spec, path, method, 200, answer.json)


def conform(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    responses = spec["paths"][path][method]["responses"]
    schema = responses.get(str(status), responses["default"])["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("/api/segment", "post", {"json": GOOD | {"Channel": "Retail"}}),
    ("/api/segment", "post", {"json": {"Milk": 3}}),
    ("/api/segment", "post", {"json": GOOD | {"Milk": -3}}),
    ("/api/segment", "post", {"data": "x", "content_type": "text/plain"}),
    ("/api/segment/batch", "post", {"json": [GOOD, {"Fresh": "x"}, 3]}),
    ("/api/segment/batch", "post", {"json": []}),
    ("/api/clusters", "get", {}),
    ("/api/pca", "get", {}),
    ("/api/elbow", "get", {}),
    ("/api/fields", "get", {}),
    ("/api/health", "get", {}),
]


@pytest.mark.parametrize(("path", "method", "kwargs"), CALLS)
def test_real_answers_conform_to_the_spec(client: FlaskClient, spec: dict[str, Any], path: str, method: str, kwargs: dict[str, Any]) -> None:
    r = getattr(client, method)(path, **kwargs)
    conform(spec, path, method, r.status_code, r.get_json())


@pytest.mark.parametrize("content_type", ["text/csv", "application/csv", "text/plain", "text/tab-separated-values",
                                          "application/octet-stream", "application/vnd.ms-excel"])
def test_the_batch_takes_a_csv_body_exactly_as_the_types_the_spec_lists(client: FlaskClient, spec: dict[str, Any], content_type: str) -> None:
    """A client reading the spec sends CSV as any type it lists, and one it does not list is refused (the spec listed
    text/csv alone while application/csv and text/plain were read as CSV too)."""
    body = ",".join(GOOD) + "\n" + ",".join(map(str, GOOD.values())) + "\n"
    r = client.post("/api/segment/batch", data=body, content_type=content_type)
    listed = content_type in spec["paths"]["/api/segment/batch"]["post"]["requestBody"]["content"]
    assert (r.status_code, listed) in {(200, True), (415, False)}, (r.status_code, listed)


@pytest.mark.parametrize("accept", ["text/csv", "application/csv; charset=utf-8", "text/*", "text/*, application/xml;q=0.5"])
def test_every_accept_that_gets_csv_is_named_in_the_batch_description(client: FlaskClient, spec: dict[str, Any], accept: str) -> None:
    """The description named `Accept: text/csv` alone, while application/csv and text/* got CSV too."""
    assert client.post("/api/segment/batch", json=[GOOD], headers={"Accept": accept}).mimetype == "text/csv"
    description = spec["paths"]["/api/segment/batch"]["post"]["description"]
    assert f"`{accept.split(',')[0].split(';')[0]}`" in description


#: Requests refused for a reason the spec's description of that status must name (it said "The body is empty or not
#: valid JSON." for 400 and "The body's content type is not accepted." for 415).
REFUSED = [
    ("/api/segment/batch", {"data": HEADER.encode() + b"\n1,2,3,4,5,6,,\n", "content_type": "text/csv",
                            "environ_overrides": {"CONTENT_LENGTH": "99"}}, 400, "Content-Length"),
    ("/api/segment", {"data": b"\x1f\x8b\x08\x00", "content_type": "application/json", "headers": {"Content-Encoding": "gzip"}}, 415, "Content-Encoding"),
    ("/api/segment/batch", {"data": b"", "content_type": "text/csv"}, 422, "not valid"),
]


@pytest.mark.parametrize(("path", "kwargs", "status", "words"), REFUSED)
def test_each_refusal_is_described_under_its_status(client: FlaskClient, spec: dict[str, Any], path: str, kwargs: dict[str, Any], status: int, words: str) -> None:
    assert client.post(path, **kwargs).status_code == status
    assert words in spec["paths"][path]["post"]["responses"][str(status)]["description"]


def test_the_row_numbering_of_a_csv_is_described_as_it_is(client: FlaskClient, spec: dict[str, Any]) -> None:
    """A blank line between rows is not counted; the description said only that the header is not."""
    good = ",".join(map(str, GOOD.values()))
    body = f"{','.join(GOOD)}\n{good}\n\n-1{good[good.index(','):]}\n"
    results = client.post("/api/segment/batch", data=body, content_type="text/csv").get_json()["results"]
    assert [r["row"] for r in results] == [1, 2] and results[1]["errors"][0]["row"] == 2
    assert "header and blank lines not counted" in spec["components"]["schemas"]["FieldError"]["properties"]["row"]["description"]


def test_the_typical_customer_s_row_is_served_as_the_integer_personas_json_holds(app: Flask, client: FlaskClient, spec: dict[str, Any]) -> None:
    """typical_customer was typed as numbers only, so its row (390 in ml/personas.json) was served as 390.0 and undescribed."""
    served = [p["typical_customer"] for p in client.get("/api/clusters").get_json()["personas"]]
    written = [p["typical_customer"] for p in json.loads((app.config["ARTIFACTS_ROOT"] / "ml" / "personas.json").read_text())]
    assert served == written and all(type(t["row"]) is int for t in served)
    row = spec["components"]["schemas"]["TypicalCustomer"]["properties"]["row"]
    assert row["type"] == "integer" and "numbered from 1" in row["description"]


def test_a_persona_s_levels_have_one_schema_wherever_they_are_served(spec: dict[str, Any]) -> None:
    """GET /api/clusters typed a level as any text while an answer's persona listed high, low and typical; then each
    listed them in a schema of its own, which client generators made two enum classes of."""
    schemas = spec["components"]["schemas"]
    levels = [schemas[m]["properties"]["levels"]["additionalProperties"] for m in ("Persona", "PersonaBrief")]
    assert levels[0] == levels[1] == {"$ref": "#/components/schemas/Level"}
    assert sorted(schemas["Level"]["enum"]) == ["high", "low", "typical"]


def test_every_route_of_the_api_is_one_operation_named_by_its_view(app: Flask, spec: dict[str, Any]) -> None:
    """Client generators name a function by its operationId: the document had none, so they made names of the method
    and path (post_api_segment_batch, get_api_openapi_json), which change when a path does."""
    served = {(rule.rule, method.lower()): rule.endpoint.removeprefix("api.") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") for method in cast("set[str]", rule.methods) - {"HEAD", "OPTIONS"}}
    described = {(path, method): operation.get("operationId") for path, operations in spec["paths"].items()
                 for method, operation in operations.items()}
    assert described == served
    assert len(set(described.values())) == len(described)


def subschemas(schema: Any, at: str = "") -> Any:
    """Every schema inside ``schema`` (itself excluded), with where it is."""
    items = schema.items() if isinstance(schema, dict) else enumerate(schema) if isinstance(schema, list) else ()
    for key, value in items:
        if isinstance(value, dict | list):
            if isinstance(value, dict) and key not in ("properties", "$defs"):
                yield f"{at}/{key}", value
            yield from subschemas(value, f"{at}/{key}")


def test_every_object_keeps_its_rules_under_allof_so_that_generators_make_a_class_of_it(spec: dict[str, Any]) -> None:
    """CustomerIn had an anyOf (a spending at least) and a not (Delicassen or Delicatessen) beside its properties:
    openapi-python-client read it as a union of nameless schemas and typed a customer, and a JSON batch, as Any;
    datamodel-code-generator made a union of seven copies of it, each with its own Channel and Region enums."""
    for name, schema in spec["components"]["schemas"].items():
        if "properties" in schema:
            assert schema.get("type") == "object" and not {"anyOf", "oneOf", "not"} & set(schema), name


def test_every_enum_has_a_name(spec: dict[str, Any]) -> None:
    """Client generators name an enum after its schema's title or component, else after where it sits
    (CustomerInChannelType0, CustomerInChannelType1, PersonaLevelsAdditionalProperty)."""
    for name, schema in spec["components"]["schemas"].items():
        for at, inner in subschemas(schema):
            assert "enum" not in inner or "title" in inner, f"{name}{at}"


@pytest.mark.parametrize("body", [GOOD, {"Milk": 3}, {"Delicatessen": 3, "Channel": 2}, {}, {"Channel": "Retail"},
                                  {"Delicassen": 1, "Delicatessen": 2}, {"Milk": 1, "Region": 4}, {"Milk": 1, "Bogus": 1}])
def test_the_document_s_customer_is_the_model_s(spec: dict[str, Any], body: dict[str, Any]) -> None:
    """The customer's rules moved under allOf: the document accepts exactly the bodies the model accepts."""
    schema = {**spec["components"]["schemas"]["CustomerIn"], "components": spec["components"]}
    try:
        CustomerIn.model_validate(body)
        accepted = True
    except ValidationError:
        accepted = False
    assert jsonschema.Draft202012Validator(schema).is_valid(body) == accepted


def test_every_parameter_is_described(spec: dict[str, Any]) -> None:
    """The batch's format had no description, so a generated client's format_ argument said nothing of the CSV
    answer it asks for (which openapi-python-client then parses as JSON). That generator reads a parameter's schema's
    description, documentation viewers the parameter's."""
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert parameter.get("description") and parameter["schema"].get("description"), (path, parameter["name"])


def test_the_document_says_what_a_client_needs_to_call_and_reuse_it(spec: dict[str, Any]) -> None:
    """No authentication, said outright (a linter, redocly, took its absence for a missing scheme), and the licence."""
    assert spec["security"] == [] and spec["info"]["license"]["name"].startswith("MIT")


def test_the_document_is_served_without_the_package_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a bare checkout (no ``pip install``), the licence is unknown: left out (it is optional), not a 500."""
    from importlib.metadata import PackageNotFoundError

    from api import openapi

    def not_installed(name: str) -> None:
        raise PackageNotFoundError(name)

    monkeypatch.setattr(openapi, "metadata", not_installed)
    document = openapi.openapi_document.__wrapped__(100)  # not the cached document
    assert "license" not in document["info"]
    validate(document)


HEADED = [
    ("/api/segment", "post", {"json": GOOD}),
    ("/api/segment", "post", {"json": GOOD | {"Milk": -3}}),
    ("/api/segment", "get", {}),
    ("/api/segment/batch", "post", {"json": [GOOD], "headers": {"Accept": "text/csv"}}),
    ("/api/segment/batch", "post", {"json": [GOOD]}),
    ("/api/segment/batch", "post", {"data": b"<x/>", "content_type": "application/xml"}),
    ("/api/health", "get", {}),
]


@pytest.mark.parametrize(("path", "method", "kwargs"), HEADED)
def test_the_headers_of_real_answers_are_the_ones_the_spec_documents(client: FlaskClient, spec: dict[str, Any], path: str, method: str, kwargs: dict[str, Any]) -> None:
    """The spec documented no header, while answers about customers carry Cache-Control: no-store and a CSV answer a
    Content-Disposition."""
    r = getattr(client, method)(path, **kwargs)
    responses = next(iter(spec["paths"][path].values()))["responses"]  # the path's one operation (a 405 for the others)
    documented = responses.get(str(r.status_code), responses["default"]).get("headers", {})
    for name, header in documented.items():
        assert name in r.headers or not header.get("required"), name
        if name in r.headers:
            jsonschema.validate(r.headers[name], header["schema"])
    assert {"Cache-Control", "Content-Disposition"} & set(r.headers.keys()) <= set(documented)
    if "Content-Disposition" in r.headers:
        assert r.headers["Content-Disposition"] == documented["Content-Disposition"]["schema"]["example"]


def test_what_every_error_answer_carries_is_required_by_the_spec(client: FlaskClient, spec: dict[str, Any]) -> None:
    """An error answer always has `errors`, and each error its `row` (null outside batches); the spec made both optional."""
    schemas = spec["components"]["schemas"]
    strict = {**schemas["ErrorOut"], "components": spec["components"]}
    for answer in (client.post("/api/segment", json={"Milk": -1}), client.get("/api/nowhere")):
        jsonschema.validate(answer.get_json(), strict, cls=jsonschema.Draft202012Validator)
    assert "errors" in schemas["ErrorBody"]["required"] and "row" in schemas["FieldError"]["required"]


def test_a_wrong_answer_would_be_caught(spec: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        conform(spec, "/api/health", "get", 200, {"status": "ok", "model_version": "x", "k": "three", "algorithm": "kmeans"})


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(app: Flask) -> None:
    """A bounded property-based run over every operation of the spec, against the WSGI app in process."""
    import schemathesis
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    # schemathesis (4.32) takes a relative server URL's path as the base path, unresolved (".."): under a prefix it
    # then calls the host's root. Given the base a client resolves from the document's URL, it calls what the spec means.
    schema.config.update(base_url=server_url(DOCUMENT, schema.raw_schema))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok)  # an Err has no ok(): every operation of the spec must load
        operation = result.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            case.call_and_validate(checks=checks)

        test = operation.as_strategy()
        from hypothesis import given

        try:
            given(test)(run)()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)

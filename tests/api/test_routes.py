"""Every endpoint of the /api blueprint, and a table of bad inputs that must each get a JSON 4xx naming the problem."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from api.batch import as_list, check_cells
from api.schemas import FEATURES
from stages import config
from stages.dataset import CATEGORY_NAMES
from tests.api.conftest import GOOD, HEADER
from tests.api.test_openapi import conform


def test_segment_answers_with_persona_distances_confidence_position_and_version(client: FlaskClient) -> None:
    r = client.post("/api/segment", json=GOOD | {"Channel": 2, "Region": "lisbon"})
    assert r.status_code == 200
    body = r.get_json()
    health = client.get("/api/health").get_json()
    d = [x["distance"] for x in body["distances"]]
    assert body["segment"] == int(np.argmin(d)) == body["persona"]["id"]
    assert [x["segment"] for x in body["distances"]] == list(range(health["k"]))
    assert 0 <= body["confidence"] <= 1
    assert body["model_version"] == health["model_version"]
    assert body["input"]["Channel"] == "Retail" and body["input"]["Region"] == "Lisbon"
    assert body["imputed"] == []
    assert body["probabilities"] is None  # k-Means: the nearest centre decides


def test_a_mixture_model_answers_with_the_probability_of_each_segment(gmm_app: Flask) -> None:
    """A Gaussian mixture picks the most probable segment, which need not be the nearest: the answer says which."""
    client = gmm_app.test_client()
    seg = gmm_app.extensions["artifacts"].segmenter
    assert client.get("/api/health").get_json()["algorithm"] == "gmm"
    X = np.exp(np.random.default_rng(5).uniform(0, np.log(200_000), size=(200, len(FEATURES)))).round()
    expected = seg.assign(X)
    farther = int(np.flatnonzero(expected.segment != expected.distances.argmin(axis=1))[0])
    spec = client.get("/api/openapi.json").get_json()
    for i in (0, farther):
        r = client.post("/api/segment", json=dict(zip(FEATURES, X[i].tolist(), strict=True)))
        body = r.get_json()
        conform(spec, "/api/segment", "post", r.status_code, body)
        p = body["probabilities"]
        assert body["segment"] == int(np.argmax(p)) == int(expected.segment[i])
        assert p == pytest.approx(expected.probabilities[i].tolist(), rel=1e-12, abs=1e-300)
        assert sum(p) == pytest.approx(1.0) and body["confidence"] == max(p)
    distances = [d["distance"] for d in body["distances"]]
    assert body["segment"] != int(np.argmin(distances))  # the customer `farther` joined a segment whose centre is not the nearest


def test_a_mixture_models_batch_gives_each_rows_probabilities_as_one_customer_gets_them(gmm_app: Flask, client: FlaskClient) -> None:
    """JSON rows carry ``probabilities`` and CSV answers ``probability_0`` … ``probability_{k-1}``, equal to the
    single answer's; a k-Means batch has neither."""
    mixture = gmm_app.test_client()
    spec = mixture.get("/api/openapi.json").get_json()
    X = np.exp(np.random.default_rng(7).uniform(0, np.log(200_000), size=(5, len(FEATURES)))).round()
    rows = [dict(zip(FEATURES, x.tolist(), strict=True)) for x in X] + [{"Milk": -1}]
    r = mixture.post("/api/segment/batch", json=rows)
    body = r.get_json()
    conform(spec, "/api/segment/batch", "post", r.status_code, body)
    singles = [mixture.post("/api/segment", json=row).get_json() for row in rows[:5]]
    assert [row["probabilities"] for row in body["results"][:5]] == [one["probabilities"] for one in singles]
    assert "probabilities" not in body["results"][5] and body["results"][5]["ok"] is False
    k = len(singles[0]["probabilities"])
    table = pd.read_csv(io.StringIO(mixture.post("/api/segment/batch?format=csv", json=rows).get_data(as_text=True)))
    columns = [f"probability_{j}" for j in range(k)]
    assert list(table.columns[table.columns.get_loc("confidence") + 1 :][:k]) == columns
    assert table.loc[:4, columns].to_numpy() == pytest.approx(np.round([one["probabilities"] for one in singles], 4))
    assert table.loc[5, columns].isna().all()
    centroid = client.post("/api/segment/batch", json=rows[:1]).get_json()["results"][0]
    assert "probabilities" not in centroid
    assert not any(c.startswith("probability_") for c in client.post("/api/segment/batch?format=csv", json=rows[:1]).get_data(as_text=True).splitlines()[0].split(","))


def test_segment_of_a_training_customer_sits_where_the_map_shows_it(client: FlaskClient) -> None:
    first = client.get("/api/pca").get_json()["points"][0]
    body = client.post("/api/segment", json=GOOD).get_json()  # GOOD is row 1 of the data
    assert body["position"] == pytest.approx({"x": first["x"], "y": first["y"]})
    assert body["segment"] == first["segment"]


def test_missing_categories_are_imputed_and_listed(client: FlaskClient) -> None:
    body = client.post("/api/segment", json={"Milk": 9656, "Grocery": 7561}).get_json()
    assert body["imputed"] == ["Fresh", "Frozen", "Detergents_Paper", "Delicassen"]
    medians = {f["name"]: f["median"] for f in client.get("/api/fields").get_json()["features"]}
    assert body["input"]["Fresh"] == medians["Fresh"]


@pytest.mark.parametrize("method", ["median", "mean", "error"])
def test_fields_say_how_a_category_left_out_is_filled_in_as_the_model_does_it(client: FlaskClient, tmp_path: Path, method: str) -> None:
    """GET /api/fields publishes data.impute as the served artifacts record it and the amounts a blank becomes, so the
    page can say "the median" or "the mean" truly (it said "the typical value" whatever it was), or, under error,
    that a blank is refused; each an answer conforming to the OpenAPI document."""
    from api import create_app
    from api.batch import NO_IMPUTE
    from tests.mixture import impute_artifacts

    spec = client.get("/api/openapi.json").get_json()
    served = client if method == "median" else create_app({"TESTING": True, "ARTIFACTS_ROOT": impute_artifacts(tmp_path, method)}).test_client()
    fields = served.get("/api/fields").get_json()
    conform(spec, "/api/fields", "get", 200, fields)
    r = served.post("/api/segment", json={"Milk": 9656, "Grocery": 7561})
    conform(spec, "/api/segment", "post", r.status_code, r.get_json())
    left_out = ["Fresh", "Frozen", "Detergents_Paper", "Delicassen"]
    if method == "error":
        assert fields["impute"] is None
        assert r.status_code == 422 and [(e["field"], e["message"]) for e in r.get_json()["error"]["errors"]] == [(f, NO_IMPUTE) for f in left_out]
        return
    customers = pd.read_csv(config.CUSTOMERS)[list(FEATURES)]
    statistic = customers.median() if method == "median" else customers.mean()
    assert fields["impute"]["method"] == method and list(fields["impute"]["values"]) == list(FEATURES)
    assert fields["impute"]["values"] == pytest.approx(statistic.to_dict(), rel=1e-12)
    assert r.status_code == 200 and r.get_json()["imputed"] == left_out
    assert {f: r.get_json()["input"][f] for f in left_out} == {f: fields["impute"]["values"][f] for f in left_out}


def test_clusters_pca_elbow_fields_health(client: FlaskClient) -> None:
    health = client.get("/api/health").get_json()
    assert health["status"] == "ok"
    clusters = client.get("/api/clusters").get_json()
    assert len(clusters["personas"]) == clusters["k"] == health["k"]
    pca = client.get("/api/pca").get_json()
    assert len(pca["centres"]) == health["k"] and len(pca["points"]) > 400
    elbow = client.get("/api/elbow").get_json()
    assert {r["algorithm"] for r in elbow["rows"]} >= {health["algorithm"]} and elbow["k_used"] == health["k"]
    served_row = next(r for r in elbow["rows"] if r["algorithm"] == health["algorithm"] and r["k"] == health["k"])
    assert served_row["channel_ari"] == pytest.approx(json.loads((config.METRICS).read_text())["channel_ari"])
    fields = client.get("/api/fields").get_json()
    assert [f["name"] for f in fields["features"]] == list(FEATURES)
    assert all(f["p5"] <= f["median"] <= f["p95"] < f["max_allowed"] for f in fields["features"])
    assert fields["channel"] == {"1": "Horeca", "2": "Retail"} and isinstance(fields["report_available"], bool)


def test_a_persona_says_which_categories_most_customers_buy_none_of_and_its_medians(client: FlaskClient, unbought_app: Flask) -> None:
    """A category whose base median is 0 gave a profile "ratio" of 854 that the page showed as 854.00× the typical
    customer. Personas, in /api/clusters and in each answer, list such categories (most_buy_none) and carry the
    segment's medians (centre), which the page shows instead; the shipped data have none."""
    from stages.names import whole
    from tests.mixture import BUYS_FROZEN

    spec = client.get("/api/openapi.json").get_json()
    shipped = client.get("/api/clusters").get_json()["personas"]
    assert [p["most_buy_none"] for p in shipped] == [[]] * len(shipped)
    r = client.post("/api/segment", json=GOOD)
    conform(spec, "/api/segment", "post", r.status_code, r.get_json())
    persona = r.get_json()["persona"]
    assert persona["most_buy_none"] == [] and persona["centre"] == shipped[persona["id"]]["centre"]

    client = unbought_app.test_client()
    personas = client.get("/api/clusters").get_json()["personas"]
    assert [p["most_buy_none"] for p in personas] == [["Frozen"]] * len(personas)
    frozen = personas[BUYS_FROZEN]
    assert frozen["levels"]["Frozen"] == "high"
    assert f"frozen food (a median of {whole(frozen['centre']['Frozen'])} a year, where most customers buy none)" in frozen["description"]
    assert f"{frozen['profile']['Frozen']:.2f}×" not in frozen["description"]
    row = pd.read_csv(config.PCA_MAP)
    member = row[row["segment"] == BUYS_FROZEN].iloc[0]
    r = client.post("/api/segment", json={c: float(member[c]) for c in FEATURES})
    conform(spec, "/api/segment", "post", r.status_code, r.get_json())
    answered = r.get_json()["persona"]
    assert answered["id"] == BUYS_FROZEN and answered["most_buy_none"] == ["Frozen"] and answered["centre"] == frozen["centre"]
    assert answered["description"] == frozen["description"]


def test_health_names_the_algorithm_as_the_report_does(client: FlaskClient, gmm_app: Flask) -> None:
    assert client.get("/api/health").get_json()["algorithm_name"] == "k-Means"
    assert gmm_app.test_client().get("/api/health").get_json()["algorithm_name"] == "Gaussian mixture"


def test_the_map_directions_are_described_by_what_customers_along_them_buy(client: FlaskClient) -> None:
    """Each category the words name rises (or, after "less", falls) with the map coordinate across the customers."""
    pca = client.get("/api/pca").get_json()
    points = pd.DataFrame(pca["points"])
    spending = pd.read_csv(config.PCA_MAP)[list(FEATURES)]
    by_name = {name: column for column, name in CATEGORY_NAMES.items()}
    for axis in ("x", "y"):
        words = pca["axis_meaning"][axis]
        if words.startswith("less "):
            more, less = "", words.removeprefix("less ")
        else:
            more, _, less = words.removeprefix("more ").partition(", less ")
        named = {by_name[n]: +1 for n in more.split(", ") if n} | {by_name[n]: -1 for n in less.split(", ") if n}
        assert named, words
        for column, sign in named.items():
            rho = points[axis].corr(spending[column], method="spearman")
            assert sign * rho > 0.5, (axis, words, column, rho)


def test_security_headers_and_no_cors(client: FlaskClient) -> None:
    r = client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]
    assert "Access-Control-Allow-Origin" not in r.headers
    # an answer of the API is data: it may load nothing (OWASP's REST policy), where it carried the page's policy
    for path in ("/api/health", "/api/openapi.json", "/api/nowhere"):
        assert client.get(path).headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'", path
    segment = client.post("/api/segment", json=GOOD)
    assert segment.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert segment.headers["Cache-Control"] == "no-store"
    with client.get("/") as page:  # a file answer: closed here, not left to the collector
        assert "default-src 'self'" in page.headers["Content-Security-Policy"] and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_answers_about_customers_are_not_stored_by_any_cache(client: FlaskClient) -> None:
    """Segments of customers, and errors that quote what was sent, carry Cache-Control: no-store (a shared
    computer's browser cache, a proxy); the model's own facts may be cached as usual."""
    answers = [
        client.post("/api/segment", json=GOOD),
        client.post("/api/segment", json=GOOD | {"Milk": -1}),
        client.post("/api/segment/batch", json=[GOOD], headers={"Accept": "text/csv"}),
        client.post("/api/segment/batch", data=f"{HEADER}\n-1,1,1,1,1,1,1,1\n".encode(), content_type="text/csv"),
        client.get("/api/segment"),
    ]
    assert [r.headers.get("Cache-Control") for r in answers] == ["no-store"] * len(answers)
    assert [r.status_code for r in answers] == [200, 422, 200, 200, 405]
    assert client.get("/api/clusters").headers.get("Cache-Control") is None


def batch_csv(rows: list[list[Any]], header: str = HEADER, sep: str = ",") -> bytes:
    out = io.StringIO()
    out.write(header.replace(",", sep) + "\n")
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


GOOD_ROW = [*GOOD.values(), 2, 3]


def test_a_value_is_quoted_back_as_written_whichever_way_it_came(client: FlaskClient) -> None:
    """A CSV cell -1 is read as a number: the message says "got -1", as for the same customer sent as JSON, and text
    quoted back is cut at 40 characters with an ellipsis (the page shows the message under a narrow input)."""
    long = "x" * 300
    one = client.post("/api/segment", json=GOOD | {"Fresh": -1, "Milk": 10_000_001, "Grocery": long}).get_json()["error"]["errors"]
    csv_body = (HEADER + "\n-1,10000001," + long + ",1,1,1,,\n").encode()
    batch = client.post("/api/segment/batch", data=csv_body, content_type="text/csv").get_json()["results"][0]["errors"]
    expected = {
        "Fresh": "must be 0 or more (got -1)",
        "Milk": "must be at most 10,000,000 (got 10000001)",
        "Grocery": f"must be a number (yearly spending), not text '{'x' * 40}'…",
    }
    assert {e["field"]: e["message"] for e in one} == expected
    assert {e["field"]: e["message"] for e in batch} == expected


def test_batch_json_gives_one_result_per_row_in_order_with_errors_in_place(client: FlaskClient) -> None:
    rows = [GOOD, {"Fresh": -5}, "not a customer", GOOD | {"Milk": None}, {"Milk": 100}]
    body = client.post("/api/segment/batch", json=rows).get_json()
    assert [r["row"] for r in body["results"]] == [1, 2, 3, 4, 5]
    assert [r["ok"] for r in body["results"]] == [True, False, False, False, True]
    assert body["results"][1]["errors"] == [{"field": "Fresh", "row": 2, "message": "must be 0 or more (got -5)"}]
    assert body["results"][3]["errors"][0]["field"] == "Milk"
    assert (body["n_rows"], body["n_ok"], body["n_errors"]) == (5, 2, 3)
    assert sum(body["counts"].values()) == 2
    single = client.post("/api/segment", json=GOOD).get_json()
    assert body["results"][0]["segment"] == single["segment"]
    assert body["results"][0]["confidence"] == pytest.approx(single["confidence"])
    assert body["results"][4]["imputed"] == ["Fresh", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


def test_batch_row_errors_match_single_errors(client: FlaskClient) -> None:
    bad = [{"Fresh": "x", "Milk": -1}, {"Fresh": 1, "Channel": 9}, {"Nope": 1}, {}]
    batch = client.post("/api/segment/batch", json=bad).get_json()["results"]
    for i, payload in enumerate(bad):
        single = client.post("/api/segment", json=payload).get_json()["error"]["errors"]
        assert [(e["field"], e["message"]) for e in batch[i]["errors"]] == [(e["field"], e["message"]) for e in single]
        assert {e["row"] for e in batch[i]["errors"]} == {i + 1}


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_batch_csv_with_any_separator_and_bom(client: FlaskClient, sep: str, bom: bytes) -> None:
    data = bom + batch_csv([GOOD_ROW, ["x", 1, 1, 1, 1, 1, "", ""], GOOD_ROW], sep=sep)
    body = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()
    assert [r["ok"] for r in body["results"]] == [True, False, True]
    assert body["results"][1]["errors"][0] == {"field": "Fresh", "row": 2, "message": "must be a number (yearly spending), not text 'x'"}


def test_batch_csv_upload_with_csv_answer(client: FlaskClient) -> None:
    data = batch_csv([GOOD_ROW, [1, 2, 3], [*GOOD.values(), "", "Oporto"]], header=HEADER.replace("Delicassen", "Delicatessen"))
    r = client.post("/api/segment/batch?format=csv", data={"file": (io.BytesIO(data), "customers.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    out = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [o["row"] for o in out] == ["1", "2", "3"]
    assert out[0]["Delicatessen"] == str(GOOD["Delicassen"]) and out[0]["error"] == ""
    assert out[1]["segment"] == "" and "has 3 fields" in out[1]["error"]
    assert out[2]["segment"] == out[0]["segment"] and out[2]["persona"] == out[0]["persona"]


@pytest.mark.parametrize(("data", "message"), [(b"", "empty file"), (HEADER.encode() + b"\n", "no rows"), ("Fresh\u00e9".encode() + b"\xe9", "not UTF-8 text")])
def test_a_whole_file_problem_of_an_upload_names_its_form_field(client: FlaskClient, data: bytes, message: str) -> None:
    """The page shows "file: empty file" under its file input, not "body: …" (the same file as a body says body)."""
    r = client.post("/api/segment/batch", data={"file": (io.BytesIO(data), "a.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["error"]["errors"] == [{"field": "file", "row": None, "message": message}]
    as_body = client.post("/api/segment/batch", data=data, content_type="text/csv").get_json()["error"]["errors"]
    assert as_body == [{"field": "body", "row": None, "message": message}]


def test_two_files_in_one_upload_are_refused_not_half_scored(client: FlaskClient) -> None:
    data = batch_csv([GOOD_ROW])
    form = {"file": [(io.BytesIO(data), "a.csv"), (io.BytesIO(data), "b.csv")]}
    r = client.post("/api/segment/batch", data=form, content_type="multipart/form-data")
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "2 files were uploaded: send one file per request."
    assert r.get_json()["error"]["errors"] == [{"field": "file", "row": None, "message": "more than one file"}]


def test_batch_json_in_csv_out_by_accept_header(client: FlaskClient) -> None:
    r = client.post("/api/segment/batch", json=[GOOD, {"Fresh": -1}], headers={"Accept": "text/csv"})
    out = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert r.mimetype == "text/csv" and len(out) == 2
    assert out[0]["Fresh"] in {"12669", "12669.0"} and out[1]["error"].startswith("Fresh: must be 0 or more")


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [("text/csv; charset=utf-8", "text/csv"), ("text/csv;header=present", "text/csv"), ("TEXT/CSV", "text/csv"),
     ("application/json, text/csv;q=0.5", "application/json"), ("text/csv;q=0.5, application/json;charset=utf-8", "application/json"),
     ("application/csv", "text/csv"), ("application/xml", "application/json"), ("*/*", "application/json")],
)
def test_media_type_parameters_do_not_change_the_answers_format(client: FlaskClient, accept: str, mimetype: str) -> None:
    assert client.post("/api/segment/batch", json=[GOOD], headers={"Accept": accept}).mimetype == mimetype


def test_portuguese_region_and_channel_names_are_read_as_the_data_sets(client: FlaskClient) -> None:
    """A file from the distributor's own systems writes the cities in Portuguese (Lisboa, Porto) and Retail as
    Retalho: read as Lisbon, Oporto and Retail (any case), one customer, a JSON batch and a CSV alike, where every such
    row was refused over an optional field; the answer gives the data set's names, and a value that is none of them
    is still refused with every spelling listed."""
    one = client.post("/api/segment", json={**GOOD, "Channel": "retalho", "Region": " PORTO "}).get_json()
    assert one["input"]["Channel"] == "Retail" and one["input"]["Region"] == "Oporto"
    body = f"{HEADER}\n" + "\n".join(",".join(map(str, [*GOOD.values(), ch, rg])) for ch, rg in [("Retalho", "Lisboa"), ("1", "porto"), ("2", "Portugal")]) + "\n"
    rows = client.post("/api/segment/batch", data=body.encode(), content_type="text/csv").get_json()["results"]
    assert [r["ok"] for r in rows] == [True, True, False]  # (a batch's rows do not echo labels: test_batch checks their values)
    assert rows[2]["errors"] == [{"field": "Region", "row": 3, "message": "must be one of 1 or Lisbon or Lisboa, 2 or Oporto or Porto, 3 or Other (code or name)"}]
    batch = client.post("/api/segment/batch", json=[{**GOOD, "Region": "Lisboa"}, {**GOOD, "Channel": "Retalhos"}]).get_json()["results"]
    assert batch[0]["ok"] is True and batch[1]["errors"][0]["field"] == "Channel"


def test_a_label_code_written_as_a_whole_decimal_is_read_like_the_pipeline_reads_it(client: FlaskClient) -> None:
    """pandas writes a code column with an empty cell as 2.0, 1.0, …; the pipeline's prepare stage reads those as
    codes, and so does the API (JSON and CSV, one customer and a batch); 2.5 is still refused, naming the field."""
    assert client.post("/api/segment", json={**GOOD, "Channel": 2.0, "Region": "3.0"}).get_json()["input"]["Channel"] == "Retail"
    body = f"{HEADER}\n" + "\n".join(",".join(map(str, [*GOOD.values(), ch, rg])) for ch, rg in [("2.0", "3.0"), ("1.0", ""), ("2.5", "3")]) + "\n"
    rows = client.post("/api/segment/batch", data=body.encode(), content_type="text/csv").get_json()["results"]
    assert [r["ok"] for r in rows] == [True, True, False]
    assert rows[2]["errors"] == [{"field": "Channel", "row": 3, "message": "must be one of 1 or Horeca, 2 or Retail or Retalho (code or name)"}]
    batch = client.post("/api/segment/batch", json=[{**GOOD, "Channel": 1.0}, {**GOOD, "Region": 2.5}]).get_json()["results"]
    assert batch[0]["ok"] is True and batch[1]["errors"][0]["field"] == "Region"


#: Ways a file may write a Channel code, and text that is none.
CODE_SPELLINGS = ["2", "2.0", "2.00", " 2.000 ", "+2", "2e0", "1.", "1.5", "0", "3", "2,0", "two", "nan", "inf", "0x2"]


@pytest.mark.parametrize("cell", CODE_SPELLINGS)
def test_the_api_reads_a_label_code_as_the_pipeline_reads_it(client: FlaskClient, cell: str) -> None:
    """A Channel cell the prepare stage takes as a code is taken by the API (CSV batch, and as text in JSON) as the
    same label, and one it refuses is refused, naming the field (2.00 was refused while 2.0 was taken)."""
    from stages.prepare import DataValidationError, validate_raw

    raw = pd.DataFrame({**{f: [str(v)] for f, v in GOOD.items()}, "Channel": [cell], "Region": ["3"]})
    try:
        expected = {1: "Horeca", 2: "Retail"}[int(validate_raw(raw, list(FEATURES), ["Channel", "Region"], "test").loc[0, "Channel"])]
    except DataValidationError:
        expected = None
    body = f"{HEADER}\n" + ",".join([*map(str, GOOD.values()), f'"{cell}"', "3"]) + "\n"
    row = client.post("/api/segment/batch", data=body.encode(), content_type="text/csv").get_json()["results"][0]
    one = client.post("/api/segment", json={**GOOD, "Channel": cell})
    cells = {**{f: pa.array([str(v)]) for f, v in GOOD.items()}, "Channel": pa.array([cell]), "Region": pa.array(["3"])}
    read = check_cells(cells, np.array([1]))  # what the CSV path read (its JSON answer does not echo the input)
    if expected is None:
        assert row["errors"][0]["field"] == "Channel" == one.get_json()["error"]["errors"][0]["field"] and one.status_code == 422
        assert list(read.errors) == [0]
    else:
        assert row["ok"] and one.get_json()["input"]["Channel"] == expected == as_list(read.channel)[0]


@pytest.mark.parametrize(("written", "meant"), [("fresh", "Fresh"), ("MILK", "Milk"), ("Detergents Paper", "Detergents_Paper"),
                                               ("Frozn", "Frozen"), ("delicatessen", "Delicatessen"), ("region", "Region"), ("Fresh food", None)])
def test_an_unknown_name_close_to_a_known_one_says_which_was_meant(client: FlaskClient, written: str, meant: str | None) -> None:
    """A field or column named in another case or with a typo gets the name it is close to, in JSON and in a CSV
    header alike; every such error still lists the allowed names."""
    one = client.post("/api/segment", json={"Grocery": 1, written: 1}).get_json()["error"]["errors"]
    header = HEADER.replace("Fresh", written) if meant == "Fresh" else f"{HEADER},{written}"
    csv_answer = client.post("/api/segment/batch", data=f"{header}\n{','.join(['1'] * (header.count(',') + 1))}\n".encode(),
                             content_type="text/csv").get_json()
    csv_errors = csv_answer["error"]["errors"] if meant else csv_answer["ignored_columns"]
    message = next(e["message"] for e in one if e["field"] == written)
    assert message.startswith("unknown field") and "allowed fields are Fresh, Milk" in message
    assert (f"did you mean {meant}?" in message) if meant else ("did you mean" not in message)
    if meant:  # a CSV column meant as a field is refused too (one that is no field's spelling is carried: see test_csvio)
        message = next(e["message"] for e in csv_errors if e["field"] == written)
        assert message.startswith("unknown column") and "allowed columns are Fresh, Milk" in message and f"did you mean {meant}?" in message


def test_a_json_batch_answered_as_csv_shows_what_a_refused_row_sent(client: FlaskClient) -> None:
    """A refused row's input columns hold what it sent (they were empty, so the analyst could not see what the error
    is about), formula-like text defused; a good row's columns read as they do in a batch without refused rows; a row
    that is not an object has empty input columns and a row-level error."""
    good = GOOD | {"Channel": 2}
    sent = [good, GOOD | {"Milk": -1, "Fresh": "=abc", "Channel": 7, "Grocery": 10**30}, {"Fresh": None, "Milk": [1], "Delicatessen": True, "Region": "Lisbon"}, 5]
    rows = list(csv.DictReader(io.StringIO(client.post("/api/segment/batch?format=csv", **_json(sent)).get_data(as_text=True))))
    alone = next(csv.DictReader(io.StringIO(client.post("/api/segment/batch?format=csv", json=[good]).get_data(as_text=True))))
    assert rows[0] == alone
    assert {k: rows[1][k] for k in ("Fresh", "Milk", "Grocery", "Frozen", "Channel", "Region")} == {
        "Fresh": "'=abc", "Milk": "-1", "Grocery": "1e+30", "Frozen": "214", "Channel": "7", "Region": ""}
    assert {k: rows[2][k] for k in ("Fresh", "Milk", "Delicassen", "Region", "Grocery")} == {"Fresh": "", "Milk": "[1]", "Delicassen": "true", "Region": "Lisbon", "Grocery": ""}
    assert all(rows[3][f] == "" for f in (*FEATURES, "Channel", "Region")) and rows[3]["error"].startswith("row: must be a JSON object")
    assert all(r["error"] for r in rows[1:]) and not rows[0]["error"]


def _json(payload: Any) -> dict[str, Any]:
    return {"data": json.dumps(payload), "content_type": "application/json"}


#: (name, path, request kwargs, expected status, words the error must contain (field name or message)).
#: A whole multipart upload of two customers (boundary XyZ), as a browser sends one.
UPLOAD_FORM = (
    b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n'
    b"Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen\n1,2,3,4,5,6\n7,8,9,10,11,12\n\r\n--XyZ--\r\n"
)


def test_a_whole_upload_without_its_last_line_end_is_read(client: FlaskClient) -> None:
    """The closing boundary is what tells a whole form from a cut-off one; the line end after it is optional."""
    for body in (UPLOAD_FORM, UPLOAD_FORM[:-2]):
        r = client.post("/api/segment/batch", data=body, content_type="multipart/form-data; boundary=XyZ")
        assert r.status_code == 200 and [x["ok"] for x in r.get_json()["results"]] == [True, True]


BAD_INPUTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("malformed JSON", "/api/segment", {"data": '{"Fresh": 1,', "content_type": "application/json"}, 400, "not valid JSON"),
    ("wrong content type", "/api/segment", {"data": "Fresh=1", "content_type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    ("empty body", "/api/segment", {"data": "", "content_type": "application/json"}, 400, "empty"),
    ("body too large", "/api/segment", {"data": "[" + "1," * 200_000 + "1]", "content_type": "application/json"}, 413, "larger"),
    ("negative", "/api/segment", _json(GOOD | {"Milk": -1}), 422, "Milk"),
    ("NaN", "/api/segment", {"data": '{"Fresh": NaN}', "content_type": "application/json"}, 422, "Fresh"),
    ("Infinity", "/api/segment", {"data": '{"Fresh": 1, "Frozen": Infinity}', "content_type": "application/json"}, 422, "Frozen"),
    ("huge number", "/api/segment", _json(GOOD | {"Grocery": 1e15}), 422, "Grocery"),
    ("string", "/api/segment", _json(GOOD | {"Fresh": "12669"}), 422, "Fresh"),
    ("boolean", "/api/segment", _json(GOOD | {"Detergents_Paper": True}), 422, "Detergents_Paper"),
    ("null", "/api/segment", _json(GOOD | {"Delicassen": None}), 422, "Delicassen"),
    ("missing field (all six)", "/api/segment", _json({"Channel": 1}), 422, "Fresh"),
    ("unknown field", "/api/segment", _json(GOOD | {"Fresh food": 1}), 422, "allowed fields are"),
    ("field given twice", "/api/segment", {"data": '{"Fresh": 1, "Milk": 100, "Milk": 5000}', "content_type": "application/json"}, 422,
     '{"field": "Milk", "row": null, "message": "given 2 times; give each field once"}'),
    ("not an object", "/api/segment", _json([GOOD]), 422, "JSON object"),
    ("empty batch", "/api/segment/batch", _json([]), 422, "empty"),
    ("batch not an array", "/api/segment/batch", _json(GOOD), 422, "JSON array"),
    ("batch over the row limit", "/api/segment/batch", _json([GOOD] * 51), 413, "at most 50"),
    ("CSV wrong header", "/api/segment/batch", {"data": b"Fresh,Milk,Foo\n1,2,3\n", "content_type": "text/csv"}, 422, "Foo"),
    ("CSV missing columns", "/api/segment/batch", {"data": b"Fresh,Milk\n1,2\n", "content_type": "text/csv"}, 422, "Grocery"),
    ("CSV header only", "/api/segment/batch", {"data": HEADER.encode() + b"\n", "content_type": "text/csv"}, 422, "The CSV file has a header but no data rows."),
    ("CSV with both spellings of Delicassen", "/api/segment/batch",
     {"data": HEADER.encode() + b",Delicatessen\n1,2,3,4,5,6,,,7\n", "content_type": "text/csv"}, 422, "give Delicassen or Delicatessen, not both"),
    ("CSV that is an earlier answer", "/api/segment/batch",
     {"data": b"row," + HEADER.encode() + b",segment,persona\n1,1,2,3,4,5,6,,,0,x\n", "content_type": "text/csv"}, 422, "looks like the answer to an earlier upload"),
    ("gzip body", "/api/segment", {"data": b"\x1f\x8b\x08\x00", "content_type": "application/json", "headers": {"Content-Encoding": "gzip"}}, 415, "Content-Encoding gzip"),
    ("gzip CSV", "/api/segment/batch", {"data": b"\x1f\x8b\x08\x00", "content_type": "text/csv", "headers": {"Content-Encoding": "gzip"}}, 415, "uncompressed"),
    ("empty batch body", "/api/segment/batch", {"data": "", "content_type": "application/json"}, 400, "a JSON array"),
    ("CSV header only, no line end", "/api/segment/batch", {"data": HEADER.encode(), "content_type": "text/csv"}, 422, "The CSV file has a header but no data rows."),
    ("CSV body shorter than its Content-Length", "/api/segment/batch",
     {"data": HEADER.encode() + b"\n1,2,3,4,5,6,,\n", "content_type": "text/csv", "environ_overrides": {"CONTENT_LENGTH": "99"}}, 400, "Content-Length"),
    ("upload shorter than its Content-Length", "/api/segment/batch",
     {"data": {"file": (io.BytesIO(b"Fresh\n1\n"), "a.csv")}, "content_type": "multipart/form-data", "environ_overrides": {"CONTENT_LENGTH": "99999"}}, 400, "Content-Length"),
    ("CSV empty", "/api/segment/batch", {"data": b"", "content_type": "text/csv"}, 422, "empty"),
    ("CSV not UTF-8", "/api/segment/batch", {"data": "Fresh\u00e9".encode() + b"\xe9", "content_type": "text/csv"}, 422, "UTF-8"),
    ("upload without file field", "/api/segment/batch", {"data": {"other": "x"}, "content_type": "multipart/form-data"}, 422, "file"),
    # cut off with a matching Content-Length (a proxy, a client that sent what it had): werkzeug drops the unfinished
    # part, and the answer was "upload the file in a field named file", which it was
    ("upload cut off before its closing boundary", "/api/segment/batch",
     {"data": UPLOAD_FORM[:-30], "content_type": "multipart/form-data; boundary=XyZ"}, 400, "ends before its closing boundary: the upload was cut off"),
    ("upload cut off inside its part headers", "/api/segment/batch",
     {"data": UPLOAD_FORM[:20], "content_type": "multipart/form-data; boundary=XyZ"}, 400, "the upload was cut off"),
    ("upload without a boundary", "/api/segment/batch", {"data": UPLOAD_FORM, "content_type": "multipart/form-data"}, 400, "gives no boundary"),
    ("batch wrong content type", "/api/segment/batch", {"data": b"<x/>", "content_type": "application/xml"}, 415, "CSV"),
    ("batch bad format", "/api/segment/batch?format=xml", _json([GOOD]), 422, "format"),
]


@pytest.mark.parametrize(("name", "path", "kwargs", "status", "words"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_json_4xx_naming_the_problem(client: FlaskClient, name: str, path: str, kwargs: dict[str, Any], status: int, words: str) -> None:
    r = client.post(path, **kwargs)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    error = r.get_json()["error"]
    assert error["status"] == status and error["message"]
    assert words in json.dumps(error)
    if status == 422:
        assert error["errors"] and all(e["field"] for e in error["errors"])
    if name == "CSV that is an earlier answer":
        assert [e["field"] for e in error["errors"]] == ["row", "segment", "persona"]


def test_a_field_given_twice_is_refused_not_read_as_its_last_value(client: FlaskClient) -> None:
    """Every JSON reader keeps the last of two values silently: {"Milk": 100, "Milk": 5000} was segmented as 5000."""
    rows = '[{"Fresh": 1, "Milk": 2}, {"Fresh": 1, "Milk": 100, "Milk": 5000, "Milk": 7}, {"Fresh": {"a": 1, "a": 2}}, {"Fresh": 1, "Channel": "x:y"}]'
    results = client.post("/api/segment/batch", data=rows, content_type="application/json").get_json()["results"]
    assert [r["ok"] for r in results] == [True, False, False, False]
    assert results[1]["errors"] == [{"field": "Milk", "row": 2, "message": "given 3 times; give each field once"}]
    alias = client.post("/api/segment", data='{"Delicatessen": 1, "Delicatessen": 2, "Milk": 3}', content_type="application/json")
    assert alias.status_code == 422 and alias.get_json()["error"]["errors"][0]["field"] == "Delicatessen"
    assert client.post("/api/segment", json={"Delicatessen": 1, "Milk": 3}).get_json()["input"]["Delicassen"] == 1
    assert results[2]["errors"] == [{"field": "Fresh", "row": 3, "message": "must be a number (yearly spending), not an object"}]
    assert results[3]["errors"][0]["field"] == "Channel"  # a ":" inside a text is not taken for a key
    both = client.post("/api/segment", data='{"Milk": -1, "Fresh": "x", "Milk": 2}', content_type="application/json").get_json()["error"]["errors"]
    assert [(e["field"], e["message"]) for e in both] == [("Milk", "given 2 times; give each field once"), ("Fresh", "must be a number (yearly spending), not text 'x'")]
    # the same customer with each field once, and NaN read by the exact reader, still gets its usual answers
    assert client.post("/api/segment", data='{"Fresh": 1, "Milk": 2, "Channel": "Retail"}', content_type="application/json").status_code == 200
    nan = client.post("/api/segment", data='{"Fresh": NaN, "Fresh": 1}', content_type="application/json").get_json()["error"]["errors"]
    assert [e["field"] for e in nan] == ["Fresh"]


@pytest.mark.parametrize("sep", [",", ";"])
def test_batch_with_some_bad_rows_never_fails_whole(client: FlaskClient, sep: str) -> None:
    rows: list[list[Any]] = [GOOD_ROW, [-1, 1, 1, 1, 1, 1, 1, 1], ["nan", "inf", 1, 1, 1, 1, 1, 1], ["", "", "", "", "", "", 1, ""],
            ["", "", "", "", "", "", "", ""], GOOD_ROW]
    body = client.post("/api/segment/batch", data=batch_csv(rows, sep=sep), content_type="text/csv").get_json()
    fields = [[e["field"] for e in r.get("errors", [])] for r in body["results"]]
    # all six categories missing names each of them; a row with nothing at all is one error, the row's (csvio.EMPTY_ROW)
    assert fields == [[], ["Fresh"], ["Fresh", "Milk"], list(FEATURES), ["row"], []]


@pytest.mark.parametrize(("content_type", "status"), [
    ("application/json", 200),
    ("application/json; charset=utf-8", 200),
    ("Application/JSON", 200),
    ("application/problem+json", 200),
    ("application/jsonx", 415),
    ("text/json", 415),
])
@pytest.mark.parametrize(("path", "body"), [("/api/segment", GOOD), ("/api/segment/batch", [GOOD])])
def test_content_type_is_read_by_the_http_rules(client: FlaskClient, content_type: str, status: int, path: str, body: Any) -> None:
    """The exact spelling application/json skips header parsing; every other spelling goes through werkzeug's.
    A batch takes the same JSON types as one customer (it refused application/problem+json with a 415)."""
    r = client.post(path, data=json.dumps(body), headers={"Content-Type": content_type})
    assert r.status_code == status, r.get_json()


def test_a_body_without_content_length_is_read_too(app: Flask, client: FlaskClient) -> None:
    """Chunked uploads carry no Content-Length: the body is still read (through werkzeug's stream)."""
    environ = EnvironBuilder("/api/segment", method="POST", data=json.dumps(GOOD), content_type="application/json").get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})  # as gunicorn hands over a de-chunked body
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("200"), b"".join(body)[:300]
    assert json.loads(b"".join(body))["segment"] == client.post("/api/segment", json=GOOD).get_json()["segment"]


def test_a_body_shorter_than_its_content_length_is_a_400(client: FlaskClient) -> None:
    body = json.dumps(GOOD).encode()
    r = client.post("/api/segment", data=body, content_type="application/json", environ_overrides={"CONTENT_LENGTH": str(len(body) + 10)})
    assert r.status_code == 400 and "Content-Length" in r.get_json()["error"]["message"]


def test_a_content_length_over_the_limit_is_a_413(client: FlaskClient, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    r = client.post("/api/segment", data=b"{}", content_type="application/json", environ_overrides={"CONTENT_LENGTH": str(limit + 1)})
    assert r.status_code == 413 and r.get_json()["error"]["status"] == 413


@pytest.mark.parametrize("declared", ["\u00b2", "-1", "abc", "1e3", " 12"])
def test_a_content_length_that_is_not_a_number_never_gives_a_500(client: FlaskClient, declared: str) -> None:
    r = client.post("/api/segment", data=json.dumps(GOOD), content_type="application/json", environ_overrides={"CONTENT_LENGTH": declared})
    assert r.status_code < 500 and r.is_json, r.get_data(as_text=True)[:300]


def test_transfer_encoding_wins_over_content_length(app: Flask) -> None:
    """A body the server has de-chunked is read whole, whatever a Content-Length beside it says (RFC 9112)."""
    environ = EnvironBuilder("/api/segment", method="POST", data=json.dumps(GOOD), content_type="application/json").get_environ()
    environ.update({"CONTENT_LENGTH": "3", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    body, status, _ = run_wsgi_app(app, environ, buffered=True)  # as the server hands it over (the test client rebuilds it)
    assert status.startswith("200"), b"".join(body)[:300]


@pytest.mark.parametrize(("name", "body"), [
    ("byte-order mark", "\ufeff" + json.dumps(GOOD)),
    ("UTF-16", json.dumps(GOOD).encode("utf-16")),
])
def test_one_customer_is_read_like_a_batch_row(client: FlaskClient, name: str, body: str | bytes) -> None:
    """JSON text that pydantic's parser refuses but JSON allows is read as a batch reads it."""
    data = body.encode() if isinstance(body, str) else body
    single = client.post("/api/segment", data=data, content_type="application/json")
    assert single.status_code == 200, single.get_data(as_text=True)[:300]
    assert single.get_json()["segment"] == client.post("/api/segment", json=GOOD).get_json()["segment"]


@pytest.mark.parametrize("text", ['{"Fresh": 1,', '{"Fresh": 1} x', "{'Fresh': 1}", "\ufeff{"])
def test_malformed_json_gets_the_same_400_alone_and_in_a_batch(client: FlaskClient, text: str) -> None:
    single = client.post("/api/segment", data=text.encode(), content_type="application/json")
    batch = client.post("/api/segment/batch", data=text.encode(), content_type="application/json")
    assert single.status_code == batch.status_code == 400
    assert single.get_json()["error"]["message"] == batch.get_json()["error"]["message"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused_in_csv_answers(client: FlaskClient, tmp_path: Path) -> None:
    """Echoed input like =HYPERLINK(...) gets a leading ' in the CSV answer (HTTP and api.score alike); numbers,
    negative ones too, are echoed as written."""
    from api.score import main

    body = (HEADER + '\n"=HYPERLINK(""http://x"")",1,1,1,1,1,@SUM(1),+cmd\n-5,1,1,1,1,1,,\n'
            + '"-2+3+cmd|\' /C calc\'!A0",+1+1,-1.5e3,+.5,1,1,-1-1,+\n').encode()
    answer = client.post("/api/segment/batch?format=csv", data=body, content_type="text/csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(answer)))
    assert rows[0]["Fresh"] == "'=HYPERLINK(\"http://x\")" and rows[0]["Channel"] == "'@SUM(1)" and rows[0]["Region"] == "'+cmd"
    assert rows[1]["Fresh"] == "-5"
    # a sign first and a formula after it (the classic DDE payload): defused; a plain signed number: as written
    assert rows[2]["Fresh"] == "'-2+3+cmd|' /C calc'!A0" and rows[2]["Milk"] == "'+1+1" and rows[2]["Channel"] == "'-1-1"
    assert rows[2]["Grocery"] == "-1.5e3" and rows[2]["Frozen"] == "+.5" and rows[2]["Region"] == "'+"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(body)
    assert main([str(source), "-o", str(target)]) == 0
    assert target.read_text() == answer


@pytest.mark.parametrize("key", ['=HYPERLINK("http://x")', "@SUM(1)", "-2+3+cmd", "\t=1+1"])
def test_an_error_naming_a_field_from_the_input_is_defused_in_csv_answers(client: FlaskClient, key: str) -> None:
    """An unknown field's name comes first in its row's error: the error cell gets the leading ' too."""
    r = client.post("/api/segment/batch?format=csv", json=[{**GOOD, key: 1}, GOOD])
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0]["error"].startswith(f"'{key}: unknown field")
    assert rows[1]["error"] == ""


@pytest.mark.parametrize(
    ("header", "first", "field", "joined"),
    [
        (HEADER, '100,200,300,400,500,600,1,"Lisbon', "Region", 3),  # the last field: the count of fields stays right
        ("Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen", '100,200,300,400,500,"600', "Delicassen", 3),
        ("Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicatessen", '100,200,300,400,500,"600', "Delicatessen", 3),
    ],
)
def test_a_quote_left_open_in_the_last_field_says_how_many_lines_it_joined(
    client: FlaskClient, tmp_path: Path, header: str, first: str, field: str, joined: int
) -> None:
    """The lines after an open quote become part of its cell, so those customers are not rows: the error says so
    (the endpoint and api.score alike) instead of only that the cell is not a valid value."""
    from api.score import main

    width = header.count(",") + 1
    body = "\n".join([header, first, *[",".join(["7"] * 6 + ["2"] * (width - 6)) for _ in range(joined)]]) + "\n"
    answer = client.post("/api/segment/batch", data=body.encode(), content_type="text/csv").get_json()
    assert answer["n_rows"] == 1
    (error,) = answer["results"][0]["errors"]
    assert error["field"] == field
    assert error["message"].endswith(f'(a quote " that is not closed joins the {joined} lines after it into this row)')
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(body)
    assert main([str(source), "-o", str(target)]) == 0
    (row,) = list(csv.DictReader(io.StringIO(target.read_text())))
    assert row["error"] == f"{field}: {error['message']}"


def test_a_quote_that_is_never_closed_is_named_not_a_parser_message(client: FlaskClient, tmp_path: Path) -> None:
    """In a small file the rest of the file joins the row (its error says why the rows after it are gone); in a
    large one pyarrow loses its place ("out of sync with chunker"): the answer says what to fix, and where."""
    from api.score import main

    small = f"{HEADER}\n2,3,\"12669\n1,3,22615,5410,7198,3915,1777,5185\n"
    rows = client.post("/api/segment/batch", data=small.encode(), content_type="text/csv").get_json()["results"]
    assert rows == [{"row": 1, "ok": False, "errors": [{"field": "row", "row": 1, "message": 'has 3 fields, the header has 8 (a quote " that is not closed joins the 1 line after it into this row)'}]}]
    large = "Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen\n1,2,3,4,5,6\n\"12669,2,3,4,5,6\n" + "7,8,9,10,11,12\n" * 200_000
    from api import create_app

    served = create_app({"TESTING": True}).test_client()  # the served limits: this file is 2.8 MB
    r = served.post("/api/segment/batch", data=large.encode(), content_type="text/csv")
    message = r.get_json()["error"]["message"]
    assert r.status_code == 422 and message.startswith('The CSV file cannot be read: a quote " that is not closed, or a row longer than')
    assert "after row 1:" in message and "chunker" not in message
    source = tmp_path / "in.csv"
    source.write_text(large)
    assert main([str(source), "-o", str(tmp_path / "out.csv")]) == 2


THOUSANDTH = {name: value / 1000 for name, value in GOOD.items()}  # GOOD typed as 12.669, 9.656, …: read as units


def test_a_customer_unlike_the_fitted_customers_is_marked_atypical_everywhere(client: FlaskClient) -> None:
    """A real customer is typical; the same spending a thousand times smaller still gets its nearest segment, marked
    atypical, in the answer for one customer, in a JSON batch and in the CSV answer (empty for a bad row)."""
    limit = json.loads(config.SEGMENTER.read_text())["distance_limit"]
    spec = client.get("/api/openapi.json").get_json()
    typical, odd = (client.post("/api/segment", json=c).get_json() for c in (GOOD, THOUSANDTH))
    for answer, expected in ((typical, False), (odd, True)):
        conform(spec, "/api/segment", "post", 200, answer)
        assert answer["atypical"] is expected
        assert (min(d["distance"] for d in answer["distances"]) > limit) is expected
    assert isinstance(odd["segment"], int) and odd["persona"]["name"]

    rows = client.post("/api/segment/batch", json=[GOOD, THOUSANDTH, {"Fresh": -1}]).get_json()["results"]
    assert [r.get("atypical") for r in rows] == [False, True, None]
    assert [r["segment"] for r in rows[:2]] == [typical["segment"], odd["segment"]]
    text = client.post("/api/segment/batch?format=csv", json=[GOOD, THOUSANDTH, {"Fresh": -1}]).get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text)))
    assert header[header.index("confidence") + 1 : header.index("confidence") + 3] == ["atypical", "imputed"]
    assert [r["atypical"] for r in csv.DictReader(io.StringIO(text))] == ["false", "true", ""]

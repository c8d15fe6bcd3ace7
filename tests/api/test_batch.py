"""Vectorised validation agrees with the pydantic model, and the API's scoring agrees with the joblib research model."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, cast

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from flask.testing import FlaskClient

from api import batch, routes
from api.batch import Checked, Scored, assign, check_cells, check_one, check_records, json_numbers, json_object_with_array, json_results, score
from api.errors import ApiError
from api.fields import ALLOWED_FIELDS, LABELS, FieldError
from api.schemas import FEATURES, LEAVE_OUT, MAX_SPEND, CustomerIn
from stages import config
from stages.dataset import is_missing, parse_number
from tests.api.conftest import GOOD
from tests.mixture import uneven_mixture

VALUES: list[Any] = [0, 1, 2.5, 12669, MAX_SPEND, MAX_SPEND + 1, -1, -0.0, math.nan, math.inf, -math.inf, True, False, None, "5", "", [], {}, 10**400]
LABEL_VALUES: list[Any] = [None, 1, 2, 3, 0, "1", "Horeca", "retail", " Lisbon ", "Other", "x", True, 1.0, []]


def random_records(n: int, seed: int) -> list[Any]:
    """Rows mixing good and bad values, missing and unknown fields, and non-objects."""
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    for _ in range(n):
        if rng.random() < 0.03:
            out.append(VALUES[rng.integers(len(VALUES))])
            continue
        row: dict[str, Any] = {}
        for f in FEATURES:
            u = rng.random()
            if u < 0.7:
                row[f] = float(rng.lognormal(8, 1.5)) if rng.random() < 0.5 else int(rng.integers(0, 50_000))
            elif u < 0.85:
                row[f] = VALUES[rng.integers(len(VALUES))]
        if rng.random() < 0.1:
            row["Delicatessen"] = 3
        for label in ("Channel", "Region"):
            if rng.random() < 0.5:
                row[label] = LABEL_VALUES[rng.integers(len(LABEL_VALUES))]
        if rng.random() < 0.05:
            row["Unknown"] = 1
        out.append(row)
    return out


#: Numbers a JSON batch may hold in a category, good and bad (JSON has no NaN or Infinity, but Python clients write them).
NUMBERS: list[Any] = [0, 1, 2.5, 12669, MAX_SPEND, MAX_SPEND + 1, MAX_SPEND + 0.5, -1, -0.0, -1e-300, math.nan, math.inf, -math.inf, 10**20, 2**64, 1e308]


def uniform_records(n: int, seed: int, extra: list[Any] = []) -> list[dict[str, Any]]:  # noqa: B006 - read only
    """Rows that all give the six categories by name as numbers (the usual batch), some out of range; labels any way."""
    rng = np.random.default_rng(seed)
    values = NUMBERS + extra
    out = []
    for _ in range(n):
        row: dict[str, Any] = {f: (values[rng.integers(len(values))] if rng.random() < 0.1 else int(rng.integers(0, 50_000))) for f in FEATURES}
        for label in ("Channel", "Region"):
            if rng.random() < 0.8:
                row[label] = LABEL_VALUES[rng.integers(len(LABEL_VALUES))] if rng.random() < 0.3 else int(rng.integers(1, 3))
        out.append(row)
    return out


def unknown_field_records() -> list[dict[str, Any]]:
    """Rows with one or two unknown fields (a customer id, a typo, a number as a name) before, between and after the
    others, with good and bad values, no spending, both names of Delicassen, or nothing else."""
    rows = []
    for unknown in ({"id": 7}, {"Fresh ": 1, "region": "x"}, {"7": None}):
        for known in ({}, GOOD, {"Milk": -1, "Channel": 9}, {"Region": "Lisbon"}, {**GOOD, "Delicatessen": "x"},
                      {"Fresh": "12", "Delicatessen": 1}, {f: True for f in FEATURES}):
            rows += [{**unknown, **known}, {**known, **unknown}]
            items = list(known.items())
            rows.append(dict(items[:1] + list(unknown.items()) + items[1:]))
    return rows


@pytest.mark.parametrize("records", [
    pytest.param(random_records(3000, seed=1), id="mixed rows"),
    pytest.param(uniform_records(3000, seed=5), id="uniform rows"),
    pytest.param(uniform_records(500, seed=6, extra=[10**400]), id="uniform rows, an integer beyond float range"),
    pytest.param([{"Milk": m, "Delicatessen": d, "Region": r} for d in VALUES for m in (1, -1, "x") for r in ("x", 3)], id="Delicatessen for Delicassen"),
    pytest.param(unknown_field_records(), id="unknown fields anywhere in the row"),
])
def test_fast_path_gives_the_models_verdict_on_every_row(records: list[Any]) -> None:
    checked = check_records(records)
    for i, r in enumerate(records):
        single = check_one(r, i + 1)
        if isinstance(single, CustomerIn):
            assert i not in checked.errors, (r, checked.errors.get(i))
            np.testing.assert_array_equal(checked.X[i], single.spending())
            assert (checked.channel[i], checked.region[i]) == (single.Channel, single.Region)
        else:
            assert checked.errors[i] == single


def test_json_rows_with_bad_values_get_the_models_errors_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above checks every row's errors; this one that only the unusual rows reach the model: not an object,
    both names of Delicassen and no unknown field, or no spending and nothing else wrong."""
    records = random_records(3000, seed=1) + uniform_records(1000, seed=5)
    sent: list[int] = []
    monkeypatch.setattr(batch, "check_one", lambda payload, row: sent.append(row) or check_one(payload, row))  # type: ignore[func-returns-value]  # append, then answer as check_one
    checked = check_records(records)

    def usual(r: Any) -> bool:
        return type(r) is dict and (not set(r) <= set(ALLOWED_FIELDS) or not {"Delicassen", "Delicatessen"} <= set(r))

    unusual = [i + 1 for i, r in enumerate(records) if not usual(r)]
    no_spending = [i + 1 for i, r in enumerate(records) if usual(r) and isinstance(e := check_one(r), list) and [x.field for x in e] == list(FEATURES)]
    assert sent == sorted(unusual + no_spending)
    assert len(checked.errors) - len(sent) > 500, "the sample must hold usual rows with bad values"
    assert sum("Unknown" in r for r in records if type(r) is dict) > 50, "and rows with an unknown field"


def test_csv_cells_give_the_models_verdict_on_every_row() -> None:
    rng = np.random.default_rng(2)
    texts = ["", "0", "12", "3.5", "1e3", "-1", "nan", "inf", "abc", "12 ", str(MAX_SPEND + 1), "+7"]
    n = 2000
    cells = {f: pa.array([texts[i] or None for i in rng.integers(len(texts), size=n)], pa.string()) for f in FEATURES}
    labels = ["", "1", "2", "3", "Retail", "horeca", " Oporto", "x"]
    cells["Channel"] = pa.array([labels[i] or None for i in rng.integers(len(labels), size=n)], pa.string())
    checked = check_cells(cells, np.arange(1, n + 1))
    for i in range(n):
        payload = cell_payload(cells, i)
        single = check_one(payload, i + 1)
        assert (i in checked.errors) == (not isinstance(single, CustomerIn)), payload
        if isinstance(single, CustomerIn):
            np.testing.assert_array_equal(checked.X[i], single.spending())


#: CSV spending cells: good, the common bad kinds (text, below 0, above the limit, not finite) and not known (None,
#: white space, NA).
SPEND_TEXTS: list[str | None] = [
    None, "0", "12", "3.5", "1e3", "+7", " 12 ", "-0", "-0.0", "10000000", "12669.000000000001", "0.1", "1" * 16, ".5",
    "abc", "", " ", "1,5", "12 669", "1_000", "0x10", "\uff11\uff12", "'7'", "=1+1", "12\n3", "a" * 45, "Fresh",
    "-1", "-2.5", "-1e-300", "-0.5e1", "-" + "9" * 20, "20000000", "10000000.5", "1e400", "1" * 400,
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", " -INF ", "NA", "na", " nA ", "n/a", "N A", "NAN",
]
#: CSV label cells: codes and names as the pipeline reads them, and cells that are none.
LABEL_TEXTS: list[str | None] = [None, "1", "2", "3", "2.0", "2.00", "+2", "1e0", "Retail", "horeca", " Oporto ", "x", "0", "4", "1.5", "nan", "-1", " ", "Lisbonn", "NA", " na ", "n/a",
                                 "Porto", " LISBOA ", "retalho", "Portoo"]


def cell_payload(cells: dict[str, pa.Array], i: int) -> dict[str, Any]:
    """Row ``i`` of CSV cells as one customer's JSON: spending as a float when the cell is a number, else its text; a
    cell that marks a value not known (empty, ``NA``) is a field left out."""
    payload: dict[str, Any] = {}
    for name, arr in cells.items():
        text = arr[i].as_py()
        if text is not None and not is_missing(text):
            try:
                payload[name] = parse_number(text) if name in FEATURES else text
            except ValueError:
                payload[name] = text
    return payload


def assert_cells_get_the_models_answers(cells: dict[str, pa.Array], rows: np.ndarray) -> Checked:
    """``check_cells`` gives each row exactly what ``check_one`` gives it alone: the errors, record by record, or the values."""
    checked = check_cells(cells, rows)
    for i, row in enumerate(rows.tolist()):
        single = check_one(cell_payload(cells, i), row)
        if isinstance(single, CustomerIn):
            assert i not in checked.errors, (cell_payload(cells, i), checked.errors[i])
            np.testing.assert_array_equal(checked.X[i], single.spending())
        else:  # in a file's words: an amount not known is an empty cell there, a field left out in JSON
            in_a_file = [dataclasses.replace(e, message=e.message.replace(LEAVE_OUT["json"], LEAVE_OUT["csv"])) for e in single]
            assert checked.errors.get(i) == in_a_file, cell_payload(cells, i)
    assert list(checked.errors) == sorted(checked.errors)
    return checked


def random_cells(n: int, seed: int) -> dict[str, pa.Array]:
    """CSV cells mixing good rows, rows with common bad cells and rows without spending; columns in any order, labels or not."""
    rng = np.random.default_rng(seed)
    spend = {f: [str(rng.integers(0, 50_000)) if rng.random() < 0.6 else SPEND_TEXTS[rng.integers(len(SPEND_TEXTS))] for _ in range(n)] for f in FEATURES}
    for i in np.flatnonzero(rng.random(n) < 0.05):  # no spending: the model's own error, unless a label is wrong
        for f in FEATURES:
            spend[f][i] = None
    labels = {label: [LABEL_TEXTS[rng.integers(len(LABEL_TEXTS))] if rng.random() < 0.4 else str(rng.integers(1, 3)) for _ in range(n)] for label in LABELS}
    names = [*FEATURES, *(label for label in LABELS if rng.random() < 0.8)]
    rng.shuffle(names)  # a header in any order: the model still words its errors in its own order of fields
    return {name: pa.array((spend | labels)[name], pa.string()) for name in names}


@pytest.mark.parametrize("seed", range(8))
def test_csv_cells_get_the_models_errors_record_by_record(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows whose every problem is a common one are worded column by column, the rest by the model: both exactly as
    the model words each row alone; only rows without spending (and nothing else wrong) reach the model here."""
    cells = random_cells(1500, seed)
    rows = np.arange(1, 1501) + 1000 * seed
    sent: list[Any] = []
    monkeypatch.setattr(batch, "check_one", lambda payload, row: sent.append(payload) or check_one(payload, row))  # type: ignore[func-returns-value]  # append, then answer as check_one
    checked = assert_cells_get_the_models_answers(cells, rows)
    payloads = [cell_payload(cells, i) for i in range(len(rows))]
    no_spending = [p for p in payloads if not set(p) & set(FEATURES) and [e.field for e in cast("list[FieldError]", check_one(p))] == list(FEATURES)]
    assert sent == no_spending
    assert len(checked.errors) > 300 and len(no_spending) > 20, "the sample must hold both kinds of rows"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(*[st.sampled_from(SPEND_TEXTS) | st.text(max_size=6) for _ in FEATURES], st.sampled_from(LABEL_TEXTS), st.sampled_from(LABEL_TEXTS) | st.text(max_size=4)), min_size=1, max_size=20))
def test_csv_cells_of_any_text_get_the_models_errors(table: list[tuple[str | None, ...]]) -> None:
    names = [*FEATURES, *LABELS]
    cells = {name: pa.array([r[j] for r in table], pa.string()) for j, name in enumerate(names)}
    assert_cells_get_the_models_answers(cells, np.arange(1, len(table) + 1))


#: Field names a JSON row may hold: the known ones, the alias, and unknown ones (a typo, another case, an id).
ROW_KEYS = [*ALLOWED_FIELDS, "id", "fresh", "Milk ", "Channels", ""]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(ROW_KEYS), st.sampled_from(VALUES + LABEL_VALUES) | st.integers() | st.text(max_size=3), max_size=9), min_size=1, max_size=20))
def test_json_rows_of_any_fields_get_the_models_errors(records: list[dict[str, Any]]) -> None:
    checked = check_records(records)
    for i, r in enumerate(records):
        single = check_one(r, i + 1)
        assert checked.errors.get(i) == (None if isinstance(single, CustomerIn) else single), r


def random_customers(n: int, seed: int) -> pd.DataFrame:
    """Random yearly spending over the whole accepted range, log-uniform, with some zeros."""
    rng = np.random.default_rng(seed)
    X = np.exp(rng.uniform(0, math.log(MAX_SPEND), size=(n, len(FEATURES)))).round(2)
    X[rng.random(X.shape) < 0.02] = 0
    return pd.DataFrame(X, columns=list(FEATURES))


@pytest.mark.parametrize("mixture", [False, True], ids=["served", "gaussian mixture"])
def test_chunked_assign_equals_one_call(app: Flask, mixture: bool) -> None:
    seg = app.extensions["artifacts"].segmenter
    seg = uneven_mixture(seg) if mixture else seg
    X = random_customers(20_000, seed=3).to_numpy()
    whole, chunked = seg.assign(X), assign(seg, X)
    np.testing.assert_array_equal(whole.segment, chunked.segment)
    np.testing.assert_allclose(whole.confidence, chunked.confidence)
    if mixture:
        assert whole.probabilities is not None and chunked.probabilities is not None  # a mixture's answer has them
        np.testing.assert_allclose(whole.probabilities, chunked.probabilities)
    else:
        assert whole.probabilities is None and chunked.probabilities is None


def test_api_gives_the_joblib_models_segment_for_training_rows_and_random_customers(app: Flask, client: FlaskClient) -> None:
    """Parity: the served numpy transform vs the pipeline's sklearn Pipeline, through the real API path."""
    art = app.extensions["artifacts"]
    model = joblib.load(config.model_path(art.segmenter.algorithm))
    training = pd.read_csv(config.PCA_MAP)[list(FEATURES)]
    frame = pd.concat([training, random_customers(10_000, seed=4)], ignore_index=True)
    expected = model.predict(frame)
    checked = check_records(frame.to_dict("records"))
    assert not checked.errors
    got = assign(art.segmenter, checked.X).segment
    np.testing.assert_array_equal(got, expected)
    for i in range(0, len(training), 25):  # and through HTTP, one customer at a time
        assert client.post("/api/segment", json=training.iloc[i].to_dict()).get_json()["segment"] == expected[i]


@pytest.mark.parametrize("n", [1, 60])
def test_batch_limit_is_configurable(app: Flask, n: int) -> None:
    client = app.test_client()
    r = client.post("/api/segment/batch", json=[{"Fresh": 1}] * n)
    assert r.status_code == (200 if n <= app.config["BATCH_MAX_ROWS"] else 413)


def test_a_single_customer_gets_the_verdict_of_a_batch_row() -> None:
    """/api/segment parses and validates JSON text in one step; a batch row is validated from parsed JSON."""
    for r in random_records(3000, seed=4):
        reference = check_one(r, None)
        try:
            single: CustomerIn | list[Any] = routes._customer(json.dumps(r).encode())
        except ApiError as exc:
            assert exc.status == 422
            single = exc.errors
        if isinstance(reference, CustomerIn):
            assert isinstance(single, CustomerIn), (r, single)
            np.testing.assert_array_equal(single.spending(), reference.spending())
            assert (single.Channel, single.Region) == (reference.Channel, reference.Region)
        else:
            assert single == reference, r


def reference_results(scored: Scored, names: list[str], distance_limit: float) -> list[dict[str, Any]]:
    """The batch answer's rows built the plain way, a dict per row (how the API wrote them before the Arrow writer)."""
    a = scored.assignment
    positions = np.flatnonzero(scored.ok).tolist()
    results: list[Any] = [None] * len(scored.checked.rows)
    for n, p in enumerate(positions):
        s = int(a.segment[n])
        results[p] = {
            "row": int(scored.checked.rows[p]), "ok": True, "segment": s, "persona_name": names[s],
            "confidence": float(a.confidence[n]), "atypical": bool(a.distances[n].min() > distance_limit), "position": {"x": float(a.map_xy[n, 0]), "y": float(a.map_xy[n, 1])},
            "distances": [{"segment": j, "name": names[j], "distance": float(a.distances[n, j])} for j in range(len(names))],
            "imputed": [scored.checked.written.get(f, f) for f, m in zip(FEATURES, scored.imputed[n], strict=True) if m],
        }
    for i, errs in scored.checked.errors.items():
        results[i] = {"row": int(scored.checked.rows[i]), "ok": False, "errors": [e.as_dict() for e in errs]}
    return results


def answer(head: dict[str, Any], parts: list[Scored], names: list[str]) -> Any:
    return json.loads(json_object_with_array(head, "results", [json_results(p, names) for p in parts]))


def test_batch_rows_written_by_arrow_equal_the_plain_dicts_exactly(app: Flask) -> None:
    """Every number reads back as the same float; names that need escaping are escaped; errors and imputation in place."""
    seg = app.extensions["artifacts"].segmenter
    names = ['Quote " and back\\slash', "Ünïcödé — café", "tab\tnew\nline"][: seg.k] + [f"p{j}" for j in range(3, seg.k)]
    records = random_records(3000, seed=11) + [{**GOOD, "Milk": 0.0}, {"Fresh": 1e-9}]
    scored = score(seg, check_records(records))
    assert scored.checked.errors and scored.imputed.any() and scored.ok.sum() > 300, "the sample must hold every kind of row"
    assert 0 < scored.atypical.sum() < scored.ok.sum(), "the sample must hold typical and atypical customers"
    head = {"model_version": "abc", "n_rows": len(records)}
    got = answer(head, [scored], names)
    assert got == {**head, "results": reference_results(scored, names, seg.distance_limit)}
    assert [r["row"] for r in got["results"]] == list(range(1, len(records) + 1))


def test_several_parts_and_empty_parts_make_one_array(app: Flask) -> None:
    seg = app.extensions["artifacts"].segmenter
    names = [f"p{j}" for j in range(seg.k)]
    parts = [score(seg, check_records(r)) for r in ([GOOD], [{"Fresh": -1}], [GOOD, GOOD])]
    got = answer({}, parts, names)["results"]
    assert [r["row"] for r in got] == [1, 1, 1, 2] and [r["ok"] for r in got] == [True, False, True, True]
    assert answer({"n": 0}, [], names) == {"n": 0, "results": []}
    assert json.loads(json_object_with_array({}, "results", [pa.array([], pa.large_string())])) == {"results": []}


@pytest.mark.parametrize(("value", "text"), [(2.0, "2.0"), (0.0, "0.0"), (-0.0, "-0.0"), (1.0, "1.0"), (1e16, "1e+16"), (0.1, "0.1"), (math.nan, "null"), (math.inf, "null")])
def test_json_numbers_keep_floats_floats(value: float, text: str) -> None:
    assert json_numbers(np.array([value, 0.5])).to_pylist() == [text, "0.5"]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
def test_json_numbers_read_back_as_the_same_floats(values: list[float]) -> None:
    texts = json_numbers(np.array(values, dtype=np.float64)).to_pylist()
    parsed = [json.loads(t) for t in texts]
    assert all(type(p) is float for p in parsed), texts
    assert [math.copysign(1, p) for p in parsed] == [math.copysign(1, v) for v in values]
    assert parsed == values


def test_json_numbers_write_integers_as_integers() -> None:
    assert json_numbers(np.array([0, 7, -3], dtype=np.int64)).to_pylist() == ["0", "7", "-3"]


@pytest.mark.parametrize("value", [-1, 0, 10**30, -(10**400), 2.5, -0.0, 1e-300, 1e308, 0.1 + 0.2, math.nan, math.inf, -math.inf, True, False, [1], {"a": 1}, "é"])
def test_a_refused_value_is_echoed_as_json_writes_it(value: Any) -> None:
    assert batch._as_sent(value) == (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False))

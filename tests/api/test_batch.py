"""Vectorised validation agrees with the pydantic model, and the API's scoring agrees with the joblib research model."""

from __future__ import annotations

import json
import math
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import routes
from api.batch import assign, check_cells, check_one, check_records
from api.errors import ApiError
from api.schemas import FEATURES, MAX_SPEND, CustomerIn
from stages import config

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


def test_fast_path_gives_the_models_verdict_on_every_row() -> None:
    records = random_records(3000, seed=1)
    checked = check_records(records)
    for i, r in enumerate(records):
        single = check_one(r, i + 1)
        if isinstance(single, CustomerIn):
            assert i not in checked.errors, (r, checked.errors.get(i))
            np.testing.assert_array_equal(checked.X[i], single.spending())
            assert (checked.channel[i], checked.region[i]) == (single.Channel, single.Region)
        else:
            assert checked.errors[i] == single


def test_csv_cells_give_the_models_verdict_on_every_row() -> None:
    rng = np.random.default_rng(2)
    texts = ["", "0", "12", "3.5", "1e3", "-1", "nan", "inf", "abc", "12 ", str(MAX_SPEND + 1), "+7"]
    n = 2000
    cells = {f: pa.array([texts[i] or None for i in rng.integers(len(texts), size=n)], pa.string()) for f in FEATURES}
    labels = ["", "1", "2", "3", "Retail", "horeca", " Oporto", "x"]
    cells["Channel"] = pa.array([labels[i] or None for i in rng.integers(len(labels), size=n)], pa.string())
    checked = check_cells(cells, np.arange(1, n + 1))
    for i in range(n):
        payload: dict[str, Any] = {}
        for name, arr in cells.items():
            v = arr[i].as_py()
            if v is not None:
                try:
                    payload[name] = float(v) if name in FEATURES else v
                except ValueError:
                    payload[name] = v
        single = check_one(payload, i + 1)
        assert (i in checked.errors) == (not isinstance(single, CustomerIn)), payload
        if isinstance(single, CustomerIn):
            np.testing.assert_array_equal(checked.X[i], single.spending())


def random_customers(n: int, seed: int) -> pd.DataFrame:
    """Random yearly spending over the whole accepted range, log-uniform, with some zeros."""
    rng = np.random.default_rng(seed)
    X = np.exp(rng.uniform(0, math.log(MAX_SPEND), size=(n, len(FEATURES)))).round(2)
    X[rng.random(X.shape) < 0.02] = 0
    return pd.DataFrame(X, columns=list(FEATURES))


def test_chunked_assign_equals_one_call(app: Flask) -> None:
    seg = app.extensions["artifacts"].segmenter
    X = random_customers(20_000, seed=3).to_numpy()
    whole, chunked = seg.assign(X), assign(seg, X)
    np.testing.assert_array_equal(whole.segment, chunked.segment)
    np.testing.assert_allclose(whole.confidence, chunked.confidence)


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
    for i, r in enumerate(random_records(3000, seed=4)):
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

"""Segments do not depend on the order of the raw rows, nor (log + standard) on the currency."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from stages import config
from stages.cluster import fit_segmentation
from stages.features import engineer, space_columns
from stages.prepare import prepare, read_raw_text


def segments_of(raw_text: str, params: dict) -> pd.Series:
    """Chain the stage functions as the notebooks do; return the served segment per raw row."""
    data, feats, cl = params["data"], params["features"], params["cluster"]
    prepared = prepare(read_raw_text(raw_text, "raw.csv"), data["features"], data["labels"], data["impute"], "raw.csv")
    customers = prepared.customers
    result = engineer(customers, data["features"], prepared.report["impute"]["values"], feats)
    clustered = result.table["clustered"].to_numpy()
    S = result.table.loc[clustered, space_columns(data["features"], feats["pca"]["n_components"])].to_numpy()
    spend = customers.loc[clustered, data["features"]].to_numpy().sum(axis=1)
    seg = fit_segmentation(cl["algorithm"], int(cl["k"]), S, spend, params["base"]["seed"], cl["n_init"])
    return pd.Series(seg.labels, index=customers.loc[clustered, "row"].to_numpy()).sort_index()


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(config.ROOT / config.load_params()["data"]["raw"])


@pytest.fixture(scope="module")
def reference(raw: pd.DataFrame) -> pd.Series:
    return segments_of(raw.to_csv(index=False), config.load_params())


def test_reference_matches_the_shipped_assignments(reference: pd.Series) -> None:
    shipped = pd.read_csv(config.ASSIGNMENTS).set_index("row")
    params = config.load_params()
    assert (shipped.loc[reference.index, params["cluster"]["algorithm"]] == reference).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffling_raw_rows_gives_identical_segments(raw: pd.DataFrame, reference: pd.Series, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(len(raw))
    shuffled = raw.iloc[order].reset_index(drop=True)
    result = segments_of(shuffled.to_csv(index=False), config.load_params())
    # row ids are positions in the shuffled file: map them back to the original rows
    result.index = order[result.index - 1] + 1
    pd.testing.assert_series_equal(result.sort_index(), reference)


@pytest.mark.parametrize("factor", [0.5, 7.5, 1000.0])
def test_another_currency_gives_identical_segments(raw: pd.DataFrame, reference: pd.Series, factor: float) -> None:
    params = config.load_params()
    assert params["features"]["transform"] == "log" and params["features"]["scaler"] == "standard"
    scaled = raw.copy()
    features = params["data"]["features"]
    scaled[features] = scaled[features] * factor
    buffer = io.StringIO()
    scaled.to_csv(buffer, index=False)
    pd.testing.assert_series_equal(segments_of(buffer.getvalue(), params), reference)

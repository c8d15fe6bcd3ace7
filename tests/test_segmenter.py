"""Tests of stages.segmenter: the served plain-data model agrees with the joblib research artifact."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any, cast

import joblib
import numpy as np
import pandas as pd
import pytest

from stages import config
from stages.segmenter import (
    Segmenter, affine, affine_terms, centroid_confidence, fill_missing, nearest_distance, spend_transform, squared_distance,
)
from tests.mixture import uneven_mixture

N_RANDOM = 10_000


@pytest.fixture(scope="module")
def served() -> Segmenter:
    return Segmenter.load(config.SEGMENTER)


@pytest.fixture(scope="module")
def research_model():
    return joblib.load(config.model_path(json.loads(config.SEGMENTER.read_text())["algorithm"]))


def random_customers(n: int, seed: int = 7) -> np.ndarray:
    """Spending drawn log-uniformly from 0 to twice the largest value seen, with some zeros."""
    rng = np.random.default_rng(seed)
    X = np.exp(rng.uniform(0, np.log(250_000), size=(n, 6)))
    X[rng.random(size=X.shape) < 0.02] = 0.0
    return X.round(2)


def test_every_training_row_gets_the_joblib_segment(served: Segmenter, research_model) -> None:
    X = pd.read_csv(config.CUSTOMERS)[served.features].to_numpy(dtype=float)
    assert len(X) == 440
    expected = research_model.predict(X)
    assert np.array_equal(served.assign(X).segment, expected)
    assert [served.assign_one(x).segment for x in X.tolist()] == expected.tolist()


def test_random_customers_get_the_joblib_segment(served: Segmenter, research_model) -> None:
    X = random_customers(N_RANDOM)
    expected = research_model.predict(X)
    assert np.array_equal(served.assign(X).segment, expected)
    assert [served.assign_one(x).segment for x in X.tolist()] == expected.tolist()  # the one-customer path too


def _one_rows(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    X[::7, 1] = np.nan  # some customers with a category to impute
    X[::11, [0, 3]] = np.nan
    return X


@pytest.mark.parametrize("variant", ["served", "one segment", "gaussian mixture"])
def test_one_customer_gets_exactly_the_numbers_of_a_one_row_batch(served: Segmenter, variant: str) -> None:
    """assign_one is assign written for one row: same segment, and the same bits in every number."""
    seg = {
        "served": served,
        "one segment": dataclasses.replace(served, centroids=served.centroids[:1]),
        "gaussian mixture": dataclasses.replace(
            served, kind="gaussian_mixture", weights=np.full(served.k, 1 / served.k),
            precisions_cholesky=np.stack([np.eye(served.centroids.shape[1])] * served.k),
        ),
    }[variant]
    assert seg.impute is not None  # the rows below have missing spend, which assign_one fills with these values
    training = pd.read_csv(config.CUSTOMERS)[served.features].to_numpy(dtype=float)
    X = _one_rows(np.vstack([training, random_customers(N_RANDOM, seed=11)]))
    whole = seg.assign(X)
    for i, x in enumerate(X):
        one, batch = seg.assign_one(x.tolist()), seg.assign(x[None, :])
        assert (one.segment, one.distances, one.confidence, one.map_xy) == (
            int(batch.segment[0]), batch.distances[0].tolist(), float(batch.confidence[0]), batch.map_xy[0].tolist()
        )
        assert one.probabilities == (None if batch.probabilities is None else batch.probabilities[0].tolist())
        assert one.spending == fill_missing(x[None, :], seg.impute)[0].tolist()
        if seg.kind == "centroid":  # and the same bits as that row of a whole batch (a mixture's log-likelihood uses BLAS)
            assert (one.segment, one.distances, one.confidence, one.map_xy) == (
                int(whole.segment[i]), whole.distances[i].tolist(), float(whole.confidence[i]), whole.map_xy[i].tolist()
            )
    assert variant != "one segment" or seg.assign_one(X[0].tolist()).confidence == 1.0


def test_missing_spend_is_imputed_the_same_way(served: Segmenter, research_model) -> None:
    X = random_customers(500, seed=3)
    X[::3, 2] = np.nan
    assert np.array_equal(served.assign(X).segment, research_model.predict(X))


def test_round_trip_through_plain_data(served: Segmenter) -> None:
    again = Segmenter.from_dict(json.loads(json.dumps(served.to_dict())))
    X = random_customers(100)
    assert np.array_equal(again.assign(X).segment, served.assign(X).segment)
    assert served.distance_limit is not None and again.distance_limit == served.distance_limit


def test_the_served_model_calls_one_percent_of_the_fitted_customers_atypical(served: Segmenter) -> None:
    """segmenter.json's distance_limit, read back: about 1% of the customers it was fitted on lie beyond it (the
    99th percentile), and no one at all without a limit."""
    table = pd.read_csv(config.FEATURES)
    X = pd.read_csv(config.CUSTOMERS)[served.features].to_numpy(dtype=float)[table["clustered"].to_numpy()]
    nearest = served.assign(X).distances.min(axis=1)
    assert served.atypical(nearest).sum() == math.ceil(0.01 * (len(X) - 1))  # strictly above the 99th percentile
    assert not dataclasses.replace(served, distance_limit=None).atypical(nearest).any()
    one = served.assign_one(X[0].tolist())
    assert served.distance_limit is not None  # the count above is 0 without a limit
    assert served.atypical(min(one.distances)) is (min(one.distances) > served.distance_limit)


def test_assignment_carries_distances_confidence_and_map_position(served: Segmenter) -> None:
    result = served.assign(random_customers(50))
    assert result.distances.shape == (50, served.k)
    if served.kind == "centroid":  # a mixture assigns by likelihood, not by distance
        assert np.array_equal(result.segment, result.distances.argmin(axis=1))
    assert ((result.confidence >= 0) & (result.confidence <= 1)).all()
    assert result.map_xy.shape == (50, 2)


def test_map_position_matches_the_published_map(served: Segmenter) -> None:
    points = pd.read_csv(config.PCA_MAP)
    xy = served.assign(points[served.features].to_numpy(dtype=float)).map_xy
    assert np.allclose(xy, points[["PC1", "PC2"]].to_numpy(), atol=1e-9)


@pytest.mark.parametrize(("change", "named"), [
    ({"scaler_scale": np.ones(5)}, "scaler.scale"),
    ({"centroids": np.zeros((3, 4))}, "centroids"),
    ({"impute": [1.0] * 7}, "impute"),
    ({"n_components": 7}, "n_components"),
    ({"transform": "sqrt"}, "transform"),
    ({"centroids": np.full((3, 6), np.nan)}, "centroids"),
    ({"scaler_center": np.array([0.0, 0.0, np.inf, 0.0, 0.0, 0.0])}, "scaler.center"),
    ({"impute": [1.0, 1.0, 1.0, math.nan, 1.0, 1.0]}, "impute"),
    ({"distance_limit": math.nan}, "distance_limit"),
    ({"distance_limit": -1.0}, "distance_limit"),
    ({"pca_components": np.zeros(6)}, "pca.components"),
    ({"centroids": np.zeros(6)}, "centroids"),
])
def test_a_model_whose_arrays_do_not_fit_or_are_not_finite_is_refused_naming_the_field(served: Segmenter, change: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        dataclasses.replace(served, **change)


def mixture(served: Segmenter, **change: Any) -> Segmenter:
    """The served centres as a valid Gaussian mixture (equal weights, unit covariances), with ``change`` applied."""
    k, d = served.centroids.shape
    fields: dict[str, Any] = {"kind": "gaussian_mixture", "weights": np.full(k, 1 / k), "precisions_cholesky": np.stack([np.eye(d)] * k), **change}
    return dataclasses.replace(served, **fields)


@pytest.mark.parametrize("kind", ["centroid", "gaussian_mixture"])
@pytest.mark.parametrize(("section", "key", "named"), [("scaler", "center", "scaler.center"), ("pca", "components", "pca.components"),
                                                       (None, "centroids", "centroids"), ("pca", "mean", "pca.mean")])
def test_a_model_file_with_null_for_an_array_is_refused_naming_the_field(served: Segmenter, kind: str, section: str | None, key: str, named: str) -> None:
    """A hand-edited ml/segmenter.json with null where an array belongs: a ValueError that names it, never an
    AttributeError or IndexError from deep inside."""
    data = (served if kind == "centroid" else mixture(served)).to_dict()
    (data if section is None else data[section])[key] = None
    with pytest.raises(ValueError, match=named):
        Segmenter.from_dict(data)


def test_a_valid_mixture_is_accepted_and_segments(served: Segmenter) -> None:
    gmm = mixture(served)
    X = random_customers(200)
    assert np.array_equal(gmm.assign(X).segment, served.assign(X).segment)  # equal weights and covariances: nearest centre


def _bad_diagonal(k: int, d: int, value: float) -> np.ndarray:
    pc = np.stack([np.eye(d)] * k)
    pc[k - 1, d - 1, d - 1] = value
    return pc


#: Faulty mixture fields for a model of k segments in d dimensions, and the field the error must name.
BAD_MIXTURES: dict[str, tuple[Callable[[int, int], dict[str, Any]], str]] = {
    "no weights": (lambda k, d: {"weights": None}, "weights"),
    "no covariances": (lambda k, d: {"precisions_cholesky": None}, "precisions_cholesky"),
    "one weight short": (lambda k, d: {"weights": np.full(k - 1, 1 / (k - 1))}, "weights"),
    "covariances of another space": (lambda k, d: {"precisions_cholesky": np.stack([np.eye(d - 1)] * k)}, "precisions_cholesky"),
    "NaN weight": (lambda k, d: {"weights": np.r_[np.full(k - 1, 1 / k), np.nan]}, "weights"),
    "infinite covariance": (lambda k, d: {"precisions_cholesky": _bad_diagonal(k, d, np.inf)}, "precisions_cholesky"),
    "zero weight": (lambda k, d: {"weights": np.r_[np.full(k - 1, 1 / (k - 1)), 0.0]}, "weights"),
    "negative Cholesky diagonal": (lambda k, d: {"precisions_cholesky": _bad_diagonal(k, d, -1.0)}, "precisions_cholesky"),
}


@pytest.mark.parametrize("case", BAD_MIXTURES)
def test_a_mixture_without_usable_weights_or_covariances_is_refused_naming_the_field(served: Segmenter, case: str) -> None:
    change, named = BAD_MIXTURES[case]
    with pytest.raises(ValueError, match=named):
        mixture(served, **change(*served.centroids.shape))


def test_confidence_is_zero_on_a_border_and_one_at_a_centre() -> None:
    assert centroid_confidence(np.array([[1.0, 1.0, 3.0], [0.0, 2.0, 5.0]])).tolist() == [0.0, 1.0]


def test_distances_are_euclidean(served: Segmenter) -> None:
    S, _ = served.project(random_customers(3000))
    expected = np.linalg.norm(S[:, None, :] - served.centroids, axis=2)
    assert np.allclose(served.distances(S), expected, rtol=1e-14, atol=0)


def test_squared_distance_gives_the_same_bits_on_floats_and_on_arrays() -> None:
    rng = np.random.default_rng(5)
    points, centres = rng.normal(size=(2000, 6)) * 10.0 ** rng.integers(-3, 4, size=(2000, 1)), rng.normal(size=(4, 6))
    on_arrays = squared_distance([points[:, j, None] for j in range(6)], list(centres.T))
    on_floats = [[squared_distance(p, c) for c in centres.tolist()] for p in points.tolist()]
    assert on_arrays.tolist() == on_floats
    # a library reduction adds in another order: the two paths above would disagree if one of them used it
    assert not np.array_equal(on_arrays, np.einsum("ijk,ijk->ij", points[:, None] - centres, points[:, None] - centres))


def test_affine_gives_the_same_bits_on_floats_and_on_arrays() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(2000, 6)) * 10.0 ** rng.integers(-3, 4, size=(2000, 1))
    W, b = rng.normal(size=(6, 5)), rng.normal(size=5)
    W[[0, 2, 5], 1] = 0.0  # sparse columns, and one with a single weight
    W[1:, 3] = 0.0
    terms = affine_terms(W)
    assert terms[1][0] == (1, 3, 4) and terms[3] == ((0,), (W[0, 3],))
    on_arrays = affine(list(X.T), terms, b.tolist())
    on_floats = [affine(x, terms, b.tolist()) for x in X.tolist()]
    assert np.column_stack(on_arrays).tolist() == on_floats
    assert np.allclose(np.column_stack(on_arrays), X @ W - b, rtol=1e-13, atol=1e-13)
    # a matrix product adds in another order: the two paths above would disagree if one of them used it
    assert not np.array_equal(np.column_stack(on_arrays), X @ W - b)


def test_affine_terms_keep_one_term_for_an_all_zero_column() -> None:
    assert affine_terms(np.array([[0.0, 2.0], [0.0, 0.0]])) == [((0,), (0.0,)), ((0,), (2.0,))]


@pytest.mark.parametrize("n_components", [0, 2, 4])
def test_the_folded_projection_equals_scaling_then_pca(served: Segmenter, n_components: int) -> None:
    seg = dataclasses.replace(served, n_components=n_components, centroids=np.zeros((3, n_components or len(served.features))))
    X = random_customers(2000)
    S, map_xy = seg.project(X)
    impute = cast("list[float]", seg.impute)  # random_customers has no NaN, so fill_missing never reads these values
    scaled = (spend_transform(fill_missing(X, impute), seg.transform) - seg.scaler_center) / seg.scaler_scale
    space = scaled if n_components == 0 else (scaled - seg.pca_mean) @ seg.pca_components[:n_components].T
    assert S.shape == (2000, n_components or len(seg.features))
    assert np.allclose(S, space, rtol=0, atol=1e-12)
    assert np.allclose(map_xy, (scaled - seg.pca_mean) @ seg.pca_components[:2].T, rtol=0, atol=1e-12)


def test_one_customer_with_a_missing_spend_needs_imputation_values(served: Segmenter) -> None:
    with pytest.raises(ValueError, match="imputation"):
        dataclasses.replace(served, impute=None).assign_one([1.0, math.nan, 1.0, 1.0, 1.0, 1.0])


def test_fill_missing_only_touches_nan() -> None:
    assert fill_missing(np.array([[np.nan, 2.0]]), [5.0, 6.0]).tolist() == [[5.0, 2.0]]


def test_unknown_schema_version_is_refused(served: Segmenter) -> None:
    data = {**served.to_dict(), "schema_version": 99}
    with pytest.raises(ValueError, match="schema_version"):
        Segmenter.from_dict(data)


def test_a_centroid_model_has_no_probabilities(served: Segmenter) -> None:
    assert served.kind == "centroid"
    assert served.assign(random_customers(5)).probabilities is None
    assert served.assign_one(random_customers(1)[0].tolist()).probabilities is None


def test_a_mixture_gives_each_segments_probability_and_picks_the_most_probable(served: Segmenter) -> None:
    gmm = uneven_mixture(served)
    result = gmm.assign(random_customers(2_000))
    p = result.probabilities
    assert p is not None and p.shape == (2_000, gmm.k)
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(result.segment, p.argmax(axis=1))
    assert np.array_equal(result.confidence, p.max(axis=1))
    nearest = result.distances.argmin(axis=1)
    assert (result.segment != nearest).any(), "the wide segment must win some customers whose nearest centre is another"
    assert (result.segment == nearest).any()


def test_nearest_distance_is_the_row_minimum(served: Segmenter) -> None:
    distances = served.assign(random_customers(500)).distances
    assert np.array_equal(nearest_distance(distances), distances.min(axis=1))
    assert np.array_equal(nearest_distance(np.array([[3.0], [1.0]])), np.array([3.0, 1.0]))  # one segment

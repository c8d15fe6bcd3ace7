"""Tests of stages.algorithms: fitting, canonical ids, stability."""

from __future__ import annotations

import numpy as np
import pytest

from stages.algorithms import Relabeled, bootstrap_stability, canonical_mapping, fit_predictor, make_model
from tests.test_select_k import blobs


def test_canonical_mapping_orders_by_size_then_spend() -> None:
    labels = np.array([0, 1, 1, 2, 2, 2, 3, 3])
    spend = np.array([5.0, 1, 1, 1, 1, 1, 9, 9])
    # sizes: 0→1, 1→2, 2→3, 3→2; label 3 outspends label 1 at equal size
    assert canonical_mapping(labels, spend, 4).tolist() == [3, 2, 0, 1]


@pytest.mark.parametrize("algorithm", ["kmeans", "agglomerative", "gmm"])
def test_fit_predictor_predicts_its_own_training_partition(algorithm: str) -> None:
    S = blobs()
    model, labels = fit_predictor(algorithm, 3, S, seed=0, n_init=2)
    assert np.array_equal(model.predict(S), labels)


def test_relabeled_applies_the_mapping() -> None:
    S = blobs()
    model, labels = fit_predictor("kmeans", 3, S, seed=0, n_init=2)
    wrapped = Relabeled(model, [2, 0, 1]).fit(S)
    assert np.array_equal(wrapped.predict(S), np.array([2, 0, 1])[labels])


def test_bootstrap_stability_is_high_for_clear_blobs_and_deterministic() -> None:
    S = blobs()
    a = bootstrap_stability("kmeans", 3, S, seed=3, n_init=2, n_boot=5)
    assert a > 0.95
    assert a == bootstrap_stability("kmeans", 3, S, seed=3, n_init=2, n_boot=5)


def test_unknown_algorithm_is_named() -> None:
    with pytest.raises(ValueError, match="dbscan"):
        make_model("dbscan", 3, 0, 1)

"""The clustering algorithms, fitted the same way by select_k and cluster, with canonical segment ids."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestCentroid

# Defined in stages.choices and stages.names (light, for params.yaml's check and the API); the notebooks import them
# from here too.
from stages.choices import ALGORITHMS, check_served, one_of  # noqa: F401
from stages.names import ALGORITHM_NAMES  # noqa: F401


def make_model(algorithm: str, k: int, seed: int, n_init: int) -> BaseEstimator:
    """An unfitted estimator for ``algorithm`` with ``k`` segments."""
    if algorithm == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    if algorithm == "agglomerative":
        return AgglomerativeClustering(n_clusters=k, linkage="ward")
    if algorithm == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", n_init=n_init, random_state=seed, reg_covar=1e-6)
    raise ValueError(f"cluster.algorithm: {one_of(ALGORITHMS)} (got {algorithm!r})")


def fit_predictor(algorithm: str, k: int, S: NDArray[np.float64], seed: int, n_init: int) -> tuple[BaseEstimator, NDArray[np.int64]]:
    """Fit on ``S``; return an estimator that can ``predict`` new rows and the fitted labels.

    Agglomerative clustering has no ``predict``: new rows go to the nearest cluster mean
    (a ``NearestCentroid`` fitted on its labels), the usual way to serve a hierarchical partition.
    """
    model = make_model(algorithm, k, seed, n_init)
    if algorithm == "agglomerative":
        labels = model.fit_predict(S)
        return NearestCentroid().fit(S, labels), labels.astype(np.int64)
    model.fit(S)
    return model, model.predict(S).astype(np.int64)


def centres_of(model: BaseEstimator) -> NDArray[np.float64]:
    """Segment centres of a fitted predictor, in its own label order."""
    if isinstance(model, KMeans):
        return model.cluster_centers_
    if isinstance(model, GaussianMixture):
        return model.means_
    if isinstance(model, NearestCentroid):
        return model.centroids_
    raise TypeError(f"no centres for {type(model).__name__}")


def canonical_mapping(labels: NDArray[np.int64], spend_total: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Old label → canonical id: largest segment first, ties broken by higher mean total spend."""
    sizes = np.bincount(labels, minlength=k)
    mean_spend = np.array([spend_total[labels == j].mean() if sizes[j] else 0.0 for j in range(k)])
    order = sorted(range(k), key=lambda j: (-sizes[j], -mean_spend[j], j))
    mapping = np.empty(k, dtype=np.int64)
    mapping[order] = np.arange(k)
    return mapping


class Relabeled(ClusterMixin, BaseEstimator):
    """A fitted clusterer whose labels are renumbered by a fixed mapping (canonical segment ids)."""

    def __init__(self, model: Any = None, mapping: Any = None):
        self.model = model
        self.mapping = mapping

    def fit(self, X: Any, y: Any = None) -> Relabeled:
        """Nothing to learn: the wrapped model is fitted already."""
        self.mapping_ = np.asarray(self.mapping, dtype=np.int64)
        return self

    def predict(self, X: Any) -> NDArray[np.int64]:
        """Canonical segment of each row."""
        return self.mapping_[self.model.predict(X)]


def bootstrap_stability(
    algorithm: str, k: int, S: NDArray[np.float64], seed: int, n_init: int, n_boot: int
) -> float:
    """Mean adjusted Rand index between the full-data partition and refits on bootstrap resamples."""
    if n_boot <= 0:
        return float("nan")
    _, reference = fit_predictor(algorithm, k, S, seed, n_init)
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(S), size=len(S))
        model, _ = fit_predictor(algorithm, k, S[idx], int(rng.integers(2**31 - 1)), n_init)
        scores.append(adjusted_rand_score(reference, model.predict(S)))
    return float(np.mean(scores))


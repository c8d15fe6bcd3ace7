"""Tests of stages.cluster: k resolution, agreement with Channel, metrics, segmenter export."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from stages.cluster import (
    agreement_table, assignments_table, channel_agreement, check_params, cluster_metrics, export_segmenter, fit_segmentation,
    full_pipeline, k_evidence_text, map_centres, mean_pairwise_ari, reference_silhouette, resolve_k,
)
from stages.features import engineer, space_columns
from tests.conftest import FEATURES
from tests.test_features import PARAMS


@pytest.mark.parametrize(("k", "expected"), [("auto", 4), (3, 3)])
def test_resolve_k(k: int | str, expected: int) -> None:
    assert resolve_k(k, 4) == expected


@pytest.mark.parametrize("k", [1, "three", True, 2.5])
def test_bad_k_names_the_key(k: Any) -> None:  # a value as params.yaml may hold it: Any, wrong types included
    with pytest.raises(ValueError, match="cluster.k"):
        resolve_k(k, 3)


@pytest.mark.parametrize("k", [435, 440])
def test_more_segments_than_customers_to_fit_names_the_key(k: int) -> None:
    with pytest.raises(ValueError, match=f"cluster.k: {k} segments cannot be fitted on 435 customers; use at most 434"):
        resolve_k(k, 3, 435)
    assert resolve_k(434, 3, 435) == 434


def test_no_more_segments_than_different_customers() -> None:
    with pytest.raises(ValueError, match=r"cluster.k: 4 segments cannot be fitted on 20 customers \(3 of them different\); use at most 3"):
        resolve_k(4, 3, 20, 3)
    assert resolve_k(3, 2, 20, 3) == 3
    assert resolve_k("auto", 2, 20, 3) == 2


def test_served_algorithm_must_be_swept() -> None:
    with pytest.raises(ValueError, match="cluster.algorithm"):
        check_params({"algorithm": "gmm", "n_init": 3}, ["kmeans"])


def test_channel_agreement_uses_each_segments_majority() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    channel = np.array([1, 1, 2, 2, 2, 2])
    accuracy, ari = channel_agreement(labels, channel)
    assert accuracy == pytest.approx(5 / 6)
    assert 0 < ari < 1


def test_a_segment_sits_within_one_channel_only_well_above_that_channels_share_of_all() -> None:
    """`features.scaler: robust`: one segment 98% Horeca, the others mixed, at an ARI of 0.299 read "the segments
    largely cut across the Horeca/Retail split". channels_within names such a segment; one that only mirrors a base of
    nine in ten Horeca customers is not named."""
    from stages.cluster import WITHIN_ONE_CHANNEL, channels_within

    # 100 Horeca (1) and 50 Retail (2): segment 0 is 49 Horeca of 50, segments 1 and 2 mix both
    labels = np.repeat([0, 1, 2], 50)
    channel = np.r_[[1] * 49, [2], [1] * 26, [2] * 24, [1] * 25, [2] * 25]
    assert channels_within(labels, channel) == [{"segment": 0, "channel": "Horeca", "share": 0.98}]
    # a Retail segment counts too, and the first of the segments comes first
    retail = np.r_[[2] * 46, [1] * 4, [1] * 50, [1] * 50]
    assert channels_within(labels, retail)[0] == {"segment": 0, "channel": "Retail", "share": 0.92}
    # under the bar: 89% of one channel
    assert channels_within(np.repeat([0, 1], [100, 100]), np.r_[[1] * 89, [2] * 11, [1] * 50, [2] * 50]) == [] and WITHIN_ONE_CHANNEL == 0.9
    # a base of 95% Horeca: a segment at 96% only mirrors it (the bar is 97.5%), one at 100% does not
    base = np.repeat([0, 1], [100, 100])
    assert channels_within(base, np.r_[[1] * 96, [2] * 4, [1] * 94, [2] * 6]) == []
    assert channels_within(base, np.r_[[1] * 100, [1] * 90, [2] * 10]) == [{"segment": 0, "channel": "Horeca", "share": 1.0}]


def test_a_segment_leans_to_one_channel_short_of_sitting_within_it() -> None:
    """Robust scaling, log1p, five agglomerative segments: segments 85% Horeca and 82% Retail beside one 99% Horeca
    had left the reading at "largely cut across". channels_leaning names them, and only them: not a segment within one
    channel, not a mixed one, not one that only mirrors the base."""
    from stages.cluster import LEANS_TO_ONE_CHANNEL, WITHIN_ONE_CHANNEL, channels_leaning, channels_within

    # 100 Horeca (1) and 60 Retail (2) in four segments of 40: 99%-ish Horeca, 85% Horeca, 80% Retail, 50/50
    labels = np.repeat([0, 1, 2, 3], 40)
    channel = np.r_[[1] * 40, [1] * 34, [2] * 6, [2] * 32, [1] * 8, [1] * 18, [2] * 22]
    assert channels_within(labels, channel) == [{"segment": 0, "channel": "Horeca", "share": 1.0}]
    assert channels_leaning(labels, channel) == [{"segment": 1, "channel": "Horeca", "share": 0.85},
                                                 {"segment": 2, "channel": "Retail", "share": 0.8}]
    # the bars (a Retail base of 17% or less, well under them): at 67% of one channel a segment leans, at 66% not; at
    # 90% it sits within, so it no longer leans
    three = np.repeat([0, 1, 2], [100, 100, 200])
    assert channels_leaning(three, np.r_[[2] * 67, [1] * 33, [1] * 300]) == [{"segment": 0, "channel": "Retail", "share": 0.67}]
    assert channels_leaning(three, np.r_[[2] * 66, [1] * 34, [1] * 300]) == []
    assert channels_leaning(three, np.r_[[2] * 90, [1] * 10, [1] * 300]) == [] and (LEANS_TO_ONE_CHANNEL, WITHIN_ONE_CHANNEL) == (2 / 3, 0.9)
    # a segment 72% Retail against 32% of all (personas.high=3.0, k=5) leans: at three in four it had "mixed the two"
    assert channels_leaning(np.repeat([0, 1, 2], [100, 100, 100]), np.r_[[2] * 72, [1] * 28, [2] * 24, [1] * 76, [1] * 100]) == [
        {"segment": 0, "channel": "Retail", "share": 0.72}]
    # a base of 85% Horeca: a segment at 88% only mirrors it (well above is 92.5%), and one at 92% too
    base = np.repeat([0, 1], [100, 100])
    assert channels_leaning(base, np.r_[[1] * 88, [2] * 12, [1] * 82, [2] * 18]) == []
    assert channels_leaning(base, np.r_[[1] * 92, [2] * 8, [1] * 78, [2] * 22]) == []


def test_pairwise_ari_is_one_for_identical_partitions() -> None:
    a = np.array([0, 0, 1, 1])
    assert mean_pairwise_ari({"x": a, "y": a.copy()}) == 1.0
    assert mean_pairwise_ari({"x": a, "y": np.array([0, 1, 0, 1])}) < 0


def fitted(customers: pd.DataFrame, algorithm: str, n_components: int = 0):
    params = {**PARAMS, "pca": {"n_components": n_components}}
    feats = engineer(customers, FEATURES, {c: 1.0 for c in FEATURES}, params)
    clustered = feats.table["clustered"].to_numpy()
    S = feats.table.loc[clustered, space_columns(FEATURES, n_components)].to_numpy()
    X = customers[FEATURES].to_numpy(dtype=float)
    seg = fit_segmentation(algorithm, 3, S, X[clustered].sum(axis=1), seed=0, n_init=3)
    return feats, seg, S, X, clustered


@pytest.mark.parametrize("algorithm", ["kmeans", "agglomerative", "gmm"])
@pytest.mark.parametrize("n_components", [0, 3])
def test_exported_segmenter_matches_the_pipeline(customers: pd.DataFrame, algorithm: str, n_components: int) -> None:
    feats, seg, S, X, clustered = fitted(customers, algorithm, n_components)
    pipeline = full_pipeline(feats.preprocess, n_components, seg.model)
    segmenter = export_segmenter(feats.preprocess, n_components, seg, FEATURES, [1.0] * 6, "log", X[clustered])
    rng = np.random.default_rng(1)
    random = np.exp(rng.uniform(0, 11, size=(2000, 6)))
    for batch in (X, random):
        assert np.array_equal(segmenter.assign(batch).segment, pipeline.predict(batch))


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm"])
def test_the_exported_distance_limit_leaves_one_percent_of_the_fitted_customers_atypical(customers: pd.DataFrame, algorithm: str) -> None:
    """The limit is the 99th percentile of the fitted customers' distance to their nearest centre, measured in the
    pipeline's own clustering space; spending a thousand times smaller than a real customer's lies beyond it."""
    feats, seg, S, X, clustered = fitted(customers, algorithm)
    segmenter = export_segmenter(feats.preprocess, 0, seg, FEATURES, [1.0] * 6, "log", X[clustered])
    nearest = np.sqrt(((S[:, None, :] - segmenter.centroids[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert segmenter.distance_limit == pytest.approx(np.quantile(nearest, 0.99), rel=1e-9)
    share = segmenter.atypical(segmenter.assign(X[clustered]).distances.min(axis=1)).mean()
    assert 0 < share <= 0.01 + 1 / clustered.sum()
    thousandth = X[clustered][:50] / 1000
    assert segmenter.atypical(segmenter.assign(thousandth).distances.min(axis=1)).all()


def test_canonical_ids_put_the_largest_segment_first(customers: pd.DataFrame) -> None:
    _, seg, *_ = fitted(customers, "kmeans")
    sizes = np.bincount(seg.labels)
    assert list(sizes) == sorted(sizes, reverse=True)


def test_metrics_have_every_contract_key(customers: pd.DataFrame) -> None:
    _, seg, S, _, clustered = fitted(customers, "kmeans")
    metrics = cluster_metrics(S, seg, {"kmeans": seg.labels}, customers.loc[clustered, "Channel"].to_numpy(), 0.9, 0, [0.5, 0.5], silhouette_reference=0.3)
    contract = {"n_customers", "n_outliers", "k", "algorithm", "silhouette", "calinski_harabasz", "davies_bouldin", "pca_explained_variance", "channel_accuracy", "channel_ari", "stability_ari", "agreement_ari"}
    assert contract <= set(metrics)
    assert metrics["k"] == 3 and metrics["n_customers"] == len(S)
    assert isinstance(metrics["channel_within"], list) and isinstance(metrics["channel_leaning"], list)


def test_channel_baseline_is_that_of_the_clustered_customers(customers: pd.DataFrame) -> None:
    """The site compares the segments' channel accuracy with always guessing the commoner channel: both must be over
    the same customers (the clustered ones), or dropping outliers moves one and not the other."""
    _, seg, S, _, clustered = fitted(customers, "kmeans")
    channel = customers.loc[clustered, "Channel"].to_numpy()
    metrics = cluster_metrics(S, seg, {"kmeans": seg.labels}, channel, 0.9, 0, [0.5, 0.5], silhouette_reference=0.3)
    assert metrics["channel_baseline"] == np.bincount(channel).max() / len(channel) <= metrics["channel_accuracy"]
    assert cluster_metrics(S, seg, {"kmeans": seg.labels}, np.r_[channel[:-5], [2] * 5], 0.9, 0, [0.5, 0.5], silhouette_reference=0.3)["channel_baseline"] != metrics["channel_baseline"]


def test_the_reference_silhouette_is_the_same_whatever_the_feature_space() -> None:
    """Spending in three well-separated groups (in log terms): the reference silhouette depends on the segments and the
    spending only, not on the currency (a constant factor), and falls to about 0 for segments that ignore the groups."""
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], 50)
    spending = np.exp(np.array([[8, 6, 9], [6, 9, 7], [9, 8, 5]], dtype=float)[groups] + rng.normal(0, 0.3, (150, 3)))
    good = reference_silhouette(spending, groups)
    assert good > 0.7
    assert reference_silhouette(spending * 1000, groups) == pytest.approx(good)
    assert abs(reference_silhouette(spending, rng.permutation(groups))) < 0.05


def test_assignments_table_is_sorted_by_raw_row() -> None:
    table = assignments_table(np.array([3, 1, 2]), np.array([True, False, True]), {"kmeans": np.array([0, 1, 2])})
    assert table["row"].tolist() == [1, 2, 3] and table["kmeans"].tolist() == [1, 2, 0]


def test_map_centres_average_clustered_points_per_segment() -> None:
    points = pd.DataFrame({"PC1": [0.0, 2.0, 10.0, 99.0], "PC2": [1.0, 3.0, 5.0, 99.0], "segment": [0, 0, 1, 1], "clustered": [True, True, True, False]})
    assert map_centres(points).tolist() == [[1.0, 2.0], [10.0, 5.0]]


def test_the_agreement_table_shows_every_index_to_two_decimals() -> None:
    """`dvc exp run -S features.outliers.action=keep`: notebook 4's table read 1.0, 0.7, 0.4 in the k-Means column
    beside 0.70, 0.33 in the others (floats rounded to 2 decimals, each column printed with the digits it needs)."""
    a = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    b = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    table = agreement_table({"kmeans": a, "gmm": b, "same": a.copy()})
    assert table.loc["kmeans", "kmeans"] == "1.00" and table.loc["kmeans", "same"] == "1.00"
    assert table.loc["kmeans", "gmm"] == table.loc["gmm", "kmeans"] == f"{adjusted_rand_score(a, b):.2f}"
    assert list(table.index) == list(table.columns) == ["kmeans", "gmm", "same"]
    assert table.map(lambda cell: len(cell.split(".")[1]) == 2).all(axis=None)


@pytest.mark.parametrize(("value", "text"), [(435, "435"), (12345, "12,345"), (0.2618503638239387, "0.262"), (153.52243189860405, "153.5"),
                                             (1.3707607412917238, "1.371"), (-0.05, "-0.050"), ([214, 139, 82], "214, 139, 82"), ("kmeans", "kmeans"), (True, "True"),
                                             ([{"segment": 0, "channel": "Horeca", "share": 0.9815}], "(segment 0, channel Horeca, share 0.982)"), ([], "none")])
def test_a_metric_prints_with_the_digits_of_its_kind(value: object, text: str) -> None:
    """Notebook 4's metrics table (embedded in the Methods page) printed raw floats: 0.26185 beside 1.370761 and 153.522432."""
    from stages.cluster import metric_text

    assert metric_text(value) == text


def test_the_metrics_table_leaves_out_the_explained_variance_and_keeps_the_order() -> None:
    from stages.cluster import metrics_table

    table = metrics_table({"k": 3, "pca_explained_variance": [0.4, 0.3], "silhouette": 0.26185})
    assert list(table.index) == ["k", "silhouette"] and list(table["value"]) == ["3", "0.262"]


#: A sweep in :func:`stages.select_k.long`'s layout: the served k-Means and another algorithm.
SWEEP = pd.DataFrame({"algorithm": ["kmeans"] * 3 + ["gmm"] * 3, "k": [2, 3, 4] * 2,
                      "silhouette": [0.416, 0.397, 0.35, 0.1, 0.2, 0.3], "stability": [0.93, 0.71, 0.6, 0.5, 0.5, 0.5]})


@pytest.mark.parametrize("n_components", [0, 6])
def test_why_k_gives_the_sweeps_silhouette_and_stability_at_each_k(n_components: int) -> None:
    """All the categories, or as many components (a rotation): the shipped run's wording, no space named."""
    assert k_evidence_text(SWEEP, "kmeans", [2, 3], n_components, 6) == (
        "At k = 2 the silhouette is 0.416 and bootstrap stability 0.93; at k = 3 the silhouette is 0.397 and bootstrap "
        "stability 0.71.")
    assert k_evidence_text(SWEEP, "kmeans", [3, 3], n_components, 6) == "At k = 3 the silhouette is 0.397 and bootstrap stability 0.71."
    assert k_evidence_text(SWEEP, "kmeans", [9], n_components, 6) == ""  # a cluster.k outside the sweep


def test_why_k_names_the_preparation_its_silhouettes_were_measured_in() -> None:
    """`dvc exp run -S features.scaler=robust`: "At k = 2 the silhouette is 0.254 …" was in the robust-scaled space,
    where the report's pages call it not comparable, and nothing said so."""
    from stages.select_k import prepared_otherwise
    otherwise = prepared_otherwise({"transform": "log", "scaler": "robust"})
    assert k_evidence_text(SWEEP, "kmeans", [2, 3], 0, 6, otherwise) == (
        "At k = 2 the silhouette, measured in spending prepared with `features.scaler: robust` where the customers were "
        "clustered, is 0.416 and bootstrap stability 0.93; at k = 3 the silhouette is 0.397 and bootstrap stability 0.71. "
        "That silhouette is not comparable with one over log-scaled, standardised spending: a silhouette depends on how "
        "spending is transformed and scaled; `silhouette_reference` in the metrics table below measures the served "
        "segments over all the categories, log-scaled and standardised.")
    assert k_evidence_text(SWEEP, "kmeans", [2, 3], 0, 6, prepared_otherwise({"transform": "log", "scaler": "standard"})) == (
        "At k = 2 the silhouette is 0.416 and bootstrap stability 0.93; at k = 3 the silhouette is 0.397 and bootstrap stability 0.71.")


def test_why_k_names_the_components_its_silhouettes_were_measured_on() -> None:
    """`dvc exp run -S features.pca.n_components=2`: "At k = 2 the silhouette is 0.416 …; at k = 3 … 0.397" were on two
    components and nothing said so."""
    assert k_evidence_text(SWEEP, "kmeans", [2, 3], 2, 6) == (
        "At k = 2 the silhouette, measured on the first 2 principal components (`features.pca.n_components: 2`) where the "
        "customers were clustered, is 0.416 and bootstrap stability 0.93; at k = 3 the silhouette is 0.397 and bootstrap "
        "stability 0.71. That silhouette leaves out the variation the other components carry: `silhouette_reference` in "
        "the metrics table below measures the served segments over all the categories.")

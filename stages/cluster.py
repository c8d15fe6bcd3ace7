"""Stage cluster: fit every algorithm at the chosen k, score them, and export the served model."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline

from stages.algorithms import Relabeled, check_served, canonical_mapping, centres_of, fit_predictor
from stages.dataset import LABEL_CODES
from stages.features import scaler_arrays, space_pipeline
from stages.names import sentence_start
from stages.params import K_RULE, valid_k
from stages.segmenter import Segmenter, distance_limit
from stages.select_k import WITHIN_CHANNELS_GAIN, customers_text, max_segments, not_comparable, silhouette_space


def resolve_k(k: int | str, chosen_by_select_k: int, n_rows: int | None = None, n_distinct: int | None = None) -> int:
    """``cluster.k`` as a number: ``auto`` takes the k that select_k chose; when the number of customers to fit is
    given, at most :func:`~stages.select_k.max_segments` of them (``n_distinct``: how many of them differ)."""
    if k == "auto":
        return int(chosen_by_select_k)
    if not valid_k(k):
        raise ValueError(f"cluster.k: {K_RULE} (got {k!r})")
    assert isinstance(k, int)
    if n_rows is not None and k > (limit := max_segments(n_rows, n_distinct)):
        raise ValueError(f"cluster.k: {k} segments cannot be fitted on {customers_text(n_rows, n_distinct)}; use at most {limit}")
    return k


def check_params(params: dict[str, Any], algorithms: list[str]) -> None:
    """Reject an impossible ``cluster`` section, naming the key."""
    check_served(params["algorithm"], algorithms)
    if int(params["n_init"]) < 1:
        raise ValueError("cluster.n_init: must be at least 1")


@dataclass(frozen=True)
class Segmentation:
    """One algorithm's canonical partition of the clustered rows and its predictor."""

    algorithm: str
    model: Relabeled
    labels: NDArray[np.int64]


def fit_segmentation(algorithm: str, k: int, S: NDArray[np.float64], spend_total: NDArray[np.float64], seed: int, n_init: int) -> Segmentation:
    """Fit ``algorithm`` and renumber its segments canonically (by size, then total spend)."""
    model, labels = fit_predictor(algorithm, k, S, seed, n_init)
    mapping = canonical_mapping(labels, spend_total, k)
    return Segmentation(algorithm, Relabeled(model, mapping).fit(S), mapping[labels])


def full_pipeline(preprocess: Pipeline, n_components: int, model: Relabeled) -> Pipeline:
    """Raw spending → canonical segment, as one scikit-learn pipeline (the research artifact)."""
    return Pipeline([*space_pipeline(preprocess, n_components).steps, ("segment", model)])


def export_segmenter(
    preprocess: Pipeline, n_components: int, seg: Segmentation, features: list[str], impute: list[float] | None, transform: str,
    fitted: NDArray[np.float64],
) -> Segmenter:
    """The plain-data served model: the same numbers as the fitted pipeline, in canonical order, with the
    :func:`~stages.segmenter.distance_limit` of ``fitted`` (the raw spending of the customers it was fitted on)."""
    inner: BaseEstimator = seg.model.model
    order = np.argsort(seg.model.mapping_)  # canonical id → the model's own label
    centre, scale = scaler_arrays(preprocess, len(features))
    pca = preprocess.named_steps["pca"]
    common = dict(
        features=list(features),
        impute=impute,
        transform=transform,
        scaler_center=np.asarray(centre, dtype=np.float64),
        scaler_scale=np.asarray(scale, dtype=np.float64),
        pca_mean=pca.mean_,
        pca_components=pca.components_,
        n_components=n_components,
        centroids=centres_of(inner)[order],
        algorithm=seg.algorithm,
    )
    if isinstance(inner, GaussianMixture):
        model = Segmenter(kind="gaussian_mixture", weights=inner.weights_[order], precisions_cholesky=inner.precisions_cholesky_[order], **common)
    else:
        model = Segmenter(kind="centroid", **common)
    return replace(model, distance_limit=distance_limit(model, fitted))


def channel_agreement(labels: NDArray[np.int64], channel: NDArray[np.int64]) -> tuple[float, float]:
    """Accuracy of predicting Channel by each segment's majority Channel, and the ARI with Channel."""
    correct = sum(np.bincount(channel[labels == j]).max() for j in np.unique(labels))
    return float(correct / len(labels)), float(adjusted_rand_score(channel, labels))


#: A segment sits within one channel when at least this share of its customers have its commonest channel and that
#: share is also well above the channel's share of all the customers fitted (:func:`channels_within`). Nine in ten:
#: a convention of this project, as the reading bands are.
WITHIN_ONE_CHANNEL = 0.9


#: A segment leans to one channel when short of :data:`WITHIN_ONE_CHANNEL` but at least this share of its customers
#: have its commonest channel, again well above that channel's share of all the customers fitted
#: (:func:`channels_leaning`). Two in three: a convention of this project, as the reading bands are. (At three in four,
#: segments 69% and 72% Retail, against 32% of all the customers, were read as mixing the two channels.)
LEANS_TO_ONE_CHANNEL = 2 / 3


def _commonest_channels(labels: NDArray[np.int64], channel: NDArray[np.int64]) -> list[tuple[dict[str, Any], float, float]]:
    """For each non-empty segment: its record ``{"segment", "channel" (its name), "share"}`` for its commonest channel,
    the unrounded share, and the share that is well above that channel's share among all the customers fitted (its
    share ``base`` plus :data:`~stages.select_k.WITHIN_CHANNELS_GAIN` of the way to 1)."""
    names = LABEL_CODES["Channel"]
    codes, counts = np.unique(channel, return_counts=True)
    base = dict(zip(codes.tolist(), (counts / len(channel)).tolist(), strict=True))
    out = []
    for j in range(int(labels.max()) + 1):
        mine, n = np.unique(channel[labels == j], return_counts=True)
        if not len(mine):
            continue
        top = int(np.argmax(n))  # the first of equal counts: the lower code
        code, share = int(mine[top]), float(n[top] / n.sum())
        record = {"segment": j, "channel": names.get(code, str(code)), "share": round(share, 4)}
        out.append((record, share, base[code] + WITHIN_CHANNELS_GAIN * (1 - base[code])))
    return out


def channels_within(labels: NDArray[np.int64], channel: NDArray[np.int64]) -> list[dict[str, Any]]:
    """The segments that sit within one channel: ``{"segment", "channel" (its name), "share"}`` for each segment whose
    commonest channel has at least :data:`WITHIN_ONE_CHANNEL` of its customers and whose share rises from that
    channel's share among all the customers fitted (``base``) by at least
    :data:`~stages.select_k.WITHIN_CHANNELS_GAIN` of the way to 1, so a segment that only mirrors a base of nine in
    ten Horeca customers does not count. Read by :func:`~stages.select_k.channel_reading`: segments whose adjusted
    Rand index with Channel is low may still include one that is nearly all one channel (under
    ``features.scaler: robust``, a segment 98% Horeca at an ARI of 0.299)."""
    return [record for record, share, well_above in _commonest_channels(labels, channel)
            if share >= max(WITHIN_ONE_CHANNEL, well_above)]


def channels_leaning(labels: NDArray[np.int64], channel: NDArray[np.int64]) -> list[dict[str, Any]]:
    """The segments that lean to one channel without sitting within it (:func:`channels_within`), as records of the
    same shape: the commonest channel has at least :data:`LEANS_TO_ONE_CHANNEL` of the segment's customers and is well
    above its share of all the customers fitted, but short of the bar of :func:`channels_within`. Under robust scaling,
    log1p and five agglomerative segments, segments 85% Horeca and 82% Retail, beside one 99% Horeca, had read "the
    segments largely cut across the Horeca/Retail split, apart from segment 0", while only 36% of the customers were
    in segments that mix the channels."""
    return [record for record, share, well_above in _commonest_channels(labels, channel)
            if max(LEANS_TO_ONE_CHANNEL, well_above) <= share < max(WITHIN_ONE_CHANNEL, well_above)]


def channel_baseline(channel: NDArray[np.int64]) -> float:
    """Accuracy of always guessing the commonest Channel: what :func:`channel_agreement`'s accuracy is compared with.
    It can be no higher than that accuracy (one segment would give it)."""
    return float(np.bincount(channel).max() / len(channel))


def mean_pairwise_ari(labels_by_algorithm: dict[str, NDArray[np.int64]]) -> float:
    """Mean adjusted Rand index over every pair of algorithms (1.0 when only one algorithm)."""
    pairs = list(combinations(labels_by_algorithm.values(), 2))
    if not pairs:
        return 1.0
    return float(np.mean([adjusted_rand_score(a, b) for a, b in pairs]))


def agreement_table(labels_by_algorithm: dict[str, NDArray[np.int64]]) -> pd.DataFrame:
    """The adjusted Rand index between every two algorithms' segments, as text to two decimals ('1.00', '0.70'), so
    every cell shows the same digits: rounded floats printed a column as '1.0', '0.7' beside '0.33'."""
    names = list(labels_by_algorithm)
    return pd.DataFrame([[f"{adjusted_rand_score(labels_by_algorithm[a], labels_by_algorithm[b]):.2f}" for b in names]
                         for a in names], index=names, columns=names)


def k_evidence_text(sweep: pd.DataFrame, algorithm: str, ks: list[int], n_components: int, n_features: int,
                    otherwise: Sequence[str] = ()) -> str:
    """Notebook 4's "Why k": the served algorithm's silhouette and bootstrap stability in the sweep (``sweep``:
    :func:`~stages.select_k.long`'s layout) at each k of ``ks`` it has, naming the clustering space when it is fewer
    principal components than categories (:func:`~stages.select_k.silhouette_space`); '' when it has none of them."""
    curve = sweep[sweep["algorithm"] == algorithm].set_index("k")
    where = silhouette_space(n_components, n_features, otherwise)
    numbers = [f"at k = {k} the silhouette{where if i == 0 else ''} is {curve.loc[k, 'silhouette']:.3f} and bootstrap "
               f"stability {curve.loc[k, 'stability']:.2f}" for i, k in enumerate(k for k in dict.fromkeys(ks) if k in curve.index)]
    if not numbers:
        return ""
    text = sentence_start("; ".join(numbers)) + "."
    if where:
        text += (f" That silhouette {not_comparable(n_components, n_features, otherwise)}{'; ' if otherwise else ': '}`silhouette_reference` in the "
                 "metrics table below measures the served segments over all the categories"
                 + (", log-scaled and standardised." if otherwise else "."))
    return text


def metric_text(value: Any) -> str:
    """A metric as the metrics table prints it: counts whole with thousands separators, lists joined, scores of 100 or
    more to one decimal (Calinski–Harabasz), smaller ones to three, so a column does not mix 0.26185 with 1.370761."""
    if isinstance(value, bool) or not isinstance(value, int | float | list | dict):
        return str(value)
    if isinstance(value, dict):  # a record in a list (channel_within): its fields in order
        return "(" + ", ".join(f"{k} {metric_text(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return ", ".join(metric_text(v) for v in value) if value else "none"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3f}"


def metrics_table(metrics: dict[str, Any], leave_out: tuple[str, ...] = ("pca_explained_variance",)) -> pd.DataFrame:
    """``ml/metrics.json`` as a one-column table of text (:func:`metric_text`), without the keys in ``leave_out``."""
    return pd.Series({k: metric_text(v) for k, v in metrics.items() if k not in leave_out}, name="value").to_frame()


def cluster_metrics(
    S: NDArray[np.float64],
    served: Segmentation,
    all_labels: dict[str, NDArray[np.int64]],
    channel: NDArray[np.int64],
    stability: float,
    n_outliers: int,
    explained_variance: list[float],
    *,
    silhouette_reference: float,
) -> dict[str, Any]:
    """``ml/metrics.json``: every key of the contract in DESIGN.md, plus segment sizes, the channel baseline, the
    segments that sit within one channel (:func:`channels_within`) or lean to one (:func:`channels_leaning`) and the
    silhouette in the reference space (:func:`reference_silhouette`)."""
    acc, ari = channel_agreement(served.labels, channel)
    return {
        "n_customers": int(len(S)),
        "n_outliers": int(n_outliers),
        "k": int(served.labels.max() + 1),
        "algorithm": served.algorithm,
        "silhouette": float(silhouette_score(S, served.labels)),
        "calinski_harabasz": float(calinski_harabasz_score(S, served.labels)),
        "davies_bouldin": float(davies_bouldin_score(S, served.labels)),
        "silhouette_reference": float(silhouette_reference),
        "pca_explained_variance": [float(v) for v in explained_variance],
        "channel_accuracy": acc,
        "channel_baseline": channel_baseline(channel),
        "channel_ari": ari,
        "channel_within": channels_within(served.labels, channel),
        "channel_leaning": channels_leaning(served.labels, channel),
        "stability_ari": float(stability),
        "agreement_ari": mean_pairwise_ari(all_labels),
        "segment_sizes": np.bincount(served.labels).astype(int).tolist(),
    }


def reference_silhouette(spending: NDArray[np.float64], segments: NDArray[np.int64]) -> float:
    """Silhouette of a segmentation of every customer in one fixed space: the log of max(spend, 1) in each category
    (``data.features``), standard-scaled, whatever ``features.*`` say.

    ``silhouette`` is measured in each experiment's own space (DESIGN.md), so it rises when PCA drops components or the
    transform changes, without the segments getting better; this figure compares experiments that change the features.
    Every customer counts (those set aside before fitting with the segment the model gives them), so changing the
    outlier rule does not change whom it is measured on."""
    logged = np.log(np.maximum(spending, 1.0))
    spread = logged.std(axis=0)
    z = (logged - logged.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    return float(silhouette_score(z, segments))


def assignments_table(rows: NDArray[np.int64], clustered: NDArray[np.bool_], segments: dict[str, NDArray[np.int64]]) -> pd.DataFrame:
    """``ml/assignments.csv``: row id, whether it was clustered, and the segment per algorithm."""
    table = pd.DataFrame({"row": rows, "clustered": clustered})
    for algorithm, seg in segments.items():
        table[algorithm] = seg
    return table.sort_values("row").reset_index(drop=True)


def segments_for_all(seg: Segmentation, pipeline: Pipeline, X: NDArray[np.float64], clustered: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Segment of every row: the fitted partition for clustered rows, the pipeline's prediction for the rest."""
    labels = pipeline.predict(X).astype(np.int64)
    labels[clustered] = seg.labels
    return labels


def map_centres(points: pd.DataFrame) -> NDArray[np.float64]:
    """Segment centres on the PCA map: the mean position of each segment's clustered customers."""
    clustered = points[points["clustered"].astype(bool)]
    return clustered.groupby("segment")[["PC1", "PC2"]].mean().sort_index().to_numpy()

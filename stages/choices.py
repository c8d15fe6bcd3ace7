"""The named choices of params.yaml, and the rules between its keys that need no data: one definition of each.

Light on purpose (no numpy, no scikit-learn): :mod:`stages.params` checks all of them before the first stage runs, so
``dvc exp run -S data.impute=mean -S select_k.criterion=silhuette`` stops at once, naming the key, instead of after
the prepare and features stages. The stages import the same tuples and rules, for a notebook run by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: data.impute: what fills a missing spending cell (``error`` refuses a file with one).
IMPUTE_STRATEGIES = ("median", "mean", "error")
#: features.transform (``log`` is of max(spend, 1)).
TRANSFORMS = ("none", "log", "log1p")
#: features.scaler.
SCALERS = ("none", "standard", "robust")
#: features.outliers.method and features.outliers.action.
OUTLIER_METHODS = ("none", "tukey")
OUTLIER_ACTIONS = ("drop", "keep")
#: select_k.algorithms (some of them) and cluster.algorithm (one of them).
ALGORITHMS = ("kmeans", "agglomerative", "gmm")
#: select_k.criterion → (column of the sweep, whether larger is better).
CRITERIA: dict[str, tuple[str, bool]] = {
    "elbow": ("inertia", False),
    "silhouette": ("silhouette", True),
    "calinski_harabasz": ("calinski_harabasz", True),
    "davies_bouldin": ("davies_bouldin", False),
    "bic": ("bic", False),
    "stability": ("stability", True),
}
#: The criteria that exist for one algorithm only (the BIC is a mixture's likelihood), with how a message names it.
CRITERION_ONLY_FOR = {"bic": ("gmm", "the Gaussian mixture")}

#: The smallest ``features.outliers.iqr_factor`` accepted: at 0.5, half the spread of the middle half beyond its
#: quartiles, a normal sample already has about 18% of its values outside the fences (0.7% at 1.5).
MIN_IQR_FACTOR = 0.5
IQR_FACTOR_RULE = (f"must be a number of at least {MIN_IQR_FACTOR} (Tukey's rule uses 1.5, and 3 for far-out values; "
                   f"below {MIN_IQR_FACTOR} most customers would count as outliers)")

#: The fewest segments a partition can have and be scored: one segment is no segmentation (the silhouette,
#: Calinski–Harabasz and Davies–Bouldin are not defined for it), so ``select_k.k_min`` starts here at the lowest.
FEWEST_SEGMENTS = 2


def one_of(choices: Sequence[str]) -> str:
    """How a message lists the allowed values: ``must be one of none, standard, robust``."""
    return f"must be one of {', '.join(choices)}"


def valid_iqr_factor(value: Any) -> bool:
    """A finite number (not a boolean) of at least :data:`MIN_IQR_FACTOR`."""
    return type(value) in (int, float) and math.isfinite(value) and value >= MIN_IQR_FACTOR


def check_served(algorithm: str, swept: Sequence[str]) -> None:
    """Reject a served algorithm (``cluster.algorithm``) that does not exist or that the sweep leaves out."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"cluster.algorithm: {one_of(ALGORITHMS)} (got {algorithm!r})")
    if algorithm not in swept:
        raise ValueError(f"cluster.algorithm: {algorithm!r} must also be listed in select_k.algorithms (now {list(swept)})")


def check_criterion(criterion: str, served: str | None) -> None:
    """Reject a criterion (``select_k.criterion``) that the served algorithm (``cluster.algorithm``; None: not known)
    has no score for: the sweep would have nothing to pick the served model's k from, which ``cluster.k: auto`` takes."""
    only, name = CRITERION_ONLY_FOR.get(criterion, (None, ""))
    if only is not None and served not in (None, only):
        raise ValueError(f"select_k.criterion: {criterion!r} exists only for {name} ({only}), not for cluster.algorithm {served!r}")


def check_k_range(k_min: int, k_max: int, limit: int | None = None, customers: str = "") -> None:
    """Reject a sweep range that is empty, starts below :data:`FEWEST_SEGMENTS` or (when the data are known) ends
    above ``limit``, the most segments its ``customers`` (``435 customers``) can be split into."""
    top = "" if limit is None else f" <= {limit}"
    if not FEWEST_SEGMENTS <= k_min <= k_max or (limit is not None and k_max > limit):
        raise ValueError(f"select_k.k_min/k_max: need {FEWEST_SEGMENTS} <= k_min <= k_max{top}"
                         f"{f' for {customers}' if customers else ''}, got {k_min}..{k_max}")


def check_feature_counts(features: Mapping[str, Any], n_features: int) -> None:
    """Reject counts of the ``features`` section above the ``n_features`` categories of ``data.features``."""
    min_features = features["outliers"]["min_features"]
    if not 1 <= min_features <= n_features:
        raise ValueError(f"features.outliers.min_features: {min_features} must be between 1 and {n_features}, the number "
                         f"of categories in data.features (a customer is an outlier when at least this many are)")
    n = features["pca"]["n_components"]
    if not 0 <= n <= n_features:
        raise ValueError(f"features.pca.n_components: {n} must be between 0 and {n_features}, the number of categories "
                         "in data.features (0 clusters on all of them)")

"""The served model: one definition of the raw-spending → segment transform, in numpy and plain arithmetic.

The sklearn pipelines of the research artifacts call the functions below through
``FunctionTransformer``, the cluster stage exports the fitted numbers to ``ml/segmenter.json``
with :func:`export_segmenter`, and the API scores with :class:`Segmenter` loaded from that file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, reduce
from operator import add, mul
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from stages.choices import TRANSFORMS, one_of

SCHEMA_VERSION = 1
#: Spending below one money unit is treated as one before a log, so zero spend is defined.
LOG_FLOOR = 1.0
#: A customer is *atypical* when its nearest segment centre is farther away than it is for this share of the
#: customers the model was fitted on (:func:`distance_limit`): the nearest persona is still given, but the customer
#: resembles none of the segments, which is most often a mistyped amount (thousands read as units, say).
ATYPICAL_QUANTILE = 0.99
Kind = Literal["centroid", "gaussian_mixture"]


def fill_missing(X: NDArray[np.float64], values: list[float]) -> NDArray[np.float64]:
    """Replace NaN in each column by that column's imputation value."""
    X = np.asarray(X, dtype=np.float64)
    mask = np.isnan(X)
    if not np.count_nonzero(mask):  # the common case: nothing to fill, no copy (count_nonzero: no reduction set-up)
        return X
    X = X.copy()
    X[mask] = np.broadcast_to(np.asarray(values, dtype=np.float64), X.shape)[mask]
    return X


def spend_transform(X: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """Apply the spending transform: ``none``, ``log`` (of max(x, 1)) or ``log1p``."""
    X = np.asarray(X, dtype=np.float64)
    if method == "none":
        return X.copy()
    if method == "log":
        out = np.maximum(X, LOG_FLOOR)
        return np.log(out, out=out)
    if method == "log1p":
        return np.log1p(X)
    raise ValueError(f"features.transform: {one_of(TRANSFORMS)} (got {method!r})")


def first_components(X: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Keep the first ``n`` columns (principal components); ``n == 0`` keeps all."""
    X = np.asarray(X, dtype=np.float64)
    return X if n == 0 else X[:, :n]


def pca_offset(mean: NDArray[np.float64], components: NDArray[np.float64]) -> NDArray[np.float64]:
    """The constant term of a PCA projection: like scikit-learn, ``X @ components.T - mean @ components.T``."""
    return (mean @ components.T)[None, :]


@dataclass(frozen=True)
class Assignment:
    """Segments of a batch of customers with the evidence behind them."""

    segment: NDArray[np.int64]
    distances: NDArray[np.float64]
    confidence: NDArray[np.float64]
    map_xy: NDArray[np.float64]
    #: Gaussian mixture: the posterior probability of each segment, ``(n, k)``; ``None`` for centroid models.
    probabilities: NDArray[np.float64] | None = None


class OneAssignment(NamedTuple):
    """The segment of one customer as plain Python values (what an answer is made of; a tuple: cheap to make)."""

    segment: int
    distances: list[float]
    confidence: float
    map_xy: list[float]
    #: The spending as scored: the input with imputed values in place of the missing ones.
    spending: list[float]
    #: Gaussian mixture: the posterior probability of each segment; ``None`` for centroid models.
    probabilities: list[float] | None = None


@dataclass(frozen=True)
class Segmenter:
    """Everything needed to segment a customer, as plain arrays (no pickles at serve time)."""

    features: list[str]
    impute: list[float] | None
    transform: str
    scaler_center: NDArray[np.float64]
    scaler_scale: NDArray[np.float64]
    pca_mean: NDArray[np.float64]
    pca_components: NDArray[np.float64]
    n_components: int
    kind: Kind
    centroids: NDArray[np.float64]
    weights: NDArray[np.float64] | None = None
    precisions_cholesky: NDArray[np.float64] | None = None
    algorithm: str = "kmeans"
    #: :func:`distance_limit` of the fitted customers (clustering-space units); ``None``: nothing is atypical.
    distance_limit: float | None = None

    def __post_init__(self) -> None:
        """Check that the arrays fit together and are finite: a hand-edited or truncated model fails here, naming the field."""
        n = len(self.features)
        space = self.n_components or n
        if self.pca_components.ndim != 2:
            raise ValueError(f"segmenter pca.components: shape {self.pca_components.shape} is not a table of components (one row each)")
        if not 0 <= self.n_components <= n or self.pca_components.shape[0] < max(2, self.n_components):
            raise ValueError(f"segmenter n_components {self.n_components}: pca.components has {self.pca_components.shape[0]} rows for {n} features")
        # each named array, the part of its shape that must fit, and that part's expected value
        arrays: dict[str, tuple[Any, tuple[int, ...], tuple[int, ...]]] = {
            "scaler.center": (self.scaler_center, self.scaler_center.shape, (n,)),
            "scaler.scale": (self.scaler_scale, self.scaler_scale.shape, (n,)),
            "pca.mean": (self.pca_mean, self.pca_mean.shape, (n,)),
            "pca.components": (self.pca_components, self.pca_components.shape[1:], (n,)),
            "centroids": (self.centroids, self.centroids.shape[1:], (space,)),
        }
        if self.impute is not None:
            arrays["impute"] = (self.impute, (len(self.impute),), (n,))
        if self.kind == "gaussian_mixture":
            k = self.centroids.shape[0] if self.centroids.ndim else 0  # 0-d centroids: refused below, by name
            needed: tuple[tuple[str, NDArray[np.float64] | None, tuple[int, ...]], ...] = (
                ("weights", self.weights, (k,)), ("precisions_cholesky", self.precisions_cholesky, (k, space, space)))
            for name, values, shape_needed in needed:
                if values is None:
                    raise ValueError(f"segmenter {name}: a gaussian_mixture model needs it")
                arrays[name] = (values, values.shape, shape_needed)
        for name, (_, shape, expected) in arrays.items():
            if tuple(shape) != expected:
                raise ValueError(f"segmenter {name}: shape {tuple(shape)} does not fit {n} features and a clustering space of {space}")
        for name, (values, _, _) in arrays.items():
            if not np.isfinite(values).all():
                raise ValueError(f"segmenter {name}: holds a number that is not finite (NaN or infinity)")
        if (self.weights is not None and self.precisions_cholesky is not None and self.kind == "gaussian_mixture"
                and not (np.all(self.weights > 0) and np.all(np.diagonal(self.precisions_cholesky, axis1=1, axis2=2) > 0))):
            raise ValueError("segmenter weights and precisions_cholesky: a mixture weight or a diagonal entry of a Cholesky factor is not positive")
        if self.distance_limit is not None and not (math.isfinite(self.distance_limit) and self.distance_limit >= 0):
            raise ValueError(f"segmenter distance_limit: {self.distance_limit!r} is not a finite distance of 0 or more")
        if self.kind not in ("centroid", "gaussian_mixture") or self.transform not in TRANSFORMS or self.k < 1:
            raise ValueError(f"segmenter: kind {self.kind!r}, transform {self.transform!r} or {self.k} centroids is not a model this code serves")

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])

    @cached_property
    def _affine(self) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
        """Scaling, clustering-space projection and map projection folded into one affine map, computed once.

        ``((z - center) / scale - mean) @ [space | plane]`` equals ``z @ W - b`` with ``W`` and ``b`` below
        (to rounding, ~1e-15), so a customer costs one :func:`affine` instead of five numpy calls: the
        single-customer answer is dominated by per-call overhead, not by arithmetic.
        Returns ``(W, b, d)``: the first ``d`` output columns are the clustering space, the last two the map.
        """
        n_features = len(self.scaler_center)
        space = self.pca_components[: self.n_components].T if self.n_components else np.eye(n_features)
        space_offset = pca_offset(self.pca_mean, space.T)[0] if self.n_components else np.zeros(n_features)
        plane = self.pca_components[:2].T
        P = np.hstack([space, plane])
        offset = np.concatenate([space_offset, pca_offset(self.pca_mean, plane.T)[0]])
        W = P / self.scaler_scale[:, None]
        b = (self.scaler_center / self.scaler_scale) @ P + offset
        return np.ascontiguousarray(W), b, space.shape[1]

    def project(self, X: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Raw spending → (position in the clustering space, 2-D position on the report's PCA map): missing values
        imputed, the spending transform, then :func:`affine`."""
        X = np.asarray(X, dtype=np.float64)
        if self.impute is not None:
            X = fill_missing(X, self.impute)
        d = self._affine[2]
        columns = list(np.ascontiguousarray(spend_transform(X, self.transform).T))
        Y = affine(columns, self._terms, self._offset)
        return np.column_stack(Y[:d]), np.column_stack(Y[d:])

    @cached_property
    def _terms(self) -> list[Terms]:
        """``W`` of :attr:`_affine` output by output, as the :func:`affine_terms` it is made of."""
        return affine_terms(self._affine[0])

    @cached_property
    def _offset(self) -> list[float]:
        """``b`` of :attr:`_affine` as floats."""
        return self._affine[1].tolist()

    @cached_property
    def _centre_columns(self) -> list[NDArray[np.float64]]:
        """The segment centres coordinate by coordinate, as arrays (for batches)."""
        return list(self.centroids.T)

    @cached_property
    def _centre_rows(self) -> list[list[float]]:
        """The segment centres one by one, as floats (for one customer)."""
        return self.centroids.tolist()

    def distances(self, S: NDArray[np.float64]) -> NDArray[np.float64]:
        """Euclidean distance from each customer (in clustering space) to each segment centre, ``(n, k)``."""
        columns = [S[:, j, None] for j in range(S.shape[1])]  # (n, 1) each, broadcast against the k centres
        return np.sqrt(squared_distance(columns, self._centre_columns))

    def log_resp(self, S: NDArray[np.float64]) -> NDArray[np.float64]:
        """Weighted log-likelihood of each mixture component (full covariances)."""
        assert self.weights is not None and self.precisions_cholesky is not None
        n_features = S.shape[1]
        out = np.empty((S.shape[0], self.k))
        for j, (mu, pc) in enumerate(zip(self.centroids, self.precisions_cholesky, strict=True)):
            y = S @ pc - mu @ pc
            log_det = np.sum(np.log(np.diag(pc)))
            out[:, j] = -0.5 * (n_features * np.log(2 * np.pi) + np.sum(y * y, axis=1)) + log_det
        return out + np.log(self.weights)

    def assign(self, X: NDArray[np.float64]) -> Assignment:
        """Segment raw spending rows (columns in ``features`` order)."""
        S, map_xy = self.project(X)
        dist = self.distances(S)
        if self.kind == "gaussian_mixture":
            lr = self.log_resp(S)
            segment = np.argmax(lr, axis=1)
            lr = lr - lr.max(axis=1, keepdims=True)
            post = np.exp(lr)
            probabilities = post / post.sum(axis=1, keepdims=True)
            return Assignment(segment.astype(np.int64, copy=False), dist, probabilities.max(axis=1), map_xy, probabilities)
        segment = dist.argmin(axis=1)
        return Assignment(segment.astype(np.int64, copy=False), dist, centroid_confidence(dist), map_xy)

    def assign_one(self, x: Sequence[float]) -> OneAssignment:
        """Segment one customer (raw spending in ``features`` order, NaN where missing): same numbers as :meth:`assign`.

        The same spending transform as :meth:`assign` (numpy, on the six values); the affine map (:func:`affine`),
        the distances (:func:`squared_distance`) and the nearest and second-nearest segments are the same functions
        on plain floats: the same IEEE operations in the same order, since for one row numpy's per-call overhead is
        most of the cost. Equality with :meth:`assign` of a whole batch is tested bit for bit.
        """
        missing = any(map(math.isnan, x))
        if missing and self.impute is None:
            raise ValueError("a spending is missing (NaN) and this model has no imputation values (params data.impute: error)")
        if self.kind != "centroid" or missing:
            X = np.array([x], dtype=np.float64)
            if missing and self.impute is not None:  # not None: checked above
                X = fill_missing(X, self.impute)
            spending = X[0].tolist()
            if self.kind != "centroid":
                a = self.assign(X)
                probabilities = None if a.probabilities is None else a.probabilities[0].tolist()
                return OneAssignment(int(a.segment[0]), a.distances[0].tolist(), float(a.confidence[0]), a.map_xy[0].tolist(), spending, probabilities)
        else:
            spending = list(x)
        d = self._affine[2]
        y = affine(spend_transform(spending, self.transform).tolist(), self._terms, self._offset)
        space = y[:d]
        dist = [math.sqrt(squared_distance(space, centre)) for centre in self._centre_rows]  # what distances() does, on floats
        two = sorted(dist)[:2]
        confidence = confidence_of(two[0], two[1]) if len(two) == 2 else 1.0
        return OneAssignment(dist.index(two[0]), dist, confidence, y[d:], spending)  # index: the first of equal minima, like argmin

    def atypical(self, nearest: Any) -> Any:
        """Whether a customer whose nearest segment centre is ``nearest`` away (a float, or an array of them) lies
        beyond :attr:`distance_limit`: farther out than :data:`ATYPICAL_QUANTILE` of the fitted customers."""
        return nearest > (math.inf if self.distance_limit is None else self.distance_limit)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form written to ``ml/segmenter.json``."""
        return {
            "schema_version": SCHEMA_VERSION,
            "algorithm": self.algorithm,
            "kind": self.kind,
            "features": list(self.features),
            "impute": None if self.impute is None else [float(v) for v in self.impute],
            "transform": self.transform,
            "log_floor": LOG_FLOOR,
            "scaler": {"center": _list(self.scaler_center), "scale": _list(self.scaler_scale)},
            "pca": {"mean": _list(self.pca_mean), "components": _list(self.pca_components)},
            "n_components": self.n_components,
            "centroids": _list(self.centroids),
            "weights": None if self.weights is None else _list(self.weights),
            "precisions_cholesky": None if self.precisions_cholesky is None else _list(self.precisions_cholesky),
            "distance_limit": self.distance_limit,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segmenter:
        """Rebuild from the plain-data form; rejects unknown schema versions."""
        if d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"segmenter schema_version {d.get('schema_version')!r} is not {SCHEMA_VERSION}")
        arr = lambda v: np.asarray(v, dtype=np.float64)  # noqa: E731  (null: NaN of shape (), refused by its shape)
        optional = lambda v: None if v is None else arr(v)  # noqa: E731
        return cls(
            features=list(d["features"]),
            impute=d["impute"],
            transform=d["transform"],
            scaler_center=arr(d["scaler"]["center"]),
            scaler_scale=arr(d["scaler"]["scale"]),
            pca_mean=arr(d["pca"]["mean"]),
            pca_components=arr(d["pca"]["components"]),
            n_components=int(d["n_components"]),
            kind=d["kind"],
            centroids=arr(d["centroids"]),
            weights=optional(d["weights"]),
            precisions_cholesky=optional(d["precisions_cholesky"]),
            algorithm=d["algorithm"],
            distance_limit=None if d.get("distance_limit") is None else float(d["distance_limit"]),
        )

    @classmethod
    def load(cls, path: Path) -> Segmenter:
        """Read ``ml/segmenter.json``."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))


def nearest_distance(distances: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's distance to its nearest segment centre: ``distances.min(axis=1)``, taken column by column, which
    on a million customers and three segments is several times faster than reducing along the short axis."""
    return reduce(np.minimum, distances.T)


def distance_limit(segmenter: Segmenter, X: NDArray[np.float64], quantile: float = ATYPICAL_QUANTILE) -> float:
    """The distance from the nearest segment centre that ``quantile`` of the customers ``X`` (raw spending, the
    customers the model was fitted on) stay within, measured by ``segmenter`` itself, as the API will measure."""
    return float(np.quantile(nearest_distance(segmenter.assign(X).distances), quantile))


def centroid_confidence(distances: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 − nearest/second-nearest distance: 0 on the border of two segments, 1 at a centre."""
    if distances.shape[1] < 2:
        return np.ones(distances.shape[0])
    two = distances.copy()
    two.sort(axis=1)
    return confidence_of(two[:, 0], two[:, 1])


#: One output of an affine map: the inputs it depends on (rows of ``W`` with a non-zero weight) and those weights.
Terms = tuple[tuple[int, ...], tuple[float, ...]]


def affine_terms(W: NDArray[np.float64]) -> list[Terms]:
    """The non-zero terms of each column of ``W`` (at least one each), in row order, for :func:`affine`.

    Skipping zero weights leaves each sum as it is (up to the sign of a zero) and saves most of the work when the
    clustering space is the scaled features themselves (``n_components: 0``: one weight per column)."""
    terms = []
    for column in np.asarray(W, dtype=np.float64).T:
        rows = tuple(int(j) for j in np.flatnonzero(column)) or (0,)
        terms.append((rows, tuple(column[list(rows)].tolist())))
    return terms


def affine(coords: Sequence[Any], terms: Sequence[Terms], offset: Sequence[float]) -> list[Any]:
    """yᵢ = Σⱼ xⱼ·Wⱼᵢ − bᵢ for each output i, over the terms of :func:`affine_terms`, added up in row order: on
    arrays (the columns of a batch) or on plain floats (one customer). Both do the same IEEE operations in the same
    order, so they give the same bits; a matrix product (BLAS) adds in another order and may fuse a multiply-add."""
    pick, out = coords.__getitem__, []
    for (rows, weights), b in zip(terms, offset, strict=True):
        # one term (a scaled feature): the product itself, which is what the sum of one term is
        out.append((coords[rows[0]] * weights[0] if len(rows) == 1 else reduce(add, map(mul, map(pick, rows), weights))) - b)
    return out


def squared_distance(coords: Sequence[Any], centre: Sequence[Any]) -> Any:
    """Σⱼ (xⱼ − cⱼ)², added up coordinate by coordinate in order: on arrays (many customers and centres at once, by
    broadcasting) or on plain floats (one customer, one centre). Both do the same IEEE operations in the same
    order, so they give the same bits; a library reduction (``einsum``, ``sum``) may add in another order."""
    total: Any = 0.0
    for x, c in zip(coords, centre, strict=True):  # same length: Segmenter checks its centres against its space when it is made
        diff = x - c
        total = total + diff * diff
    return total


def confidence_of(nearest: Any, second: Any) -> Any:
    """1 − nearest/second, for arrays or for plain floats (one customer): the same arithmetic either way."""
    # nearest ≤ second, so a zero second distance means both are zero: a customer at a centre (confidence 1)
    floor = max(second, _TINY) if isinstance(second, float) else np.maximum(second, _TINY)
    return 1.0 - nearest / floor


_TINY = float(np.finfo(np.float64).tiny)


def _list(a: NDArray[np.float64]) -> list[Any]:
    return np.asarray(a, dtype=np.float64).tolist()

"""Stage features: spending transform, Tukey outliers, scaling and PCA."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

from stages.choices import check_feature_counts
from stages.names import percent, words_list
from stages.params import check_section
from stages.segmenter import fill_missing, first_components, spend_transform


def check_params(params: dict[str, Any], n_features: int) -> None:
    """Reject a ``features`` section that ``params.yaml``'s check would (a notebook run by hand has not had it), or
    whose counts exceed the ``n_features`` categories of ``data.features``, naming the key."""
    check_section("features", params)
    check_feature_counts(params, n_features)


def check_outliers_few(n_flagged: int, n_rows: int, outliers: dict[str, Any], zero_iqr_columns: Sequence[str] = ()) -> None:
    """Refuse to drop half of the customers or more as outliers: the segments would be fitted to the others, a
    minority, and describe the base through it (`-S features.outliers.min_features=1 -S
    features.outliers.iqr_factor=0.5` set 229 of the 440 UCI customers aside, and fitted on 211). Outliers are the few
    that stand apart; a rule that flags most customers is not finding them. ``zero_iqr_columns``: the categories whose
    middle half has one value (:func:`zero_iqr`), the usual cause, named in the message."""
    if 2 * n_flagged < n_rows:
        return
    cause = ""
    if zero_iqr_columns:
        one = len(zero_iqr_columns) == 1
        cause = (f" (in {words_list(list(zero_iqr_columns))} the middle half of the customers {'has' if one else 'have'} one value, so "
                 f"the rule flags every other value there: `data.features` without {'it' if one else 'them'} avoids that)")
    raise ValueError(
        f"features.outliers: the rule flags {n_flagged:,} of the {n_rows:,} customers ({percent(n_flagged / n_rows)}) as outliers "
        f"(iqr_factor {outliers['iqr_factor']}, min_features {outliers['min_features']}){cause}; dropping them would fit the "
        f"segments to the other {n_rows - n_flagged:,}. Outliers are the few that stand apart: raise "
        "features.outliers.iqr_factor or features.outliers.min_features, or keep them (features.outliers.action: keep) "
        "or apply no rule (features.outliers.method: none)")


def distinct_customers(S: np.ndarray) -> int:
    """How many different customers (rows) ``S`` holds: customers with identical values count once, as no
    segmentation can tell them apart (k-Means with more segments than that leaves some empty and scores them as
    a perfect silhouette of 1)."""
    return int(len(np.unique(S, axis=0))) if len(S) else 0


def tukey_outliers(values: pd.DataFrame, iqr_factor: float, min_features: int) -> pd.DataFrame:
    """Flag values outside [Q1 − f·IQR, Q3 + f·IQR] per column; a row is an outlier with ≥ min_features flags.
    ``n_low`` and ``n_high`` count a row's flags below and above the fences."""
    q1 = values.quantile(0.25)
    q3 = values.quantile(0.75)
    iqr = q3 - q1
    low, high = values < q1 - iqr_factor * iqr, values > q3 + iqr_factor * iqr
    flags = low | high
    out = flags.add_prefix("flag_")
    out["n_flags"] = flags.sum(axis=1).astype(int)
    out["n_low"] = low.sum(axis=1).astype(int)
    out["n_high"] = high.sum(axis=1).astype(int)
    out["outlier"] = out["n_flags"] >= min_features
    return out


def zero_iqr(values: pd.DataFrame) -> list[str]:
    """The columns whose middle half is one value (lower quartile = upper quartile): Tukey's fences close on it, so
    the rule flags every other value there, as in a category most customers do not buy (all 0, or 1 after the
    log's floor) or buy at one price."""
    return [str(c) for c in values.columns if values[c].quantile(0.25) == values[c].quantile(0.75)]


def make_scaler(name: str) -> StandardScaler | RobustScaler | str:
    """The scikit-learn scaler for a ``features.scaler`` name."""
    return {"standard": StandardScaler(), "robust": RobustScaler(), "none": "passthrough"}[name]


def build_preprocess(impute: list[float] | None, transform: str, scaler: str) -> Pipeline:
    """Raw spending → fill → transform → scale → all principal components (unfitted)."""
    steps: list[tuple[str, Any]] = []
    if impute is not None:
        steps.append(("fill", FunctionTransformer(fill_missing, kw_args={"values": impute})))
    steps += [
        ("transform", FunctionTransformer(spend_transform, kw_args={"method": transform})),
        ("scale", make_scaler(scaler)),
        ("pca", PCA(svd_solver="full")),
    ]
    return Pipeline(steps)


def space_pipeline(preprocess: Pipeline, n_components: int) -> Pipeline:
    """Fitted preprocess → the clustering space: scaled features, or the first n components."""
    if n_components == 0:
        return Pipeline(preprocess.steps[:-1])
    return Pipeline([*preprocess.steps, ("first", FunctionTransformer(first_components, kw_args={"n": n_components}))])


@dataclass(frozen=True)
class Features:
    """Result of the features stage."""

    table: pd.DataFrame
    preprocess: Pipeline
    report: dict[str, Any]


def scaler_arrays(preprocess: Pipeline, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of the fitted scaler (0 and 1 when there is none)."""
    sc = preprocess.named_steps["scale"]
    if isinstance(sc, StandardScaler):
        return sc.mean_, sc.scale_
    if isinstance(sc, RobustScaler):
        return sc.center_, sc.scale_
    return np.zeros(n), np.ones(n)


def engineer(customers: pd.DataFrame, features: list[str], impute: dict[str, float], params: dict[str, Any]) -> Features:
    """Flag outliers, fit scaler and PCA on the kept rows, and tabulate every representation."""
    check_params(params, len(features))
    X = customers[features].to_numpy(dtype=np.float64)
    transformed = pd.DataFrame(spend_transform(X, params["transform"]), columns=features)
    out_p = params["outliers"]
    if out_p["method"] == "tukey":
        flags = tukey_outliers(transformed, float(out_p["iqr_factor"]), int(out_p["min_features"]))
    else:
        none = np.zeros(len(X), dtype=int)
        flags = pd.DataFrame({"n_flags": none, "n_low": none, "n_high": none, "outlier": none.astype(bool)})
    one_value = zero_iqr(transformed) if out_p["method"] == "tukey" else []
    if out_p["action"] == "drop":
        check_outliers_few(int(flags["outlier"].sum()), len(X), out_p, one_value)
    kept = ~flags["outlier"].to_numpy() if out_p["action"] == "drop" else np.ones(len(X), dtype=bool)
    if distinct_customers(transformed.to_numpy()[kept]) < 2:
        raise ValueError(
            f"data.raw: the {int(kept.sum())} customers kept for clustering (of {len(X)}) all have the same spending "
            f"after features.transform {params['transform']!r}: there is nothing to segment"
        )
    fill = [impute[c] for c in features] if impute else None
    preprocess = build_preprocess(fill, params["transform"], params["scaler"]).fit(X[kept])
    scaled = Pipeline(preprocess.steps[:-1]).transform(X)
    pcs = preprocess.transform(X)
    n_pc = pcs.shape[1]
    table = pd.concat(
        [
            customers[["row"]].reset_index(drop=True),
            pd.DataFrame({"outlier": flags["outlier"].to_numpy(), "clustered": kept, "n_flags": flags["n_flags"].to_numpy()}),
            transformed.add_prefix("t_"),
            pd.DataFrame(scaled, columns=[f"z_{c}" for c in features]),
            pd.DataFrame(pcs, columns=[f"PC{i + 1}" for i in range(n_pc)]),
        ],
        axis=1,
    )
    pca: PCA = preprocess.named_steps["pca"]
    n_comp = int(params["pca"]["n_components"])
    flag_cols = [c for c in flags.columns if c.startswith("flag_")]
    report = {
        "n_rows": int(len(X)),
        "n_flagged": int(flags["outlier"].sum()),  # outliers by the rule; ml/metrics.json n_outliers counts those removed
        "n_clustered": int(kept.sum()),
        "outlier_rows": customers.loc[flags["outlier"].to_numpy(), "row"].astype(int).sort_values().tolist(),
        "flags_per_feature": {c.removeprefix("flag_"): int(flags[c].sum()) for c in flag_cols},
        # which side of the fences the outliers' flags are on: "extreme" says nothing of big or small spenders
        "outlier_flags": {side: int(flags.loc[flags["outlier"], f"n_{side}"].sum()) for side in ("low", "high")},
        "pca_explained_variance": [float(v) for v in pca.explained_variance_ratio_],
        "pca_loadings": {f"PC{i + 1}": dict(zip(features, map(float, comp), strict=True)) for i, comp in enumerate(pca.components_)},
        "space": features if n_comp == 0 else [f"PC{i + 1}" for i in range(n_comp)],
        "zero_iqr": one_value,
    }
    return Features(table, preprocess, report)


def space_columns(features: list[str], n_components: int) -> list[str]:
    """Columns of the features table that form the clustering space."""
    return [f"z_{c}" for c in features] if n_components == 0 else [f"PC{i + 1}" for i in range(n_components)]


def top_loadings(loadings: dict[str, float], n: int = 3) -> list[str]:
    """The ``n`` categories that weigh most on a component, with the sign of their loading."""
    ranked = sorted(loadings, key=lambda c: (-abs(loadings[c]), c))[:n]
    return [f"{c} ({'+' if loadings[c] >= 0 else '−'})" for c in ranked]


def strongest_correlations(frame: pd.DataFrame, n: int = 3) -> list[tuple[str, str, float]]:
    """The ``n`` category pairs with the largest absolute Pearson correlation, strongest first."""
    corr = frame.corr()
    pairs = [(a, b, float(corr.loc[a, b])) for i, a in enumerate(corr.columns) for b in corr.columns[i + 1 :]]
    return sorted(pairs, key=lambda p: (-abs(p[2]), p[0], p[1]))[:n]


#: A correlation this strong or stronger (either sign) is read as two categories bought together (or one instead of
#: the other); weaker ones are not worth a sentence about groups of categories.
STRONG_CORRELATION = 0.5


def correlation_text(pairs: list[tuple[str, str, float]]) -> str:
    """The strongest correlations (:func:`strongest_correlations`) in words true to their sign and strength: only
    pairs at :data:`STRONG_CORRELATION` or beyond are said to move together (or against each other)."""
    def listed(ps: list[tuple[str, str, float]]) -> str:
        return ", ".join(f"{a}–{b} ({r:.2f})".replace("-", "−") for a, b, r in ps)

    strong = [(a, b, r) for a, b, r in pairs if abs(r) >= STRONG_CORRELATION]
    if not strong:
        return (f"No two categories move together strongly: the strongest correlation is {listed(pairs[:1])}, so the "
                "segments cannot rest on categories bought together.")
    text = f"The strongest correlations are {listed(strong)}" if len(strong) > 1 else f"The strongest correlation is {listed(strong)}"
    if all(r > 0 for *_, r in strong):
        return text + (": customers who buy much of one of these buy much of the other. Such groups of categories that "
                       "move together are what the segments will pick up.")
    return text + (": where a correlation is positive, customers who buy much of one category buy much of the other; "
                   "where it is negative, little of the other. Such patterns are what the segments will pick up.")


def skew_table(raw: pd.DataFrame, transformed: pd.DataFrame, transform: str) -> pd.DataFrame:
    """Skewness of each category on raw spending (column ``raw``) and after the transform (a column named after it),
    to two decimals; only ``raw`` when there is no transform (``features.transform: none``), which would repeat it."""
    columns = {"raw": raw.skew()} | ({} if transform == "none" else {transform: transformed.skew()})
    return pd.DataFrame(columns).round(2)


def skew_summary(raw: pd.Series, transformed: pd.Series, transform: str) -> str:
    """How the transform changed the categories' skewness, in words computed from both (the mean of the absolute
    skewness, and the categories still beyond ±1), so it stays true for any ``features.transform``."""
    before, after = float(raw.abs().mean()), float(transformed.abs().mean())
    if transform == "none":
        text = f"With no transform (`features.transform: none`) the mean absolute skewness stays at **{before:.2f}**."
    else:
        verb = "falls" if after < before else "rises" if after > before else "stays"
        text = (f"The mean absolute skewness {verb} from **{before:.2f}** on raw spending to **{after:.2f}** after the "
                f"`{transform}` transform.")
    strong = {name: float(v) for name, v in transformed.items() if abs(v) > 1}
    if not strong:
        text += " No category is skewed beyond ±1 now."
    else:
        listed = ", ".join(f"{name} ({v:+.2f})".replace("-", "−") for name, v in strong.items())
        tails = sorted({"small" if v < 0 else "large" for v in strong.values()})
        text += (f" Still skewed beyond ±1: {listed}, a long tail of {' and of '.join(tails)} amounts.")
    if transform == "log":
        text += (" A log turns ratios into differences: a customer who buys twice as much milk is the same step away "
                 "whatever the amounts, so multiplying every amount by one constant (another currency) moves every "
                 "customer by the same step and leaves the segments as they are.")
    return text


def map_share_text(explained_variance: list[float]) -> str:
    """What the 2-D map of the first two principal components shows and leaves out, from their explained variance
    (with two categories the map holds all of it)."""
    shown = explained_variance[0] + explained_variance[1]
    if len(explained_variance) <= 2 or 1 - shown < 0.005:
        return "They draw the map of the report and the staff page, which holds all of the variance"
    return (f"They draw the map of the report and the staff page; the other {1 - shown:.0%} of the variance is not on "
            "it, so customers close on the map can still differ")


def outlier_rule_text(outliers: dict[str, Any], n_flagged: int, transform: str, zero_iqr: Sequence[str] = ()) -> str:
    """The one account of the outlier rule (``features.outliers``), for the features notebook and the report's
    Methods page: the rule on the raw spending when ``transform`` is none, else on the transformed values, why it
    asks for ``min_features`` categories, the categories where it flags every value but one (``zero_iqr``, from
    :func:`zero_iqr`), how many customers (``n_flagged``) it flagged and what ``action`` did."""
    if outliers["method"] == "none":
        return "No outlier rule is applied (`features.outliers.method: none`): every customer is fitted."
    f, m, action = outliers["iqr_factor"], int(outliers["min_features"]), outliers["action"]
    scale = "raw spending" if transform == "none" else "transformed values"
    rule = (f"Tukey's rule flags a value outside [Q1 − {f}·IQR, Q3 + {f}·IQR] of its category's {scale}: more than "
            f"{f} interquartile ranges below the lower quartile or above the upper quartile. ")
    if zero_iqr:
        one = len(zero_iqr) == 1
        rule += (f"**In {words_list(list(zero_iqr))} the middle half of the customers {'has' if one else 'have'} one "
                 f"value** (an interquartile range of 0, as when most customers buy none), so the rule flags every "
                 f"other value there and says little about {'that category' if one else 'those categories'}: "
                 f"`features.outliers.method: none`, or `data.features` without {'it' if one else 'them'}, avoids that. ")
    rule += ("A customer counts as an outlier when flagged in any category (`features.outliers.min_features: 1`). " if m == 1 else
             "Extreme spending in one category is normal for a specialised shop, so a customer counts as an outlier only "
             f"when flagged in at least **{m}** categories (`features.outliers.min_features`). ")
    if n_flagged == 0:
        return rule + "No customer was flagged."
    one = n_flagged == 1
    who = "1 customer was flagged" if one else f"{n_flagged:,} customers were flagged"
    they, them, themselves = ("it", "it", "itself") if one else ("they", "them", "themselves")
    if action == "keep":
        return (rule + f"{who}; with action `keep` {they} {'is' if one else 'are'} flagged only: the segments are fitted "
                f"on {them} like on everyone else, so {they} can pull segment centres towards {themselves}.")
    return (rule + f"{who}; with action `drop` {they} {'is' if one else 'are'} left out while fitting so that {they} "
            f"cannot pull segment centres towards {themselves}, and then assigned by the served model like any new "
            "customer: to the segment with the nearest centre, or, for a Gaussian mixture, to the most probable segment "
            f"(which weighs each segment's size and spread, so it need not be the nearest). The scaler and the principal "
            f"components are fitted without {them} too; only the quartiles of the rule are taken over every customer.")

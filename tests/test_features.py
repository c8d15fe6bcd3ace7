"""Tests of stages.features: transform, Tukey outliers, preprocess pipeline."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from stages.features import build_preprocess, check_outliers_few, distinct_customers, engineer, space_columns, space_pipeline, tukey_outliers, zero_iqr
from stages.segmenter import spend_transform
from tests.conftest import FEATURES

PARAMS: dict[str, Any] = {
    "transform": "log",
    "scaler": "standard",
    "outliers": {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"},
    "pca": {"n_components": 0},
}


def test_log_transform_floors_zero_spend_at_one() -> None:
    out = spend_transform(np.array([[0.0, 1.0, np.e]]), "log")
    assert out.tolist() == [[0.0, 0.0, 1.0]]


def test_unknown_transform_names_the_key() -> None:
    with pytest.raises(ValueError, match="features.transform"):
        spend_transform(np.ones((1, 1)), "sqrt")


def test_tukey_flags_only_rows_outside_the_fences_in_enough_columns() -> None:
    values = pd.DataFrame({"a": [1.0, 2, 3, 4, 100], "b": [1.0, 2, 3, 4, 100], "c": [1.0, 2, 3, 4, 100]})
    values.loc[3, "a"] = -100
    flags = tukey_outliers(values, 1.5, 2)
    assert flags["n_flags"].tolist() == [0, 0, 0, 1, 3]
    assert flags["n_low"].tolist() == [0, 0, 0, 1, 0] and flags["n_high"].tolist() == [0, 0, 0, 0, 3]
    assert flags["outlier"].tolist() == [False, False, False, False, True]


def test_zero_iqr_names_the_columns_whose_middle_half_is_one_value() -> None:
    values = pd.DataFrame({"Fresh": [1.0, 2, 3, 4, 5, 6, 7, 8], "Frozen": [0.0, 0, 0, 0, 0, 0, 0, 0.5],
                           "Milk": [3.0, 3, 3, 3, 3, 3, 3, 3], "Grocery": [0.0, 0, 0, 0, 1, 1, 1, 1]})
    assert zero_iqr(values) == ["Frozen", "Milk"]
    # with the fences closed on 0, Tukey's rule flags every other value of that column, however ordinary
    assert tukey_outliers(values, 1.5, 1)["flag_Frozen"].tolist() == [False] * 7 + [True]


def test_engineer_reports_a_category_most_customers_do_not_buy_as_zero_iqr(customers: pd.DataFrame) -> None:
    """A new year's file where most customers buy no frozen food: the features report and the outlier paragraph
    (notebook 2, the Methods page) say that the rule flags every buyer of it there."""
    data = customers.copy()
    data.loc[data.index[: int(len(data) * 0.8)], "Frozen"] = 0
    report = engineer(data, FEATURES, {}, PARAMS).report
    assert report["zero_iqr"] == ["Frozen"]
    assert report["flags_per_feature"]["Frozen"] == int((data["Frozen"] > 1).sum())  # every buyer flagged
    assert engineer(customers, FEATURES, {}, PARAMS).report["zero_iqr"] == []
    assert engineer(data, FEATURES, {}, {**PARAMS, "outliers": {**PARAMS["outliers"], "method": "none"}}).report["zero_iqr"] == []


def test_outlier_rule_text_names_the_categories_where_the_fences_close() -> None:
    from stages.features import outlier_rule_text

    rule = {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}
    one = outlier_rule_text(rule, 4, "log", ["Frozen"])
    assert ("**In Frozen the middle half of the customers has one value** (an interquartile range of 0, as when most "
            "customers buy none), so the rule flags every other value there and says little about that category: "
            "`features.outliers.method: none`, or `data.features` without it, avoids that.") in one
    assert "**In Frozen and Milk the middle half of the customers have one value**" in outlier_rule_text(rule, 4, "log", ["Frozen", "Milk"])
    assert "interquartile range of 0" not in outlier_rule_text(rule, 4, "log")


def test_engineer_drops_outliers_from_the_fit_but_keeps_their_rows(customers: pd.DataFrame) -> None:
    data = customers.copy()
    data.loc[0, FEATURES] = [1, 1, 1, 1, 1, 1]
    result = engineer(data, FEATURES, {}, PARAMS)
    assert bool(result.table.loc[0, "outlier"]) and not bool(result.table.loc[0, "clustered"])
    assert len(result.table) == len(data)
    kept = result.table.loc[result.table["clustered"], [f"z_{c}" for c in FEATURES]]
    assert np.allclose(kept.mean(), 0, atol=1e-9) and np.allclose(kept.std(ddof=0), 1)


def test_keep_action_fits_on_every_row(customers: pd.DataFrame) -> None:
    params = copy.deepcopy(PARAMS)
    params["outliers"]["action"] = "keep"
    result = engineer(customers, FEATURES, {}, params)
    assert result.table["clustered"].all()


def test_the_features_report_counts_the_flagged_under_its_own_name(customers: pd.DataFrame) -> None:
    """ml/features.json called the flagged count n_outliers, the name ml/metrics.json gives the rows removed (none
    with action keep): the same name for two numbers that differ under keep."""
    data = customers.copy()
    data.loc[0, FEATURES] = [1, 1, 1, 1, 1, 1]
    params = copy.deepcopy(PARAMS)
    params["outliers"]["action"] = "keep"
    report = engineer(data, FEATURES, {}, params).report
    assert "n_outliers" not in report
    assert report["n_flagged"] == len(report["outlier_rows"]) >= 1 and report["n_clustered"] == len(data)


def test_pca_explained_variance_sums_to_one(customers: pd.DataFrame) -> None:
    result = engineer(customers, FEATURES, {}, PARAMS)
    assert len(result.report["pca_explained_variance"]) == 6
    assert sum(result.report["pca_explained_variance"]) == pytest.approx(1.0)


@pytest.mark.parametrize("n", [0, 2])
def test_space_pipeline_reproduces_the_table_columns(customers: pd.DataFrame, n: int) -> None:
    params = copy.deepcopy(PARAMS)
    params["pca"]["n_components"] = n
    result = engineer(customers, FEATURES, {}, params)
    space = space_pipeline(result.preprocess, n).transform(customers[FEATURES].to_numpy(dtype=float))
    assert np.allclose(space, result.table[space_columns(FEATURES, n)].to_numpy())


def test_preprocess_fills_missing_spend_with_the_given_values() -> None:
    pipe = build_preprocess([10.0, 20.0], "none", "none").fit(np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 1.0]]))
    scaled = space_pipeline(pipe, 0).transform(np.array([[np.nan, 7.0]]))
    assert scaled.tolist() == [[10.0, 7.0]]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scaler", "minmax", r"features.scaler: must be one of none, standard, robust \(got 'minmax'\)"),
        ("transform", "sqrt", r"features.transform: must be one of none, log, log1p \(got 'sqrt'\)"),
        ("outliers.method", "zscore", r"features.outliers.method: must be one of none, tukey \(got 'zscore'\)"),
        ("outliers.action", "clip", r"features.outliers.action: must be one of drop, keep \(got 'clip'\)"),
        ("outliers.min_features", 9, "features.outliers.min_features: 9 must be between 1 and 6, the number of categories in data.features"),
        ("outliers.iqr_factor", -3, r"features.outliers.iqr_factor: must be a number of at least 0.5 .* \(got -3\)"),
        ("outliers.iqr_factor", 0, r"features.outliers.iqr_factor: must be a number of at least 0.5 .* \(got 0\)"),
        ("outliers.iqr_factor", "abc", r"features.outliers.iqr_factor: must be a number \(got 'abc'\)"),
        ("outliers.iqr_factor", float("nan"), r"features.outliers.iqr_factor: must be a number of at least 0.5 .* \(got nan\)"),
        ("outliers.iqr_factor", float("inf"), r"features.outliers.iqr_factor: must be a number of at least 0.5 .* \(got inf\)"),
        ("outliers.iqr_factor", True, r"features.outliers.iqr_factor: must be a number \(got True\)"),
        ("pca.n_components", 7, "features.pca.n_components: 7 must be between 0 and 6, the number of categories in data.features"),
    ],
)
def test_bad_feature_params_name_the_key(customers: pd.DataFrame, key: str, value: object, message: str) -> None:
    params = copy.deepcopy(PARAMS)
    *path, last = key.split(".")
    target = params
    for p in path:
        target = target[p]
    target[last] = value
    with pytest.raises(ValueError, match=message):
        engineer(customers, FEATURES, {}, params)


def _one_pattern(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """``n`` customers with independent log-normal spending, one buying pattern: Tukey's rule at 0.5 flags about 18%
    of each category, so about 70% of the customers in at least one of six."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(np.exp(rng.normal(8, 1, size=(n, 6))).round(), columns=FEATURES)
    frame.insert(0, "Region", 3)
    frame.insert(0, "Channel", rng.integers(1, 3, size=n))
    frame.insert(0, "row", np.arange(1, n + 1))
    return frame


def test_an_outlier_rule_that_would_drop_half_of_the_customers_or_more_is_refused() -> None:
    """`-S features.outliers.min_features=1 -S features.outliers.iqr_factor=0.5` set 229 of the 440 UCI customers
    aside as outliers and fitted the segments on the other 211, without a word. Refused, naming the keys and the way
    out; kept (action keep) or under half, the rule runs."""
    customers = _one_pattern()
    params = copy.deepcopy(PARAMS)
    params["outliers"].update(iqr_factor=0.5, min_features=1)
    with pytest.raises(ValueError, match=r"^features.outliers: the rule flags 1\d\d of the 200 customers \(\d\d%\) as outliers \(iqr_factor 0.5, "
                                         r"min_features 1\); dropping them would fit the segments to the other \d\d\. .*features.outliers.action: keep"):
        engineer(customers, FEATURES, {}, params)
    params["outliers"]["action"] = "keep"
    assert 100 <= engineer(customers, FEATURES, {}, params).report["n_flagged"] < 200
    params["outliers"].update(action="drop", min_features=2)
    assert 0 < engineer(customers, FEATURES, {}, params).report["n_flagged"] < 100


@pytest.mark.parametrize(("n_flagged", "refused"), [(99, False), (100, True), (0, False), (200, True)])
def test_half_of_the_customers_is_where_outliers_stop_being_the_few(n_flagged: int, refused: bool) -> None:
    rule = {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}
    if refused:
        with pytest.raises(ValueError, match=f"flags {n_flagged} of the 200 customers"):
            check_outliers_few(n_flagged, 200, rule)
    else:
        check_outliers_few(n_flagged, 200, rule)
    with pytest.raises(ValueError, match=r"\(in Frozen the middle half of the customers has one value, so the rule flags every other value "
                                         r"there: `data.features` without it avoids that\)"):
        check_outliers_few(150, 200, rule, ["Frozen"])


def test_distinct_customers_counts_identical_rows_once() -> None:
    S = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    assert distinct_customers(S) == 2
    assert distinct_customers(S[:0]) == 0


@pytest.mark.parametrize("transform", ["none", "log"])
def test_customers_that_are_all_the_same_are_refused_not_segmented(transform: str) -> None:
    """20 identical rows had given NaN explained variance (0/0 in PCA) and a features.json that is not JSON."""
    # with the log transform, spending 0 and 1 are the same (its floor is 1)
    spend = np.full((20, len(FEATURES)), 12669.0) if transform == "none" else np.where(np.arange(20)[:, None] % 2, 0.0, 1.0) * np.ones(len(FEATURES))
    customers = pd.DataFrame(spend, columns=FEATURES).assign(row=np.arange(1, 21))
    with pytest.raises(ValueError, match=f"data.raw: the 20 customers kept for clustering \\(of 20\\) all have the same spending after features.transform '{transform}'"):
        engineer(customers, FEATURES, {}, {**PARAMS, "transform": transform})


def test_skew_summary_words_what_the_transform_did() -> None:
    from stages.features import skew_summary

    raw = pd.Series({"Fresh": 2.56, "Milk": 4.05})
    logged = pd.Series({"Fresh": -1.63, "Milk": 0.25})
    text = skew_summary(raw, logged, "log")
    assert "falls from **3.30** on raw spending to **0.94** after the `log` transform" in text
    assert "Still skewed beyond ±1: Fresh (−1.63), a long tail of small amounts." in text and "another currency" in text
    assert "stays at **3.30**" in skew_summary(raw, raw, "none") and "a long tail of large amounts" in skew_summary(raw, raw, "none")
    assert "rises" in skew_summary(logged, raw, "log1p") and "currency" not in skew_summary(logged, raw, "log1p")
    assert skew_summary(raw, pd.Series({"Fresh": 0.5, "Milk": -0.2}), "log").count("No category is skewed beyond ±1") == 1


def test_map_share_text_says_what_the_map_leaves_out() -> None:
    from stages.features import map_share_text

    assert "the other 30% of the variance is not on it" in map_share_text([0.44, 0.26, 0.2, 0.1])


def test_correlation_sentence_is_true_to_the_sign_and_strength_of_the_pairs() -> None:
    """With -S 'data.features=[Fresh,Grocery,Frozen]' the notebook said "Fresh–Frozen (0.37), Grocery–Frozen (-0.15),
    Fresh–Grocery (-0.12): customers who buy much of one of these buy much of the other" (and the same of Fresh–Milk
    at -0.02 with two categories): false for weak and negative correlations. The shipped wording stays for strong
    positive pairs."""
    from stages.features import correlation_text

    shipped = correlation_text([("Grocery", "Detergents_Paper", 0.79), ("Milk", "Grocery", 0.78), ("Milk", "Detergents_Paper", 0.67)])
    assert shipped == ("The strongest correlations are Grocery–Detergents_Paper (0.79), Milk–Grocery (0.78), Milk–Detergents_Paper "
                       "(0.67): customers who buy much of one of these buy much of the other. Such groups of categories that "
                       "move together are what the segments will pick up.")
    weak = correlation_text([("Fresh", "Frozen", 0.37), ("Grocery", "Frozen", -0.15), ("Fresh", "Grocery", -0.12)])
    assert weak.startswith("No two categories move together strongly: the strongest correlation is Fresh–Frozen (0.37)")
    assert "buy much of the other" not in weak and "−0.15" not in weak
    assert correlation_text([("Fresh", "Milk", -0.02)]).startswith("No two categories move together strongly: the strongest correlation is Fresh–Milk (−0.02)")
    mixed = correlation_text([("Milk", "Grocery", 0.8), ("Fresh", "Grocery", -0.6), ("Fresh", "Milk", 0.1)])
    assert mixed.startswith("The strongest correlations are Milk–Grocery (0.80), Fresh–Grocery (−0.60): where a correlation is positive")
    assert correlation_text([("Milk", "Grocery", 0.8), ("Fresh", "Milk", 0.1)]).startswith("The strongest correlation is Milk–Grocery (0.80): customers")


def test_map_share_text_with_two_categories_says_the_map_holds_everything() -> None:
    """With two categories the two components are the whole space: "the other 0% … can still differ" was false."""
    from stages.features import map_share_text

    assert map_share_text([0.7, 0.3]) == "They draw the map of the report and the staff page, which holds all of the variance"
    assert map_share_text([0.7, 0.299, 0.001]).endswith("which holds all of the variance")


@pytest.mark.parametrize(("n", "transform", "words"), [
    (0, "log", "of its category's transformed values: more than 1.5 interquartile ranges below the lower quartile or above "
               "the upper quartile. Extreme spending in one category is normal for a specialised shop, so a customer counts "
               "as an outlier only when flagged in at least **2** categories (`features.outliers.min_features`). No customer "
               "was flagged."),
    (1, "log", "1 customer was flagged; with action `drop` it is left out while fitting so that it cannot pull segment "
               "centres towards itself, and then assigned by the served model like any new customer"),
    (5, "none", "of its category's raw spending:"),
    (5, "log1p", "5 customers were flagged; with action `drop` they are left out while fitting"),
])
def test_outlier_rule_text_counts_customers_and_names_the_scale(n: int, transform: str, words: str) -> None:
    """The notebook said "these 0 customers" and "these 1 customers", and "transformed category" of raw spending."""
    from stages.features import outlier_rule_text

    rule = {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}
    assert words in outlier_rule_text(rule, n, transform)
    assert outlier_rule_text({**rule, "action": "keep"}, 3, "log").endswith(
        "3 customers were flagged; with action `keep` they are flagged only: the segments are fitted on them like on "
        "everyone else, so they can pull segment centres towards themselves.")
    assert outlier_rule_text({**rule, "method": "none"}, 0, "log").startswith("No outlier rule is applied")
    assert "Tukey" not in outlier_rule_text({**rule, "method": "none"}, 0, "log")


def test_outlier_rule_text_gives_no_reason_for_several_categories_when_one_is_enough() -> None:
    """With min_features 1 the notebook said one extreme category is normal, "so" an outlier needs at least 1 category."""
    from stages.features import outlier_rule_text

    text = outlier_rule_text({"method": "tukey", "iqr_factor": 1.5, "min_features": 1, "action": "keep"}, 42, "log")
    assert "A customer counts as an outlier when flagged in any category (`features.outliers.min_features: 1`)." in text
    assert "normal for a specialised shop" not in text and "at least" not in text


def test_the_features_notebook_and_the_methods_page_word_the_outlier_rule_once() -> None:
    """Both read stages.features.outlier_rule_text: the Methods page's paragraph is that text after its heading."""
    from stages import report
    from stages.features import outlier_rule_text

    params: dict[str, Any] = {"features": {"transform": "log", "scaler": "standard",
                                           "outliers": {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}}}
    text = report.method_choices_markdown(params, {"n_flagged": 5, "zero_iqr": ["Frozen"]})
    assert text.endswith("\n\n**Outliers.** " + outlier_rule_text(params["features"]["outliers"], 5, "log", ["Frozen"]) + "\n")
    assert "**In Frozen the middle half" in text


def test_outlier_rule_text_says_the_scaler_and_components_are_fitted_without_the_customers_set_aside() -> None:
    """The Methods page said only that the outliers were "left out while fitting" the segments, while ``engineer``
    also fits the scaler and the PCA on the kept rows: a reader standardising all 440 customers got other numbers."""
    from stages.features import outlier_rule_text

    rule = {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}
    assert outlier_rule_text(rule, 5, "log").endswith(
        "The scaler and the principal components are fitted without them too; only the quartiles of the rule are taken "
        "over every customer.")
    assert outlier_rule_text(rule, 1, "log").endswith("are fitted without it too; only the quartiles of the rule are taken over every customer.")
    assert "principal components" not in outlier_rule_text({**rule, "action": "keep"}, 5, "log")


def test_engineer_fits_the_scaler_and_components_on_the_kept_customers_only() -> None:
    """What outlier_rule_text says of action drop: the standardised values of the kept rows have mean 0, not of all."""
    from stages.features import engineer

    rng = np.random.default_rng(0)
    customers = pd.DataFrame(rng.lognormal(8, 1, size=(60, 2)), columns=["Fresh", "Milk"])
    customers.loc[0] = [1.0, 1.0]  # extreme low in both: an outlier by the rule
    customers.insert(0, "row", range(1, 61))
    params = {"transform": "log", "scaler": "standard", "pca": {"n_components": 0},
              "outliers": {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"}}
    table = engineer(customers, ["Fresh", "Milk"], {}, params).table
    kept = table["clustered"].to_numpy()
    assert not kept[0] and kept[1:].all()
    assert np.allclose(table.loc[kept, ["z_Fresh", "z_Milk"]].mean(), 0)
    assert not np.allclose(table[["z_Fresh", "z_Milk"]].mean(), 0)


def test_the_skewness_table_shows_raw_spending_once_when_there_is_no_transform() -> None:
    """`dvc exp run -S features.transform=none`: notebook 2's before/after table had the column "none", a copy of "raw"."""
    from stages.features import skew_table
    raw = pd.DataFrame({"Fresh": [1.0, 2.0, 3.0, 50.0], "Milk": [10.0, 1.0, 2.0, 3.0]})
    logged = np.log(raw)
    assert list(skew_table(raw, raw, "none").columns) == ["raw"]
    table = skew_table(raw, logged, "log")
    assert list(table.columns) == ["raw", "log"]
    assert table.loc["Fresh", "raw"] == round(raw["Fresh"].skew(), 2) and table.loc["Fresh", "log"] == round(logged["Fresh"].skew(), 2)

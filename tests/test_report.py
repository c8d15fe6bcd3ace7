"""stages.report: the site's variables and includes from tiny inputs, and the offline post-render clean-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from stages import config, report
from stages.select_k import ONE_CHANNEL, channel_reading, silhouette_bands_text

FEATURES = ["Fresh", "Milk"]


def persona(pid: int, size: int, share: float, horeca: float) -> dict[str, Any]:
    """A persona in ml/personas.json's shape, over two categories."""
    return {
        "id": pid, "name": f"Persona {pid}", "description": f"{size} customers.", "size": size, "share": share,
        "centre": {"Fresh": 100.0, "Milk": 50.0}, "profile": {"Fresh": 2.0, "Milk": 0.5},
        "levels": {"Fresh": "high", "Milk": "low"},
        "channel_mix": {"Horeca": horeca, "Retail": round(1 - horeca, 4)},
        "region_mix": {"Lisbon": 0.2, "Oporto": 0.1, "Other": 0.7},
        "typical_customer": {"row": 7 + pid, "Fresh": 1234.0, "Milk": 56.0},
        "actions": [f"Call persona {pid} first.", "Then the rest."],
    }


@pytest.fixture
def personas() -> list[dict[str, Any]]:
    return [persona(0, 30, 0.6, 0.9), persona(1, 20, 0.4, 0.25)]


@pytest.fixture
def lock() -> dict[str, Any]:
    return {"schema": "2.0", "stages": {
        "cluster": {"outs": [{"path": "ml/segmenter.json", "md5": "abc"}, {"path": "ml/metrics.json", "md5": "def"}]},
        "report": {"outs": [{"path": "site/_variables.yml", "md5": "zzz"}]},
        "personas": {"outs": [{"path": "ml/personas.json", "md5": "123"}]},
    }}


@pytest.fixture
def inputs(personas: list[dict[str, Any]], lock: dict[str, Any]) -> dict[str, Any]:
    metrics = {"n_customers": 48, "n_outliers": 2, "k": 2, "algorithm": "kmeans", "silhouette": 0.55,
               "calinski_harabasz": 120.4, "davies_bouldin": 0.91, "pca_explained_variance": [0.5, 0.3, 0.2],
               "channel_accuracy": 0.875, "channel_baseline": 0.72, "channel_ari": 0.41, "channel_within": [], "channel_leaning": [], "stability_ari": 0.8, "agreement_ari": 0.6,
               "silhouette_reference": 0.5, "segment_sizes": [30, 18]}
    data_report = {"n_rows": 50, "md5": "feedface", "missing": {"Fresh": 1, "Milk": 0},
                   "duplicates": {"n_groups": 0}, "labels": {"Channel": {"Horeca": 35, "Retail": 15},
                                                             "Region": {"Lisbon": 5, "Oporto": 5, "Other": 40}}}
    select_k = {"criterion": "silhouette", "algorithm": "kmeans", "chosen_k": 3, "at_edge": [], "widen": None,
                "keeps_improving": False}
    k_sweep = pd.DataFrame({"k": [2, 3, 4], "kmeans_channel_ari": [0.41, 0.3, 0.2], "gmm_channel_ari": [0.5, 0.6, 0.7]})
    features_report = {"n_rows": 50, "n_flagged": 2, "n_clustered": 48, "outlier_flags": {"low": 3, "high": 1},
                       "pca_explained_variance": [0.5, 0.3, 0.2], "zero_iqr": []}
    params = {"base": {"seed": 1}, "data": {"features": FEATURES, "impute": "median"},
              "features": {"transform": "log", "scaler": "standard",
                           "outliers": {"method": "tukey", "iqr_factor": 1.5, "min_features": 2, "action": "drop"},
                           "pca": {"n_components": 0}},
              "select_k": {"k_min": 2, "k_max": 4, "algorithms": ["kmeans", "gmm"], "bootstrap": 5},
              "cluster": {"k": 2, "algorithm": "kmeans"}}
    return {"metrics": metrics, "personas": personas, "data_report": data_report, "features_report": features_report,
            "select_k": select_k, "k_sweep": k_sweep, "params": params, "lock": lock}


def test_lock_outputs_lists_pipeline_outputs_in_order_without_the_report_stage(lock: dict[str, Any]) -> None:
    rows = report.lock_outputs(lock)
    assert [r["path"] for r in rows] == ["ml/segmenter.json", "ml/metrics.json", "ml/personas.json"]
    assert rows[0] == {"stage": "cluster", "path": "ml/segmenter.json", "md5": "abc"}


def test_lock_md5_names_a_missing_output(lock: dict[str, Any]) -> None:
    with pytest.raises(KeyError, match="ml/nothing.json"):
        report.lock_md5(report.lock_outputs(lock), "ml/nothing.json")


@pytest.mark.parametrize(("value", "word"), [(0.8, "strong"), (0.6, "reasonable"), (0.3, "weak"), (0.1, "no substantial"), (-0.2, "no substantial")])
def test_silhouette_strength_follows_kaufman_rousseeuw(value: float, word: str) -> None:
    assert report.silhouette_strength(value) == word


def test_silhouette_bands_in_words_agree_with_the_bands() -> None:
    """Every value falls in a band the words name: 0.254 was "no substantial" under "0.25 and below … 0.26–0.50"."""
    assert silhouette_bands_text() == ("under 0.26 as no substantial structure, 0.26 up to 0.51 as weak, 0.51 up to 0.71 as "
                                       "reasonable, 0.71 and above as strong structure")
    assert [report.silhouette_strength(v) for v in (0.254, 0.505, 0.705)] == ["no substantial", "weak", "reasonable"]


@pytest.mark.parametrize(("k", "k_param", "chosen", "expected"), [
    (3, "auto", 3, "`cluster.k` is `auto`"),
    (3, 3, 3, "also the silhouette criterion's pick"),
    (3, 3, 2, "The silhouette criterion (`select_k.criterion`) prefers k = 2"),
    (3, 3, 2, "`cluster.k: 3`, more segments than it picks."),
    (2, 2, 3, "fewer segments than it picks"),
])
def test_k_note_says_where_k_comes_from(k: int, k_param: int | str, chosen: int, expected: str) -> None:
    assert expected in report.k_note(k, k_param, "silhouette", chosen)


@pytest.mark.parametrize(("algorithms", "subject"), [
    (["kmeans"], "k-Means, the only method in `select_k.algorithms`,"),  # was "Every method (k-Means)"
    (["kmeans", "gmm"], "Each method (k-Means and Gaussian mixture)"),
    (["kmeans", "agglomerative", "gmm"], "Every method (k-Means, agglomerative (Ward) and Gaussian mixture)"),
])
def test_the_methods_page_names_the_swept_methods_as_one_or_several(algorithms: list[str], subject: str) -> None:
    """`dvc exp run -S 'select_k.algorithms=[kmeans]'`: "Every method (k-Means) was fitted for k = 2 to 8"."""
    assert report.swept_text(algorithms) == subject


def test_the_served_k_says_when_the_criterion_picked_the_top_of_the_sweep(inputs: dict[str, Any]) -> None:
    """`cluster.k: auto` serving Davies–Bouldin's k = 8 = `select_k.k_max` (`features.pca.n_components=2`)."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["select_k"] |= {"criterion": "davies_bouldin", "chosen_k": 4, "at_edge": ["k_max"],
                           "widen": "dvc exp run -S select_k.k_max=8"}
    inputs["params"]["cluster"]["k"] = "auto"
    inputs["metrics"]["k"] = 4
    note = report.site_variables(outputs=outputs, **inputs)["model"]["k_note"]
    assert note == ("`cluster.k` is `auto`, so k = 4 is the number of segments the Davies–Bouldin criterion picks. k = 4 is "
                    "`select_k.k_max`, the most segments swept, so it may prefer more segments than the sweep tried: widen "
                    "the sweep to see (`dvc exp run -S select_k.k_max=8`).")
    inputs["select_k"]["keeps_improving"] = True  # the same pick, its score better at every one of the last steps
    note = report.site_variables(outputs=outputs, **inputs)["model"]["k_note"]
    assert "widening the sweep (`dvc exp run -S select_k.k_max=8`) will likely move its pick to the new end again" in note


def test_flatten_params_uses_dotted_keys_and_joins_lists() -> None:
    rows = report.flatten_params({"a": {"b": 1, "c": {"d": "x"}}, "e": [1, 2]})
    assert rows == [("a.b", "1"), ("a.c.d", "x"), ("e", "1, 2")]


def test_requirement_names_drop_versions_and_extras() -> None:
    reqs = ["numpy<3,>=2.1", "scikit-learn>=1.6", "pyyaml", 'pytest>=8.3; extra == "test"', "pandas[pyarrow] >=2"]
    assert report.requirement_names(reqs) == ["numpy", "scikit-learn", "pyyaml", "pandas"]


def test_package_versions_reads_installed_metadata() -> None:
    assert report.package_versions(["pyyaml"]) == {"pyyaml": yaml.__version__}


def test_site_variables_are_formatted_text(inputs: dict[str, Any]) -> None:
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["data"]["n_rows"] == "50" and v["data"]["missing"] == "1 missing value"
    assert v["data"]["duplicates"] == "no groups of duplicate rows" and v["data"]["horeca_share"] == "70%"
    # the baseline of the clustered customers (metrics.json), not the 70% Horeca share of every row
    assert v["model"]["channel_accuracy"] == "88%" and v["model"]["channel_baseline"] == "72%"
    assert v["model"]["silhouette"] == "0.55" and v["model"]["silhouette_strength"] == "reasonable"
    assert v["model"]["agreement_reading"] == "the methods agree only in part (which customers share a segment depends on the method): treat the boundaries as soft"
    assert v["model"]["version"] == "abc" and v["model"]["atypical_share"] == "99%"
    assert v["model"]["algorithm"] == "k-Means"
    assert v["method"]["pc12"] == "80%" and v["method"]["algorithms"] == "k-Means and Gaussian mixture"
    assert v["method"]["swept"] == "Each method (k-Means and Gaussian mixture)"
    assert v["method"]["pca_use"].startswith("both categories as prepared above, not principal components")
    assert v["personas"] == {"count": "2", "largest": "The larger, *Persona 0*, is 60% of the base."}
    assert v["method"]["criteria"].endswith("Davies–Bouldin indices, the Gaussian mixture's BIC")
    # the served algorithm's Channel ARI at the criterion's k = 3 (the sweep) and at the served k = 2 (metrics.json)
    assert v["model"]["k_note"].endswith("fewer segments than it picks. The adjusted Rand index with the Channel label "
                                         "is 0.41 at k = 2 and 0.30 at k = 3.")

    def leaves(node: Any) -> list[Any]:
        return [x for value in node.values() for x in leaves(value)] if isinstance(node, dict) else [node]

    assert all(isinstance(x, str) for x in leaves(v))


def test_persona_summary_links_each_card(personas: list[dict[str, Any]]) -> None:
    table = report.persona_summary_markdown(personas, 50)
    assert "[0 · Persona 0](personas.qmd#persona-0) | 30 | 60% | 90% / 10% | Call persona 0 first. |" in table
    assert "(personas.qmd#persona-1)" in table and "The sizes count" not in table


def test_persona_summary_says_its_sizes_count_the_customers_set_aside(personas: list[dict[str, Any]]) -> None:
    """The home page showed 216/139/85 next to a map of "the 435 customers the segments were fitted on"."""
    assert "The sizes count all 50 customers: the 2 set aside before fitting are in the segment" in report.persona_summary_markdown(personas, 48)


def test_persona_chart_has_a_stable_id_and_no_library(personas: list[dict[str, Any]]) -> None:
    html = report.persona_chart_html(personas[1], FEATURES)
    assert 'id="persona-1-profile"' in html
    assert "plotly.js v" not in html and "<script src" not in html
    assert html == report.persona_chart_html(personas[1], FEATURES)


def test_a_persona_card_shows_no_ratio_for_a_category_most_customers_buy_none_of(customers: pd.DataFrame) -> None:
    """A new year's file where most customers buy no frozen food: the card's description said "frozen food (854.00×
    the typical customer)" and its chart drew that bar. It now gives the segment's median, and the chart no bar."""
    from stages.personas import build_personas

    segments = (customers["Channel"].to_numpy() == 2).astype(int)
    spent = customers.assign(Frozen=np.where(segments == 1, 854.0, 0.0))
    features = list(spent.columns[3:])
    built = build_personas(spent, segments, np.log(spent[features].clip(lower=1).to_numpy()), features, {"high": 1.5, "low": 0.67, "dominant_channel": 0.7})
    cards = report.persona_cards_markdown(built, features)
    assert "frozen food (a median of 854 a year, where most customers buy none)" in cards
    assert "854.00" not in cards and "854.0×" not in cards
    assert "(no bar: most customers buy none)" in report.persona_chart_html(built[1], features)  # "<br>" is escaped


def test_persona_cards_one_card_per_persona(personas: list[dict[str, Any]]) -> None:
    md = report.persona_cards_markdown(personas, FEATURES)
    assert md.count("::: {.card .persona-card") == 2
    assert "{#persona-0}" not in md and "#persona-0}" in md
    assert "- Call persona 1 first." in md
    assert "row 8 of the raw data" in md and "fresh food 1,234" in md
    assert ("the segment's medoid: the member with the smallest total distance to the other members, in the space the "
            "segments were fitted in)") in md  # not the raw amounts the card then lists
    assert "centre" not in md  # stages.personas.medoid_index picks the medoid, not the member nearest the centre
    assert md.count("```{=html}") == 2


def test_generated_files_cover_every_output(inputs: dict[str, Any]) -> None:
    files = report.generated_files(versions={"pyyaml": "6"}, python="3.11.0", **inputs)
    assert set(files) == {report.VARIABLES} | {report.GENERATED / n for n in [
        "summary.md", "map.md", "method-choices.md", "persona-summary.md", "persona-cards.md", "params.md", "hashes.md",
        "versions.md"]}
    assert "found 2 customers extreme in several categories at once (3 of their flags for spending far below the typical customer's, 1 far above) and set them aside" in files[report.GENERATED / "summary.md"]
    assert "the 48 customers the segments were fitted on (the 2 set aside" in files[report.GENERATED / "map.md"]
    assert "**Outliers.**" in files[report.GENERATED / "method-choices.md"]
    assert yaml.safe_load(files[report.VARIABLES])["model"]["k"] == "2"
    assert "| cluster | `ml/segmenter.json` | `abc` |" in files[report.GENERATED / "hashes.md"]
    assert "site/_variables.yml" not in files[report.GENERATED / "hashes.md"]
    assert "| `features.outliers.iqr_factor` | `1.5` |" in files[report.GENERATED / "params.md"]
    assert "| pyyaml | 6 |" in files[report.GENERATED / "versions.md"]


# --- sentences that depend on params.yaml: the defaults, and each experiment the site suggests --------------------

def test_transform_scale_summary_defaults() -> None:
    assert report.transform_scale_summary("log", "standard") == (
        "Spending is heavily skewed (a few customers spend many times the typical amount), so spending was put on a "
        "log scale and each category standardised, so that the *mix* of a customer's purchases counts, not only its size.")


@pytest.mark.parametrize(("transform", "scaler", "says", "not_says"), [
    ("none", "standard", ["raw scale", "`features.transform: none`", "each category standardised"], ["log", "*mix*"]),
    ("log1p", "standard", ["log of 1 + spending", "*mix*"], []),
    ("log", "none", ["log scale", "categories left unscaled"], ["standardised"]),
    ("log", "robust", ["median and interquartile range"], ["standardised"]),
])
def test_transform_scale_summary_follows_the_params(transform: str, scaler: str, says: list[str], not_says: list[str]) -> None:
    text = report.transform_scale_summary(transform, scaler)
    assert all(s in text for s in says) and not any(s in text for s in not_says), text


@pytest.mark.parametrize(("method", "min_features", "action", "n", "expected"), [
    ("tukey", 2, "drop", 5, "Tukey's rule found 5 customers extreme in several categories at once (spending far below the "
                            "typical customer's there) and set them aside while fitting so they could not pull the "
                            "segments towards themselves; they still receive a segment."),
    # one: "it", as the Methods page says (`-S features.outliers.min_features=3` read "so they could not pull the
    # segments towards themselves; they still receive a segment")
    ("tukey", 2, "drop", 1, "Tukey's rule found 1 customer extreme in several categories at once (spending far below the "
                            "typical customer's there) and set that customer aside while fitting so it could not pull the "
                            "segments towards itself; it still receives a segment."),
    ("tukey", 2, "keep", 1, "(spending far below the typical customer's there); it was flagged but fitted like everyone else"),
    ("tukey", 1, "drop", 3, "Tukey's rule found 3 customers extreme in at least one category (spending far below"),
    ("tukey", 2, "drop", 0, "No customer was extreme in several categories at once, so every customer was fitted."),
    ("tukey", 2, "keep", 5, "extreme in several categories at once (spending far below the typical customer's there); they "
                            "were flagged but fitted like everyone else (`features.outliers.action: keep`)."),
    ("none", 2, "drop", 0, "No outlier rule was applied (`features.outliers.method: none`): every customer was fitted."),
])
def test_outlier_summary_follows_the_params(method: str, min_features: int, action: str, n: int, expected: str) -> None:
    assert expected in report.outlier_summary(method, min_features, action, n, low=2 * n)


@pytest.mark.parametrize(("low", "high", "words"), [
    (11, 0, "(spending far below the typical customer's there)"),
    (0, 10, "(spending far above the typical customer's there)"),
    (8, 3, "(8 of their flags for spending far below the typical customer's, 3 far above)"),
])
def test_outlier_summary_says_on_which_side_the_outliers_are(low: int, high: int, words: str) -> None:
    """"5 customers were extreme", after "a few customers spend many times the typical amount", read as big spenders;
    the shipped five are flagged for spending far below the typical customer's."""
    assert words in report.outlier_summary("tukey", 2, "drop", 5, low, high)


@pytest.mark.parametrize(("transform", "scaler", "clustered", "left_out", "expected"), [
    ("log", "standard", 435, 5, "The map below places the 435 customers the segments were fitted on (the 5 set aside as "
                                "outliers are not shown) by the first two principal components of their (transformed) "
                                "spending, which together carry 70% of its variation."),
    # one left out (`-S data.features=[Grocery,Detergents_Paper]`) had read "the 1 set aside as outliers are not shown"
    ("log", "standard", 439, 1, "The map below places the 439 customers the segments were fitted on (the one set aside as "
                                "an outlier is not shown) by"),
    ("log", "standard", 440, 0, "The map below places every customer by the first two principal components of their "
                                "(transformed) spending"),
    ("none", "standard", 440, 0, "of their (scaled) spending"),
    ("none", "none", 440, 0, "of their spending"),
])
def test_map_summary_says_which_customers_it_shows(transform: str, scaler: str, clustered: int, left_out: int, expected: str) -> None:
    assert expected in report.map_summary(transform, scaler, clustered, left_out, 0.7)


def test_transform_scale_method_defaults() -> None:
    assert report.transform_scale_method("log", "standard") == (
        "**Transform and scale.** Yearly spending is right-skewed: a few customers spend many times the median. On the "
        'raw scale those few would decide the segments. A log transform makes ratios matter ("twice as much milk") '
        "instead of absolute differences, and standard scaling gives each category equal weight.")


@pytest.mark.parametrize(("transform", "scaler", "says", "not_says"), [
    ("none", "standard", ["`features.transform: none`", "absolute differences in spending", "standard scaling"], ["ratios"]),
    ("log", "none", ["A log transform", "`features.scaler: none`", "wider spread weigh more"], ["equal weight"]),
    ("log", "robust", ["robust scaling (median and interquartile range)"], ["standard"]),
    ("log1p", "standard", ["log1p transform", "smallest amounts"], []),
])
def test_transform_scale_method_follows_the_params(transform: str, scaler: str, says: list[str], not_says: list[str]) -> None:
    text = report.transform_scale_method(transform, scaler)
    assert all(s in text for s in says) and not any(s in text for s in not_says), text


def _outlier_method(method: str, iqr_factor: float, min_features: int, action: str, n: int, transform: str = "log") -> str:
    """The Methods page's "Outliers" paragraph for these params."""
    params = {"features": {"transform": transform, "scaler": "standard", "outliers": {
        "method": method, "iqr_factor": iqr_factor, "min_features": min_features, "action": action}}}
    return report.method_choices_markdown(params, {"n_flagged": n, "zero_iqr": []}).split("\n\n")[1]


def test_outlier_method_defaults() -> None:
    text = _outlier_method("tukey", 1.5, 2, "drop", 5)
    assert text.startswith("**Outliers.** Tukey's rule flags a value outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR] of its "
                           "category's transformed values: more than 1.5 interquartile ranges below the lower quartile or "
                           "above the upper quartile.")
    assert "in at least **2** categories (`features.outliers.min_features`). 5 customers were flagged; with action `drop` they are left out while fitting" in text
    assert "most probable segment" in text


@pytest.mark.parametrize(("method", "action", "n", "says", "not_says"), [
    ("tukey", "keep", 5, ["5 customers were flagged; with action `keep`", "fitted on them like on everyone else"],
     ["left out"]),
    ("tukey", "drop", 0, ["No customer was flagged."], ["left out", "They", "they"]),
    ("none", "drop", 0, ["No outlier rule is applied (`features.outliers.method: none`)"], ["Tukey", "flagged"]),
])
def test_outlier_method_follows_the_params(method: str, action: str, n: int, says: list[str], not_says: list[str]) -> None:
    text = _outlier_method(method, 1.5, 2, action, n)
    assert all(s in text for s in says) and not any(s in text for s in not_says), text


def test_generated_sentences_use_the_flagged_count_not_the_removed_one(inputs: dict[str, Any]) -> None:
    """With action keep, ml/metrics.json removes none (n_outliers 0) while ml/features.json still counts the flagged (n_flagged)."""
    inputs["params"]["features"]["outliers"]["action"] = "keep"
    inputs["metrics"]["n_outliers"] = 0
    inputs["features_report"].update(n_flagged=2, n_clustered=50)
    files = report.generated_files(versions={}, python="3.11.0", **inputs)
    assert "2 customers were flagged;" in files[report.GENERATED / "method-choices.md"]
    assert "places every customer" in files[report.GENERATED / "map.md"]


QUARTO_HEAD = (
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js" integrity="sha512-x" crossorigin="anonymous"></script>\n'
    '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" crossorigin="anonymous" data-relocate-top="true"></script>\n'
    '<script type="application/javascript">define(\'jquery\', [],function() {return window.jQuery;})</script>\n'
)


def test_offline_page_removes_quarto_cdn_loaders_only() -> None:
    page = f"<html><head>{QUARTO_HEAD}<script src=\"site_libs/quarto-nav/quarto-nav.js\"></script></head>" \
           "<body><a href=\"https://doi.org/10.24432/C5030X\">doi</a><script>var s = '<script src=\"https://x.org/a.js\">';</script></body></html>"
    cleaned, urls = report.offline_page(page)
    assert "require.min.js" not in cleaned and "jquery.min.js" not in cleaned and "define('jquery'" not in cleaned
    assert 'src="site_libs/quarto-nav/quarto-nav.js"' in cleaned and "doi.org" in cleaned
    assert urls == []  # links are not loaded, and a URL inside inline script text is not a tag


@pytest.mark.parametrize("tag", [
    '<script src="https://cdn.plot.ly/plotly-3.0.0.min.js"></script>',
    '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js"></script>',
    '<link rel="stylesheet" href="//fonts.googleapis.com/css2?family=Source+Sans+Pro">',
    '<img src="http://example.org/logo.png">',
])
def test_offline_page_reports_anything_else_loaded_from_the_network(tag: str) -> None:
    _, urls = report.offline_page(f"<html><head>{tag}</head><body></body></html>")
    assert len(urls) == 1 and "//" in urls[0]


def test_post_render_rewrites_pages_and_lists_problems(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "index.html").write_text(f"<html><head>{QUARTO_HEAD}</head></html>", encoding="utf-8")
    (tmp_path / "index.html").chmod(0o644)
    (tmp_path / "notebooks" / "a.html").write_text('<img src="https://example.org/x.png">', encoding="utf-8")
    problems = report.post_render(tmp_path)
    assert problems == ["notebooks/a.html: loads https://example.org/x.png"]
    assert "require" not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "index.html").stat().st_mode & 0o777 == 0o644


def test_main_post_render_fails_with_the_offending_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "page.html").write_text('<script src="https://cdn.plot.ly/plotly.min.js"></script>', encoding="utf-8")
    monkeypatch.setenv("QUARTO_PROJECT_OUTPUT_DIR", str(tmp_path))
    assert report.main(["post-render"]) == 1
    assert "page.html: loads https://cdn.plot.ly/plotly.min.js" in capsys.readouterr().err


def test_main_write_names_a_missing_input(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(config, "METRICS", tmp_path / "metrics.json")
    assert report.main([]) == 1
    err = capsys.readouterr().err
    assert "metrics.json" in err and "dvc repro" in err and "Traceback" not in err


@pytest.mark.parametrize(("impute", "words"), [("median", "Missing values would be imputed with the median of all the customers"),
                                               ("mean", "imputed with the mean of all the customers"),
                                               ("error", "A missing value would stop the pipeline, naming its rows (`data.impute: error`)")])
def test_missing_rule_follows_data_impute(impute: str, words: str) -> None:
    assert words in report.missing_rule(impute)


def test_outlier_rule_counts_one_category_in_the_singular() -> None:
    assert "when flagged in any category" in _outlier_method("tukey", 1.5, 1, "keep", 42)
    assert "in at least **2** categories" in _outlier_method("tukey", 1.5, 2, "keep", 42)


@pytest.mark.parametrize(("ari", "words"), [(0.95, "much the same segments"), (0.7, "differ on some boundaries"), (0.46, "agree only in part"),
                                          (0.07, "barely agree")])  # 60 customers of new data: not "in part"
def test_agreement_reading_follows_the_ari(ari: float, words: str) -> None:
    assert words in report.agreement_reading(ari)


@pytest.mark.parametrize(("ari", "words"), [(0.89, "find much the same segments"), (0.71, "keep the broad segments"), (0.46, "treat the segments as tentative")])
def test_stability_reading_follows_the_ari(ari: float, words: str) -> None:
    """The home page and notebook 4 said refits "reproduce the segments" at any stability, 0.46 included."""
    assert words in report.stability_reading(ari)


def test_readings_follow_a_so_without_a_second_one() -> None:
    """Notebook 4 writes "…, so {reading}": "so the methods agree only in part (…), so treat the boundaries as soft"."""
    from stages.select_k import AGREEMENT_READINGS, STABILITY_READINGS

    assert [text for _, text in AGREEMENT_READINGS + STABILITY_READINGS if ", so " in text] == []


@pytest.mark.parametrize(("ari", "words"), [(0.8, "follow the Horeca/Retail split closely"), (0.37, "in part"), (0.15, "largely cut across")])
def test_channel_reading_follows_the_ari(ari: float, words: str) -> None:
    """Notebook 4 said the segments "follow the Horeca/Retail split … and add detail inside it" at an ARI of 0.15 too."""
    assert words in channel_reading(ari)


def test_segments_within_one_channel_each_are_not_read_as_cutting_across_the_split() -> None:
    """`cluster.k=6`: every segment at least 75% one channel, 91% of channels recovered against 68%, yet the ARI of
    0.20 read "the segments largely cut across the Horeca/Retail split". Segments that mirror the channel mix still do."""
    from stages.select_k import SPLIT_WITHIN_CHANNELS

    assert channel_reading(0.20, 0.68, 0.91) == SPLIT_WITHIN_CHANNELS
    assert "largely cut across" in channel_reading(0.05, 0.68, 0.70)
    assert channel_reading(0.37, 0.68, 0.80) == channel_reading(0.37)  # the bands above are the ARI's


def test_a_segment_within_one_channel_is_named_where_the_others_cut_across_the_split(inputs: dict[str, Any]) -> None:
    """`features.scaler: robust`: "the segments largely cut across the Horeca/Retail split" at an ARI of 0.299, while
    segment 0 was 98% Horeca. The reading names such segments as the exception; all of them within one channel read
    as segments that split the channels further; the bands above the lowest are the ARI's own."""
    from stages.select_k import SPLIT_WITHIN_CHANNELS

    one = [{"segment": 0, "channel": "Horeca", "share": 0.9815}]
    two = one + [{"segment": 2, "channel": "Retail", "share": 0.93}]
    assert channel_reading(0.299, 0.68, 0.75, one, [200, 150, 85]) == "the segments largely cut across the Horeca/Retail split, apart from segment 0 (98% Horeca)"
    three = two + [{"segment": 3, "channel": "Retail", "share": 0.95}]
    assert channel_reading(0.2, 0.68, 0.75, two, [100] * 5).endswith("apart from segments 0 (98% Horeca) and 2 (93% Retail)")
    # half of the customers or more in segments within one channel: not "largely cut across" (data.features=[Milk,
    # Grocery,Detergents_Paper], three agglomerative segments: ARI 0.29, segments 1 and 2 at 99% Horeca and 98%
    # Retail, 54% of the customers)
    assert channel_reading(0.29, 0.68, 0.76, [{"segment": 1, "channel": "Horeca", "share": 0.99}, {"segment": 2, "channel": "Retail", "share": 0.98}],
                                  [202, 198, 40]) == ("the segments follow the Horeca/Retail split in part, with segments 1 (99% Horeca) and "
                                                      "2 (98% Retail) each within one channel and segment 0 not")
    assert channel_reading(0.2, 0.68, 0.75, two, [100] * 4) == ("the segments follow the Horeca/Retail split in part, with segments "
                                                                     "0 (98% Horeca) and 2 (93% Retail) each within one channel and segments 1 and 3 not")
    assert channel_reading(0.2, 0.68, 0.75, three, [100] * 5).endswith("with segments 0 (98% Horeca), 2 (93% Retail) and 3 (95% Retail) each within one channel and segments 1 and 4 not")
    # by customers, not by segments: one of two segments, 37% of the customers (four components, agglomerative k=2)
    assert channel_reading(0.13, 0.68, 0.69, [{"segment": 1, "channel": "Horeca", "share": 0.99}], [276, 164]) == (
        "the segments largely cut across the Horeca/Retail split, apart from segment 1 (99% Horeca)")
    assert channel_reading(0.13, 0.68, 0.69, [{"segment": 1, "channel": "Horeca", "share": 0.99}], [164, 276]).startswith(
        "the segments follow the Horeca/Retail split in part, with segment 1 (99% Horeca) within one channel and segment 0 not")
    assert channel_reading(0.2, 0.68, 0.75, one + [{"segment": 1, "channel": "Retail", "share": 0.93}], [100, 100]) == SPLIT_WITHIN_CHANNELS
    assert channel_reading(0.05, 0.68, 0.70, [], [100] * 3) == channel_reading(0.05) and "apart" not in channel_reading(0.05)
    assert channel_reading(0.37, 0.68, 0.80, one, [100] * 3) == channel_reading(0.37)
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"] = {**inputs["metrics"], "channel_ari": 0.299, "channel_accuracy": 0.75, "channel_within": one, "k": 3,
                         "segment_sizes": [200, 150, 85]}
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["model"]["channel_reading"].endswith(", apart from segment 0 (98% Horeca)")


def test_segments_that_mix_the_channels_are_named_where_the_others_sit_within_one() -> None:
    """Two `dvc exp run --temp` of 2026-11-28 read "the segments mostly sit within one channel each but split the
    channels further" (accuracy well above the baseline) while one or two segments held both channels about as all
    the customers do: `-S data.features=[Milk,Grocery,Detergents_Paper] -S cluster.k=4` (segment 1, 132 customers at
    67% Horeca) and `-S cluster.k=8` (segments 2 and 7). Such segments are named; when they hold half of the customers
    or more, "mostly … each" would be wrong, and the lists' own reading is given."""
    from stages.select_k import SPLIT_WITHIN_CHANNELS

    within = [{"segment": 0, "channel": "Horeca", "share": 0.9873}, {"segment": 3, "channel": "Horeca", "share": 1.0}]
    leaning = [{"segment": 2, "channel": "Retail", "share": 0.8972}]
    assert channel_reading(0.272, 0.676, 0.870, within, [158, 132, 107, 41], leaning) == (
        "the segments mostly sit within one channel each (segment 1 mixes the two) but split the channels further, "
        "which keeps the adjusted Rand index low")
    k8_within = [{"segment": s, "channel": "Horeca", "share": 0.95} for s in (0, 1, 3, 4, 6)]
    assert channel_reading(0.174, 0.676, 0.903, k8_within, [105, 84, 62, 51, 43, 41, 31, 18], [{"segment": 5, "channel": "Retail", "share": 0.8293}]) == (
        "the segments mostly sit within one channel each (segments 2 and 7 mix the two) but split the channels further, "
        "which keeps the adjusted Rand index low")
    # every segment within or leaning; no sizes (the lists unknown): the reading as it was
    assert channel_reading(0.272, 0.676, 0.870, within, [158, 132, 107, 41], [*leaning, {"segment": 1, "channel": "Horeca", "share": 0.8}]) == SPLIT_WITHIN_CHANNELS
    assert channel_reading(0.272, 0.676, 0.870) == SPLIT_WITHIN_CHANNELS
    # the mixed segments hold half of the customers or more: not "mostly … each"
    sizes = [158, 232, 107, 41]
    assert channel_reading(0.272, 0.676, 0.870, within[:1], sizes, leaning) == channel_reading(0.272, 0.676, None, within[:1], sizes, leaning) == (
        "the segments largely cut across the Horeca/Retail split, apart from segment 0 (99% Horeca)")


def test_segments_leaning_to_one_channel_count_against_cutting_across_the_split(inputs: dict[str, Any]) -> None:
    """`-S features.scaler=robust -S features.transform=log1p -S cluster.algorithm=agglomerative -S cluster.k=5` (a
    `dvc exp run --temp`): ARI 0.182, segment 0 99% Horeca, segments 2 and 3 85% Horeca and 82% Retail, 64% of the
    customers in the three, read "the segments largely cut across the Horeca/Retail split, apart from segment 0"."""
    within = [{"segment": 0, "channel": "Horeca", "share": 0.993}]
    leaning = [{"segment": 2, "channel": "Horeca", "share": 0.85}, {"segment": 3, "channel": "Retail", "share": 0.8214}]
    sizes = [143, 129, 80, 56, 27]
    assert channel_reading(0.182, 0.676, 0.779, within, sizes, leaning) == (
        "the segments follow the Horeca/Retail split in part, with segment 0 (99% Horeca) within one channel, segments "
        "2 (85% Horeca) and 3 (82% Retail) each leaning to one, and segments 1 and 4 not")
    # leaning segments alone, half of the customers or more
    assert channel_reading(0.182, 0.676, 0.779, [], sizes, [{"segment": 0, "channel": "Retail", "share": 0.8}, *leaning[:1]]) == (
        "the segments follow the Horeca/Retail split in part, with segments 0 (80% Retail) and 2 (85% Horeca) each "
        "leaning to one and segments 1, 3 and 4 not")
    assert channel_reading(0.182, 0.676, 0.779, [], sizes, [{"segment": 1, "channel": "Retail", "share": 0.8}, *leaning[:1]]) == (
        channel_reading(0.182))  # 209 of 435 customers: under half
    # under half of the customers with them: still cutting across, the segment within one channel the exception
    assert channel_reading(0.182, 0.676, 0.779, within, sizes, leaning[1:]) == (
        "the segments largely cut across the Horeca/Retail split, apart from segment 0 (99% Horeca)")
    assert channel_reading(0.182, 0.676, 0.779, [], sizes, leaning[1:]) == channel_reading(0.182)
    # every segment within or leaning, none mixed; and above the lowest band, the ARI's own reading
    assert channel_reading(0.182, 0.676, 0.779, within, [100, 100], [{"segment": 1, "channel": "Retail", "share": 0.8}]) == (
        "the segments follow the Horeca/Retail split in part, with segment 0 (99% Horeca) within one channel and segment "
        "1 (80% Retail) leaning to one")
    assert channel_reading(0.37, 0.676, 0.80, within, sizes, leaning) == channel_reading(0.37)
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"] = {**inputs["metrics"], "channel_ari": 0.182, "channel_accuracy": 0.779, "channel_baseline": 0.676,
                         "channel_within": within, "channel_leaning": leaning, "k": 5, "segment_sizes": sizes}
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["model"]["channel_reading"].endswith("each leaning to one, and segments 1 and 4 not")


def test_one_channel_is_not_read_as_segments_cutting_across_the_split(inputs: dict[str, Any]) -> None:
    """New data from Horeca customers alone read '100% against 100% (ARI 0.00): the segments largely cut across the
    Horeca/Retail split', a split that data does not have."""
    assert channel_reading(0.0, 1.0) == channel_reading(0.9, 1.0) == ONE_CHANNEL
    assert channel_reading(0.37, 0.68) == channel_reading(0.37)
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"] = {**inputs["metrics"], "channel_accuracy": 1.0, "channel_baseline": 1.0, "channel_ari": 0.0}
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["model"]["channel_reading"] == ONE_CHANNEL and "Horeca/Retail split for the segments" in ONE_CHANNEL


def test_the_criteria_name_the_bic_only_when_the_mixture_was_swept() -> None:
    assert "BIC" in report.criteria_text(["kmeans", "gmm"])
    assert "BIC" not in report.criteria_text(["kmeans"]) and "silhouette" in report.criteria_text(["kmeans"])


def test_the_largest_segment_sentence_names_every_segment_of_that_size() -> None:
    personas = [{"name": "A", "size": 127, "share": 0.2886}, {"name": "B", "size": 127, "share": 0.2886}, {"name": "C", "size": 100, "share": 0.2273}]
    assert report.largest_text(personas) == "The largest, *A* and *B*, are 29% of the base each."
    assert report.largest_text(personas[1:]) == "The larger, *B*, is 29% of the base."


def test_the_largest_of_two_segments_is_the_larger() -> None:
    """`cluster.k=auto` with the silhouette (or Calinski–Harabasz, Davies–Bouldin) criterion serves k = 2: the home
    page said "The largest, *Frozen food & fresh food focus (Horeca)*, is 58% of the base." of two segments."""
    two = [{"name": "A", "size": 254, "share": 0.5773}, {"name": "B", "size": 186, "share": 0.4227}]
    assert report.largest_text(two) == "The larger, *A*, is 58% of the base."
    assert report.largest_text([*two, {"name": "C", "size": 10, "share": 0.02}]).startswith("The largest, *A*")
    halves = [{"name": "A", "size": 220, "share": 0.5}, {"name": "B", "size": 220, "share": 0.5}]
    assert report.largest_text(halves) == "*A* and *B* are the same size, 50% of the base each."


def test_the_reports_shares_are_the_staff_pages_parts_of_one_whole() -> None:
    """Three segments of equal size rounded one by one read 33% each (99% in all) where the staff page's cards show
    34%, 33%, 33%; a channel mix of 99.5% and 0.5% read '100% / 0%' (or '100% / 1%')."""
    mix = {"Horeca": 0.995, "Retail": 0.005}
    personas = [{"id": i, "name": n, "size": 40, "share": 0.3333, "channel_mix": mix, "actions": ["Call."]} for i, n in enumerate("ABC")]
    table = report.persona_summary_markdown(personas, 120)
    assert [row.split(" | ")[2:4] for row in table.splitlines()[2:5]] == [["34%", ">99% / <1%"], ["33%", ">99% / <1%"], ["33%", ">99% / <1%"]]
    assert report.largest_text(personas) == "*A*, *B* and *C* are the same size, 40 customers each."
    assert report.largest_text([*personas, {"name": "D", "size": 1, "share": 0.0001}]) == "The largest, *A*, *B* and *C*, are 40 customers each."


def test_the_reports_single_shares_follow_the_staff_pages_rule(inputs: dict[str, Any]) -> None:
    """report.pct (Python's format) read a 99.5% Channel accuracy as '100%', a model shown as certain, and 62.5% as
    '62%' (half to even) where the staff page and the persona descriptions say 63%: one rule now, names.percent."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"] = {**inputs["metrics"], "channel_accuracy": 0.995, "channel_baseline": 0.004, "pca_explained_variance": [0.625, 0.125]}
    v = report.site_variables(outputs=outputs, **inputs)
    assert (v["model"]["channel_accuracy"], v["model"]["channel_baseline"]) == (">99%", "<1%")
    assert (v["method"]["pc1"], v["method"]["pc2"], v["method"]["pc12"]) == ("63%", "13%", "75%")


def test_the_outlier_rule_names_raw_spending_when_nothing_is_transformed() -> None:
    assert "its category's raw spending:" in _outlier_method("tukey", 1.5, 2, "drop", 41, "none")
    assert "its category's transformed values:" in _outlier_method("tukey", 1.5, 2, "drop", 5, "log")


def test_lists_in_words_and_the_clustering_space() -> None:
    """"tried with k-Means, agglomerative (Ward), Gaussian mixture and judged on …" read as one list; "Clustering uses
    `features.pca.n_components` = 0 components" read as no components at all."""
    assert report.words_list(["k-Means", "agglomerative (Ward)", "Gaussian mixture"]) == "k-Means, agglomerative (Ward) and Gaussian mixture"
    assert report.words_list(["k-Means"]) == "k-Means"
    assert report.pca_use(2, 6) == "the first 2 principal components (`features.pca.n_components: 2`)"
    assert report.pca_use(0, 6) == "all 6 categories as prepared above, not principal components (`features.pca.n_components: 0`)"
    assert report.pca_use(1, 6).startswith("the first principal component ")


@pytest.mark.parametrize(("value", "words"), [
    (0.2619, "*weak* structure (0.262, just above the 0.26 where that band starts)"),
    (0.2578, "*no substantial* structure (0.258, just below the 0.26 where the next band starts)"),
    (0.40, "*weak* structure"),
])
def test_a_silhouette_at_a_band_edge_is_called_borderline(value: float, words: str) -> None:
    """0.262 was called *weak* with no word that it sits 0.002 above the edge below which there is no structure."""
    assert report.silhouette_band(value) == words
    # after the value quoted to three decimals, the note does not repeat it; after fewer, it gives the three
    three = f"{value:.3f}"
    assert report.silhouette_band(value, three) == words.replace(f"({three}, ", "(")
    assert report.silhouette_band(value, f"{value:.2f}") == words



#: Customers per region: the UCI data, and new data without "Other", without Lisbon, spread over the three.
UCI_REGIONS, NO_OTHER, NO_LISBON, SPREAD = ({"Lisbon": 77, "Oporto": 47, "Other": 316}, {"Lisbon": 86, "Oporto": 55, "Other": 0},
                                            {"Lisbon": 0, "Oporto": 40, "Other": 362}, {"Lisbon": 40, "Oporto": 35, "Other": 25})


@pytest.mark.parametrize(("region", "note"), [
    (UCI_REGIONS, 'with most customers in the catch-all region "Other" (72%)'),  # as the data page carried it by hand
    (NO_OTHER, 'with most customers in Lisbon (61%), and none in "Other"'),
    (NO_LISBON, 'with most customers in the catch-all region "Other" (90%), and none in Lisbon'),
    (SPREAD, 'with customers in Lisbon (40%), Oporto (35%) and "Other" (25%)'),
])
def test_the_data_pages_region_note_follows_the_data(region: dict[str, int], note: str) -> None:
    assert report.region_note(region) == note


@pytest.mark.parametrize(("region", "limit"), [
    # as the home page carried it by hand; new data from Lisbon and Oporto alone is not "mostly Other (0 customers, 0%)"
    (UCI_REGIONS, '**Region is mostly "Other"** (316 customers, 72%, against Lisbon 77 and Oporto 47), so nothing regional can be concluded with confidence.'),
    (NO_OTHER, '**Region is mostly Lisbon** (86 customers, 61%, against Oporto 55 and "Other" 0), so the segments describe Lisbon\'s customers above all. No customer is in "Other", so nothing here is known about it.'),
    (NO_LISBON, '**Region is mostly "Other"** (362 customers, 90%, against Lisbon 0 and Oporto 40), so nothing regional can be concluded with confidence. No customer is in Lisbon, so nothing here is known about it.'),
    (SPREAD, '**Region** (Lisbon 40, Oporto 35 and "Other" 25 customers) was never used to fit the segments; the Personas page gives each one\'s region mix.'),
])
def test_the_home_pages_region_limit_follows_the_data(region: dict[str, int], limit: str) -> None:
    assert report.region_limit(region) == limit


def test_no_page_says_region_is_mostly_other_whatever_the_data() -> None:
    # the claim depends on the data: generated (data.region_note, data.region_limit), never typed into a page
    for page in ("index.qmd", "data.qmd"):
        text = (report.SITE / page).read_text(encoding="utf-8")
        assert 'mostly "Other"' not in text and "the catch-all region" not in text
        assert "{{< var data.region_" in text


@pytest.mark.parametrize(("value", "text"), [
    (0.2578, "0.258"), (0.25996, "0.25996"), (0.2619, "0.26"), (0.505, "0.505"), (0.55, "0.55"), (0.2549, "0.25"),
])
def test_a_silhouette_is_never_rounded_into_another_band(value: float, text: str) -> None:
    """The reference silhouette 0.2578 was quoted as 0.26, the edge of the *weak* band, which it falls just short of."""
    from stages.select_k import silhouette_text

    assert silhouette_text(value) == text
    assert report.silhouette_strength(float(text)) == report.silhouette_strength(value)


def test_site_variables_quote_the_reference_silhouette_in_its_own_band(inputs: dict[str, Any]) -> None:
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"].update(silhouette=0.2619, silhouette_reference=0.2578)
    v = report.site_variables(outputs=outputs, **inputs)
    assert (v["model"]["silhouette"], v["model"]["silhouette_reference"]) == ("0.26", "0.258")


@pytest.mark.parametrize(("silhouette", "reference", "texts"), [
    (0.28049399277940235, 0.27816786204366134, ("0.280", "0.278")),  # data.features of four categories: both '0.28'
    (0.2619, 0.2578, ("0.26", "0.258")),   # already apart
    (0.2612, 0.2612, ("0.26", "0.26")),    # the same figure
    (0.26185, 0.26181, ("0.2619", "0.2618")),
])
def test_the_silhouette_and_the_reference_never_print_alike_when_they_differ(inputs: dict[str, Any], silhouette: float, reference: float,
                                                                             texts: tuple[str, str]) -> None:
    """`dvc exp run -S data.features=[Fresh,Milk,Grocery,Frozen]`: the methods page read "Silhouette 0.28" and
    "Reference silhouette 0.28" beside a metrics table of 0.280 and 0.278, and on fewer principal components the
    home page's Separation quoted the same 0.28 for two different figures."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"].update(silhouette=silhouette, silhouette_reference=reference)
    v = report.site_variables(outputs=outputs, **inputs)
    assert (v["model"]["silhouette"], v["model"]["silhouette_reference"]) == texts
    assert v["model"]["separation"].startswith(f"The average silhouette is {texts[0]},")
    two = report.separation_text(silhouette, reference, 2, 6)
    assert f"the average silhouette is {texts[1]}," in two and f"it is {texts[0]}, which" in two, two


@pytest.mark.parametrize(("quote", "read", "value", "text"), [
    ("stability_text", "stability_reading", 0.7983046494691208, "0.798"),
    ("channel_ari_text", "channel_reading", 0.29916632896089124, "0.299"),
    ("agreement_text", "agreement_reading", 0.6498, "0.6498"),
    ("stability_text", "stability_reading", 0.7119, "0.71"),
    ("channel_ari_text", "channel_reading", 0.3687, "0.37"),
])
def test_an_ari_is_never_rounded_into_another_band_than_its_reading(quote: str, read: str, value: float, text: str) -> None:
    """features.scaler=robust: stability 0.7983 was quoted as 0.80 (where "much the same segments" starts) beside
    "refits keep the broad segments", and the Channel ARI 0.2992 as 0.30 (where "in part" starts) beside "largely cut
    across"."""
    from stages import select_k
    assert getattr(select_k, quote)(value) == text
    reading = getattr(select_k, read)
    assert reading(float(text)) == reading(value)


def test_site_variables_quote_the_aris_in_the_band_of_their_reading(inputs: dict[str, Any]) -> None:
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"].update(stability_ari=0.7983046494691208, channel_ari=0.29916632896089124, agreement_ari=0.41518)
    v = report.site_variables(outputs=outputs, **inputs)["model"]
    assert (v["stability_ari"], v["channel_ari"], v["agreement_ari"]) == ("0.798", "0.299", "0.42")
    assert v["stability_reading"] == report.stability_reading(0.798) != report.stability_reading(0.80)


def test_notebook_4_quotes_the_aris_as_the_report_does() -> None:
    """Notebook 4's Channel paragraph printed each ARI to two decimals beside its reading (0.80 beside a reading of
    under 0.80), where the home page quotes them by stages.select_k's *_text functions."""
    import json
    nb = json.loads((config.ROOT / "notebook" / "04_cluster.ipynb").read_text(encoding="utf-8"))
    source = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for key, quote in (("stability_ari", "stability_text"), ("channel_ari", "channel_ari_text"),
                       ("agreement_ari", "agreement_text")):
        assert f"{key}']:.2f" not in source
        assert f"{quote}(metrics['{key}'])" in source


def test_the_methods_page_says_which_segment_an_atypical_customer_still_gets(inputs: dict[str, Any]) -> None:
    """cluster.algorithm=gmm: the methods page said an atypical customer "still gets the nearest segment", where a
    Gaussian mixture gives the most probable one, which need not be the nearest."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    assert report.site_variables(outputs=outputs, **inputs)["model"]["atypical_segment"] == "the nearest segment"
    inputs["metrics"]["algorithm"] = "gmm"
    segment = report.site_variables(outputs=outputs, **inputs)["model"]["atypical_segment"]
    assert segment.startswith("its most probable segment") and "need not be the nearest" in segment
    text = (report.SITE / "methods.qmd").read_text(encoding="utf-8")
    assert "it still\ngets {{< var model.atypical_segment >}}, with a warning" in text
    assert "gets the nearest segment" not in text


#: The shipped run's reading, which the home page keeps: all six categories, so the clustering space's own silhouette.
SHIPPED_SEPARATION = ("The average silhouette is 0.26, *weak* structure (0.262, just above the 0.26 where that band starts) "
                      "on Kaufman and Rousseeuw's scale; customers vary continuously rather than falling into tight groups: "
                      "the segments summarise that continuum usefully, but a customer near a boundary could reasonably "
                      "belong to either side.")


@pytest.mark.parametrize("n_components", [0, 6])
def test_the_home_pages_separation_on_every_category_reads_the_clustering_spaces_silhouette(n_components: int) -> None:
    """The shipped run (0.262 on the 435 customers fitted, 0.258 with the 5 set aside counted): unchanged; as many
    components as categories is a rotation, the same distances."""
    assert report.separation_text(0.2619, 0.2578, n_components, 6) == SHIPPED_SEPARATION


def test_the_home_pages_separation_on_fewer_components_reads_the_reference_and_gives_both() -> None:
    """`dvc exp run -S features.pca.n_components=2`: "The average silhouette is 0.40, *weak* structure …" on two
    components, while over all six categories it was 0.257, no substantial structure. The band's note does not say
    0.257 again ("is 0.257, *no substantial* structure (0.257, just below …)", `features.outliers.method=none`)."""
    assert report.separation_text(0.4012, 0.2572, 2, 6) == (
        "Over all 6 categories, every customer counted, the average silhouette is 0.257, *no substantial* structure "
        "(just below the 0.26 where the next band starts) on Kaufman and Rousseeuw's scale; the data show little "
        "group structure: treat the segments as a convenient summary, not as natural groups. On the first 2 principal "
        "components (`features.pca.n_components: 2`), where the segments were fitted, it is 0.40, which leaves out the "
        "variation the other components carry.")


def test_the_methods_pages_silhouette_names_its_space_when_fewer_components_than_categories() -> None:
    """The methods page read "Silhouette 0.40 (…): *weak* structure" on two components, saying nothing of the space."""
    assert report.silhouette_in_space_text(0.2619, 0.2578, 0, 6) == "*weak* structure (0.262, just above the 0.26 where that band starts)"
    assert report.silhouette_in_space_text(0.4012, 0.2572, 2, 6) == (
        "*weak* structure on the first 2 principal components (`features.pca.n_components: 2`), where the segments were "
        "fitted, which leaves out the variation the other components carry; over all the categories the reference "
        "silhouette below reads *no substantial* structure (0.257, just below the 0.26 where the next band starts)")


def test_site_variables_read_the_separation_in_the_space_params_yaml_clustered_in(inputs: dict[str, Any]) -> None:
    """`features.pca.n_components` from params.yaml decides which silhouette the home and methods pages read."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"].update(silhouette=0.2619, silhouette_reference=0.2578)
    v = report.site_variables(outputs=outputs, **inputs)["model"]
    assert v["separation"] == SHIPPED_SEPARATION
    assert v["silhouette_in_space"] == "*weak* structure (0.262, just above the 0.26 where that band starts)"
    inputs["params"]["features"]["pca"]["n_components"] = 1  # of the two categories
    inputs["metrics"].update(silhouette=0.4012, silhouette_reference=0.2572)
    v = report.site_variables(outputs=outputs, **inputs)["model"]
    assert v["separation"].startswith("Over all 2 categories, every customer counted, the average silhouette is 0.257, *no substantial*")
    assert v["separation"].endswith("On the first principal component (`features.pca.n_components: 1`), where the segments "
                                    "were fitted, it is 0.40, which leaves out the variation the other components carry.")
    assert v["silhouette_in_space"].startswith("*weak* structure on the first principal component (`features.pca.n_components: 1`)")
    assert v["silhouette"] == "0.40" and v["silhouette_reference"] == "0.257"


@pytest.mark.parametrize(("features", "named"), [
    ({"transform": "none"}, "`features.transform: none`"),
    ({"transform": "log1p", "scaler": "robust"}, "`features.transform: log1p` and `features.scaler: robust`"),
])
def test_the_separation_on_spending_prepared_otherwise_reads_the_reference_and_names_the_settings(inputs: dict[str, Any], features: dict[str, str], named: str) -> None:
    """`dvc exp run -S features.transform=none`: the home page read the band of the silhouette on raw spending
    (a scale of its own, set by the biggest spenders) as the customers' structure; the reference silhouette (log,
    standardised, every category) is read instead, and the clustering space's figure is named with its settings."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["params"]["features"].update(features)
    inputs["metrics"].update(silhouette=0.6123, silhouette_reference=0.2572)
    v = report.site_variables(outputs=outputs, **inputs)["model"]
    assert v["separation"].startswith("Over all 2 categories, log-scaled and standardised, every customer counted, the average "
                                      "silhouette is 0.257, *no substantial* structure")
    assert v["separation"].endswith(f"In spending prepared with {named}, where the segments were fitted, it is 0.61, which is "
                                    "not comparable with one over log-scaled, standardised spending: a silhouette depends on "
                                    "how spending is transformed and scaled.")
    assert v["silhouette_in_space"].startswith(f"*reasonable* structure in spending prepared with {named}, where the segments were fitted")
    assert v["silhouette_in_space"].endswith("the reference silhouette below reads *no substantial* structure (0.257, just below the 0.26 where the next band starts)")


def test_the_home_and_methods_pages_quote_the_separation_from_variables() -> None:
    """The home page read the band of the clustering space's silhouette (`model.silhouette_band`) whatever the space."""
    index = (report.SITE / "index.qmd").read_text(encoding="utf-8")
    assert "- **Separation.** {{< var model.separation >}}" in index and "model.silhouette_band" not in index
    methods = (report.SITE / "methods.qmd").read_text(encoding="utf-8")
    assert "than to the next): {{< var model.silhouette_in_space >}}." in methods


def test_the_home_page_names_a_served_mixture_with_its_article(inputs: dict[str, Any]) -> None:
    """`cluster.algorithm=gmm`: the home page read "The served model is Gaussian mixture with **3 segments**"."""
    outputs = report.lock_outputs(inputs.pop("lock"))
    inputs.pop("features_report")
    inputs["metrics"] = {**inputs["metrics"], "algorithm": "gmm"}
    v = report.site_variables(outputs=outputs, **inputs)
    assert v["model"]["algorithm_phrase"] == "a Gaussian mixture" and v["model"]["algorithm"] == "Gaussian mixture"
    index = (report.SITE / "index.qmd").read_text(encoding="utf-8")
    assert "The served model is\n{{< var model.algorithm_phrase >}} with" in index


def test_the_home_page_names_every_criterion_the_number_of_segments_was_scored_with() -> None:
    """`select_k.criterion=bic -S cluster.k=auto`: the home page said every k was "judged on separation and on stability
    under resampling", and the next sentence that the BIC, neither of them, picked the k served."""
    index = (report.SITE / "index.qmd").read_text(encoding="utf-8")
    assert "judged on separation and on stability" not in index
    assert "and scored with {{< var method.criteria >}}, and stability under resampling." in index
    assert "the Gaussian mixture's BIC" in report.criteria_text(["kmeans", "gmm"])

def test_the_methods_page_opens_its_served_model_sentence_with_the_algorithm_as_a_noun() -> None:
    """`cluster.algorithm=agglomerative`: the methods page read "**The served model.** agglomerative (Ward) with k = 3.",
    a sentence opening in lower case on a bare adjective; gmm's read "Gaussian mixture with k = 3" without its article."""
    methods = (report.SITE / "methods.qmd").read_text(encoding="utf-8")
    assert "**The served model** is {{< var model.algorithm_phrase >}} with k = {{< var model.k >}}." in methods
    assert "{{< var model.algorithm >}}" not in methods
